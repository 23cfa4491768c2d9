package nn

// Tensor is a batch of feature maps in NHWC order, stored as float32.
//
// Element (n, h, w, c) is at Data[((n*H+h)*W+w)*C+c] where
// Shape = [N, H, W, C]: Offset computes it, as image.RGBA's PixOffset does.
// Vectors (the output of Dense or Flatten) have H = W = 1.
type Tensor struct {
	Shape [4]int // N, H, W, C
	Data  []float32
}

// NewTensor returns a zeroed tensor of shape n x h x w x c.
func NewTensor(n, h, w, c int) *Tensor {
	if n < 0 || h < 0 || w < 0 || c < 0 {
		panic(sprintf("nn: negative tensor shape %dx%dx%dx%d", n, h, w, c))
	}
	return &Tensor{Shape: [4]int{n, h, w, c}, Data: make([]float32, n*h*w*c)}
}

// Offset returns the index in Data of element (n, h, w, c).
func (t *Tensor) Offset(n, h, w, c int) int {
	return ((n*t.Shape[1]+h)*t.Shape[2]+w)*t.Shape[3] + c
}

// Len returns the number of elements, N*H*W*C.
func (t *Tensor) Len() int { return t.Shape[0] * t.Shape[1] * t.Shape[2] * t.Shape[3] }

// SampleLen returns the number of elements of one sample, H*W*C.
func (t *Tensor) SampleLen() int { return t.Shape[1] * t.Shape[2] * t.Shape[3] }

// Sample returns the data of sample n (it aliases t.Data).
func (t *Tensor) Sample(n int) []float32 {
	s := t.SampleLen()
	return t.Data[n*s : (n+1)*s : (n+1)*s]
}

// Zero sets every element to 0.
func (t *Tensor) Zero() { clear(t.Data) }

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: t.Shape, Data: append([]float32(nil), t.Data...)}
}

// String describes the shape, as "1x224x224x3".
func (t *Tensor) String() string {
	return sprintf("%dx%dx%dx%d", t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3])
}

// reuse returns t when it already has shape s, and a new zeroed tensor
// otherwise. Layers keep their outputs in buffers obtained this way so that
// steady-state passes allocate nothing.
func reuse(t *Tensor, s [4]int) *Tensor {
	if t != nil && t.Shape == s {
		return t
	}
	return NewTensor(s[0], s[1], s[2], s[3])
}

// mustShape panics when got differs from want; it guards our own code paths
// (a programmer error, gonum style). The message is built only on failure,
// so the check costs no allocation.
func mustShape(layer, op string, got, want [4]int) {
	if got != want {
		panic(sprintf("nn: %s: %s: shape %v, want %v", layer, op, got, want))
	}
}

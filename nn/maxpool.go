package nn

import (
	"fmt"
	"math"
)

// MaxPool2D takes the maximum over each window (Keras's MaxPooling2D).
//
// Backward passes a window's whole gradient to one element: the first
// maximal one in row-major order (argmax with strict >), as TensorFlow on
// the CPU and PyTorch do. With Same padding, positions outside the input are
// ignored.
type MaxPool2D struct {
	name   string
	PH, PW int // pool size
	SH, SW int // strides
	Pad    Padding
	y, dx  *Tensor
	arg    []int32 // per output element, the input index of its maximum
	xshape [4]int
}

var _ Layer = (*MaxPool2D)(nil)

// NewMaxPool2D returns a max-pooling layer.
func NewMaxPool2D(name string, ph, pw, sh, sw int, pad Padding) *MaxPool2D {
	return &MaxPool2D{name: name, PH: ph, PW: pw, SH: sh, SW: sw, Pad: pad}
}

func (m *MaxPool2D) Name() string { return m.name }

func (m *MaxPool2D) OutputShape(in [3]int) ([3]int, error) {
	if m.Pad == Valid && (in[0] < m.PH || in[1] < m.PW) {
		return [3]int{}, fmt.Errorf("nn: %s: input %dx%d smaller than pool %dx%d", m.name, in[0], in[1], m.PH, m.PW)
	}
	oh, _ := window(in[0], m.PH, m.SH, m.Pad)
	ow, _ := window(in[1], m.PW, m.SW, m.Pad)
	return [3]int{oh, ow, in[2]}, nil
}

func (m *MaxPool2D) Forward(x *Tensor) *Tensor {
	N, H, W, C := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	oh, ph := window(H, m.PH, m.SH, m.Pad)
	ow, pw := window(W, m.PW, m.SW, m.Pad)
	m.xshape = x.Shape
	m.y = reuse(m.y, [4]int{N, oh, ow, C})
	if cap(m.arg) < m.y.Len() {
		m.arg = make([]int32, m.y.Len())
	}
	m.arg = m.arg[:m.y.Len()]
	for n := range N {
		for i := range oh {
			for j := range ow {
				o := ((n*oh+i)*ow + j) * C
				yr, ar := m.y.Data[o:o+C], m.arg[o:o+C]
				for c := range yr {
					yr[c] = float32(math.Inf(-1))
					ar[c] = -1
				}
				for di := range m.PH {
					h := i*m.SH + di - ph
					if h < 0 || h >= H {
						continue
					}
					for dj := range m.PW {
						w := j*m.SW + dj - pw
						if w < 0 || w >= W {
							continue
						}
						base := ((n*H+h)*W + w) * C
						for c, v := range x.Data[base : base+C] {
							// Strict >: the first maximum in row-major order wins.
							if v > yr[c] || ar[c] < 0 {
								yr[c] = v
								ar[c] = int32(base + c)
							}
						}
					}
				}
			}
		}
	}
	return m.y
}

func (m *MaxPool2D) Backward(dy *Tensor) *Tensor {
	mustShape(m.name, "backward", dy.Shape, m.y.Shape)
	m.dx = reuse(m.dx, m.xshape)
	m.dx.Zero()
	for o, g := range dy.Data {
		if a := m.arg[o]; a >= 0 {
			m.dx.Data[a] += g
		}
	}
	return m.dx
}

package nn

// Flatten turns (N, H, W, C) into (N, 1, 1, H*W*C) in channels-last order,
// as Keras does: flat[(h*W + w)*C + c] = x[h, w, c]. The output aliases the
// input's data.
type Flatten struct {
	name   string
	y, dx  Tensor
	xshape [4]int
}

var _ Layer = (*Flatten)(nil)

func NewFlatten(name string) *Flatten { return &Flatten{name: name} }

func (f *Flatten) Name() string { return f.name }

func (f *Flatten) OutputShape(in [3]int) ([3]int, error) {
	return [3]int{1, 1, in[0] * in[1] * in[2]}, nil
}

func (f *Flatten) Forward(x *Tensor) *Tensor {
	f.xshape = x.Shape
	f.y = Tensor{Shape: [4]int{x.Shape[0], 1, 1, x.SampleLen()}, Data: x.Data}
	return &f.y
}

func (f *Flatten) Backward(dy *Tensor) *Tensor {
	f.dx = Tensor{Shape: f.xshape, Data: dy.Data}
	return &f.dx
}

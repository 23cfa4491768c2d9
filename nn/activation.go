package nn

// ActivationLayer applies ReLU or the identity elementwise: Keras's
// Activation("relu"), Activation("linear") and ReLU layers. (Activation
// ("softmax") builds a SoftmaxLayer, so that Model.Logits finds the scores
// before it.)
type ActivationLayer struct {
	name  string
	Act   Activation // Linear or ReLU
	y, dx *Tensor
}

var _ Layer = (*ActivationLayer)(nil)

// NewActivation returns an elementwise activation layer; act is Linear or
// ReLU.
func NewActivation(name string, act Activation) *ActivationLayer {
	if act == Softmax {
		panic("nn: " + name + ": use NewSoftmax for a softmax layer")
	}
	return &ActivationLayer{name: name, Act: act}
}

func (a *ActivationLayer) Name() string                          { return a.name }
func (a *ActivationLayer) OutputShape(in [3]int) ([3]int, error) { return in, nil }

func (a *ActivationLayer) Forward(x *Tensor) *Tensor {
	if a.Act == Linear {
		a.y = x
		return x
	}
	a.y = reuse(a.y, x.Shape)
	for i, v := range x.Data {
		a.y.Data[i] = relu(v)
	}
	return a.y
}

func (a *ActivationLayer) Backward(dy *Tensor) *Tensor {
	mustShape(a.name, "backward", dy.Shape, a.y.Shape)
	if a.Act == Linear {
		return dy
	}
	a.dx = reuse(a.dx, dy.Shape)
	reluMaskTo(a.dx.Data, dy.Data, a.y.Data)
	return a.dx
}

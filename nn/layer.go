package nn

import (
	"strings"
)

// Layer is one step of a sequential model.
//
// Forward computes the output for a batch and keeps what Backward needs (it
// may keep a reference to x: x must not change until Backward has run). The
// returned tensor belongs to the layer and is overwritten by the next
// Forward.
//
// Backward takes the gradient of the loss with respect to the last Forward's
// output and returns the gradient with respect to its input, in a buffer
// owned by the layer. It adds parameter gradients into Param.Grad when that
// buffer is allocated (training), and costs nothing extra otherwise.
type Layer interface {
	// Name is the layer's unique name in its model, as Keras names it
	// ("conv2d_7").
	Name() string
	// OutputShape returns the output shape (H, W, C) of one sample for an
	// input of shape in, or an error naming the layer and the numbers.
	OutputShape(in [3]int) ([3]int, error)
	Forward(x *Tensor) *Tensor
	Backward(dy *Tensor) *Tensor
}

// Param is a named parameter tensor of a layer.
type Param struct {
	Name      string    // full name, "<layer>/<variable>", such as "conv2d/kernel"
	Shape     []int     // Keras shape: HWIO for conv kernels, (in, out) for dense
	Value     []float32 // row-major in Shape
	Grad      []float32 // nil unless training; Backward adds into it
	Trainable bool      // false for batch-norm moving statistics
	L2        float32   // L2 regularisation factor: the loss gains L2*sum(Value^2)
}

// biasValue is a bias's values, none when there is no bias.
func biasValue(b *Param) []float32 {
	if b == nil {
		return nil
	}
	return b.Value
}

// Parametric is implemented by layers that own parameters. Params returns
// them in Keras's variable order (kernel, bias; gamma, beta, moving_mean,
// moving_variance).
type Parametric interface {
	Params() []*Param
}

// Trainable is implemented by layers that behave differently in training
// (BatchNorm, Dropout).
type Trainable interface {
	SetTraining(on bool)
}

func newParam(layer, name string, trainable bool, shape ...int) *Param {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &Param{Name: layer + "/" + name, Shape: shape, Value: make([]float32, n), Trainable: trainable}
}

// Activation is the non-linearity a Conv2D or Dense layer applies to its
// output, inside the layer as Keras does.
type Activation int

const (
	Linear Activation = iota
	ReLU
	Softmax
)

// ParseActivation reads a Keras activation name ("linear", "relu",
// "softmax"; "" means linear).
func ParseActivation(s string) (Activation, error) {
	switch strings.ToLower(s) {
	case "", "linear", "none":
		return Linear, nil
	case "relu":
		return ReLU, nil
	case "softmax":
		return Softmax, nil
	}
	return Linear, errorf("nn: unsupported activation %q (want linear, relu or softmax)", s)
}

func (a Activation) String() string {
	switch a {
	case ReLU:
		return "relu"
	case Softmax:
		return "softmax"
	}
	return "linear"
}

// reluMaskTo writes dst = dy where y > 0, else 0; dst and dy may alias.
func reluMaskTo(dst, dy, y []float32) {
	for i, v := range y {
		if v > 0 {
			dst[i] = dy[i]
		} else {
			dst[i] = 0
		}
	}
}

func reluInPlace(y []float32) {
	for i, v := range y {
		if v < 0 {
			y[i] = 0
		}
	}
}

package nn

import (
	"math"
)

// Dense is a fully connected layer on (N, 1, 1, In) inputs:
//
//	y[n,o] = act(b[o] + Σ_i x[n,i] * K[i,o])
//
// with K stored as Keras does, (In, Out).
type Dense struct {
	name     string
	In, Out  int
	Act      Activation
	Kernel   *Param // (In, Out)
	Bias     *Param // (Out), nil without bias
	x, y, dx *Tensor
	g        []float32
}

var _ Layer = (*Dense)(nil)

// NewDense returns a dense layer with zero weights.
func NewDense(name string, in, out int, act Activation, bias bool) *Dense {
	d := &Dense{name: name, In: in, Out: out, Act: act, Kernel: newParam(name, "kernel", true, in, out)}
	if bias {
		d.Bias = newParam(name, "bias", true, out)
	}
	return d
}

func (d *Dense) Name() string { return d.name }

func (d *Dense) Params() []*Param {
	if d.Bias == nil {
		return []*Param{d.Kernel}
	}
	return []*Param{d.Kernel, d.Bias}
}

func (d *Dense) OutputShape(in [3]int) ([3]int, error) {
	if in[0] != 1 || in[1] != 1 {
		return [3]int{}, errorf("nn: %s: dense input must be flat, got %dx%dx%d (add a Flatten)", d.name, in[0], in[1], in[2])
	}
	if in[2] != d.In {
		return [3]int{}, errorf("nn: %s: input has %d features, kernel expects %d", d.name, in[2], d.In)
	}
	return [3]int{1, 1, d.Out}, nil
}

func (d *Dense) Forward(x *Tensor) *Tensor {
	if x.SampleLen() != d.In {
		panic(sprintf("nn: %s: input %v, want %d features", d.name, x, d.In))
	}
	N := x.Shape[0]
	d.x = x
	d.y = reuse(d.y, [4]int{N, 1, 1, d.Out})
	for n := range N {
		yr := d.y.Data[n*d.Out : (n+1)*d.Out]
		if d.Bias != nil {
			copy(yr, d.Bias.Value)
		} else {
			clear(yr)
		}
		xr := x.Data[n*d.In : (n+1)*d.In]
		if fastDense != nil {
			fastDense(yr, xr, d.Kernel.Value[:d.In*d.Out])
		} else {
			for i, xv := range xr {
				if xv != 0 {
					axpy(yr, d.Kernel.Value[i*d.Out:], xv)
				}
			}
		}
		switch d.Act {
		case ReLU:
			reluInPlace(yr)
		case Softmax:
			softmaxInPlace(yr)
		}
	}
	return d.y
}

func (d *Dense) Backward(dy *Tensor) *Tensor {
	mustShape(d.name, "backward", dy.Shape, d.y.Shape)
	N := dy.Shape[0]
	if len(d.g) != len(dy.Data) {
		d.g = make([]float32, len(dy.Data))
	}
	switch d.Act {
	case ReLU:
		reluMaskTo(d.g, dy.Data, d.y.Data)
	case Softmax:
		for n := range N {
			softmaxBackwardTo(d.g[n*d.Out:(n+1)*d.Out], dy.Data[n*d.Out:(n+1)*d.Out], d.y.Data[n*d.Out:(n+1)*d.Out])
		}
	default:
		copy(d.g, dy.Data)
	}
	if d.Bias != nil && d.Bias.Grad != nil {
		biasGradAdd(d.Bias.Grad, d.g, d.Out)
	}
	d.dx = reuse(d.dx, d.x.Shape)
	for n := range N {
		gr := d.g[n*d.Out : (n+1)*d.Out]
		xr := d.x.Data[n*d.In : (n+1)*d.In]
		dxr := d.dx.Data[n*d.In : (n+1)*d.In]
		if fastDenseDx != nil && d.Kernel.Grad == nil {
			fastDenseDx(dxr, d.Kernel.Value[:d.In*d.Out], gr)
			continue
		}
		for i := range dxr {
			dxr[i] = dot(d.Kernel.Value[i*d.Out:(i+1)*d.Out], gr)
			if d.Kernel.Grad != nil && xr[i] != 0 {
				axpy(d.Kernel.Grad[i*d.Out:(i+1)*d.Out], gr, xr[i])
			}
		}
	}
	return d.dx
}

// SoftmaxLayer applies softmax over the channels of each sample. Models
// built from a spec whose last Dense has a softmax activation end in a Dense
// with a linear activation followed by this layer, so that explainers can
// read and differentiate the logits.
type SoftmaxLayer struct {
	name  string
	y, dx *Tensor
}

var _ Layer = (*SoftmaxLayer)(nil)

func NewSoftmax(name string) *SoftmaxLayer { return &SoftmaxLayer{name: name} }

func (s *SoftmaxLayer) Name() string                          { return s.name }
func (s *SoftmaxLayer) OutputShape(in [3]int) ([3]int, error) { return in, nil }

func (s *SoftmaxLayer) Forward(x *Tensor) *Tensor {
	s.y = reuse(s.y, x.Shape)
	copy(s.y.Data, x.Data)
	C := x.Shape[3]
	for p := 0; p < len(x.Data); p += C {
		softmaxInPlace(s.y.Data[p : p+C])
	}
	return s.y
}

func (s *SoftmaxLayer) Backward(dy *Tensor) *Tensor {
	mustShape(s.name, "backward", dy.Shape, s.y.Shape)
	s.dx = reuse(s.dx, dy.Shape)
	C := dy.Shape[3]
	for p := 0; p < len(dy.Data); p += C {
		softmaxBackwardTo(s.dx.Data[p:p+C], dy.Data[p:p+C], s.y.Data[p:p+C])
	}
	return s.dx
}

// softmaxInPlace replaces z by exp(z - max z) / Σ exp(z - max z), summing
// in float64.
func softmaxInPlace(z []float32) {
	m := float32(math.Inf(-1))
	for _, v := range z {
		m = max(m, v)
	}
	var s float64
	for i, v := range z {
		e := math.Exp(float64(v - m))
		z[i] = float32(e)
		s += e
	}
	for i := range z {
		z[i] = float32(float64(z[i]) / s)
	}
}

// softmaxBackwardTo computes dz_j = p_j (dp_j − Σ_k dp_k p_k).
func softmaxBackwardTo(dz, dp, p []float32) {
	var s float64
	for k, v := range dp {
		s += float64(v) * float64(p[k])
	}
	for j := range dz {
		dz[j] = float32(float64(p[j]) * (float64(dp[j]) - s))
	}
}

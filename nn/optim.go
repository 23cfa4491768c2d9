package nn

import (
	"math"
)

// Optimizer updates trainable parameters from their accumulated gradients.
//
// Step reads p.Grad (the gradient of the data loss) of every trainable
// parameter in ps, adds the L2 term 2·L2·w to it, and updates p.Value. The
// parameter list must be the same, in the same order, on every call: the
// optimiser's state is kept per position. Non-trainable parameters are
// skipped.
type Optimizer interface {
	Step(ps []*Param)
}

// l2Grad returns the gradient of element i including the L2 term, in the
// form Keras's kernel_regularizer gives it (loss += L2·Σw², grad += 2·L2·w).
func l2Grad(p *Param, i int) float32 {
	return p.Grad[i] + 2*p.L2*p.Value[i]
}

// L2Penalty returns Σ L2·Σw² over the parameters, the regularisation term
// Keras adds to the reported loss.
func L2Penalty(ps []*Param) float64 {
	var s float64
	for _, p := range ps {
		if p.L2 == 0 {
			continue
		}
		var q float64
		for _, v := range p.Value {
			q += float64(v) * float64(v)
		}
		s += float64(p.L2) * q
	}
	return s
}

// SGD is stochastic gradient descent with momentum, Keras's formula
// (nesterov off):
//
//	v = Momentum·v − LR·g
//	w = w + v
//
// Velocity holds v per trainable parameter, in the order of Step's list; it
// is allocated at the first Step and may be set to restore a saved state.
type SGD struct {
	LR       float32
	Momentum float32
	Velocity [][]float32
}

var _ Optimizer = (*SGD)(nil)

func (o *SGD) Step(ps []*Param) {
	k := 0
	for _, p := range ps {
		if !p.Trainable || p.Grad == nil {
			continue
		}
		if k == len(o.Velocity) {
			o.Velocity = append(o.Velocity, make([]float32, len(p.Value)))
		}
		v := o.Velocity[k]
		if len(v) != len(p.Value) {
			panic(sprintf("nn: sgd: state %d has %d values, parameter %s has %d", k, len(v), p.Name, len(p.Value)))
		}
		for i := range p.Value {
			v[i] = o.Momentum*v[i] - o.LR*l2Grad(p, i)
			p.Value[i] += v[i]
		}
		k++
	}
}

// Adam is Keras's Adam:
//
//	m = β1·m + (1−β1)·g
//	v = β2·v + (1−β2)·g²
//	α = LR·sqrt(1−β2^t) / (1−β1^t)
//	w = w − α·m / (sqrt(v) + ε)
//
// with t the step count after the increment. NewAdam gives Keras's
// defaults. M, V and T may be set to restore a saved state.
type Adam struct {
	LR, Beta1, Beta2, Epsilon float32
	T                         int
	M, V                      [][]float32
}

var _ Optimizer = (*Adam)(nil)

// NewAdam returns Adam with Keras's defaults (β1 0.9, β2 0.999, ε 1e-7).
func NewAdam(lr float32) *Adam {
	return &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7}
}

func (o *Adam) Step(ps []*Param) {
	o.T++
	t := float64(o.T)
	alpha := float32(float64(o.LR) * math.Sqrt(1-math.Pow(float64(o.Beta2), t)) / (1 - math.Pow(float64(o.Beta1), t)))
	k := 0
	for _, p := range ps {
		if !p.Trainable || p.Grad == nil {
			continue
		}
		if k == len(o.M) {
			o.M = append(o.M, make([]float32, len(p.Value)))
			o.V = append(o.V, make([]float32, len(p.Value)))
		}
		m, v := o.M[k], o.V[k]
		if len(m) != len(p.Value) || len(v) != len(p.Value) {
			panic(sprintf("nn: adam: state %d has %d values, parameter %s has %d", k, len(m), p.Name, len(p.Value)))
		}
		for i := range p.Value {
			g := l2Grad(p, i)
			m[i] = o.Beta1*m[i] + (1-o.Beta1)*g
			v[i] = o.Beta2*v[i] + (1-o.Beta2)*g*g
			p.Value[i] -= alpha * m[i] / (float32(math.Sqrt(float64(v[i]))) + o.Epsilon)
		}
		k++
	}
}

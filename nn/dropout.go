package nn

import (
	"math/rand/v2"
)

// Dropout is the identity at inference. In training it zeroes each element
// with probability Rate and scales the others by 1/(1-Rate) (inverted
// dropout), drawing from a generator seeded by Seed so that runs repeat.
type Dropout struct {
	name     string
	Rate     float32
	Seed     uint64
	Training bool
	rng      *rand.Rand
	mask     []float32
	y, dx    *Tensor
}

var _ Layer = (*Dropout)(nil)

// NewDropout returns a dropout layer; rate must be in [0, 1).
func NewDropout(name string, rate float32, seed uint64) *Dropout {
	return &Dropout{name: name, Rate: rate, Seed: seed, rng: rand.New(rand.NewPCG(seed, 0x6d61766973))}
}

func (d *Dropout) Name() string        { return d.name }
func (d *Dropout) SetTraining(on bool) { d.Training = on }

// Reseed restarts the generator (used when resuming training).
func (d *Dropout) Reseed(seed, stream uint64) { d.rng = rand.New(rand.NewPCG(seed, stream)) }

func (d *Dropout) OutputShape(in [3]int) ([3]int, error) {
	if d.Rate < 0 || d.Rate >= 1 {
		return [3]int{}, errorf("nn: %s: rate %g outside [0, 1)", d.name, d.Rate)
	}
	return in, nil
}

func (d *Dropout) Forward(x *Tensor) *Tensor {
	if !d.Training || d.Rate == 0 {
		return x
	}
	d.y = reuse(d.y, x.Shape)
	if cap(d.mask) < len(x.Data) {
		d.mask = make([]float32, len(x.Data))
	}
	d.mask = d.mask[:len(x.Data)]
	scale := 1 / (1 - d.Rate)
	for i, v := range x.Data {
		if d.rng.Float32() < d.Rate {
			d.mask[i] = 0
		} else {
			d.mask[i] = scale
		}
		d.y.Data[i] = v * d.mask[i]
	}
	return d.y
}

func (d *Dropout) Backward(dy *Tensor) *Tensor {
	if !d.Training || d.Rate == 0 {
		return dy
	}
	d.dx = reuse(d.dx, dy.Shape)
	for i, v := range dy.Data {
		d.dx.Data[i] = v * d.mask[i]
	}
	return d.dx
}

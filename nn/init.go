package nn

import (
	"math"
	"math/rand/v2"
)

// GlorotUniform fills p.Value with Keras's default kernel initialiser:
// values drawn uniformly from [-limit, limit] with
//
//	limit = sqrt(6 / (fan_in + fan_out))
//
// where, for a Keras shape (..., in, out), fan_in = in·receptive and
// fan_out = out·receptive, receptive being the product of the leading
// dimensions (kh·kw for a conv kernel, 1 for a dense kernel). A shape of
// one dimension uses fan_in = fan_out = its length.
func GlorotUniform(p *Param, rng *rand.Rand) {
	fanIn, fanOut := fans(p.Shape)
	limit := math.Sqrt(6 / float64(fanIn+fanOut))
	for i := range p.Value {
		p.Value[i] = float32((2*rng.Float64() - 1) * limit)
	}
}

// fans returns Keras's (fan_in, fan_out) for a weight shape.
func fans(shape []int) (int, int) {
	switch len(shape) {
	case 0:
		return 1, 1
	case 1:
		return shape[0], shape[0]
	}
	receptive := 1
	for _, d := range shape[:len(shape)-2] {
		receptive *= d
	}
	return shape[len(shape)-2] * receptive, shape[len(shape)-1] * receptive
}

// Init sets a freshly built model's weights as Keras does for a new model:
// every layer through InitLayer, from one generator seeded by seed (in
// layer order). The same seed gives the same weights.
func Init(m *Model, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x676c6f726f74))
	for _, l := range m.Layers {
		InitLayer(l, rng)
	}
}

// InitLayer sets one layer's weights as Keras initialises a new layer:
// Conv2D and Dense kernels Glorot-uniform from rng, their biases 0;
// BatchNorm gamma 1, beta 0, moving mean 0 and moving variance 1. Layers
// without weights are left alone and draw nothing from rng.
func InitLayer(l Layer, rng *rand.Rand) {
	switch l := l.(type) {
	case *Conv2D:
		GlorotUniform(l.Kernel, rng)
		if l.Bias != nil {
			clear(l.Bias.Value)
		}
	case *Dense:
		GlorotUniform(l.Kernel, rng)
		if l.Bias != nil {
			clear(l.Bias.Value)
		}
	case *BatchNorm:
		for c := range l.C {
			l.Gamma.Value[c], l.Beta.Value[c] = 1, 0
			l.Mean.Value[c], l.Var.Value[c] = 0, 1
		}
	}
}

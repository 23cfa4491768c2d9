package xai

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/mavis-xai/mavis/nn"
)

// reuseNet is sanityModel with nonzero batch-norm statistics, so that
// batch-norm is not the identity.
func reuseNet(t testing.TB) *nn.Model {
	t.Helper()
	m := sanityModel(t)
	rng := rand.New(rand.NewPCG(21, 22))
	for _, l := range m.Layers {
		if b, ok := l.(*nn.BatchNorm); ok {
			for c := range b.C {
				b.Gamma.Value[c], b.Beta.Value[c] = float32(0.5+rng.Float64()), float32(0.2*rng.NormFloat64())
				b.Mean.Value[c], b.Var.Value[c] = float32(0.2*rng.NormFloat64()), float32(0.5+rng.Float64())
			}
		}
	}
	return m
}

// TestForwardReuse: every method of the registry gives, bit for bit, the
// same result after a prediction of the same image, and after each other
// method in turn (where a pass of one sample reuses the model's last
// forward pass, nn.Model.ForwardAgain), as on a model whose last pass was
// of another image; also after a weight changed in place.
func TestForwardReuse(t *testing.T) {
	m, o := reuseNet(t), reuseNet(t) // o is the oracle: its last pass is always of another input
	rng := rand.New(rand.NewPCG(23, 24))
	in := m.InputShape()
	x, other := nn.NewTensor(1, in[0], in[1], in[2]), nn.NewTensor(1, in[0], in[1], in[2])
	for i := range x.Data {
		x.Data[i], other.Data[i] = float32(rng.Float64()), float32(rng.Float64())
	}
	ex := New(m)
	oracle := func(method string) Result {
		o.Forward(other)
		r, err := New(o).Explain(x, Request{Method: method, Target: Predicted(), Seed: 3})
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		return r
	}
	same := func(what, method string, got, want Result) {
		t.Helper()
		if !slices.Equal(got.Map.Data, want.Map.Data) || !slices.Equal(got.Display.Data, want.Display.Data) ||
			!slices.Equal(got.Probs, want.Probs) || got.Class != want.Class || got.Score != want.Score {
			t.Errorf("%s, %s: the result differs from a model whose last pass was of another image", what, method)
		}
	}
	for _, predictFirst := range []bool{true, false} {
		for _, meth := range Methods() {
			if predictFirst {
				if _, err := ex.Predict(x); err != nil {
					t.Fatal(err)
				}
			}
			got, err := ex.Explain(x, Request{Method: meth.Name, Target: Predicted(), Seed: 3})
			if err != nil {
				t.Fatalf("%s: %v", meth.Name, err)
			}
			what := "after the method before"
			if predictFirst {
				what = "after a prediction"
			}
			same(what, meth.Name, got, oracle(meth.Name))
		}
	}
	// A weight changed in place after the prediction: the explanation is
	// of the changed model.
	ex.Predict(x)
	for _, mm := range []*nn.Model{m, o} {
		mm.Layers[0].(*nn.Conv2D).Kernel.Value[3] += 0.5
	}
	for _, method := range []string{"gradcam", "saliency"} {
		got, err := ex.Explain(x, Request{Method: method, Target: Predicted()})
		if err != nil {
			t.Fatal(err)
		}
		same("after a weight changed", method, got, oracle(method))
	}
}

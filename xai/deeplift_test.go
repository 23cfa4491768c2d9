package xai

// DeepLIFT on a network worked by hand, and its summation-to-delta for
// both targets; the conservation on MAVIS is in deeplift_mavis_test.go.

import (
	"math"
	"math/rand/v2"
	"testing"
)

// DeepLIFT on poolNet (guided_test.go) against a reference image, by hand.
//
//	x  =  1  2  0  3     x⁰ = 2 0 0 1     z(x) = 4,  z(x⁰) = 2 − 3 + 2·1 + 0.5·7 = 4.5
//	      4  0  1  1          0 1 3 0
//	     −1 −3  5  2          1 0 0 0
//	     −2 −4  0  6          0 0 7 0
//
// The pool's multipliers are class 0's weights g = (1, −1, 2, 0.5). Each
// window's Δy goes to the input's maximum (max(y, y⁰) − y⁰) and to the
// reference's (y − max(y, y⁰)), over the element's ΔA, A = relu:
//
//	top left:     y = 4 at (1,0), y⁰ = 2 at (0,0): 1·(4 − 2) = 2 to (1,0), ΔA = 4: m = 0.5
//	top right:    y = 3, y⁰ = 3: Δy = 0, nothing to credit
//	bottom left:  y = 0 at (2,0) (all-zero window), y⁰ = 1 at (2,0): 2·(0 − 1) = −2 to (2,0),
//	              ΔA = −1: m = 2
//	bottom right: y = 6 at (3,3), y⁰ = 7 at (3,2): 0.5·(6 − 7) = −0.5 to (3,2), ΔA = −7: m = 1/14
//
// The ReLU's secants: (1,0) (4 − 0)/(4 − 0) = 1; (2,0) (0 − 1)/(−1 − 1) =
// 1/2; (3,2) (0 − 7)/(0 − 7) = 1. The 1x1 convolution of weight 1 passes
// the multipliers to the pixels, and the contributions m·(x − x⁰) are
//
//	(1,0): 0.5·4 = 2    (2,0): 2·(1/2)·(−2) = −2    (3,2): (1/14)·(−7) = −0.5
//
// adding up to z(x) − z(x⁰) = −0.5.
func TestDeepLIFTHandWorked(t *testing.T) {
	m, x := poolNet(t)
	x0 := input(4, 4, 1,
		2, 0, 0, 1,
		0, 1, 3, 0,
		1, 0, 0, 0,
		0, 0, 7, 0)
	r, err := New(m).Explain(x, Request{Method: "deeplift", Target: Predicted(), Baseline: x0})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "deeplift", r.Map.Data, []float32{
		0, 0, 0, 0,
		2, 0, 0, 0,
		-2, 0, 0, 0,
		0, 0, -0.5, 0,
	}, 1e-6)
	c := r.Check
	if c == nil || c.Name != "summation to delta" || c.ScoreX != 4 || c.ScoreRef != 4.5 || c.Want != -0.5 || math.Abs(c.Sum+0.5) > 1e-6 || math.Abs(c.Gap) > 1e-6 || !c.Pass() {
		t.Errorf("check %+v, want sum −0.5 = 4 − 4.5", c)
	}
	if r.Passes != 2 || r.Class != 0 {
		t.Errorf("passes %d class %d, want 2 and 0", r.Passes, r.Class)
	}
	// Against the black image (the default reference): every window's
	// reference maximum is its first element (all tied at 0), and the
	// contributions are (1,0): 1·4, (0,3): −1·3, (3,3): 0.5·6, the
	// bottom-left window's winner (2,0) (x = −1) having a secant of 0.
	r, err = New(m).Explain(x, Request{Method: "deeplift", Target: Predicted()})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "deeplift black", r.Map.Data, []float32{
		0, 0, 0, -3,
		4, 0, 0, 0,
		0, 0, 0, 0,
		0, 0, 0, 3,
	}, 1e-6)
	if r.Check.Want != 4 || math.Abs(r.Check.Gap) > 1e-6 {
		t.Errorf("black reference: check %+v, want sum 4", r.Check)
	}
}

// TestDeepLIFTSummationToDelta: for both targets and every reference kind,
// the contributions add up to Score(x) − Score(x⁰), on reluNet (a
// convolution, ReLUs and a dense layer with biases).
func TestDeepLIFTSummationToDelta(t *testing.T) {
	m := reluNet(t)
	x := reluInput()
	for _, kind := range []Score{Logit, Probability} {
		for _, ref := range []string{"black", "white", "blur", "noise"} {
			for class := range 3 {
				tg := Target{Class: class, Kind: kind}
				r, err := New(m).Explain(x, Request{Method: "deeplift", Target: tg, Options: Options{"baseline": ref, "sigma": 1.0}, Seed: 5})
				if err != nil {
					t.Fatal(err)
				}
				c := r.Check
				// The reference's own score, from a plain prediction.
				b, err := New(m).baseline(x, mustBaseline(t, ref, 1, 5))
				if err != nil {
					t.Fatal(err)
				}
				p, _ := New(m).Predict(b)
				want := p.Logits[class]
				if kind == Probability {
					want = p.Probs[class]
				}
				if math.Abs(c.ScoreRef-want) > 1e-6 {
					t.Errorf("%v %s: Score(x⁰) %g, a prediction of the reference gives %g", tg, ref, c.ScoreRef, want)
				}
				// The limit allows the float32 rounding of the contributions
				// themselves (a few ulps of Σ|contribution|): they are
				// products of pixel differences near 100 that cancel down to
				// a probability difference of 1e-4, and kernels that sum in
				// another order (the browser's SIMD128 kernels) land 1.3e-8
				// off where the portable ones happen to land closer.
				var abs float64
				for _, v := range r.Map.Data {
					abs += math.Abs(float64(v))
				}
				if math.Abs(c.Gap) > 1e-5*math.Max(math.Abs(c.Want), 1e-3)+4*0x1p-24*abs {
					t.Errorf("%v %s: Σ contributions %.8g, Score(x) − Score(x⁰) = %.8g", tg, ref, c.Sum, c.Want)
				}
			}
		}
	}
}

func mustBaseline(t *testing.T, name string, sigma float64, seed uint64) Baseline {
	b, err := ParseBaseline(name)
	if err != nil {
		t.Fatal(err)
	}
	b.Sigma, b.Seed = sigma, seed
	return b
}

// TestSoftmaxSecant: the probability target's multipliers of the logits
// add up to the change of p_c along any line, to float64 rounding, also
// when the logits move far (steep softmax) and when p_c saturates.
func TestSoftmaxSecant(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for trial := range 200 {
		k := 2 + rng.IntN(6)
		spread := []float64{0.1, 3, 20, 80}[trial%4]
		z0, z := make([]float64, k), make([]float64, k)
		for j := range k {
			z0[j] = spread * rng.NormFloat64()
			z[j] = spread * rng.NormFloat64()
		}
		c := rng.IntN(k)
		m := make([]float64, k)
		softmaxSecant(m, z0, z, c)
		var sum float64
		for j := range k {
			sum += m[j] * (z[j] - z0[j])
		}
		p, p0 := make([]float64, k), make([]float64, k)
		softmaxAt(p, z0, z, 1)
		softmaxAt(p0, z0, z, 0)
		want := rest(p0, c) - rest(p, c)
		if math.Abs(sum-want) > 1e-12+1e-9*math.Abs(want) {
			t.Errorf("k %d spread %g: Σ m·Δz = %.15g, Δp_c = %.15g", k, spread, sum, want)
		}
	}
}

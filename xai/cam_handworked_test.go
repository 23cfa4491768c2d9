package xai

// Hand-worked cases for the CAM family beyond Grad-CAM: a network whose
// gradient at the layer differs from position to position, so that every
// method gives a different map, worked out by hand below.

import (
	"math"
	"testing"

	"github.com/mavis-xai/mavis/nn"
)

// posModel is a 2x2 one-channel input, a 1x1 convolution with ReLU giving
//
//	A_0 = relu(x),  A_1 = relu(3 − x)
//
// then Flatten and a Dense layer whose class-0 weights differ by position
// (class 1's are all zero, so z_1 = 0 and p_0 = σ(z_0)):
//
//	z_0 = Σ_p W[p][0] A_0[p] + W[p][1] A_1[p],
//	W = p0: ( 1, −1)   p1: ( 2, 0)
//	    p2: (−1,  1)   p3: ( 1, 2)
//
// For the logit, ∂z_0/∂A_k[p] = W[p][k]: the gradient at the layer is W.
func posModel(t testing.TB, bias float32) *nn.Model {
	W := [4][2]float32{{1, -1}, {2, 0}, {-1, 1}, {1, 2}}
	dense := make([]float32, 8*2)
	for p := range 4 {
		for k := range 2 {
			dense[(p*2+k)*2] = W[p][k]
		}
	}
	return tinyModel(t, [3]int{2, 2, 1}, []nn.LayerSpec{
		{Class: "Conv2D", Name: "conv", Config: nn.LayerConfig{Filters: 2, KernelSize: []int{1, 1}, Activation: "relu"}},
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 2, Activation: "softmax"}},
	}, map[string][]float32{
		"conv/kernel": {1, -1}, "conv/bias": {0, 3},
		"dense/kernel": dense, "dense/bias": {bias, 0},
	})
}

// posInput is x = (0, 1; 2, 4): A_0 = (0, 1; 2, 4), A_1 = (3, 2; 1, 0), and
// the products W ⊙ A per position (k = 0, 1):
//
//	p0: (0, −3)   p1: (2, 0)   p2: (−2, 1)   p3: (4, 0)
//
// so z_0 = 2, and per channel Σ_p W A = (4, −2).
var posInput = []float32{0, 1, 2, 4}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

func TestGradientCAMsHandWorked(t *testing.T) {
	ex := New(posModel(t, 0))
	x := input(2, 2, 1, posInput...)
	// Probability target: ∂p_0/∂A = p_0 p_1 W with p_0 = σ(2), p_1 = σ(−2).
	pp := float32(sigmoid(2) * sigmoid(-2))
	tests := []struct {
		method  string
		run     func(*nn.Tensor, CAMOptions) (CAM, error)
		kind    Score
		weights []float32 // nil: none
		raw     []float32
	}{
		// HiResCAM: relu(Σ_k W ⊙ A) = relu(−3, 2; −1, 4).
		{"hirescam", ex.HiResCAM, Logit, nil, []float32{
			0, 2,
			0, 4,
		}},
		{"hirescam", ex.HiResCAM, Probability, nil, mul([]float32{
			0, 2,
			0, 4,
		}, pp)},
		// LayerCAM: relu(Σ_k relu(W) ⊙ A): p0 1·0 + 0·3, p1 2·1, p2 0·2 + 1·1, p3 1·4 + 2·0.
		{"layercam", ex.LayerCAM, Logit, nil, []float32{
			0, 2,
			1, 4,
		}},
		// XGrad-CAM: w = Σ_p W A / Σ_p A = (4/7, −2/6); raw = relu(4/7 A_0 − 1/3 A_1):
		// p0 −1, p1 4/7 − 2/3 < 0, p2 8/7 − 1/3 = 17/21, p3 16/7.
		{"xgradcam", ex.XGradCAM, Logit, []float32{4. / 7, -1. / 3}, []float32{
			0, 0,
			17. / 21, 16. / 7,
		}},
		{"xgradcam", ex.XGradCAM, Probability, []float32{4. / 7 * pp, -1. / 3 * pp}, mul([]float32{
			0, 0,
			17. / 21, 16. / 7,
		}, pp)},
		// Eigen-Grad-CAM: M = W ⊙ A has column means (1, −0.5), so
		// Mc = (−1, −2.5; 1, 0.5; −3, 1.5; 3, 0.5) and Mcᵀ Mc = (20, 0; 0, 9):
		// v = (1, 0), proj = Mc[:,0] = (−1, 1, −3, 3). M's row sums are
		// (−3, 2, −1, 4): proj · sums = 20 > 0 keeps the sign.
		{"eigengradcam", ex.EigenGradCAM, Logit, nil, []float32{
			0, 1,
			0, 3,
		}},
		// The probability scales M by p_0 p_1, and proj with it.
		{"eigengradcam", ex.EigenGradCAM, Probability, nil, mul([]float32{
			0, 1,
			0, 3,
		}, pp)},
		// Eigen-CAM: M = A has column means (1.75, 1.5), Mcᵀ Mc =
		// (8.75, −6.5; −6.5, 5), whose top eigenvalue is
		// λ = 6.875 + √(1.875² + 6.5²) = 13.6400295638674 with
		// v ∝ (−6.5, λ − 8.75) = (−0.79911221092603, 0.60118189788858);
		// proj = Mc v = (−2.30021921595342, −0.89992510713881,
		// 0.50036900167580, 2.69977532141643), and proj · (3, 3, 3, 4) =
		// 2.7 > 0 keeps the sign. The target does not matter.
		{"eigencam", ex.EigenCAM, Logit, nil, []float32{
			0, 0,
			0.50036900167580, 2.69977532141643,
		}},
		{"eigencam", ex.EigenCAM, Probability, nil, []float32{
			0, 0,
			0.50036900167580, 2.69977532141643,
		}},
	}
	for _, tt := range tests {
		r, err := tt.run(x, CAMOptions{Target: Target{Class: -1, Kind: tt.kind}})
		if err != nil {
			t.Fatalf("%s %v: %v", tt.method, tt.kind, err)
		}
		what := tt.method + " " + tt.kind.String()
		if r.Method != tt.method || r.Layer != "conv" || r.Class != 0 || r.Raw.H != 2 || r.Raw.W != 2 || r.Raw.C != 1 {
			t.Errorf("%s: method %q layer %q class %d map %v, want %s, conv, 0, 2x2x1", what, r.Method, r.Layer, r.Class, r.Raw, tt.method)
		}
		if tt.weights == nil && r.Weights != nil {
			t.Errorf("%s: weights %v, want none", what, r.Weights)
		}
		if tt.weights != nil {
			near(t, what+" weights", r.Weights, tt.weights, 1e-6*maxAbs(tt.weights))
		}
		near(t, what+" raw", r.Raw.Data, tt.raw, 1e-6*maxAbs(tt.raw))
		near(t, what+" norm", r.Norm.Data, div(tt.raw, float32(maxAbs(tt.raw))), 1e-6)
	}
}

// TestHiResCAMEqualsGradCAMUnderGAP: with a global average pool after the
// layer (gapModel) the gradient is the same at every position, and
// HiResCAM's map is Grad-CAM's.
func TestHiResCAMEqualsGradCAMUnderGAP(t *testing.T) {
	ex := New(gapModel(t))
	x := input(4, 4, 1, gapInput...)
	for class := range 3 {
		g, err := ex.GradCAM(x, CAMOptions{Target: Target{Class: class}})
		if err != nil {
			t.Fatal(err)
		}
		h, err := ex.HiResCAM(x, CAMOptions{Target: Target{Class: class}})
		if err != nil {
			t.Fatal(err)
		}
		near(t, "hirescam", h.Raw.Data, g.Raw.Data, 1e-6*max(maxAbs(g.Raw.Data), 1))
		if h.Zero != g.Zero {
			t.Errorf("class %d: Zero %v, Grad-CAM's %v", class, h.Zero, g.Zero)
		}
	}
}

// TestEigenCAMFlat: a layer whose positions are all alike has no
// principal direction; the map is zero and says so.
func TestEigenCAMFlat(t *testing.T) {
	ex := New(posModel(t, 0))
	x := input(2, 2, 1, 1, 1, 1, 1)
	r, err := ex.EigenCAM(x, CAMOptions{Target: Predicted()})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Zero || maxAbs(r.Raw.Data) != 0 {
		t.Errorf("flat layer: Zero %v, raw %v; want a zero map", r.Zero, r.Raw.Data)
	}
}

// TestCAMFamilyLayerErrors: every layer-based method refuses a layer with
// no spatial output, or none at all, with the same message.
func TestCAMFamilyLayerErrors(t *testing.T) {
	ex := New(posModel(t, 0))
	x := input(2, 2, 1, posInput...)
	for _, m := range Methods() {
		if !m.Layer {
			continue
		}
		for _, tt := range []struct{ layer, want string }{
			{"dense", "no spatial output"},
			{"nope", `no layer "nope"`},
		} {
			_, err := ex.Explain(x, Request{Method: m.Name, Target: Predicted(), Layer: tt.layer})
			if err == nil || !contains(err.Error(), tt.want) {
				t.Errorf("%s at layer %q: error %v, want %q", m.Name, tt.layer, err, tt.want)
			}
		}
	}
}

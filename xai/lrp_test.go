package xai

// LRP on a network worked by hand (a convolution with a ReLU, batch
// normalisation folded through a max-pool into the dense logits), for
// each rule, with the relevance at every layer; LRP-0 against Gradient ×
// Input; the conservation on MAVIS is in lrp_mavis_test.go.

import (
	"math"
	"testing"

	"github.com/mavis-xai/mavis/nn"
)

// bnNet: four pixels x = (1, 2, 3, 0) (2x2, row-major), a 1x1 convolution
// with two filters and a ReLU, a batch normalisation, a 2x2 max-pool and
// the dense logits:
//
//	conv:  a₀ = relu(x) = (1, 2, 3, 0)     a₁ = relu(2 − x) = (1, 0, 0, 2)
//	bn:    s = (2, 0.5), t = (−1, 3):  b₀ = (1, 3, 5, −1)   b₁ = (3.5, 3, 3, 4)
//	pool:  5 (pixel 2), 4 (pixel 3)
//	dense: z₀ = 5·1 + 4·(−0.5) + 0.5 = 3.5,   z₁ = −5 + 4 = −1
//
// Folded, the dense layer sees v = s·a at the pool's maxima, (2·3, 0.5·2)
// = (6, 1) (= b − t), with the bias 0.5 + 1·(−1) − 0.5·3 = −2:
// 6 − 0.5 − 2 = 3.5.
func bnNet(t testing.TB) (*nn.Model, *nn.Tensor) {
	m := tinyModel(t, [3]int{2, 2, 1}, []nn.LayerSpec{
		{Class: "Conv2D", Name: "conv", Config: nn.LayerConfig{Filters: 2, KernelSize: []int{1, 1}, Activation: "relu"}},
		{Class: "BatchNormalization", Name: "bn"},
		{Class: "MaxPooling2D", Name: "pool"},
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 2, Activation: "softmax"}},
	}, map[string][]float32{
		"conv/kernel": {1, -1}, "conv/bias": {0, 2},
		// s = gamma / sqrt(0.999 + 0.001) = gamma, t = beta.
		"bn/gamma": {2, 0.5}, "bn/beta": {-1, 3}, "bn/moving_mean": {0, 0}, "bn/moving_variance": {0.999, 0.999},
		"dense/kernel": {1, -1, -0.5, 1}, "dense/bias": {0.5, 0},
	})
	return m, input(2, 2, 1, 1, 2, 3, 0)
}

// TestLRPHandWorked: the relevance of class 0 (R = z₀ = 3.5) through
// bnNet by each rule.
//
// z+: the dense layer's positive contribution is 6 (channel 0): R = (3.5,
// 0); the pool sends 3.5 to pixel 2, whose only contribution to a₀ is
// x·1 = 3 > 0: all of it. Conserved at every layer.
//
// epsilon (ε = 0.5): dense s = 3.5/(3.5 + 0.5) = 0.875, R = (6·0.875,
// −0.5·0.875) = (5.25, −0.4375), Σ 4.8125 = s·(z − bias) = 0.875·5.5; the
// convolution at pixel 2 channel 0: s = 5.25/(3 + 0.5) = 1.5, R = 3·1.5 =
// 4.5 (ε keeps 0.75); at pixel 3 channel 1 (a₁ = 2): the contribution
// 0·(−1) = 0, the bias 2 keeps all of −0.4375.
//
// alpha-beta (α = 2, β = 1): dense R = (2·6/6·3.5, −1·(−0.5)/(−0.5)·3.5)
// = (7, −3.5); pixel 2's unit has no negative contribution, so only its α
// share passes: 2·7 = 14; pixel 3's unit has no contribution at all (x =
// 0): −3.5 is dropped.
func TestLRPHandWorked(t *testing.T) {
	m, x := bnNet(t)
	layers := []string{"conv", "bn", "pool", "flatten", "dense"}
	for _, tt := range []struct {
		opts Options
		want []float32 // relevance of the four pixels
		sums []float64 // at the input of conv, bn, pool, flatten, dense
	}{
		{Options{"rule": "z+"}, []float32{0, 0, 3.5, 0}, []float64{3.5, 3.5, 3.5, 3.5, 3.5}},
		{Options{"rule": "epsilon", "epsilon": 0.5}, []float32{0, 0, 4.5, 0}, []float64{4.5, 4.8125, 4.8125, 4.8125, 4.8125}},
		{Options{"rule": "alpha-beta", "alpha": 2.0}, []float32{0, 0, 14, 0}, []float64{14, 3.5, 3.5, 3.5, 3.5}},
	} {
		r, err := New(m).Explain(x, Request{Method: "lrp", Target: Predicted(), Options: tt.opts})
		if err != nil {
			t.Fatal(err)
		}
		if r.Class != 0 || r.Score != 3.5 {
			t.Fatalf("%v: class %d score %g, want 0 and 3.5", tt.opts, r.Class, r.Score)
		}
		near(t, tt.opts["rule"].(string), r.Map.Data, tt.want, 1e-5)
		c := r.Check
		if c == nil || c.Name != "relevance conservation" || c.Want != 3.5 || math.Abs(c.Sum-tt.sums[0]) > 1e-5 || math.Abs(c.Gap-(tt.sums[0]-3.5)) > 1e-5 {
			t.Fatalf("%v: check %+v, want sum %g of 3.5", tt.opts, c, tt.sums[0])
		}
		if len(c.Layers) != len(layers) {
			t.Fatalf("%v: %d layer sums, want %d", tt.opts, len(c.Layers), len(layers))
		}
		for i, l := range c.Layers {
			if l.Layer != layers[i] || math.Abs(l.Sum-tt.sums[i]) > 1e-5 {
				t.Errorf("%v: at %s's input %g, want %s's %g", tt.opts, l.Layer, l.Sum, layers[i], tt.sums[i])
			}
		}
	}
}

// TestLRPZeroIsInputXGradient: LRP-0 (the ε rule with ε = 0) on a ReLU
// network is Gradient × Input (Montavon et al. 2019; Ancona et al. 2018):
// at a ReLU unit R/z = (a·c)/a = c, the gradient's recursion; batch
// normalisation folded into the next layer leaves it so.
func TestLRPZeroIsInputXGradient(t *testing.T) {
	for _, net := range []func(testing.TB) (*nn.Model, *nn.Tensor){bnNet, poolNet, func(t testing.TB) (*nn.Model, *nn.Tensor) {
		return reluNet(t), reluInput()
	}} {
		m, x := net(t)
		for class := range 2 {
			tg := Target{Class: class}
			lrp, err := New(m).Explain(x, Request{Method: "lrp", Target: tg, Options: Options{"rule": "epsilon", "epsilon": 0.0}})
			if err != nil {
				t.Fatal(err)
			}
			ixg, err := New(m).Explain(x, Request{Method: "inputxgrad", Target: tg})
			if err != nil {
				t.Fatal(err)
			}
			near(t, "LRP-0 vs Gradient × Input", lrp.Map.Data, ixg.Map.Data, 1e-4*max(maxAbs(ixg.Map.Data), 1e-6))
		}
	}
}

// TestLRPErrors: a batch normalisation that cannot be folded into a
// following linear layer is refused in words, and bad options are caught.
func TestLRPErrors(t *testing.T) {
	m := tinyModel(t, [3]int{2, 2, 1}, []nn.LayerSpec{
		{Class: "Conv2D", Name: "conv", Config: nn.LayerConfig{Filters: 2, KernelSize: []int{1, 1}}},
		{Class: "BatchNormalization", Name: "bn"},
		{Class: "Activation", Name: "relu", Config: nn.LayerConfig{Activation: "relu"}},
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 2}},
	}, nil)
	_, err := New(m).Explain(input(2, 2, 1, 1, 2, 3, 4), Request{Method: "lrp", Target: Predicted()})
	if err == nil || !contains(err.Error(), `batch normalisation "bn" is not followed by a convolution or dense layer`) {
		t.Errorf("BatchNorm before a ReLU: %v", err)
	}
	ex := New(bnNet2(t))
	x := input(2, 2, 1, 1, 2, 3, 0)
	for _, o := range []LRPOptions{{Rule: Epsilon, Epsilon: -1}, {Rule: AlphaBeta, Alpha: 0.5}, {Rule: LRPRule(7)}} {
		if _, err := ex.LRP(x, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	if _, err := ParseLRPRule("gamma"); err == nil || err.Error() != `xai: unknown LRP rule "gamma" (want z+, epsilon, alpha-beta)` {
		t.Errorf("ParseLRPRule(gamma): %v", err)
	}
}

func bnNet2(t testing.TB) *nn.Model { m, _ := bnNet(t); return m }

// TestLRPSignedInputs: inputs of both signs (here the model's own input;
// after a linear layer or a negative batch-normalisation scale, hidden
// inputs too). A dense logit z = 1·2 + (−2)·(−1) + 1·(−3) + 0.5 = 1.5 has
// the contributions 2, 2 (a negative input times a negative weight) and
// −3, and the bias 0.5:
//
//	z+:               1.5 · (2, 2, 0)/4                  = (0.75, 0.75, 0)
//	alpha-beta (2,1): 1.5 · (2·2/4, 2·2/4, −1·(−3)/(−3)) = (1.5, 1.5, −1.5)
//	epsilon 0.5:      (2, 2, −3) · 1.5/(1.5 + 0.5)       = (1.5, 1.5, −2.25)
func TestLRPSignedInputs(t *testing.T) {
	m := tinyModel(t, [3]int{1, 1, 3}, []nn.LayerSpec{
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 2, Activation: "softmax"}},
	}, map[string][]float32{"dense/kernel": {1, 0, -2, 0, 1, 0}, "dense/bias": {0.5, 0}})
	x := input(1, 1, 3, 2, -1, -3)
	for _, tt := range []struct {
		opts Options
		want []float32
	}{
		{Options{"rule": "z+"}, []float32{0.75, 0.75, 0}},
		{Options{"rule": "alpha-beta", "alpha": 2.0}, []float32{1.5, 1.5, -1.5}},
		{Options{"rule": "epsilon", "epsilon": 0.5}, []float32{1.5, 1.5, -2.25}},
	} {
		r, err := New(m).Explain(x, Request{Method: "lrp", Target: Predicted(), Options: tt.opts})
		if err != nil {
			t.Fatal(err)
		}
		if r.Class != 0 || r.Score != 1.5 {
			t.Fatalf("class %d score %g, want 0 and 1.5", r.Class, r.Score)
		}
		near(t, tt.opts["rule"].(string), r.Map.Data, tt.want, 1e-6)
	}
}

// TestSplitSign: splitSign gives the bits of max(v, 0) and min(v, 0) for
// every non-NaN float32 kind: signed zeros, subnormals, normals, infinities.
func TestSplitSign(t *testing.T) {
	for _, v := range []float32{1.5, -2, 0, float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		math.MaxFloat32, -math.MaxFloat32, float32(math.Inf(1)), float32(math.Inf(-1))} {
		p, n := splitSign(v)
		if math.Float32bits(p) != math.Float32bits(max(v, 0)) || math.Float32bits(n) != math.Float32bits(min(v, 0)) {
			t.Errorf("splitSign(%g) = %g, %g; want %g, %g", v, p, n, max(v, 0), min(v, 0))
		}
	}
}

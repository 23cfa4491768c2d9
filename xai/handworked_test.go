package xai

// Hand-worked cases in the style of Captum's toy-model tests: tiny networks
// with hand-set weights and the expected maps written out as grids. They
// run natively and as js/wasm.

import (
	"math"
	"testing"

	"github.com/mavis-xai/mavis/nn"
)

// tinyModel builds a model from layers and sets the named parameters.
func tinyModel(t testing.TB, in [3]int, layers []nn.LayerSpec, params map[string][]float32) *nn.Model {
	t.Helper()
	m, err := nn.Build(nn.Spec{Name: "tiny", Input: in, Layers: layers})
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range params {
		p := m.Param(name)
		if p == nil {
			t.Fatalf("no parameter %q", name)
		}
		if len(v) != len(p.Value) {
			t.Fatalf("%s: %d values, want %d", name, len(v), len(p.Value))
		}
		copy(p.Value, v)
	}
	return m
}

func input(h, w, c int, v ...float32) *nn.Tensor {
	x := nn.NewTensor(1, h, w, c)
	if len(v) != len(x.Data) {
		panic("input: wrong number of values")
	}
	copy(x.Data, v)
	return x
}

// gapModel is CAM's architecture (Zhou et al. 2016): a 1x1 convolution
// with ReLU, global average pooling and a dense layer. nn has no pooling
// layer for GAP, so GAP+Dense is a Flatten and a Dense whose kernel holds
// v[k][c]/16 at every one of the 16 positions: exactly GAP then v.
//
//	A_0 = relu(x),  A_1 = relu(2 − x)
//	v = class 0: ( 2, 1)   class 1: (−1, 3)   class 2: (−1, −1)
func gapModel(t testing.TB) *nn.Model {
	v := [2][3]float32{{2, -1, -1}, {1, 3, -1}} // v[k][c]
	dense := make([]float32, 32*3)
	for p := range 16 {
		for k := range 2 {
			for c := range 3 {
				dense[(p*2+k)*3+c] = v[k][c] / 16
			}
		}
	}
	return tinyModel(t, [3]int{4, 4, 1}, []nn.LayerSpec{
		{Class: "Conv2D", Name: "conv", Config: nn.LayerConfig{Filters: 2, KernelSize: []int{1, 1}, Activation: "relu"}},
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 3, Activation: "softmax"}},
	}, map[string][]float32{
		"conv/kernel": {1, -1}, "conv/bias": {0, 2},
		"dense/kernel": dense,
	})
}

var gapInput = []float32{
	0, 1, 2, 3,
	3, 2, 1, 0,
	1, 1, 1, 1,
	4, 0, 4, 0,
}

func TestGradCAMEqualsCAM(t *testing.T) {
	m := gapModel(t)
	ex := New(m)
	x := input(4, 4, 1, gapInput...)
	// CAM_c = Σ_k v[k][c] A_k; Grad-CAM's weights are v[k][c]/16, so its
	// raw map is relu(CAM_c)/16 and the normalised maps agree.
	tests := []struct {
		class   int
		weights []float32
		raw     []float32 // relu(CAM)/16
		norm    []float32
		zero    bool
	}{
		{0, []float32{2. / 16, 1. / 16}, div([]float32{
			2, 3, 4, 6,
			6, 4, 3, 2,
			3, 3, 3, 3,
			8, 2, 8, 2,
		}, 16), []float32{
			0.25, 0.375, 0.5, 0.75,
			0.75, 0.5, 0.375, 0.25,
			0.375, 0.375, 0.375, 0.375,
			1, 0.25, 1, 0.25,
		}, false},
		{1, []float32{-1. / 16, 3. / 16}, div([]float32{
			6, 2, 0, 0,
			0, 0, 2, 6,
			2, 2, 2, 2,
			0, 6, 0, 6,
		}, 16), div([]float32{
			6, 2, 0, 0,
			0, 0, 2, 6,
			2, 2, 2, 2,
			0, 6, 0, 6,
		}, 6), false},
		{2, []float32{-1. / 16, -1. / 16}, make([]float32, 16), make([]float32, 16), true},
	}
	for _, tt := range tests {
		r, err := ex.GradCAM(x, CAMOptions{Target: Target{Class: tt.class}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Layer != "conv" || r.Raw.H != 4 || r.Raw.W != 4 || r.Raw.C != 1 {
			t.Fatalf("class %d: layer %q map %v, want conv 4x4x1", tt.class, r.Layer, r.Raw)
		}
		near(t, "weights", r.Weights, tt.weights, 1e-6)
		near(t, "raw", r.Raw.Data, tt.raw, 1e-6)
		near(t, "norm", r.Norm.Data, tt.norm, 1e-6)
		if r.Zero != tt.zero {
			t.Errorf("class %d: Zero %v, want %v", tt.class, r.Zero, tt.zero)
		}
	}
	// The predicted class: z0 = 2*1.5 + 0.875 = 3.875, z1 = 1.125, z2 = −2.375.
	r, err := ex.GradCAM(x, CAMOptions{Target: Predicted()})
	if err != nil {
		t.Fatal(err)
	}
	if r.Class != 0 || math.Abs(r.Score-3.875) > 1e-6 {
		t.Errorf("predicted class %d score %g, want 0 and 3.875", r.Class, r.Score)
	}
}

func TestGradCAMPlusPlusHandWorked(t *testing.T) {
	ex := New(gapModel(t))
	x := input(4, 4, 1, gapInput...)
	// The gradient g = v[k][c]/16 is constant over positions, so alpha is
	// constant, normalises to 1/16 and w_k = relu(v[k][c]/16): for class 1
	// the map is 3/16 A_1 (A_0's negative weight drops out).
	a1 := []float32{
		2, 1, 0, 0,
		0, 0, 1, 2,
		1, 1, 1, 1,
		0, 2, 0, 2,
	}
	for _, pos := range []bool{false, true} {
		r, err := ex.GradCAMPlusPlus(x, CAMOptions{Target: Target{Class: 1}, PosNorm: pos})
		if err != nil {
			t.Fatal(err)
		}
		near(t, "weights", r.Weights, []float32{0, 3. / 16}, 1e-6)
		near(t, "raw", r.Raw.Data, mul(a1, 3./16), 1e-6)
		near(t, "norm", r.Norm.Data, div(a1, 2), 1e-6)
	}
}

// TestGradCAMPlusPlusFormula checks the closed form on one channel by hand:
// A = (1, 3) so S = 4; g = (0.5, −0.25):
//
//	alpha = g²/(2g² + S g³) = 0.25/(0.5+0.5) = 0.25,  0.0625/(0.125−0.0625) = 1
//	full sum Z = 1.25: w = 0.25·0.5/1.25 = 0.1
//	posnorm Z = 0.25:  w = 0.25·0.5/0.25 = 0.5
func TestGradCAMPlusPlusFormula(t *testing.T) {
	a := []float32{1, 3}
	g := []float32{0.5, -0.25}
	w := make([]float64, 1)
	gradCAMPPWeights(w, a, g, 1)
	if math.Abs(w[0]-0.1) > 1e-12 {
		t.Errorf("full normalisation: got %v, want 0.1", w[0])
	}
	gradCAMPPWeightsPos(w, a, g, 1)
	if math.Abs(w[0]-0.5) > 1e-12 {
		t.Errorf("positive normalisation: got %v, want 0.5", w[0])
	}
	gradCAMWeights(w, a, g, 1)
	if math.Abs(w[0]-0.125) > 1e-12 {
		t.Errorf("grad-cam mean: got %v, want 0.125", w[0])
	}
	// g = 0 everywhere: alpha 0 (denominator set to 1), weight 0, no NaN.
	gradCAMPPWeights(w, a, []float32{0, 0}, 1)
	if w[0] != 0 {
		t.Errorf("zero gradient: got %v, want 0", w[0])
	}
}

func TestCAMLayerErrors(t *testing.T) {
	ex := New(gapModel(t))
	x := input(4, 4, 1, gapInput...)
	for _, tt := range []struct{ layer, want string }{
		{"dense", "no spatial output"},
		{"flatten", "no spatial output"},
		{"nope", `no layer "nope"`},
	} {
		_, err := ex.GradCAM(x, CAMOptions{Layer: tt.layer})
		if err == nil || !contains(err.Error(), tt.want) {
			t.Errorf("layer %q: got %v, want an error containing %q", tt.layer, err, tt.want)
		}
	}
	if _, err := ex.GradCAM(x, CAMOptions{Target: Target{Class: 3}}); err == nil || !contains(err.Error(), "class 3 out of range") {
		t.Errorf("class 3: got %v", err)
	}
	if _, err := ex.Saliency(nn.NewTensor(1, 5, 4, 1), Predicted()); err == nil || !contains(err.Error(), "want 1x4x4x1") {
		t.Errorf("bad input shape: got %v", err)
	}
}

// TestCAMLayerSpatial: a 1 x 1 convolution output (and a BatchNorm after
// it) is a map; a BatchNorm after a Dense, also 1 x 1, is not.
func TestCAMLayerSpatial(t *testing.T) {
	m := tinyModel(t, [3]int{1, 1, 2}, []nn.LayerSpec{
		{Class: "Conv2D", Name: "conv", Config: nn.LayerConfig{Filters: 2, KernelSize: []int{1, 1}, Activation: "relu"}},
		{Class: "BatchNormalization", Name: "conv_bn"},
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 3, Activation: "relu"}},
		{Class: "BatchNormalization", Name: "dense_bn"},
		{Class: "Dense", Name: "out", Config: nn.LayerConfig{Units: 2, Activation: "softmax"}},
	}, map[string][]float32{"conv/kernel": {1, 0, 0, 1}, "dense/kernel": {1, 0, 1, 0, 1, 1}, "out/kernel": {1, -1, 2, 0, 0, 1}})
	ex := New(m)
	x := input(1, 1, 2, 3, 4)
	for _, l := range []string{"conv", "conv_bn", ""} {
		r, err := ex.GradCAM(x, CAMOptions{Layer: l})
		if err != nil || r.Raw.H != 1 || r.Raw.W != 1 {
			t.Errorf("layer %q: %v, map %v", l, err, r.Raw)
		}
	}
	if _, err := ex.GradCAM(x, CAMOptions{Layer: "dense_bn"}); err == nil || !contains(err.Error(), "no spatial output") {
		t.Errorf("dense_bn: got %v, want no spatial output", err)
	}
}

// linearModel is z = W·flat(x) with x 2x2x2 and 2 classes, no softmax.
//
//	w[:, class 0] = ( 1, −2,   3, 0.5,   −1, 0,   2, −4)
//	w[:, class 1] = (−3,  1,   0, 2,      5, −1,  1,  1)
func linearModel(t testing.TB) *nn.Model {
	w0 := []float32{1, -2, 3, 0.5, -1, 0, 2, -4}
	w1 := []float32{-3, 1, 0, 2, 5, -1, 1, 1}
	k := make([]float32, 16)
	for i := range 8 {
		k[i*2], k[i*2+1] = w0[i], w1[i]
	}
	return tinyModel(t, [3]int{2, 2, 2}, []nn.LayerSpec{
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 2}},
	}, map[string][]float32{"dense/kernel": k})
}

func TestSaliencyLinearIsAbsW(t *testing.T) {
	ex := New(linearModel(t))
	x := input(2, 2, 2, 1, 2, 3, 4, 5, 6, 7, 8)
	// z0 = 1−4+9+2−5+0+14−32 = −15, z1 = −3+2+0+8+25−6+7+8 = 41: class 1.
	r, err := ex.Saliency(x, Predicted())
	if err != nil {
		t.Fatal(err)
	}
	if r.Class != 1 || r.Score != 41 {
		t.Errorf("class %d score %g, want 1 and 41", r.Class, r.Score)
	}
	near(t, "grad", r.Grad.Data, []float32{-3, 1, 0, 2, 5, -1, 1, 1}, 0)
	near(t, "saliency", r.Map.Data, []float32{
		3, 2,
		5, 1,
	}, 0)
	r, err = ex.Saliency(x, Target{Class: 0})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "saliency class 0", r.Map.Data, []float32{
		2, 3,
		1, 4,
	}, 0)
	// Probability target: dp_c/dx = p_c Σ_j (δ_cj − p_j) w_j.
	r, err = ex.Saliency(x, Target{Class: 0, Kind: Probability})
	if err != nil {
		t.Fatal(err)
	}
	p0 := 1 / (1 + math.Exp(41+15)) // p_0 = σ(z0 − z1)
	want := make([]float32, 8)
	w0 := []float64{1, -2, 3, 0.5, -1, 0, 2, -4}
	w1 := []float64{-3, 1, 0, 2, 5, -1, 1, 1}
	for i := range want {
		want[i] = float32(p0 * (1 - p0) * (w0[i] - w1[i]))
	}
	near(t, "probability gradient", r.Grad.Data, want, 1e-6*maxAbs(want))
	if math.Abs(r.Score-p0) > 1e-12*p0 {
		t.Errorf("probability score %g, want %g", r.Score, p0)
	}
}

// TestIntegratedGradientsLinear: for a linear score, IG = (x − b) ⊙ w for
// every rule and step count, and completeness holds exactly.
func TestIntegratedGradientsLinear(t *testing.T) {
	ex := New(linearModel(t))
	x := input(2, 2, 2, 1, 2, 3, 4, 5, 6, 7, 8)
	for _, tt := range []struct {
		rule  Rule
		steps int
	}{{Linspace, 2}, {Linspace, 7}, {Trapezoid, 3}, {GaussLegendre, 1}, {GaussLegendre, 4}} {
		a, err := ex.IntegratedGradients(x, IGOptions{Target: Target{Class: 1}, Steps: tt.steps, Rule: tt.rule})
		if err != nil {
			t.Fatal(err)
		}
		near(t, tt.rule.String(), a.Map.Data, []float32{-3, 2, 0, 8, 25, -6, 7, 8}, 1e-5)
		if math.Abs(a.Gap) > 1e-5 || a.Score != 41 || a.BaselineScore != 0 {
			t.Errorf("%v %d: gap %g score %g baseline %g, want 0, 41, 0", tt.rule, tt.steps, a.Gap, a.Score, a.BaselineScore)
		}
	}
	// White baseline (255 everywhere): IG = (x − 255) ⊙ w.
	a, err := ex.IntegratedGradients(x, IGOptions{Target: Target{Class: 0}, Steps: 2, Baseline: Baseline{Kind: White}})
	if err != nil {
		t.Fatal(err)
	}
	w0 := []float32{1, -2, 3, 0.5, -1, 0, 2, -4}
	want := make([]float32, 8)
	for i := range want {
		want[i] = (x.Data[i] - 255) * w0[i]
	}
	near(t, "white", a.Map.Data, want, 1e-4)
}

// reluNet is a small nonlinear network: conv 3x3 'same' with ReLU, max
// pooling, dense with ReLU and a 3-way softmax, with fixed weights.
func reluNet(t testing.TB) *nn.Model { return reluNetOf(t, 6, 6) }

// reluNetOf is reluNet's layers and weights' pattern on an h x w x 2 input.
func reluNetOf(t testing.TB, h, w int) *nn.Model {
	m := tinyModel(t, [3]int{h, w, 2}, []nn.LayerSpec{
		{Class: "Conv2D", Name: "conv", Config: nn.LayerConfig{Filters: 3, KernelSize: []int{3, 3}, Padding: "same", Activation: "relu"}},
		{Class: "MaxPooling2D", Name: "pool"},
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "hidden", Config: nn.LayerConfig{Units: 4, Activation: "relu"}},
		{Class: "Dense", Name: "out", Config: nn.LayerConfig{Units: 3, Activation: "softmax"}},
	}, nil)
	for i, p := range m.Params() {
		for j := range p.Value {
			// a fixed, irregular pattern in [−0.5, 0.5]
			p.Value[j] = float32(math.Sin(float64(7*i+13*j+1)*1.7)) * 0.5
		}
	}
	return m
}

func reluInput() *nn.Tensor { return reluInputOf(6, 6) }

// reluInputOf is reluInput's pattern on h x w x 2.
func reluInputOf(h, w int) *nn.Tensor {
	x := nn.NewTensor(1, h, w, 2)
	for i := range x.Data {
		x.Data[i] = float32(math.Cos(float64(i)*0.9)+1) * 100
	}
	return x
}

func TestIntegratedGradientsCompleteness(t *testing.T) {
	ex := New(reluNet(t))
	x := reluInput()
	for _, kind := range []Score{Logit, Probability} {
		var prev float64
		for _, steps := range []int{16, 4096} {
			a, err := ex.IntegratedGradients(x, IGOptions{Target: Target{Class: -1, Kind: kind}, Steps: steps, Rule: GaussLegendre})
			if err != nil {
				t.Fatal(err)
			}
			d := a.Score - a.BaselineScore
			if d == 0 {
				t.Fatalf("%v: Score(x) = Score(b) = %g: a useless test", kind, a.Score)
			}
			rel := math.Abs(a.Gap / d)
			t.Logf("%v steps %d: sum %.6g, Score(x)−Score(b) %.6g, relative gap %.3g", kind, steps, a.Sum, d, rel)
			if steps == 4096 && rel > 1e-3 {
				t.Errorf("%v, %d Gauss–Legendre steps: relative completeness gap %.3g, want < 2e-3", kind, steps, rel)
			}
			if steps == 4096 && rel > prev/4 {
				t.Errorf("%v: relative gap %.3g at 4096 steps, %.3g at 16: not converging", kind, rel, prev)
			}
			prev = rel
		}
	}
}

func TestBatchedIGEqualsStepByStep(t *testing.T) {
	m := reluNet(t)
	x := reluInput()
	for _, o := range []IGOptions{
		{Target: Predicted(), Steps: 10},
		{Target: Target{Class: 2, Kind: Probability}, Steps: 7, Rule: GaussLegendre, Baseline: Baseline{Kind: Noise, Seed: 3}},
		{Target: Target{Class: 1}, Steps: 9, Rule: Trapezoid, Baseline: Baseline{Kind: Blur, Sigma: 1}},
	} {
		one := New(m)
		one.Batch = 1
		a1, err := one.IntegratedGradients(x, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range []int{3, 4, 100} {
			many := New(m)
			many.Batch = b
			ab, err := many.IntegratedGradients(x, o)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "batched IG", ab.Map.Data, a1.Map.Data, 1e-6*maxAbs(a1.Map.Data))
			if ab.Class != a1.Class || ab.Score != a1.Score || math.Abs(ab.Gap-a1.Gap) > 1e-5*(math.Abs(a1.Sum)+math.Abs(a1.Score)) {
				t.Errorf("batch %d: class %d score %g gap %g, step by step %d %g %g", b, ab.Class, ab.Score, ab.Gap, a1.Class, a1.Score, a1.Gap)
			}
		}
	}
}

func TestSmoothGradSeeded(t *testing.T) {
	ex := New(reluNet(t))
	x := reluInput()
	o := SmoothGradOptions{Target: Predicted(), Samples: 6, Noise: 0.1, Seed: 42}
	a, err := ex.SmoothGrad(x, o)
	if err != nil {
		t.Fatal(err)
	}
	ex.Batch = 4 // the batch size must not change the noise or the result
	b, err := ex.SmoothGrad(x, o)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "same seed", b.Grad.Data, a.Grad.Data, 1e-6*maxAbs(a.Grad.Data))
	o.Seed = 43
	c, err := ex.SmoothGrad(x, o)
	if err != nil {
		t.Fatal(err)
	}
	if maxDiff(c.Grad.Data, a.Grad.Data) == 0 {
		t.Error("seeds 42 and 43 gave the same SmoothGrad map")
	}
	s, _ := ex.Saliency(x, Predicted())
	if a.Class != s.Class || a.Score != s.Score {
		t.Errorf("SmoothGrad class %d score %g, saliency %d %g", a.Class, a.Score, s.Class, s.Score)
	}
	// A single sample with (almost) no noise is the plain gradient.
	d, err := ex.SmoothGrad(x, SmoothGradOptions{Target: Predicted(), Samples: 1, Noise: 1e-9})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "tiny noise", d.Grad.Data, s.Grad.Data, 1e-4*maxAbs(s.Grad.Data))
}

// TestProbabilitySeed checks the chain rule exactly: the probability
// gradient is Σ_j p_c(δ_cj − p_j) ∂z_j/∂x, each ∂z_j/∂x a logit saliency.
func TestProbabilitySeed(t *testing.T) {
	ex := New(reluNet(t))
	x := reluInput()
	const c = 2
	s, err := ex.Saliency(x, Target{Class: c, Kind: Probability})
	if err != nil {
		t.Fatal(err)
	}
	p := s.Probs
	want := make([]float32, len(x.Data))
	for j := range p {
		g, err := ex.Saliency(x, Target{Class: j})
		if err != nil {
			t.Fatal(err)
		}
		d := -p[c] * p[j]
		if j == c {
			d = p[c] * (1 - p[c])
		}
		for i, v := range g.Grad.Data {
			want[i] += float32(d * float64(v))
		}
	}
	near(t, "probability gradient", s.Grad.Data, want, 1e-5*maxAbs(want))
}

// TestProbabilityGradientFiniteDifference holds the engine's probability
// seed and nn's backward pass to central differences of p_c.
func TestProbabilityGradientFiniteDifference(t *testing.T) {
	m := reluNet(t)
	ex := New(m)
	x := reluInput()
	s, err := ex.Saliency(x, Target{Class: 1, Kind: Probability})
	if err != nil {
		t.Fatal(err)
	}
	h := float32(0.5)
	var num, den float64
	for i := range x.Data {
		old := x.Data[i]
		x.Data[i] = old + h
		pp, _ := ex.Predict(x)
		x.Data[i] = old - h
		pm, _ := ex.Predict(x)
		x.Data[i] = old
		fd := (pp.Probs[1] - pm.Probs[1]) / float64(2*h)
		d := fd - float64(s.Grad.Data[i])
		num += d * d
		den += fd * fd
	}
	if den == 0 || math.Sqrt(num/den) > 3e-2 {
		t.Errorf("probability gradient vs finite differences: relative L2 error %.3g (|fd| %.3g)", math.Sqrt(num/den), math.Sqrt(den))
	}
}

func TestGaussLegendre(t *testing.T) {
	// Abramowitz and Stegun, table 25.4.
	tests := []struct {
		n    int
		x, w []float64
	}{
		{1, []float64{0}, []float64{2}},
		{2, []float64{-0.5773502691896257, 0.5773502691896257}, []float64{1, 1}},
		{3, []float64{-0.7745966692414834, 0, 0.7745966692414834}, []float64{5. / 9, 8. / 9, 5. / 9}},
		{4, []float64{-0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526},
			[]float64{0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538}},
		{5, []float64{-0.9061798459386640, -0.5384693101056831, 0, 0.5384693101056831, 0.9061798459386640},
			[]float64{0.2369268850561891, 0.4786286704993665, 0.5688888888888889, 0.4786286704993665, 0.2369268850561891}},
	}
	for _, tt := range tests {
		x, w := gaussLegendre(tt.n)
		for i := range x {
			if math.Abs(x[i]-tt.x[i]) > 1e-14 || math.Abs(w[i]-tt.w[i]) > 1e-14 {
				t.Errorf("n=%d node %d: got (%.16g, %.16g), want (%.16g, %.16g)", tt.n, i, x[i], w[i], tt.x[i], tt.w[i])
			}
		}
	}
	// Exact for degree 2n−1: ∫_0^1 α^k dα = 1/(k+1), for k ≤ 2n−1.
	for _, n := range []int{1, 7, 50, 300} {
		a, w, err := alphas(GaussLegendre, n)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k <= min(2*n-1, 40); k++ {
			var s float64
			for i := range a {
				s += w[i] * math.Pow(a[i], float64(k))
			}
			if math.Abs(s-1/float64(k+1)) > 1e-13 {
				t.Errorf("n=%d: ∫α^%d = %.16g, want %.16g", n, k, s, 1/float64(k+1))
			}
		}
	}
}

func TestAlphas(t *testing.T) {
	tests := []struct {
		rule    Rule
		m       int
		a, w    []float64
		wantErr bool
	}{
		{Linspace, 5, []float64{0, 0.25, 0.5, 0.75, 1}, []float64{0.2, 0.2, 0.2, 0.2, 0.2}, false},
		{Trapezoid, 5, []float64{0, 0.25, 0.5, 0.75, 1}, []float64{0.125, 0.25, 0.25, 0.25, 0.125}, false},
		{Linspace, 1, nil, nil, true},
		{Trapezoid, 0, nil, nil, true},
		{GaussLegendre, maxSteps + 1, nil, nil, true},
	}
	for _, tt := range tests {
		a, w, err := alphas(tt.rule, tt.m)
		if (err != nil) != tt.wantErr {
			t.Errorf("%v %d: error %v, want error %v", tt.rule, tt.m, err, tt.wantErr)
			continue
		}
		for i := range tt.a {
			if math.Abs(a[i]-tt.a[i]) > 1e-15 || math.Abs(w[i]-tt.w[i]) > 1e-15 {
				t.Errorf("%v %d: got %v %v, want %v %v", tt.rule, tt.m, a, w, tt.a, tt.w)
				break
			}
		}
	}
}

// TestIGStepsAllocateNothing: once warm, IntegratedGradientsTo allocates
// nothing, and neither do nn's own forward and backward passes.
func TestIGStepsAllocateNothing(t *testing.T) {
	m := reluNet(t)
	ex := New(m)
	ex.Batch = 4
	x := reluInput()
	var a Attribution
	o := IGOptions{Target: Target{Class: -1, Kind: Probability}, Steps: 20} // 5 passes of 4
	if err := ex.IntegratedGradientsTo(&a, x, o); err != nil {              // warm up
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(5, func() {
		if err := ex.IntegratedGradientsTo(&a, x, o); err != nil {
			t.Fatal(err)
		}
	})
	// The same model's bare passes at the same batch size.
	xb := m.NewInput(4)
	dy := nn.NewTensor(4, 1, 1, 3)
	pass := func() {
		m.ForwardTo(xb, m.Logits())
		m.Backward(dy, m.Logits(), 0)
	}
	pass()
	nnAllocs := testing.AllocsPerRun(5, pass)
	if allocs != 5*nnAllocs {
		t.Errorf("IntegratedGradientsTo allocates %v times per call in steady state, want %v (5 passes of nn's %v)", allocs, 5*nnAllocs, nnAllocs)
	}
	if nnAllocs != 0 || allocs != 0 {
		t.Errorf("steady state allocates: nn %v times per forward+backward pass, IntegratedGradientsTo %v times per call; want 0", nnAllocs, allocs)
	}
}

func near(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", what, len(got), len(want))
		return
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - float64(want[i])); !(d <= tol) {
			t.Errorf("%s[%d]: got %v, want %v (tolerance %g)\ngot  %v\nwant %v", what, i, got[i], want[i], tol, got, want)
			return
		}
	}
}

func div(v []float32, d float32) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = x / d
	}
	return out
}

func mul(v []float32, f float32) []float32 { return div(v, 1/f) }

func maxAbs(v []float32) float64 {
	var m float64
	for _, x := range v {
		m = max(m, math.Abs(float64(x)))
	}
	return m
}

func maxDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

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

// TestScoreCAMHandWorked: posModel's layer has the input's resolution, so
// the aligned-corners upsampling is the identity and the masks are the
// min-max normalised channels
//
//	N_0 = A_0/4 = (0, 1/4; 1/2, 1),   N_1 = A_1/3 = (1, 2/3; 1/3, 0)
//
// x ⊙ N_0 = (0, 1/4; 1, 4) gives A = (0, 3), (1/4, 11/4), (1, 2), (4, 0) and
// z_0 = −3 + 1/2 + 1 + 4 = 2.5; x ⊙ N_1 = (0, 2/3; 2/3, 0) gives
// A = (0, 3), (2/3, 7/3), (2/3, 7/3), (0, 3) and z_0 = −3 + 4/3 + 5/3 + 6 = 6.
// For the probability the scores are σ(2.5) and σ(6) (z_1 = 0). Then
// w = softmax(s) and raw = relu(w_0 A_0 + w_1 A_1) =
// (3 w_1, w_0 + 2 w_1; 2 w_0 + w_1, 4 w_0).
func TestScoreCAMHandWorked(t *testing.T) {
	x := input(2, 2, 1, posInput...)
	for _, tt := range []struct {
		kind   Score
		scores [2]float64
	}{
		{Logit, [2]float64{2.5, 6}},
		{Probability, [2]float64{sigmoid(2.5), sigmoid(6)}},
	} {
		w1 := sigmoid(tt.scores[1] - tt.scores[0]) // softmax of two
		w0 := 1 - w1
		raw := []float32{
			float32(3 * w1), float32(w0 + 2*w1),
			float32(2*w0 + w1), float32(4 * w0),
		}
		for _, batch := range []int{0, 1, 2, 5} {
			ex := New(posModel(t, 0))
			ex.Batch = batch
			r, err := ex.Explain(x, Request{Method: "scorecam", Target: Target{Class: -1, Kind: tt.kind}})
			if err != nil {
				t.Fatal(err)
			}
			what := "scorecam " + tt.kind.String()
			if r.Class != 0 || r.Layer != "conv" || r.Passes != 3 || len(r.Extras) != 1 || r.Extras[0].Name != "scores" {
				t.Fatalf("%s: class %d layer %q passes %d extras %v, want 0, conv, 3 and the scores", what, r.Class, r.Layer, r.Passes, r.Extras)
			}
			near(t, what+" scores", r.Extras[0].Data, []float32{float32(tt.scores[0]), float32(tt.scores[1])}, 1e-6)
			near(t, what+" weights", r.Weights, []float32{float32(w0), float32(w1)}, 1e-6)
			near(t, what+" raw", r.Map.Data, raw, 1e-6)
		}
	}
}

// TestScoreCAMFlatMasks: at a 1x1 layer every upsampled channel is flat,
// every mask all zeros and every masked input black: all scores are
// Score(0) and the weights uniform.
func TestScoreCAMFlatMasks(t *testing.T) {
	m := tinyModel(t, [3]int{2, 2, 1}, []nn.LayerSpec{
		{Class: "Conv2D", Name: "conv", Config: nn.LayerConfig{Filters: 2, KernelSize: []int{1, 1}, Activation: "relu"}},
		{Class: "MaxPooling2D", Name: "pool", Config: nn.LayerConfig{PoolSize: []int{2, 2}}},
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 2, Activation: "softmax"}},
	}, map[string][]float32{
		"conv/kernel": {1, -1}, "conv/bias": {0, 3},
		"dense/kernel": {1, 0, 2, 0},
	})
	ex := New(m)
	x := input(2, 2, 1, posInput...)
	r, err := ex.ScoreCAM(x, CAMOptions{Target: Target{Class: -1}, Layer: "pool"})
	if err != nil {
		t.Fatal(err)
	}
	// At x = 0: A = (0, 3) after the pool, z_0 = 1·0 + 2·3 = 6.
	near(t, "scores", r.Scores, []float32{6, 6}, 1e-6)
	near(t, "weights", r.Weights, []float32{0.5, 0.5}, 1e-7)
	// At x: pool(A_0) = 4, pool(A_1) = 3; raw = (4 + 3)/2.
	near(t, "raw", r.Raw.Data, []float32{3.5}, 1e-6)
}

// TestCornerTaps checks align_corners resampling by hand: 2x2 to 3x3 puts
// the corners on the corners and means between them.
func TestCornerTaps(t *testing.T) {
	src := Map{H: 2, W: 2, C: 2, Data: []float32{
		1, 10, 3, 30,
		5, 50, 7, 70,
	}}
	dst, tmp := make([]float64, 9), make([]float64, 3*2)
	for c, want := range [][]float64{
		{1, 2, 3, 3, 4, 5, 5, 6, 7},
		{10, 20, 30, 30, 40, 50, 50, 60, 70},
	} {
		upsampleCornersTo(dst, tmp, src, c, cornerTaps(3, 2), cornerTaps(3, 2))
		for i := range want {
			if math.Abs(dst[i]-want[i]) > 1e-12 {
				t.Errorf("channel %d: got %v, want %v", c, dst, want)
				break
			}
		}
	}
	// 7 -> 224 as in the fixtures: output d samples d·6/223.
	taps := cornerTaps(224, 7)
	for _, tt := range []struct {
		d, i0, i1 int
		f         float64
	}{{0, 0, 1, 0}, {1, 0, 1, 6. / 223}, {38, 1, 2, 38*6./223 - 1}, {223, 6, 6, 0}} {
		if got := taps[tt.d]; got.i0 != tt.i0 || got.i1 != tt.i1 || math.Abs(got.f-tt.f) > 1e-15 {
			t.Errorf("7 -> 224, output %d: taps %+v, want %d, %d, %g", tt.d, got, tt.i0, tt.i1, tt.f)
		}
	}
	// One output samples the first input; one input is copied.
	if got := cornerTaps(1, 5); got[0] != (cornerTap{0, 1, 0}) {
		t.Errorf("5 -> 1: %+v, want {0 1 0}", got[0])
	}
	for d, got := range cornerTaps(4, 1) {
		if got != (cornerTap{0, 0, 0}) {
			t.Errorf("1 -> 4, output %d: %+v, want {0 0 0}", d, got)
		}
	}
}

// stopAfter is a Canceller that reports an error after n calls.
type stopAfter struct{ n int }

func (s *stopAfter) Err() error {
	if s.n--; s.n < 0 {
		return errorf("stopped")
	}
	return nil
}

// TestPerturbationCAMProgress: Score-CAM and Ablation-CAM report their
// passes and stop when cancelled.
func TestPerturbationCAMProgress(t *testing.T) {
	x := input(2, 2, 1, posInput...)
	for _, method := range []string{"scorecam", "ablationcam"} {
		if _, err := Lookup(method); err != nil {
			continue
		}
		ex := New(posModel(t, 0))
		ex.Batch = 1
		var calls [][2]int
		r, err := ex.Explain(x, Request{Method: method, Target: Predicted(), Progress: func(done, total int) { calls = append(calls, [2]int{done, total}) }})
		if err != nil {
			t.Fatal(err)
		}
		if len(calls) == 0 || calls[len(calls)-1] != [2]int{3, 3} || r.Passes != 3 {
			t.Errorf("%s: progress %v, passes %d; want to end at 3 of 3", method, calls, r.Passes)
		}
		_, err = ex.Explain(x, Request{Method: method, Target: Predicted(), Cancel: &stopAfter{1}})
		if err == nil || err.Error() != "stopped" {
			t.Errorf("%s cancelled: error %v, want the Canceller's", method, err)
		}
	}
}

// TestAblationCAMHandWorked: zeroing A_k removes channel k's terms
// Σ_p W A = (4, −2) from z_0 = 2, so for the logit y_k = (−2, 4),
// w = (2 − y_k)/2 = (2, −1) and raw = relu(2 A_0 − A_1) =
// (−3, 0; 3, 8) → (0, 0; 3, 8). For the probability y = σ(2),
// y_k = (σ(−2), σ(4)) and w_k = ((1 − y_k) − (1 − y)) / y.
func TestAblationCAMHandWorked(t *testing.T) {
	x := input(2, 2, 1, posInput...)
	a0, a1 := []float64{0, 1, 2, 4}, []float64{3, 2, 1, 0}
	rawOf := func(w0, w1 float64) []float32 {
		out := make([]float32, 4)
		for p := range out {
			out[p] = float32(max(0, w0*a0[p]+w1*a1[p]))
		}
		return out
	}
	y := sigmoid(2)
	pw0, pw1 := (sigmoid(2)-sigmoid(-2))/y, (sigmoid(-4)-sigmoid(-2))/y
	for _, tt := range []struct {
		kind    Score
		scores  []float32
		weights []float32
		raw     []float32
	}{
		{Logit, []float32{-2, 4}, []float32{2, -1}, []float32{
			0, 0,
			3, 8,
		}},
		{Probability, []float32{float32(sigmoid(-2)), float32(sigmoid(4))}, []float32{float32(pw0), float32(pw1)}, rawOf(pw0, pw1)},
	} {
		for _, batch := range []int{0, 1, 2, 5} {
			ex := New(posModel(t, 0))
			ex.Batch = batch
			r, err := ex.Explain(x, Request{Method: "ablationcam", Target: Target{Class: -1, Kind: tt.kind}})
			if err != nil {
				t.Fatal(err)
			}
			what := "ablationcam " + tt.kind.String()
			if r.Class != 0 || r.Layer != "conv" || r.Passes != 3 || len(r.Extras) != 1 || r.Extras[0].Name != "scores" {
				t.Fatalf("%s: class %d layer %q passes %d extras %v, want 0, conv, 3 and the scores", what, r.Class, r.Layer, r.Passes, r.Extras)
			}
			if want := map[Score]float64{Logit: 2, Probability: y}[tt.kind]; math.Abs(r.Score-want) > 1e-6 {
				t.Errorf("%s: score %v, want %v", what, r.Score, want)
			}
			near(t, what+" scores", r.Extras[0].Data, tt.scores, 1e-6)
			near(t, what+" weights", r.Weights, tt.weights, 1e-6)
			near(t, what+" raw", r.Map.Data, tt.raw, 1e-6)
		}
	}
}

// TestAblationCAMScoreSign: with dense bias −4, z_0 = −2 and class 0's
// y is negative: y_k = (−6, 0), w = (y − y_k)/y = (−2, 1), and
// raw = relu(−2 A_0 + A_1) = (3, 0; 0, 0). With bias −2, z_0 = 0 and the
// weights are undefined: an error.
func TestAblationCAMScoreSign(t *testing.T) {
	x := input(2, 2, 1, posInput...)
	r, err := New(posModel(t, -4)).AblationCAM(x, CAMOptions{Target: Target{Class: 0}})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "weights", r.Weights, []float32{-2, 1}, 1e-6)
	near(t, "raw", r.Raw.Data, []float32{3, 0, 0, 0}, 1e-6)
	_, err = New(posModel(t, -2)).AblationCAM(x, CAMOptions{Target: Target{Class: 0}})
	if err == nil || !contains(err.Error(), "score of class 0 is 0") {
		t.Errorf("zero score: error %v, want one saying the weights are undefined", err)
	}
}

// TestAblationCAMAgainstZeroedKernels ablates each channel of a Conv2D
// with ReLU at either of two layers of a small random CNN (so that the
// layers run after the first include a convolution, batched) and compares
// with the definition computed independently: the model with that
// channel's kernel and bias set to 0 (its ReLU output is then 0), run
// whole.
func TestAblationCAMAgainstZeroedKernels(t *testing.T) {
	build := func() *nn.Model {
		m := tinyModel(t, [3]int{6, 6, 2}, []nn.LayerSpec{
			{Class: "Conv2D", Name: "c1", Config: nn.LayerConfig{Filters: 3, KernelSize: []int{3, 3}, Padding: "same", Activation: "relu"}},
			{Class: "MaxPooling2D", Name: "pool", Config: nn.LayerConfig{PoolSize: []int{2, 2}}},
			{Class: "Conv2D", Name: "c2", Config: nn.LayerConfig{Filters: 4, KernelSize: []int{3, 3}, Padding: "same", Activation: "relu"}},
			{Class: "Flatten", Name: "flatten"},
			{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 3, Activation: "softmax"}},
		}, nil)
		nn.Init(m, 11)
		copy(m.Param("c1/bias").Value, []float32{0.1, -0.05, 0.2})
		copy(m.Param("c2/bias").Value, []float32{0.05, 0.1, -0.02, 0.03})
		return m
	}
	x := nn.NewTensor(1, 6, 6, 2)
	for i := range x.Data {
		x.Data[i] = float32((i*37)%19)/9 - 1
	}
	for _, layer := range []string{"c1", "c2"} {
		for _, kind := range []Score{Logit, Probability} {
			tg := Target{Class: -1, Kind: kind}
			ex := New(build())
			r, err := ex.AblationCAM(x, CAMOptions{Target: tg, Layer: layer})
			if err != nil {
				t.Fatal(err)
			}
			base, err := ex.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			c := base.Class
			score := func(p Prediction) float64 {
				if kind == Probability {
					return 1 - p.Probs[c] // compared as differences below
				}
				return p.Logits[c]
			}
			y := base.Logits[c]
			if kind == Probability {
				y = base.Probs[c]
			}
			K := r.Act.C
			want := make([]float32, K)
			for k := range K {
				m := build()
				kern, bias := m.Param(layer+"/kernel").Value, m.Param(layer+"/bias").Value
				for i := k; i < len(kern); i += K {
					kern[i] = 0
				}
				bias[k] = 0
				p, err := New(m).Predict(x)
				if err != nil {
					t.Fatal(err)
				}
				d := score(base) - score(p)
				if kind == Probability {
					d = -d // (1 − p_c(y_k)) − (1 − p_c(y))
				}
				want[k] = float32(d / y)
			}
			what := layer + " " + kind.String()
			if r.Class != c || maxAbs(want) == 0 {
				t.Fatalf("%s: class %d (want %d), reference weights %v", what, r.Class, c, want)
			}
			near(t, what+" weights", r.Weights, want, 1e-5*maxAbs(want))
		}
	}
}

package xai

// The noise tunnel (SmoothGrad, SmoothGrad², VarGrad): known answers on a
// linear model, whose gradient is the same at every noisy copy, and the
// moments of Gradient × Input on it, which the noise's distribution fixes;
// the seeding. They run natively and as js/wasm.

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestTunnelLinear: the gradient of z_1 = w_1·x is w_1 at every input, so
// SmoothGrad's mean gradient is w_1, SmoothGrad² is w_1² and VarGrad is 0,
// exactly, for any number of samples and any noise.
func TestTunnelLinear(t *testing.T) {
	w1 := []float32{-3, 1, 0, 2, 5, -1, 1, 1}
	var sq, absMax []float32
	for _, w := range w1 {
		sq = append(sq, w*w)
	}
	for p := range 4 {
		absMax = append(absMax, max(abs32(w1[2*p]), abs32(w1[2*p+1])))
	}
	x := input(2, 2, 2, 1, 2, 3, 4, 5, 6, 7, 8)
	for _, n := range []int{1, 7, 40} {
		for _, noise := range []float64{0.01, 2} {
			run := func(method string) Result {
				t.Helper()
				r, err := New(linearModel(t)).Explain(x, Request{Method: method, Target: Predicted(), Options: Options{"samples": n, "noise": noise}, Seed: 9})
				if err != nil {
					t.Fatal(err)
				}
				if r.Class != 1 || r.Score != 41 || r.Passes != n+1 {
					t.Errorf("%s: class %d score %g passes %d, want 1, 41, %d", method, r.Class, r.Score, r.Passes, n+1)
				}
				return r
			}
			sg := run("smoothgrad")
			near(t, "smoothgrad", sg.Map.Data, absMax, 0)
			near(t, "smoothgrad grad", sg.Extras[0].Data, w1, 0)
			near(t, "smoothgradsq", run("smoothgradsq").Map.Data, sq, 0)
			v := run("vargrad")
			near(t, "vargrad", v.Map.Data, make([]float32, 8), 0)
			if !v.Zero || v.Map.C != 2 {
				t.Errorf("vargrad: Zero %v, %v map; want an all-zero 2x2x2 map", v.Zero, v.Map)
			}
		}
	}
}

func abs32(v float32) float32 { return float32(math.Abs(float64(v))) }

// TestTunnelWrapsInputXGrad: wrapping Gradient × Input on the linear
// model, a_i = w ⊙ (x + ε_i) with ε_i ~ N(0, σ²), so
//
//	E[Mean] = w ⊙ x,   E[MeanSquare] = w² (x² + σ²),   E[Var] = w² σ² (n−1)/n
//
// checked within 4.5 standard errors of n = 20000 samples (σ = 2.55:
// noise 0.01 of 0..255). Values with w = 0 are exactly 0.
func TestTunnelWrapsInputXGrad(t *testing.T) {
	const n, noise = 20000, 0.01
	sigma := noise * 255
	w1 := []float64{-3, 1, 0, 2, 5, -1, 1, 1}
	x := input(2, 2, 2, 1, 2, 3, 4, 5, 6, 7, 8)
	tu, err := New(linearModel(t)).NoiseTunnel(x, NoiseTunnelOptions{Target: Target{Class: -1, Kind: Probability}, Wraps: "inputxgrad", Samples: n, Noise: noise, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if tu.Class != 1 || tu.Target.Kind != Probability || tu.Passes != n+1 || tu.Mean.C != 2 {
		t.Fatalf("class %d target %v passes %d map %v; want 1, probability, %d, 2x2x2", tu.Class, tu.Target, tu.Passes, tu.Mean, n+1)
	}
	// For the probability target the gradient is p_1 p_0 (w_1 − w_0) at each
	// copy, not constant: rerun with the logit, where it is w_1.
	tu, err = New(linearModel(t)).NoiseTunnel(x, NoiseTunnelOptions{Target: Predicted(), Wraps: "inputxgrad", Samples: n, Noise: noise, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	sn := math.Sqrt(n)
	for j, w := range w1 {
		xv := float64(x.Data[j])
		mean, sq, vr := float64(tu.Mean.Data[j]), float64(tu.MeanSquare.Data[j]), float64(tu.Var.Data[j])
		if w == 0 {
			if mean != 0 || sq != 0 || vr != 0 {
				t.Errorf("value %d (w = 0): mean %g, square %g, variance %g; want 0", j, mean, sq, vr)
			}
			continue
		}
		// Standard errors: of a mean of N(wx, w²σ²); of a mean of its
		// square (variance 4w⁴x²σ² + 2w⁴σ⁴); of a sample variance (√(2/n) relative).
		if d, se := math.Abs(mean-w*xv), math.Abs(w)*sigma/sn; d > 4.5*se {
			t.Errorf("value %d: mean %g, want %g ± %.3g", j, mean, w*xv, 4.5*se)
		}
		want := w * w * (xv*xv + sigma*sigma)
		if d, se := math.Abs(sq-want), w*w*math.Sqrt(4*xv*xv*sigma*sigma+2*math.Pow(sigma, 4))/sn; d > 4.5*se {
			t.Errorf("value %d: mean square %g, want %g ± %.3g", j, sq, want, 4.5*se)
		}
		want = w * w * sigma * sigma * (n - 1) / n
		if d := math.Abs(vr - want); d > 4.5*math.Sqrt(2.0/n)*want {
			t.Errorf("value %d: variance %g, want %g ± %.2f%%", j, vr, want, 450*math.Sqrt(2.0/n))
		}
	}
}

// TestTunnelSeeded: equal seeds give equal maps (bitwise for the same
// batch size; the batch changes only the model's rounding), other seeds
// other maps; SmoothGrad is the tunnel's mean; VarGrad is the mean square
// less the squared mean.
func TestTunnelSeeded(t *testing.T) {
	m := reluNet(t)
	x := reluInput()
	for _, wraps := range []string{"gradient", "inputxgrad", "ig"} {
		o := NoiseTunnelOptions{Target: Target{Class: -1, Kind: Probability}, Wraps: wraps, Samples: 5, Noise: 0.1, Seed: 42}
		a, err := New(m).NoiseTunnel(x, o)
		if err != nil {
			t.Fatal(err)
		}
		ex := New(m)
		ex.Batch = 3
		b, err := ex.NoiseTunnel(x, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range [][2]Map{{a.Mean, b.Mean}, {a.MeanSquare, b.MeanSquare}, {a.Var, b.Var}} {
			near(t, wraps+" batch 3", p[1].Data, p[0].Data, 1e-6*maxAbs(p[0].Data))
		}
		b, _ = ex.NoiseTunnel(x, o)
		c, _ := ex.NoiseTunnel(x, o) // the same explainer again: the same bits
		if !slices.Equal(b.Var.Data, c.Var.Data) || !slices.Equal(b.Mean.Data, c.Mean.Data) {
			t.Errorf("%s: the same seed gave different maps", wraps)
		}
		o.Seed = 43
		d, _ := New(m).NoiseTunnel(x, o)
		if maxDiff(d.Var.Data, a.Var.Data) == 0 || maxDiff(d.Mean.Data, a.Mean.Data) == 0 {
			t.Errorf("%s: seeds 42 and 43 gave the same maps", wraps)
		}
		want := make([]float32, len(a.Var.Data))
		for j, v := range a.Mean.Data {
			want[j] = a.MeanSquare.Data[j] - v*v
		}
		near(t, wraps+": Var = MeanSquare − Mean²", a.Var.Data, want, 1e-5*maxAbs(a.MeanSquare.Data))
		if maxAbs(a.Var.Data) == 0 {
			t.Errorf("%s: VarGrad of a ReLU network is zero everywhere", wraps)
		}
	}
	sg, err := New(m).SmoothGrad(x, SmoothGradOptions{Target: Predicted(), Samples: 5, Noise: 0.1, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	tu, _ := New(m).NoiseTunnel(x, NoiseTunnelOptions{Target: Predicted(), Samples: 5, Noise: 0.1, Seed: 42})
	if !slices.Equal(sg.Grad.Data, tu.Mean.Data) {
		t.Error("SmoothGrad's gradient is not the tunnel's mean")
	}
}

// TestNoiseStream: sample i is x + σ z for the i-th block of len(x)
// normal draws of PCG(seed, 0x5eed), asked in any order.
func TestNoiseStream(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5}
	const sigma = 3.5
	rng := rand.New(rand.NewPCG(11, 0x5eed))
	want := make([][]float32, 7)
	for i := 1; i < len(want); i++ {
		for _, v := range x {
			want[i] = append(want[i], float32(float64(v)+sigma*rng.NormFloat64()))
		}
	}
	var s noiseStream
	s.use(11, sigma)
	got := make([]float32, len(x))
	for _, i := range []int{1, 2, 5, 3, 3, 6, 1, 4} {
		s.sampleTo(got, x, i)
		if !slices.Equal(got, want[i]) {
			t.Errorf("sample %d: got %v, want %v", i, got, want[i])
		}
	}
	// Another length of input restarts the count of draws per sample.
	short := x[:3]
	rng = rand.New(rand.NewPCG(11, 0x5eed))
	for range 2 * len(short) {
		rng.NormFloat64()
	}
	s.sampleTo(got[:3], short, 3)
	for j, v := range short {
		if w := float32(float64(v) + sigma*rng.NormFloat64()); got[j] != w {
			t.Errorf("sample 3 of 3 values, value %d: got %v, want %v", j, got[j], w)
		}
	}
}

// TestTunnelPartsOneExplainer: the parts a pool's worker computes one
// after the other, in ascending ranges with the other workers' between,
// equal those of fresh explainers bit for bit, and the noise stream
// restarts only for an earlier sample, another seed or another input size:
// a later part skips only the samples between, not every sample before it.
func TestTunnelPartsOneExplainer(t *testing.T) {
	m, x := reluNet(t), reluInput()
	req := Request{Method: "smoothgrad", Target: Target{Class: 1}, Options: Options{"samples": 12}, Seed: 8}
	seed9 := req
	seed9.Seed = 9
	ex := New(m)
	for _, tt := range []struct {
		req    Request
		lo, hi int
		starts int // the stream's restarts so far
	}{
		{req, 0, 4, 1},
		{req, 6, 8, 1},
		{req, 8, 9, 1},
		{req, 11, 13, 1},
		{req, 2, 5, 2},   // an earlier sample
		{seed9, 5, 7, 3}, // another seed
		{req, 7, 9, 4},
	} {
		var got, want Part
		if err := ex.PartTo(&got, x, tt.req, tt.lo, tt.hi); err != nil {
			t.Fatal(err)
		}
		if err := New(m).PartTo(&want, x, tt.req, tt.lo, tt.hi); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Sum, want.Sum) {
			t.Errorf("seed %d, part %d..%d: its sums differ from a fresh explainer's", tt.req.Seed, tt.lo, tt.hi)
		}
		if s := ex.tun.noise.starts; s != tt.starts {
			t.Errorf("seed %d, part %d..%d: the stream restarted %d times, want %d", tt.req.Seed, tt.lo, tt.hi, s, tt.starts)
		}
	}
}

// TestTunnelWraps: the "wraps" choices are the gradient and the methods
// marked Tunnel; another method is refused in words.
func TestTunnelWraps(t *testing.T) {
	for _, name := range []string{"smoothgrad", "smoothgradsq", "vargrad"} {
		m, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		p := m.Param("wraps")
		if p == nil || !slices.Equal(p.Choices, tunnelChoicesSorted()) || p.Choices[0] != "gradient" {
			t.Errorf("%s wraps %v, want %v", name, p, tunnelChoicesSorted())
		}
		for _, c := range []string{"inputxgrad", "ig"} {
			if !slices.Contains(p.Choices, c) {
				t.Errorf("%s cannot wrap %s", name, c)
			}
		}
		if _, err := m.Resolve(Options{"wraps": "gradcam"}); err == nil || !strings.Contains(err.Error(), "wraps must be one of gradient,") {
			t.Errorf("%s wraps gradcam: %v", name, err)
		}
	}
	_, err := New(reluNet(t)).NoiseTunnel(reluInput(), NoiseTunnelOptions{Target: Predicted(), Wraps: "gradcam"})
	if err == nil || !strings.Contains(err.Error(), "xai: the noise tunnel cannot wrap gradcam") {
		t.Errorf("tunnel of gradcam: %v", err)
	}
	for _, tt := range []struct {
		o    NoiseTunnelOptions
		want string
	}{
		{NoiseTunnelOptions{Samples: -1}, "xai: noise tunnel samples -1 out of range 1..100000"},
		{NoiseTunnelOptions{Noise: math.NaN()}, "xai: noise tunnel noise NaN out of range"},
		{NoiseTunnelOptions{Wraps: "nosuch"}, `xai: unknown method "nosuch"`},
	} {
		tt.o.Target = Predicted()
		if _, err := New(reluNet(t)).NoiseTunnel(reluInput(), tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.o, err, tt.want)
		}
	}
}

func tunnelChoicesSorted() []string {
	c := tunnelChoices()
	slices.Sort(c[1:])
	return c
}

// TestTunnelSplit: the samples split into parts computed by separate
// explainers and combined in any order give the whole tunnel's maps:
// bitwise for one part, within float32 rounding for several; and on the
// linear model a VarGrad of exactly 0 for any split.
func TestTunnelSplit(t *testing.T) {
	for _, tt := range []struct {
		linear bool
		req    Request
	}{
		{false, Request{Method: "vargrad", Target: Predicted(), Options: Options{"samples": 7}, Seed: 3}},
		{false, Request{Method: "smoothgradsq", Target: Target{Class: 1, Kind: Probability}, Options: Options{"samples": 6, "wraps": "inputxgrad"}, Seed: 4}},
		{false, Request{Method: "smoothgrad", Target: Predicted(), Options: Options{"samples": 5, "noise": 0.3}, Seed: 5}},
		{true, Request{Method: "vargrad", Target: Predicted(), Options: Options{"samples": 6, "noise": 1.0}, Seed: 6}},
	} {
		m, x := reluNet(t), reluInput()
		if tt.linear {
			m, x = linearModel(t), input(2, 2, 2, 1, 2, 3, 4, 5, 6, 7, 8)
		}
		whole, err := New(m).Explain(x, tt.req)
		if err != nil {
			t.Fatal(err)
		}
		n, err := New(m).Evaluations(tt.req)
		if err != nil || n != tt.req.Options["samples"].(int)+1 {
			t.Fatalf("%s: %d evaluations, %v", tt.req.Method, n, err)
		}
		rng := rand.New(rand.NewPCG(9, 9))
		for _, split := range splits(n) {
			got := combineSplit(t, m, x, tt.req, whole.Class, split, rng)
			tol := 0.0
			if len(split) > 1 {
				tol = 1e-5 * maxAbs(whole.Map.Data)
			}
			near(t, tt.req.Method+" split", got.Map.Data, whole.Map.Data, tol)
			if got.Class != whole.Class || got.Score != whole.Score || got.Passes != whole.Passes {
				t.Errorf("%s %v: class %d score %v passes %d; whole %d %v %d", tt.req.Method, split, got.Class, got.Score, got.Passes, whole.Class, whole.Score, whole.Passes)
			}
			if tt.linear && !allZero(got.Map.Data) {
				t.Errorf("linear VarGrad split %v: %v, want exactly 0", split, got.Map.Data)
			}
		}
	}
	// Parts that do not fit.
	m, x := reluNet(t), reluInput()
	req := Request{Method: "vargrad", Target: Target{Class: 0}, Options: Options{"samples": 4}}
	part := func(r Request, lo, hi int) *Part {
		p := new(Part)
		if err := New(m).PartTo(p, x, r, lo, hi); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b := part(req, 0, 2), part(req, 2, 5)
	short := *b
	short.Sum = short.Sum[:5]
	ixg := req
	ixg.Options = Options{"samples": 4, "wraps": "ig"}
	for _, tt := range []struct {
		name  string
		parts []*Part
		want  string
	}{
		{"gap", []*Part{a}, "no noise tunnel part starts at evaluation 2 of 0..5"},
		{"length", []*Part{a, &short}, "noise tunnel part 2..5 holds 5 values, want 360"},
		{"odd", []*Part{&short}, "noise tunnel parts of 5 sums, want 5 blocks of 6x6xC attributions"},
	} {
		var r Result
		if err := New(m).CombineTo(&r, x, req, tt.parts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	if err := New(m).PartTo(new(Part), x, Request{Method: "smoothgrad", Target: Predicted()}, 3, 6); err == nil ||
		!strings.Contains(err.Error(), "noise tunnel evaluations 3..6 exclude x (evaluation 0), so they need the class") {
		t.Errorf("a part without x or class: %v", err)
	}
	if n, err := New(m).Evaluations(ixg); err != nil || n != 5 {
		t.Errorf("evaluations of a tunnel of ig: %d, %v", n, err)
	}
}

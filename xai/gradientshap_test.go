package xai

// GradientSHAP: exact per-sample answers and expectations on a linear
// model, expected completeness and convergence to Integrated Gradients on
// a ReLU network, seeding and errors. They run natively and as js/wasm.

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/nn"
)

// TestGradientSHAPLinear: the gradient of z_1 = w_1·x is w_1 everywhere,
// so each sample's term is exactly w_1 ⊙ (x̃_i − b_i) and adds up to
// z_1(x̃_i) − z_1(b_i): the map is w_1 ⊙ (mean x̃ − mean b) over the samples
// (drawn here from the documented streams), and the expected completeness
// holds up to rounding for every distribution.
func TestGradientSHAPLinear(t *testing.T) {
	w1 := []float64{-3, 1, 0, 2, 5, -1, 1, 1}
	x := input(2, 2, 2, 1, 2, 3, 4, 5, 6, 7, 8)
	custom := input(2, 2, 2, 9, 0, 4, 4, 1, 2, 200, 3)
	for _, bl := range []SHAPBaselines{UniformBaselines, BlackWhiteBaselines, BlackBaselines, BlurBaselines, CustomBaselines} {
		for _, noise := range []float64{0, 0.05} {
			const n = 37
			o := GradientSHAPOptions{Target: Predicted(), Samples: n, Baselines: bl, Baseline: custom, Noise: noise, Sigma: 0.7, Seed: 12}
			a, err := New(linearModel(t)).GradientSHAP(x, o)
			if err != nil {
				t.Fatal(err)
			}
			// The samples, drawn in the documented order: α, b, ε.
			blur := nn.Tensor{Shape: x.Shape, Data: make([]float32, 8)}
			gaussianBlurTo(&blur, x, 0.7)
			want := make([]float64, 8)
			var sx, sb float64
			for i := 1; i <= n; i++ {
				var pcg rand.PCG
				seedStream(&pcg, 12, shapTag, i)
				r := rand.New(&pcg)
				r.Float64() // α
				b := make([]float64, 8)
				switch bl {
				case UniformBaselines:
					for j := range b {
						b[j] = float64(float32(255 * r.Float64()))
					}
				case BlackWhiteBaselines:
					if r.Float64() >= 0.5 {
						for j := range b {
							b[j] = 255
						}
					}
				case BlurBaselines:
					for j := range b {
						b[j] = float64(blur.Data[j])
					}
				case CustomBaselines:
					for j := range b {
						b[j] = float64(custom.Data[j])
					}
				}
				for j, v := range x.Data {
					xt := float64(v)
					if noise > 0 {
						xt = float64(float32(xt + noise*255*r.NormFloat64()))
					}
					want[j] += w1[j] * (xt - b[j]) / n
					sx += w1[j] * xt / n
					sb += w1[j] * b[j] / n
				}
			}
			name := bl.String()
			for j := range want {
				if d := math.Abs(float64(a.Map.Data[j]) - want[j]); d > 1e-5*(1+math.Abs(want[j])) {
					t.Fatalf("%s noise %g: Map[%d] = %v, want %v", name, noise, j, a.Map.Data[j], want[j])
				}
			}
			c := a.Check
			if math.Abs(c.ScoreX-sx) > 1e-4*(1+math.Abs(sx)) || math.Abs(c.ScoreRef-sb) > 1e-4*(1+math.Abs(sb)) {
				t.Errorf("%s noise %g: scores %v, %v, want %v, %v", name, noise, c.ScoreX, c.ScoreRef, sx, sb)
			}
			if math.Abs(c.Gap) > 1e-5*(1+math.Abs(c.Want)) || !c.Pass() || c.Threshold != GapThreshold || c.Name != "expected completeness" {
				t.Errorf("%s noise %g: check %+v: completeness is exact on a linear model", name, noise, c)
			}
			if bl == BlackBaselines && noise == 0 {
				// One baseline and no noise: Integrated Gradients, x ⊙ w_1.
				ix, _, _ := New(linearModel(t)).InputXGradient(x, Predicted())
				near(t, "black", a.Map.Data, ix.Data, 0)
			}
		}
	}
}

// TestGradientSHAPExpectation: with uniform baselines, E[b] = 127.5 in
// every value, so E[Map] = w_1 ⊙ (x − 127.5); checked within 4.5 standard
// errors (w_1 · 255/√12 / √n) of n = 20000 samples.
func TestGradientSHAPExpectation(t *testing.T) {
	const n = 20000
	w1 := []float64{-3, 1, 0, 2, 5, -1, 1, 1}
	x := input(2, 2, 2, 1, 2, 3, 4, 5, 6, 7, 8)
	a, err := New(linearModel(t)).GradientSHAP(x, GradientSHAPOptions{Target: Predicted(), Samples: n, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	for j, w := range w1 {
		want := w * (float64(x.Data[j]) - 127.5)
		se := math.Abs(w) * 255 / math.Sqrt(12) / math.Sqrt(n)
		if d := math.Abs(float64(a.Map.Data[j]) - want); d > 4.5*se || w == 0 && a.Map.Data[j] != 0 {
			t.Errorf("Map[%d] = %v, want %v ± %.3g", j, a.Map.Data[j], want, 4.5*se)
		}
	}
}

// TestGradientSHAPNonlinear: on a ReLU network the expected completeness
// holds within its Monte Carlo threshold (wide for the probability: the
// path crosses the softmax's steep region, so single points vary a lot);
// with the black baseline alone
// GradientSHAP estimates Integrated Gradients' integral by random points,
// so it nears IG with many steps; the scores are those of x and of the
// baselines.
func TestGradientSHAPNonlinear(t *testing.T) {
	m := reluNet(t)
	x := reluInput()
	ex := New(m)
	for _, bl := range []SHAPBaselines{UniformBaselines, BlackWhiteBaselines, BlackBaselines} {
		for _, kind := range []Score{Logit, Probability} {
			tg := Target{Class: -1, Kind: kind}
			a, err := ex.GradientSHAP(x, GradientSHAPOptions{Target: tg, Samples: 2000, Baselines: bl, Seed: 8})
			if err != nil {
				t.Fatal(err)
			}
			c := a.Check
			t.Logf("%v %v: sum %.5g, want %.5g (relative gap %.3g, threshold %.3g)", bl, kind, c.Sum, c.Want, c.Rel, c.Threshold)
			if !c.Pass() || bl == BlackBaselines && kind == Logit && math.Abs(c.Rel) > 0.01 {
				t.Errorf("%v %v: relative gap %.3g, threshold %.3g: want a pass (within 1%% for the black baseline and the logit)", bl, kind, c.Rel, c.Threshold)
			}
			if c.ScoreX != a.Score || a.Passes != 2001+map[SHAPBaselines]int{UniformBaselines: 2000, BlackWhiteBaselines: 2, BlackBaselines: 1}[bl] {
				t.Errorf("%v %v: ScoreX %v, score %v, passes %d", bl, kind, c.ScoreX, a.Score, a.Passes)
			}
			if bl != BlackBaselines {
				continue
			}
			p0, _ := ex.Predict(nn.NewTensor(1, 6, 6, 2))
			want := p0.Logits[a.Class]
			if kind == Probability {
				want = p0.Probs[a.Class]
			}
			if c.ScoreRef != want {
				t.Errorf("%v: baseline score %v, want Score(0) = %v", kind, c.ScoreRef, want)
			}
			ig, err := ex.IntegratedGradients(x, IGOptions{Target: tg, Steps: 512, Rule: GaussLegendre})
			if err != nil {
				t.Fatal(err)
			}
			if d := relL2(a.Map.Data, ig.Map.Data); d > 0.1 {
				t.Errorf("%v: GradientSHAP with the black baseline is %.3g from IG (relative L2), want < 0.1", kind, d)
			} else {
				t.Logf("%v: relative L2 distance to IG-512 %.3g", kind, d)
			}
		}
	}
}

func relL2(a, b []float32) float64 {
	var d, n float64
	for i := range a {
		d += (float64(a[i]) - float64(b[i])) * (float64(a[i]) - float64(b[i]))
		n += float64(b[i]) * float64(b[i])
	}
	return math.Sqrt(d / n)
}

// TestGradientSHAPSeeded: equal seeds give equal maps (bitwise for the
// same batch size), other seeds other maps.
func TestGradientSHAPSeeded(t *testing.T) {
	m := reluNet(t)
	x := reluInput()
	req := Request{Method: "gradientshap", Target: Predicted(), Options: Options{"samples": 7, "noise": 0.05}, Seed: 21}
	a, err := New(m).Explain(x, req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := New(m).Explain(x, req)
	if !slices.Equal(a.Map.Data, b.Map.Data) || a.Check.Sum != b.Check.Sum || a.Check.Want != b.Check.Want || a.Check.Threshold != b.Check.Threshold {
		t.Error("the same seed gave different maps")
	}
	ex := New(m)
	ex.Batch = 3
	c, err := ex.Explain(x, req)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "batch 3", c.Map.Data, a.Map.Data, 1e-6*maxAbs(a.Map.Data))
	req.Seed = 22
	if d, _ := New(m).Explain(x, req); maxDiff(d.Map.Data, a.Map.Data) == 0 {
		t.Error("seeds 21 and 22 gave the same map")
	}
	if a.Check == nil || a.Map.C != 2 || a.Display.C != 1 {
		t.Errorf("check %v, map %v, display %v", a.Check, a.Map, a.Display)
	}
}

func TestGradientSHAPErrors(t *testing.T) {
	m := reluNet(t)
	x := reluInput()
	for _, tt := range []struct {
		o    GradientSHAPOptions
		want string
	}{
		{GradientSHAPOptions{Samples: -2}, "xai: gradientshap samples -2 out of range 1..100000"},
		{GradientSHAPOptions{Noise: -1}, "xai: gradientshap noise -1 out of range"},
		{GradientSHAPOptions{Baselines: CustomBaselines}, "xai: gradientshap baseline image <nil>"},
		{GradientSHAPOptions{Baselines: BlurBaselines, Sigma: -3}, "xai: gradientshap blur sigma -3 out of range"},
		{GradientSHAPOptions{Baselines: 9}, "xai: unknown GradientSHAP baselines 9"},
	} {
		tt.o.Target = Predicted()
		if _, err := New(m).GradientSHAP(x, tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.o, err, tt.want)
		}
	}
	if _, err := ParseSHAPBaselines("white"); err == nil || !strings.Contains(err.Error(), "want uniform, black-white, black or blur") {
		t.Errorf("ParseSHAPBaselines(white): %v", err)
	}
}

// TestGradientSHAPSplit: the samples split into parts computed by separate
// explainers and combined in any order give the whole attribution and
// check: bitwise for one part, within rounding for several.
func TestGradientSHAPSplit(t *testing.T) {
	m := reluNet(t)
	x := reluInput()
	for _, req := range []Request{
		{Method: "gradientshap", Target: Predicted(), Options: Options{"samples": 7, "noise": 0.05}, Seed: 2},
		{Method: "gradientshap", Target: Target{Class: -1, Kind: Probability}, Options: Options{"samples": 6, "baselines": "black-white"}, Seed: 3},
		{Method: "gradientshap", Target: Target{Class: 2}, Options: Options{"samples": 5, "baselines": "black", "noise": 0.1}, Seed: 4},
		{Method: "gradientshap", Target: Predicted(), Options: Options{"samples": 5, "baselines": "blur", "sigma": 1.0}, Seed: 5},
	} {
		whole, err := New(m).Explain(x, req)
		if err != nil {
			t.Fatal(err)
		}
		n, err := New(m).Evaluations(req)
		if err != nil || n != req.Options["samples"].(int)+1 {
			t.Fatalf("%v: %d evaluations, %v", req.Options, n, err)
		}
		rng := rand.New(rand.NewPCG(5, 5))
		for _, split := range splits(n) {
			got := combineSplit(t, m, x, req, whole.Class, split, rng)
			tol := 0.0
			if len(split) > 1 {
				tol = 1e-6 * maxAbs(whole.Map.Data)
			}
			near(t, "split", got.Map.Data, whole.Map.Data, tol)
			g, w := got.Check, whole.Check
			if d := math.Abs(g.Sum - w.Sum); d > 1e-6*math.Abs(w.Sum) || math.Abs(g.Want-w.Want) > 1e-12*math.Abs(w.Want)+1e-15 ||
				math.Abs(g.Threshold-w.Threshold) > 1e-9*w.Threshold || got.Passes != whole.Passes || got.Score != whole.Score {
				t.Errorf("%v %v: check %+v passes %d; whole %+v %d", req.Options, split, g, got.Passes, w, whole.Passes)
			}
		}
	}
	req := Request{Method: "gradientshap", Target: Target{Class: 0}, Options: Options{"samples": 4}}
	p := new(Part)
	if err := New(m).PartTo(p, x, req, 0, 3); err != nil {
		t.Fatal(err)
	}
	q := new(Part)
	if err := New(m).PartTo(q, x, req, 3, 5); err != nil {
		t.Fatal(err)
	}
	q.Sum = q.Sum[:len(q.Sum)-1]
	var r Result
	if err := New(m).CombineTo(&r, x, req, []*Part{p, q}); err == nil || !strings.Contains(err.Error(), "gradientshap part 3..5 holds 75 values, want 76") {
		t.Errorf("a short part: %v", err)
	}
}

package xai

// Integrated Gradients split into parts (IGPathSumTo, CombineIGTo), as the
// page's worker pool computes it: hand-worked sums on a linear model, the
// parts of a nonlinear network against the whole path, and the errors a
// part from another worker can raise. They run natively and as js/wasm.

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/nn"
)

// TestIGPartLinearHandWorked: for a linear score z_1 = w_1·x the gradient
// is w_1 at every point, so a part's path sum is (Σ of its weights) · w_1.
// With Linspace and 7 steps every weight is 1/7; Gauss–Legendre with 2
// nodes has weights 1/2, 1/2 and two weightless ends (x, then b).
func TestIGPartLinearHandWorked(t *testing.T) {
	w1 := []float64{-3, 1, 0, 2, 5, -1, 1, 1}
	x := input(2, 2, 2, 1, 2, 3, 4, 5, 6, 7, 8)
	for _, tt := range []struct {
		rule   Rule
		steps  int
		lo, hi int
		n      int     // evaluations
		weight float64 // Σ w_i over [lo, hi)
		sx, sb bool    // the part holds x, b
	}{
		{Linspace, 7, 0, 7, 7, 1, true, true},
		{Linspace, 7, 2, 5, 7, 3.0 / 7, false, false},
		{Linspace, 7, 0, 1, 7, 1.0 / 7, true, false},
		{Linspace, 7, 6, 7, 7, 1.0 / 7, false, true},
		{Trapezoid, 3, 0, 2, 3, 0.25 + 0.5, true, false}, // weights 1/4, 1/2, 1/4
		{GaussLegendre, 2, 0, 1, 4, 0, true, false},      // x alone: weight 0
		{GaussLegendre, 2, 1, 3, 4, 1, false, false},
		{GaussLegendre, 2, 2, 4, 4, 0.5, false, true},
	} {
		ex := New(linearModel(t))
		o := IGOptions{Target: Target{Class: 1}, Steps: tt.steps, Rule: tt.rule}
		n, err := o.Evaluations()
		if err != nil || n != tt.n {
			t.Fatalf("%v %d: Evaluations() = %d, %v; want %d", tt.rule, tt.steps, n, err, tt.n)
		}
		var p IGPart
		if err := ex.IGPathSumTo(&p, x, o, tt.lo, tt.hi); err != nil {
			t.Fatal(err)
		}
		name := tt.rule.String() + " part"
		if p.Lo != tt.lo || p.Hi != tt.hi || p.Evaluations != tt.n || p.Class != 1 {
			t.Errorf("%s: got range %d..%d of %d class %d, want %d..%d of %d class 1", name, p.Lo, p.Hi, p.Evaluations, p.Class, tt.lo, tt.hi, tt.n)
		}
		for j := range w1 {
			if want := tt.weight * w1[j]; math.Abs(p.Sum[j]-want) > 1e-12 {
				t.Errorf("%s %d..%d: Sum[%d] = %g, want %g", name, tt.lo, tt.hi, j, p.Sum[j], want)
			}
		}
		// z_1(x) = 41 (TestSaliencyLinearIsAbsW), z_1(0) = 0.
		if tt.sx && (p.Prediction.Score != 41 || len(p.Prediction.Probs) != 2) {
			t.Errorf("%s: score at x %g, %d probabilities; want 41 and 2", name, p.Prediction.Score, len(p.Prediction.Probs))
		}
		if !tt.sx && len(p.Prediction.Probs) != 0 {
			t.Errorf("%s %d..%d excludes x but holds probabilities %v", name, tt.lo, tt.hi, p.Prediction.Probs)
		}
		if tt.sb && p.BaselineScore != 0 {
			t.Errorf("%s: baseline score %g, want 0", name, p.BaselineScore)
		}
	}
}

// splits returns ways to cut 0..n into contiguous ranges: the whole, two
// halves, one evaluation each, and a few random cuts (seeded).
func splits(n int) [][][2]int {
	out := [][][2]int{{{0, n}}, {{0, n / 2}, {n / 2, n}}}
	var ones [][2]int
	for i := range n {
		ones = append(ones, [2]int{i, i + 1})
	}
	out = append(out, ones)
	rng := rand.New(rand.NewPCG(6, 1))
	for range 3 {
		var s [][2]int
		for lo := 0; lo < n; {
			hi := min(n, lo+1+rng.IntN(n/2+1))
			s = append(s, [2]int{lo, hi})
			lo = hi
		}
		out = append(out, s)
	}
	return out
}

// TestIGPartsEqualWhole: the parts of a split path, each computed by its own
// Explainer and combined in shuffled order, give IntegratedGradients' map,
// sums, gap and scores: bitwise for one part, and for several within the
// float32 rounding of a float64 sum taken in another order.
func TestIGPartsEqualWhole(t *testing.T) {
	m := reluNet(t)
	x := reluInput()
	for _, o := range []IGOptions{
		{Target: Predicted(), Steps: 10},
		{Target: Target{Class: -1, Kind: Probability}, Steps: 7, Rule: GaussLegendre, Baseline: Baseline{Kind: Noise, Seed: 3}},
		{Target: Target{Class: 1}, Steps: 9, Rule: Trapezoid, Baseline: Baseline{Kind: Blur, Sigma: 1}},
	} {
		whole, err := New(m).IntegratedGradients(x, o)
		if err != nil {
			t.Fatal(err)
		}
		if whole.Gap == 0 || whole.Sum == 0 {
			t.Fatalf("%v: sum %g gap %g: a useless test", o.Rule, whole.Sum, whole.Gap)
		}
		n, err := o.Evaluations()
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(7, 7))
		for _, split := range splits(n) {
			// A part without x needs the class: that of the part holding x.
			po := o
			if po.Target.Class < 0 {
				po.Target.Class = whole.Class
			}
			var parts []*IGPart
			for _, r := range split {
				p := new(IGPart)
				oo := po
				if r[0] == 0 {
					oo = o
				}
				if err := New(m).IGPathSumTo(p, x, oo, r[0], r[1]); err != nil {
					t.Fatal(err)
				}
				parts = append(parts, p)
			}
			rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
			var got Attribution
			if err := New(m).CombineIGTo(&got, x, o, parts); err != nil {
				t.Fatalf("%v %v: %v", o.Rule, split, err)
			}
			if len(split) == 1 {
				for j := range got.Map.Data {
					if math.Float32bits(got.Map.Data[j]) != math.Float32bits(whole.Map.Data[j]) {
						t.Fatalf("%v, one part: Map[%d] = %v, whole path %v: want bitwise equal", o.Rule, j, got.Map.Data[j], whole.Map.Data[j])
					}
				}
				if got.Sum != whole.Sum || got.Gap != whole.Gap {
					t.Errorf("%v, one part: sum %v gap %v, whole %v %v", o.Rule, got.Sum, got.Gap, whole.Sum, whole.Gap)
				}
			} else {
				// Each value is a float64 sum rounded once to float32:
				// another order moves it by at most about one float32 ulp.
				for j := range got.Map.Data {
					w := float64(whole.Map.Data[j])
					if d := math.Abs(float64(got.Map.Data[j]) - w); d > 1.2e-7*math.Abs(w)+1e-30 {
						t.Fatalf("%v split %v: Map[%d] = %v, whole path %v", o.Rule, split, j, got.Map.Data[j], w)
					}
				}
				if d := math.Abs(got.Gap - whole.Gap); d > 1e-6*(math.Abs(whole.Sum)+math.Abs(whole.Score)) {
					t.Errorf("%v split %v: gap %v, whole %v", o.Rule, split, got.Gap, whole.Gap)
				}
			}
			if got.Class != whole.Class || got.Score != whole.Score || got.BaselineScore != whole.BaselineScore ||
				got.Evaluations != n || got.Steps != whole.Steps || !slices.Equal(got.Probs, whole.Probs) || !slices.Equal(got.Logits, whole.Logits) {
				t.Errorf("%v split %v: class %d score %v baseline %v evaluations %d probs %v; whole %d %v %v %d %v",
					o.Rule, split, got.Class, got.Score, got.BaselineScore, got.Evaluations, got.Probs,
					whole.Class, whole.Score, whole.BaselineScore, whole.Evaluations, whole.Probs)
			}
		}
	}
}

// TestIGPartProgress: a part reports its own evaluations.
func TestIGPartProgress(t *testing.T) {
	ex := New(reluNet(t))
	ex.Batch = 2
	var calls [][2]int
	o := IGOptions{Target: Target{Class: 0}, Steps: 10, Progress: func(d, n int) { calls = append(calls, [2]int{d, n}) }}
	var p IGPart
	if err := ex.IGPathSumTo(&p, reluInput(), o, 3, 8); err != nil {
		t.Fatal(err)
	}
	// 5 evaluations, batches of 2 balanced to ceil(5/3) = 2: 2, 4, 5.
	want := [][2]int{{2, 5}, {4, 5}, {5, 5}}
	if len(calls) != len(want) {
		t.Fatalf("progress %v, want %v", calls, want)
	}
	for i := range want {
		if calls[i] != want[i] {
			t.Fatalf("progress %v, want %v", calls, want)
		}
	}
}

// TestIGPathSumAllocatesNothing: a warm part allocates nothing either.
func TestIGPathSumAllocatesNothing(t *testing.T) {
	ex := New(reluNet(t))
	x := reluInput()
	o := IGOptions{Target: Target{Class: 2}, Steps: 12}
	var p IGPart
	if err := ex.IGPathSumTo(&p, x, o, 4, 9); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(3, func() { ex.IGPathSumTo(&p, x, o, 4, 9) }); n != 0 {
		t.Errorf("IGPathSumTo allocates %v times per call in steady state, want 0", n)
	}
}

func TestIGPartErrors(t *testing.T) {
	m := reluNet(t)
	x := reluInput()
	o := IGOptions{Target: Target{Class: -1}, Steps: 6}
	for _, tt := range []struct {
		o      IGOptions
		lo, hi int
		want   string
	}{
		{o, 0, 0, "IG evaluations 0..0 are not a non-empty range within 0..6"},
		{o, 4, 3, "IG evaluations 4..3 are not"},
		{o, -1, 3, "IG evaluations -1..3 are not"},
		{o, 0, 7, "IG evaluations 0..7 are not a non-empty range within 0..6"},
		{o, 2, 6, "exclude x (evaluation 0), so they need the class"},
		{IGOptions{Target: Target{Class: 5}, Steps: 6}, 0, 6, "class 5"},
		{IGOptions{Steps: 1}, 0, 1, "1 integration steps"},
	} {
		var p IGPart
		err := New(m).IGPathSumTo(&p, x, tt.o, tt.lo, tt.hi)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("IGPathSumTo(%d, %d): got %v, want an error containing %q", tt.lo, tt.hi, err, tt.want)
		}
	}

	part := func(o IGOptions, lo, hi int) *IGPart {
		p := new(IGPart)
		if err := New(m).IGPathSumTo(p, x, o, lo, hi); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c0 := IGOptions{Target: Target{Class: 0}, Steps: 6}
	c1 := IGOptions{Target: Target{Class: 1}, Steps: 6}
	a, b, c := part(c0, 0, 3), part(c0, 3, 6), part(c0, 2, 6)
	short := *b
	short.Sum = short.Sum[:5]
	other := part(IGOptions{Target: Target{Class: 0}, Steps: 7}, 3, 7)
	for _, tt := range []struct {
		name  string
		o     IGOptions
		parts []*IGPart
		want  string
	}{
		{"none", c0, nil, "no IG part starts at evaluation 0 of 0..6"},
		{"gap", c0, []*IGPart{a}, "no IG part starts at evaluation 3 of 0..6"},
		{"overlap", c0, []*IGPart{a, b, c}, "3 IG parts, of which 2 cover the evaluations 0..6"},
		{"classes", c0, []*IGPart{a, part(c1, 3, 6)}, "the IG parts explain classes 0 and 1"},
		{"target", c1, []*IGPart{part(c1, 0, 3), b}, "explain classes 1 and 0"},
		{"asked", c1, []*IGPart{a, b}, "an IG part explains class 0, want 1"},
		{"length", c0, []*IGPart{a, &short}, "IG part 3..6 holds 5 values, want 72"},
		{"steps", c0, []*IGPart{a, other}, "IG part 3..7 of 7 evaluations does not fit these options' 6"},
	} {
		var r Attribution
		err := New(m).CombineIGTo(&r, x, tt.o, tt.parts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

// combineSplit runs req on x as the page's pool does: the evaluations in
// the ranges of split, each range by an Explainer of its own (a range
// without the first evaluation told class, that of the range holding x),
// the parts shuffled with rng, then combined.
func combineSplit(t *testing.T, m *nn.Model, x *nn.Tensor, req Request, class int, split [][2]int, rng *rand.Rand) Result {
	t.Helper()
	var parts []*Part
	for _, s := range split {
		pr := req
		if s[0] > 0 {
			pr.Target.Class = class
		}
		p := new(Part)
		if err := New(m).PartTo(p, x, pr, s[0], s[1]); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
	}
	rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	var got Result
	if err := New(m).CombineTo(&got, x, req, parts); err != nil {
		t.Fatalf("%s %v %v: %v", req.Method, req.Options, split, err)
	}
	return got
}

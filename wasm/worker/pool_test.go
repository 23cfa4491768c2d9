package main

import (
	"math"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/xai"
)

// poolRun explains o with Integrated Gradients the way www/pool.js does:
// the main session plans, each helper session (its own model, loaded from
// the same bytes) computes a range from the plan's input, the main session
// computes the first range and combines. The helpers' sums cross as bytes,
// as they do between workers.
func poolRun(t *testing.T, main *session, helpers []*session, o Options, cuts []int) (Explanation, []float32, []float32) {
	t.Helper()
	n, x, err := main.igPlan(o)
	if err != nil {
		t.Fatal(err)
	}
	bounds := append(append([]int{0}, cuts...), n)
	var parts []PartIn
	for i, h := range helpers {
		var last [2]int
		p, err := h.igPart(append([]float32(nil), x...), o, bounds[i+1], bounds[i+2], func(d, tot int) { last = [2]int{d, tot} })
		if err != nil {
			t.Fatal(err)
		}
		if want := bounds[i+2] - bounds[i+1]; last != [2]int{want, want} {
			t.Errorf("helper %d: last progress %v, want %d of %d", i, last, want, want)
		}
		parts = append(parts, PartIn{Lo: p.Lo, Hi: p.Hi, Evaluations: p.Evaluations, Class: p.Class,
			BaselineScore: p.BaselineScore, Sum: append([]byte(nil), float64Bytes(p.Sum)...)})
	}
	if _, err := main.igPart(nil, o, 0, bounds[1], nil); err != nil {
		t.Fatal(err)
	}
	r, disp, full, err := main.igCombine(o, parts)
	if err != nil {
		t.Fatal(err)
	}
	return r, disp, full
}

// TestPoolIGEqualsOneWorker: Integrated Gradients split over a main worker
// and one or two helpers gives the one-worker explanation: the same class,
// scores and completeness, the map within float32 rounding of a float64
// sum taken in another order, and the map kept for evaluate.
func TestPoolIGEqualsOneWorker(t *testing.T) {
	model := testModel(t)
	_, pix := rgba()
	newSession := func() *session {
		s := new(session)
		if _, err := s.load(model); err != nil {
			t.Fatal(err)
		}
		return s
	}
	one := newSession()
	if _, err := one.predict(pix, 24, 24); err != nil {
		t.Fatal(err)
	}
	main := newSession()
	if _, err := main.predict(pix, 24, 24); err != nil {
		t.Fatal(err)
	}
	two := 2
	for _, tt := range []struct {
		o       Options
		cuts    []int
		helpers int
	}{
		{Options{Method: "ig", Steps: 20}, []int{10}, 1},
		{Options{Method: "ig", Steps: 20, Score: "probability"}, []int{7, 14}, 2},
		{Options{Method: "ig", Steps: 9, Rule: "gauss-legendre", Baseline: "noise", Seed: 5}, []int{4}, 1}, // 11 evaluations
		{Options{Method: "ig", Steps: 12, Class: &two, Baseline: "blur", Sigma: 2}, []int{1, 11}, 2},
	} {
		want, wdisp, wfull, err := one.explain(tt.o, func(int, int) {})
		if err != nil {
			t.Fatal(err)
		}
		wfull = append([]float32(nil), wfull...)
		wdisp = append([]float32(nil), wdisp...)
		var helpers []*session
		for range tt.helpers {
			helpers = append(helpers, newSession())
		}
		got, disp, full := poolRun(t, main, helpers, tt.o, tt.cuts)
		name := tt.o.Rule + "/" + tt.o.Score + "/" + tt.o.Baseline
		close32 := func(what string, g, w []float32) {
			if len(g) != len(w) {
				t.Fatalf("%s %s: %d values, want %d", name, what, len(g), len(w))
			}
			for i := range g {
				if d := math.Abs(float64(g[i]) - float64(w[i])); d > 2.4e-7*math.Abs(float64(w[i]))+1e-30 {
					t.Fatalf("%s %s[%d] = %v, one worker %v", name, what, i, g[i], w[i])
				}
			}
		}
		close32("full map", full, wfull)
		close32("display map", disp, wdisp)
		if got.Class != want.Class || got.Value != want.Value || got.IG.BaselineScore != want.IG.BaselineScore ||
			got.IG.Evaluations != want.IG.Evaluations || got.IG.Steps != want.IG.Steps || got.IG.Rule != want.IG.Rule ||
			got.IG.Baseline != want.IG.Baseline || got.Score != want.Score || got.Shape != want.Shape {
			t.Errorf("%s: pooled %+v %+v, one worker %+v %+v", name, got, *got.IG, want, *want.IG)
		}
		if d := math.Abs(got.IG.Gap - want.IG.Gap); d > 1e-6*(math.Abs(want.IG.Sum)+math.Abs(want.Value)) {
			t.Errorf("%s: gap %v, one worker %v", name, got.IG.Gap, want.IG.Gap)
		}
		// Completeness from the map itself: Σ map − (Score(x) − Score(b)).
		var sum float64
		for _, v := range full {
			sum += float64(v)
		}
		if g := sum - (got.Value - got.IG.BaselineScore); math.Abs(g-got.IG.Gap) > 1e-9*math.Max(1, math.Abs(sum)) {
			t.Errorf("%s: reported gap %v, from the map %v", name, got.IG.Gap, g)
		}
		// The combined map is what evaluate measures.
		var kept *evalMap
		for i := range main.maps {
			if main.maps[i].method == "ig" {
				kept = &main.maps[i]
			}
		}
		if kept == nil || kept.gap == nil || kept.class != got.Class {
			t.Fatalf("%s: the pooled map was not kept for evaluate (%v)", name, kept)
		}
		close32("kept map", kept.m.Data, wfull)
		if *kept.gap != xai.RelativeGap(got.IG.Gap, got.Value, got.IG.BaselineScore) {
			t.Errorf("%s: kept gap %v", name, *kept.gap)
		}
	}
}

func TestPoolErrors(t *testing.T) {
	model := testModel(t)
	_, pix := rgba()
	var s session
	o := Options{Method: "ig", Steps: 10}
	if _, _, err := s.igPlan(o); err == nil || !strings.Contains(err.Error(), "predict first") {
		t.Errorf("igPlan before predict: %v", err)
	}
	if _, err := s.igPart(nil, o, 0, 5, nil); err == nil || !strings.Contains(err.Error(), "no model") {
		t.Errorf("igPart before a model: %v", err)
	}
	if _, err := s.load(model); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := s.igCombine(o, nil); err == nil || !strings.Contains(err.Error(), "predict first") {
		t.Errorf("igCombine before predict: %v", err)
	}
	if _, err := s.predict(pix, 24, 24); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := s.igCombine(o, nil); err == nil || !strings.Contains(err.Error(), "own IG part is missing") {
		t.Errorf("igCombine without a part: %v", err)
	}
	if _, _, err := s.igPlan(Options{Method: "ig", Rule: "simpson"}); err == nil || !strings.Contains(err.Error(), "unknown integration rule") {
		t.Errorf("igPlan with a bad rule: %v", err)
	}
	n, x, err := s.igPlan(o)
	if err != nil || n != 10 || len(x) != 144 {
		t.Fatalf("igPlan: %d evaluations, %d values, %v; want 10, 144", n, len(x), err)
	}
	x = append([]float32(nil), x...)
	for _, tt := range []struct {
		x      []float32
		lo, hi int
		want   string
	}{
		{nil, 3, 10, "must start at evaluation 0"},
		{nil, 0, 11, "not a non-empty range within 0..10"},
		{x[:143], 5, 10, "an IG input of 143 values, want 12x12x1 = 144"},
		{x, 5, 5, "not a non-empty range"},
	} {
		if _, err := s.igPart(tt.x, o, tt.lo, tt.hi, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("igPart(%d values, %d, %d): %v, want %q", len(tt.x), tt.lo, tt.hi, err, tt.want)
		}
	}
	// A helper's part for evaluations 5..10, and the main worker's 0..5.
	var h session
	if _, err := h.load(model); err != nil {
		t.Fatal(err)
	}
	hp, err := h.igPart(x, o, 5, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	good := PartIn{Lo: 5, Hi: 10, Evaluations: 10, Class: hp.Class, BaselineScore: hp.BaselineScore, Sum: append([]byte(nil), float64Bytes(hp.Sum)...)}
	short := good
	short.Sum = short.Sum[:8]
	for _, tt := range []struct {
		name  string
		o     Options
		parts []PartIn
		want  string
	}{
		{"other options", Options{Method: "ig", Steps: 10, Baseline: "white"}, []PartIn{good}, "another image or other options"},
		{"short sum", o, []PartIn{short}, "holds 8 bytes, want 1152"},
		{"missing part", o, nil, "no IG part starts at evaluation 5"},
		{"overlap", o, []PartIn{good, good}, "the others overlap"},
	} {
		if _, err := s.igPart(nil, o, 0, 5, nil); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := s.igCombine(tt.o, tt.parts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	// Another image since the main worker's part: refused.
	if _, err := s.igPart(nil, o, 0, 5, nil); err != nil {
		t.Fatal(err)
	}
	pix2 := append([]byte(nil), pix...)
	pix2[0] ^= 0xff
	if _, err := s.predict(pix2, 24, 24); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := s.igCombine(o, []PartIn{good}); err == nil || !strings.Contains(err.Error(), "another image") {
		t.Errorf("combine after a new image: %v", err)
	}
}

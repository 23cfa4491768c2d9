package main

import (
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/xai"
)

// poolRun explains o with a split method the way www/pool.js does: the
// main session plans and computes the first range, each of the workers
// (helper sessions, with their own model loaded from the same bytes, or
// the main session itself) computes the next range from the plan's input,
// and the main session combines. The parts cross as the trees JS carries
// (the sums as Float64Arrays), as they do between workers.
func poolRun(t *testing.T, main *session, workers []*session, o Options, cuts []int) (Explanation, []float32, []float32) {
	t.Helper()
	plan, err := main.splitPlan(o)
	if err != nil {
		t.Fatal(err)
	}
	n, x := plan.Evaluations, slices.Clone(plan.Input) // the plan's input aliases main's
	bounds := append(append([]int{0}, cuts...), n)
	// The other ranges explain the class the main worker predicted, as
	// pool.js asks them to, when o asks for the predicted class.
	ho := o
	if o.Target.Class < 0 && plan.Class >= 0 {
		ho.Target.Class = plan.Class
	}
	if _, err := main.splitPart(nil, o, 0, bounds[1], nil); err != nil {
		t.Fatal(err)
	}
	var parts []xai.Part
	for i, h := range workers {
		var last [2]int
		p, err := h.splitPart(slices.Clone(x), ho, bounds[i+1], bounds[i+2], func(d, tot int) { last = [2]int{d, tot} })
		if err != nil {
			t.Fatal(err)
		}
		if want := bounds[i+2] - bounds[i+1]; last != [2]int{want, want} {
			t.Errorf("range %d: last progress %v, want %d of %d", i+1, last, want, want)
		}
		tree := partValue(p, true).(map[string]any)
		tree["sum"] = slices.Clone(p.Sum)
		q, err := decodePart(tree)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, q)
	}
	r, err := main.splitCombine(o, parts)
	if err != nil {
		t.Fatal(err)
	}
	return r, r.Map, r.Full
}

// TestPoolIGEqualsOneWorker: Integrated Gradients split over a main worker
// and one or two helpers gives the one-worker explanation: the same class,
// scores and completeness, the maps bit for bit (xai adds the parts'
// float64 sums in evaluation order, as one worker does), and the map kept
// for evaluate.
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
	noise := opts("ig", "steps", 9, "rule", "gauss-legendre", "baseline", "noise")
	noise.Seed = 5
	two := opts("ig", "steps", 12, "baseline", "blur", "sigma", 2.0)
	two.Target.Class = 2
	for _, tt := range []struct {
		o       Options
		cuts    []int
		helpers int
	}{
		{opts("ig", "steps", 20), []int{10}, 1},
		{withScore(opts("ig", "steps", 20), xai.Probability), []int{7, 14}, 2},
		{noise, []int{4}, 1}, // 11 evaluations
		{two, []int{1, 11}, 2},
	} {
		want, err := one.explain(tt.o, func(int, int) {})
		if err != nil {
			t.Fatal(err)
		}
		wfull := append([]float32(nil), want.Full...)
		wdisp := append([]float32(nil), want.Map...)
		var helpers []*session
		for range tt.helpers {
			helpers = append(helpers, newSession())
		}
		got, disp, full := poolRun(t, main, helpers, tt.o, tt.cuts)
		name := want.Values.String("rule") + "/" + want.Score.String() + "/" + want.Values.String("baseline")
		close32 := func(what string, g, w []float32) {
			if len(g) != len(w) {
				t.Fatalf("%s %s: %d values, want %d", name, what, len(g), len(w))
			}
			for i := range g {
				if math.Float32bits(g[i]) != math.Float32bits(w[i]) {
					t.Fatalf("%s %s[%d] = %v, one worker %v", name, what, i, g[i], w[i])
				}
			}
		}
		close32("full map", full, wfull)
		close32("display map", disp, wdisp)
		if got.Class != want.Class || got.Value != want.Value || got.Check.ScoreRef != want.Check.ScoreRef ||
			got.Passes != want.Passes || !maps.Equal(got.Values, want.Values) || got.Score != want.Score || got.Shape != want.Shape {
			t.Errorf("%s: pooled %+v %+v, one worker %+v %+v", name, got, *got.Check, want, *want.Check)
		}
		if d := math.Abs(got.Check.Gap - want.Check.Gap); d > 1e-6*(math.Abs(want.Check.Sum)+math.Abs(want.Value)) {
			t.Errorf("%s: gap %v, one worker %v", name, got.Check.Gap, want.Check.Gap)
		}
		// Completeness from the map itself: Σ map − (Score(x) − Score(b)).
		var sum float64
		for _, v := range full {
			sum += float64(v)
		}
		if g := sum - (got.Value - got.Check.ScoreRef); math.Abs(g-got.Check.Gap) > 1e-9*math.Max(1, math.Abs(sum)) {
			t.Errorf("%s: reported gap %v, from the map %v", name, got.Check.Gap, g)
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
		if *kept.gap != xai.RelativeGap(got.Check.Gap, got.Value, got.Check.ScoreRef) {
			t.Errorf("%s: kept gap %v", name, *kept.gap)
		}
	}
}

func TestPoolErrors(t *testing.T) {
	model := testModel(t)
	_, pix := rgba()
	var s session
	o := opts("ig", "steps", 10)
	if _, err := s.splitPlan(o); err == nil || !strings.Contains(err.Error(), "predict first") {
		t.Errorf("splitPlan before predict: %v", err)
	}
	if _, err := s.splitPart(nil, o, 0, 5, nil); err == nil || !strings.Contains(err.Error(), "no model") {
		t.Errorf("splitPart before a model: %v", err)
	}
	if _, err := s.load(model); err != nil {
		t.Fatal(err)
	}
	if _, err := s.splitCombine(o, nil); err == nil || !strings.Contains(err.Error(), "predict first") {
		t.Errorf("splitCombine before predict: %v", err)
	}
	pred, err := s.predict(pix, 24, 24)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.splitCombine(o, nil); err == nil || !strings.Contains(err.Error(), "own part is missing") {
		t.Errorf("splitCombine without a part: %v", err)
	}
	if _, err := s.splitPlan(opts("gradcam")); err == nil || !strings.Contains(err.Error(), "cannot be split") {
		t.Errorf("splitPlan of Grad-CAM: %v", err)
	}
	if _, err := s.splitPlan(opts("ig", "steps", 1, "rule", "trapezoid")); err == nil || !strings.Contains(err.Error(), "integration steps") {
		t.Errorf("splitPlan with one trapezoid step: %v", err)
	}
	plan, err := s.splitPlan(o)
	if err != nil || plan.Evaluations != 10 || len(plan.Input) != 144 || plan.Class != pred.Class {
		t.Fatalf("splitPlan: %d evaluations, %d values, class %d, %v; want 10, 144, class %d (predict's)", plan.Evaluations, len(plan.Input), plan.Class, err, pred.Class)
	}
	x := append([]float32(nil), plan.Input...)
	for _, tt := range []struct {
		x      []float32
		lo, hi int
		want   string
	}{
		{nil, 3, 10, "must start at evaluation 0"},
		{nil, 0, 11, "not a non-empty range within 0..10"},
		{x[:143], 5, 10, "an input of 143 values to split, want 12x12x1 = 144"},
		{x, 5, 5, "not a non-empty range"},
	} {
		if _, err := s.splitPart(tt.x, o, tt.lo, tt.hi, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("splitPart(%d values, %d, %d): %v, want %q", len(tt.x), tt.lo, tt.hi, err, tt.want)
		}
	}
	// A helper's part for evaluations 5..10, and the main worker's 0..5.
	var h session
	if _, err := h.load(model); err != nil {
		t.Fatal(err)
	}
	hp, err := h.splitPart(x, o, 5, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	good := *hp
	good.Sum = append([]float64(nil), hp.Sum...)
	short := good
	short.Sum = short.Sum[:1]
	for _, tt := range []struct {
		name  string
		o     Options
		parts []xai.Part
		want  string
	}{
		{"other options", opts("ig", "steps", 10, "baseline", "white"), []xai.Part{good}, "another image or other options"},
		{"short sum", o, []xai.Part{short}, "holds 1 values, want 144"},
		{"missing part", o, nil, "no IG part starts at evaluation 5"},
		{"overlap", o, []xai.Part{good, good}, "the others overlap"},
	} {
		if _, err := s.splitPart(nil, o, 0, 5, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.splitCombine(tt.o, tt.parts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	// The defaults spelt out are the same options.
	if _, err := s.splitPart(nil, o, 0, 5, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.splitCombine(opts("ig", "steps", 10, "rule", "linspace", "baseline", "black"), []xai.Part{good}); err != nil {
		t.Errorf("combine with the defaults spelt out: %v", err)
	}
	// Another image since the main worker's part: refused.
	if _, err := s.splitPart(nil, o, 0, 5, nil); err != nil {
		t.Fatal(err)
	}
	pix2 := append([]byte(nil), pix...)
	pix2[0] ^= 0xff
	if _, err := s.predict(pix2, 24, 24); err != nil {
		t.Fatal(err)
	}
	if _, err := s.splitCombine(o, []xai.Part{good}); err == nil || !strings.Contains(err.Error(), "another image") {
		t.Errorf("combine after a new image: %v", err)
	}
	for _, tt := range []struct {
		tree any
		want string
	}{
		{nil, "split part must be an object"},
		{map[string]any{"lo": 0.0, "hi": 1.0, "evaluations": 1.0, "class": 0.0, "baselineScore": 0.0, "sum": []any{}}, "sum must be a Float64Array"},
		{map[string]any{"lo": 0.5, "sum": []float64{}}, "lo must be a whole number"},
		{map[string]any{"sum": []float64{}, "extra": 1.0}, `unknown member "extra"`},
	} {
		if _, err := decodePart(tt.tree); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("decodePart(%v): %v, want %q", tt.tree, err, tt.want)
		}
	}
}

// TestPoolEveryMethodEqualsOneWorker: every method the registry can split,
// split over the main worker and a helper at the middle of its
// evaluations, and in ranges of two evaluations taken by both in turn,
// gives the one-worker explanation bit for bit (maps and check), through
// the trees the parts cross as.
func TestPoolEveryMethodEqualsOneWorker(t *testing.T) {
	model := testModel(t)
	_, pix := rgba()
	newSession := func() *session {
		s := new(session)
		if _, err := s.load(model); err != nil {
			t.Fatal(err)
		}
		if _, err := s.predict(pix, 24, 24); err != nil {
			t.Fatal(err)
		}
		return s
	}
	one, main := newSession(), newSession()
	split := 0
	for _, m := range xai.Methods() {
		if !m.Splittable() {
			continue
		}
		split++
		o := opts(m.Name)
		o.Seed = 7
		want, err := one.explain(o, nil)
		if err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		wmap, wfull, wcheck := slices.Clone(want.Map), slices.Clone(want.Full), want.Check
		plan, err := main.splitPlan(o)
		if err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		if plan.Evaluations < 2 {
			t.Fatalf("%s: %d evaluations", m.Name, plan.Evaluations)
		}
		var h session
		if _, err := h.load(model); err != nil {
			t.Fatal(err)
		}
		// Split at the middle, and in ranges of at most two evaluations
		// that the main worker and the helper take in turn (pool.js's
		// ranges, taken as the workers become free).
		var cuts []int
		var workers []*session
		for c := 1; c < plan.Evaluations; c += 2 {
			cuts = append(cuts, c)
			workers = append(workers, []*session{&h, main}[len(cuts)%2])
		}
		for _, sp := range []struct {
			cuts    []int
			workers []*session
		}{{[]int{plan.Evaluations / 2}, []*session{&h}}, {cuts, workers}} {
			got, _, _ := poolRun(t, main, sp.workers, o, sp.cuts)
			if !slices.Equal(got.Map, wmap) || !slices.Equal(got.Full, wfull) {
				t.Errorf("%s, split at %v: the pooled map differs from one worker's", m.Name, sp.cuts)
			}
			if !reflect.DeepEqual(got.Check, wcheck) {
				t.Errorf("%s, split at %v: pooled check %+v, one worker %+v", m.Name, sp.cuts, got.Check, wcheck)
			}
			if got.Class != want.Class || got.Value != want.Value || got.Passes != want.Passes {
				t.Errorf("%s, split at %v: pooled class %d value %v passes %d, one worker %d %v %d", m.Name, sp.cuts, got.Class, got.Value, got.Passes, want.Class, want.Value, want.Passes)
			}
		}
	}
	if split == 0 {
		t.Fatal("no method of the registry can be split")
	}
}

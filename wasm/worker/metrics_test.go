package main

import (
	"context"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

// predicted returns a session with the test model and the test picture
// predicted.
func predicted(t *testing.T) *session {
	t.Helper()
	s := &session{}
	if _, err := s.load(testModel(t)); err != nil {
		t.Fatal(err)
	}
	_, pix := rgba()
	if _, err := s.predict(pix, 24, 24); err != nil {
		t.Fatal(err)
	}
	return s
}

// explained returns a session with the test model, the test picture
// predicted and the four methods explained.
func explained(t *testing.T) *session {
	t.Helper()
	s := predicted(t)
	for _, m := range []string{"gradcam", "gradcampp", "saliency", "ig"} {
		o := opts(m)
		if m == "ig" {
			o = opts(m, "steps", 16)
		}
		if _, err := s.explain(o, func(int, int) {}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestSessionEvaluate holds evaluate to xai's own metrics of maps computed
// independently by a fresh explainer on a fresh copy of the model, and
// checks its progress, its ranking and its defaults.
func TestSessionEvaluate(t *testing.T) {
	s := explained(t)
	// Re-explaining a method replaces its map instead of adding one.
	if _, err := s.explain(opts("gradcam"), func(int, int) {}); err != nil {
		t.Fatal(err)
	}
	last, calls := 0, 0
	r, err := s.evaluate(context.Background(), EvalOptions{Box: &xai.Box{X0: 0, Y0: 0, X1: 6, Y1: 12}}, func(done, total int) {
		if done < last || done > total {
			t.Errorf("progress %d of %d after %d", done, total, last)
		}
		last = done
		calls++
	})
	if err != nil {
		t.Fatal(err)
	}
	// 4 methods x (2 x 33 curve points + 3 kept fractions) images.
	if want := 4 * (2*33 + 3); last != want || calls < 4 {
		t.Errorf("progress ended at %d after %d calls, want %d", last, calls, want)
	}
	if r.Steps != 32 || r.Patch != 1 || len(r.Methods) != 4 || len(r.Ranking.Scores) != 4 || r.Ranking.Verdict == "" {
		t.Fatalf("steps %d, patch %d, %d methods, %d ranked, verdict %q: want 32, 1 (a 12-pixel input), 4, 4 and a verdict",
			r.Steps, r.Patch, len(r.Methods), len(r.Ranking.Scores), r.Ranking.Verdict)
	}

	m, err := nn.Decode(testModel(t))
	if err != nil {
		t.Fatal(err)
	}
	ex, ev := xai.New(m), xai.NewEvaluator(m)
	for i, want := range []string{"gradcam", "gradcampp", "saliency", "ig"} {
		got := r.Methods[i]
		if got.Method != want {
			t.Fatalf("method %d is %s, want %s", i, got.Method, want)
		}
		o := opts(want)
		if want == "ig" {
			o = opts(want, "steps", 16)
		}
		var res xai.Result
		mp, err := methodMapTo(&res, ex, s.x, o, xai.Target{Class: got.Metrics.Class})
		if err != nil {
			t.Fatal(err)
		}
		ref, err := ev.Evaluate(context.Background(), s.x, mp, xai.MetricsOptions{Class: got.Metrics.Class, Steps: 32,
			Box: &xai.Box{X0: 0, Y0: 0, X1: 6, Y1: 12}})
		if err != nil {
			t.Fatal(err)
		}
		g := got.Metrics
		if g.Insertion.AUC != ref.Insertion.AUC || g.Deletion.AUC != ref.Deletion.AUC || g.Gini != ref.Gini ||
			g.Entropy != ref.Entropy || *g.Mass != *ref.Mass || *g.Pointing != *ref.Pointing {
			t.Errorf("%s: AUCs %g/%g, Gini %g, entropy %g, mass %g; xai gives %g/%g, %g, %g, %g", want,
				g.Insertion.AUC, g.Deletion.AUC, g.Gini, g.Entropy, *g.Mass,
				ref.Insertion.AUC, ref.Deletion.AUC, ref.Gini, ref.Entropy, *ref.Mass)
		}
		if (want == "ig") != (got.Gap != nil) {
			t.Errorf("%s: completeness gap %v, want one for Integrated Gradients only", want, got.Gap)
		}
	}
	var a xai.Attribution
	if err := ex.IntegratedGradientsTo(&a, s.x, xai.IGOptions{Target: xai.Target{Class: r.Methods[3].Metrics.Class}, Steps: 16}); err != nil {
		t.Fatal(err)
	}
	if g := *r.Methods[3].Gap; math.Abs(g-xai.IGGap(a)) > 1e-12 {
		t.Errorf("completeness gap %g, want %g", g, xai.IGGap(a))
	}
}

func TestSessionEvaluateSanity(t *testing.T) {
	s := explained(t)
	ctx := context.Background()
	plain, err := s.evaluate(ctx, EvalOptions{Steps: 4}, func(int, int) {})
	if err != nil {
		t.Fatal(err)
	}
	var params [][]float32
	for _, p := range s.m.Params() {
		params = append(params, append([]float32(nil), p.Value...))
	}
	last, total := 0, 0
	r, err := s.evaluate(ctx, EvalOptions{Steps: 4, Sanity: true, Seed: 1}, func(d, n int) { last, total = d, n })
	if err != nil {
		t.Fatal(err)
	}
	// The check ran on the session's own model (in place): its weights
	// are back bit for bit, the metrics and a new map are as before, and
	// the correlations are those of a check on a copy.
	for i, p := range s.m.Params() {
		if !slices.Equal(p.Value, params[i]) {
			t.Fatalf("after the randomisation check the session's %s changed", p.Name)
		}
	}
	again, err := s.evaluate(ctx, EvalOptions{Steps: 4}, func(int, int) {})
	if err != nil {
		t.Fatal(err)
	}
	for i := range plain.Methods {
		a, b := plain.Methods[i], again.Methods[i]
		a.MS, b.MS = 0, 0
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: metrics after the check %+v, before %+v", a.Method, b, a)
		}
	}
	sal := s.maps[s.mapIndex(s.maps, "saliency")]
	if _, err := s.explain(opts("saliency"), func(int, int) {}); err != nil {
		t.Fatal(err)
	}
	if now := s.maps[s.mapIndex(s.maps, "saliency")]; !slices.Equal(now.m.Data, sal.m.Data) {
		t.Error("saliency after the check differs from before")
	}
	cp, err := s.m.Clone()
	if err != nil {
		t.Fatal(err)
	}
	onCopy, err := xai.RandomisationCheck(ctx, cp, s.x, func(ex *xai.Explainer, x *nn.Tensor, t xai.Target) (xai.Map, error) {
		var res xai.Result
		return methodMapTo(&res, ex, x, sal.opts, t)
	}, xai.SanityOptions{Target: xai.Target{Class: sal.class}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Methods[s.mapIndex(s.maps, "saliency")].Sanity; got == nil || !slices.Equal(got.Spearman, onCopy.Spearman) {
		t.Errorf("saliency's check in the session %+v, on a copy %+v", got, onCopy)
	}
	// The test model randomises conv2d and dense: 3 maps per method.
	if want := 4 * (2*5 + 3 + 3); last != want || total != want {
		t.Errorf("progress ended at %d of %d, want %d of %d", last, total, want, want)
	}
	for _, me := range r.Methods {
		if me.Sanity == nil || len(me.Sanity.Spearman) != 2 {
			t.Fatalf("%s: sanity %+v, want two randomisation steps", me.Method, me.Sanity)
		}
	}
	for _, sc := range r.Ranking.Scores {
		if sc.Sanity == nil {
			t.Errorf("%s: the ranking has no sanity result", sc.Method)
		}
	}
}

func TestSessionEvaluateErrors(t *testing.T) {
	var s session
	nop := func(int, int) {}
	if _, err := s.evaluate(context.Background(), EvalOptions{}, nop); err == nil || !strings.Contains(err.Error(), "predict first") {
		t.Errorf("evaluate before a model: %v", err)
	}
	if _, err := s.load(testModel(t)); err != nil {
		t.Fatal(err)
	}
	_, pix := rgba()
	if _, err := s.predict(pix, 24, 24); err != nil {
		t.Fatal(err)
	}
	if _, err := s.evaluate(context.Background(), EvalOptions{}, nop); err == nil || !strings.Contains(err.Error(), "explain first") {
		t.Errorf("evaluate before explain: %v", err)
	}
	e := explained(t)
	for _, tt := range []struct {
		o    EvalOptions
		want string
	}{
		{EvalOptions{Steps: -1}, "-1 deletion steps"},
		{EvalOptions{Steps: 5000}, "5000 deletion steps"},
		{EvalOptions{Patch: 99}, "patch size 99"},
		{EvalOptions{Reference: "grey"}, "grey"},
		{EvalOptions{Box: &xai.Box{X0: 5, Y0: 0, X1: 5, Y1: 3}}, "empty or outside"},
		{EvalOptions{Box: &xai.Box{X0: 0, Y0: 0, X1: 13, Y1: 3}}, "outside the 12x12"},
	} {
		if _, err := e.evaluate(context.Background(), tt.o, nop); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want an error with %q", tt.o, err, tt.want)
		}
	}
	// A new image drops the maps of the last one.
	if _, err := e.predict(pix, 24, 24); err != nil {
		t.Fatal(err)
	}
	if _, err := e.evaluate(context.Background(), EvalOptions{}, nop); err == nil || !strings.Contains(err.Error(), "explain first") {
		t.Errorf("evaluate after a new predict: %v", err)
	}
}

// TestClearMaps: clearMaps forgets the kept maps and keeps the input, so
// that a new round of maps of the same image is evaluated alone, with the
// scores a fresh prediction of the image gives; without an input it fails.
func TestClearMaps(t *testing.T) {
	var none session
	if err := none.clearMaps(); err == nil || !strings.Contains(err.Error(), "no image (call predict first)") {
		t.Errorf("clearMaps without a model: %v", err)
	}
	if _, err := none.load(testModel(t)); err != nil {
		t.Fatal(err)
	}
	if err := none.clearMaps(); err == nil || !strings.Contains(err.Error(), "no image (call predict first)") {
		t.Errorf("clearMaps without an input: %v", err)
	}
	nop := func(int, int) {}
	s := explained(t)
	x, version := slices.Clone(s.x.Data), s.mapsVersion
	if err := s.clearMaps(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.x.Data, x) || s.mapsVersion == version {
		t.Errorf("after clearMaps: input kept %v, maps' version %d (was %d)", slices.Equal(s.x.Data, x), s.mapsVersion, version)
	}
	if _, err := s.evaluate(context.Background(), EvalOptions{}, nop); err == nil || !strings.Contains(err.Error(), "explain first") {
		t.Errorf("evaluate after clearMaps: %v", err)
	}
	// The new round: saliency alone, scored as after predicting the image
	// again.
	if _, err := s.explain(opts("saliency"), nop); err != nil {
		t.Fatal(err)
	}
	got, err := s.evaluate(context.Background(), EvalOptions{}, nop)
	if err != nil {
		t.Fatal(err)
	}
	fresh := predicted(t)
	if _, err := fresh.explain(opts("saliency"), nop); err != nil {
		t.Fatal(err)
	}
	want, err := fresh.evaluate(context.Background(), EvalOptions{}, nop)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Methods) != 1 || got.Methods[0].Method != "saliency" ||
		!reflect.DeepEqual(got.Methods[0].Metrics, want.Methods[0].Metrics) || !reflect.DeepEqual(got.Ranking, want.Ranking) {
		t.Errorf("after clearMaps and saliency: %d methods (%v), metrics equal to a fresh prediction's: %v",
			len(got.Methods), got.Methods, len(want.Methods) == 1 && reflect.DeepEqual(got.Methods[0].Metrics, want.Methods[0].Metrics))
	}
}

// TestSessionEvaluateCancel: a context cancelled during the first forward
// pass stops evaluate there, with the cancellation error.
func TestSessionEvaluateCancel(t *testing.T) {
	s := explained(t)
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err := s.evaluate(ctx, EvalOptions{Sanity: true}, func(int, int) { calls++; cancel() })
	if err == nil || err.Error() != "worker: metrics cancelled" || calls != 1 {
		t.Errorf("after cancelling at the first progress report: %v after %d reports, want worker: metrics cancelled after 1", err, calls)
	}
	// The session still works.
	if _, err := s.evaluate(context.Background(), EvalOptions{Steps: 2}, func(int, int) {}); err != nil {
		t.Errorf("evaluate after a cancel: %v", err)
	}
}

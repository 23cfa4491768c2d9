package main

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

// valueTree is v's JS object as the page would hand it back: the tree its
// value method spells out, with MethodEvaluation's results picked out.
func methodTrees(r Evaluation) []any {
	return r.value().(map[string]any)["methods"].([]any)
}

// TestPoolEvaluateEqualsOneWorker: evaluate split by method, each method
// evaluated alone (EvalOptions.Methods) by the main worker (gradcam, ig)
// or by a helper (its own session and model, given the maps and the
// input), with the results crossing as the trees JS would carry and
// combined in a shuffled order, gives the one-worker evaluation: the same
// metrics per method, in explain order, the same ranking and verdict.
func TestPoolEvaluateEqualsOneWorker(t *testing.T) {
	for _, o := range []EvalOptions{{Steps: 8}, {Steps: 4, Sanity: true, Seed: 3}} {
		one := explained(t)
		want, err := one.evaluate(context.Background(), o, func(int, int) {})
		if err != nil {
			t.Fatal(err)
		}

		main := explained(t)
		plan, err := main.evalPlan()
		if err != nil || len(plan.Maps) != 4 {
			t.Fatalf("evalPlan: %d maps, %v", len(plan.Maps), err)
		}
		// The maps cross as the trees JS carries, and are read back as
		// evalInstall reads them.
		var maps []evalMap
		for _, tree := range plan.value().(map[string]any)["maps"].([]any) {
			e, err := decodeEvalMap(tree)
			if err != nil {
				t.Fatal(err)
			}
			maps = append(maps, e)
		}
		helper := &session{}
		if _, err := helper.load(testModel(t)); err != nil {
			t.Fatal(err)
		}
		if err := helper.evalInstall(append([]float32(nil), plan.Input...), maps); err != nil {
			t.Fatal(err)
		}
		var parts []MethodEvaluation
		for _, w := range []struct {
			s      *session
			method string
		}{{helper, "saliency"}, {main, "ig"}, {helper, "gradcampp"}, {main, "gradcam"}} {
			mo := o
			mo.Methods = []string{w.method}
			r, err := w.s.evaluate(context.Background(), mo, func(int, int) {})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Methods) != 1 || r.Methods[0].Method != w.method {
				t.Fatalf("evaluate of %s alone: %d results", w.method, len(r.Methods))
			}
			me, err := decodeMethodEvaluation(methodTrees(r)[0])
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, me)
		}
		got, err := main.evalCombine(o, parts, plan.Version)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want.Methods {
			w, g := want.Methods[i], got.Methods[i]
			w.MS, g.MS = 0, 0
			if !reflect.DeepEqual(g, w) {
				t.Errorf("sanity %v: method %d: pooled %+v\none worker %+v", o.Sanity, i, g, w)
			}
		}
		if !reflect.DeepEqual(got.Ranking, want.Ranking) || got.Steps != want.Steps || got.Patch != want.Patch || got.Input != want.Input {
			t.Errorf("sanity %v: pooled ranking %+v, one worker %+v", o.Sanity, got.Ranking, want.Ranking)
		}
		if got.Ranking.Verdict == "" || len(got.Methods) != 4 {
			t.Errorf("sanity %v: %d methods, verdict %q", o.Sanity, len(got.Methods), got.Ranking.Verdict)
		}
	}
}

func TestPoolEvaluateErrors(t *testing.T) {
	s := explained(t)
	o := EvalOptions{Steps: 2}
	for _, tt := range []struct {
		methods []string
		want    string
	}{
		{[]string{"lime"}, "no lime map"},
		{[]string{}, "name no method"},
		{[]string{"ig", "gradcam", "ig"}, "ig is named twice"},
	} {
		mo := o
		mo.Methods = tt.methods
		if _, err := s.evaluate(context.Background(), mo, func(int, int) {}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("evaluate of methods %q: %v, want %q", tt.methods, err, tt.want)
		}
	}
	plan, err := s.evalPlan()
	if err != nil {
		t.Fatal(err)
	}
	full, err := s.evaluate(context.Background(), o, func(int, int) {})
	if err != nil {
		t.Fatal(err)
	}
	var all []MethodEvaluation
	for _, tree := range methodTrees(full) {
		me, err := decodeMethodEvaluation(tree)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, me)
	}
	wrongClass := append([]MethodEvaluation(nil), all...)
	wrongClass[0].Metrics.Class++
	for _, tt := range []struct {
		name  string
		parts []MethodEvaluation
		want  string
	}{
		{"missing", all[:3], "no result for ig"},
		{"twice", append(append([]MethodEvaluation(nil), all...), all[1]), "two results for gradcampp"},
		{"class", wrongClass, "scores class"},
	} {
		if _, err := s.evalCombine(o, tt.parts, plan.Version); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := s.evalCombine(o, all, plan.Version); err != nil {
		t.Fatalf("combine of every result: %v", err)
	}
	// A new explanation (IG again) between the plan and the combine: the
	// results are of the old maps, and the combine is refused.
	if _, err := s.explain(opts("ig", "steps", 3), func(int, int) {}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.evalCombine(o, all, plan.Version); err == nil || !strings.Contains(err.Error(), "maps changed") {
		t.Errorf("combine after a new explanation: %v", err)
	}
	// A new image: the same.
	plan, _ = s.evalPlan()
	pix := make([]byte, 4*5*5)
	if _, err := s.predict(pix, 5, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := s.evalCombine(o, all, plan.Version); err == nil || !strings.Contains(err.Error(), "maps changed") {
		t.Errorf("combine after a new image: %v", err)
	}
	if _, err := s.explain(opts("saliency"), func(int, int) {}); err != nil {
		t.Fatal(err)
	}
	plan, _ = s.evalPlan()
	for _, tt := range []struct {
		tree any
		want string
	}{
		{"x", "must be an object"},
		{map[string]any{"method": "ig"}, "metrics are missing"},
		{map[string]any{"method": "ig", "metrics": map[string]any{"class": 1.5}}, "class must be a whole number"},
		{map[string]any{"method": "ig", "metrics": map[string]any{"deletion": map[string]any{"fraction": []any{"a"}}}}, "fraction must be a list of numbers"},
		{map[string]any{"method": "ig", "metrics": map[string]any{"deletion": map[string]any{}, "insertion": map[string]any{}},
			"sanity": map[string]any{"layers": []any{1.0}}}, "layers must be a list of strings"},
	} {
		if _, err := decodeMethodEvaluation(tt.tree); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("decode %v: %v, want %q", tt.tree, err, tt.want)
		}
	}
	h := &session{}
	if err := h.evalInstall(nil, nil); err == nil || !strings.Contains(err.Error(), "no model") {
		t.Errorf("evalInstall before a model: %v", err)
	}
	if _, err := h.load(testModel(t)); err != nil {
		t.Fatal(err)
	}
	maps, x := plan.Maps, plan.Input
	if err := h.evalInstall(x[:10], maps); err == nil || !strings.Contains(err.Error(), "an input of 10 values") {
		t.Errorf("evalInstall with a short input: %v", err)
	}
	for _, tt := range []struct {
		tree any
		want string
	}{
		{3.0, "map to evaluate must be an object"},
		{map[string]any{"method": "ig", "class": 0.0, "shape": []any{1.0, 1.0}, "map": []float32{1}}, "shape must be [H, W, C]"},
		{map[string]any{"method": "ig", "class": 0.0, "shape": []any{1.0, 1.0, 1.0}, "map": []float64{1}}, "map must be a Float32Array"},
		{map[string]any{"method": "ig", "class": 0.0, "shape": []any{1.0, 1.0, 1.0}, "map": []float32{1}, "options": map[string]any{"method": "lime"}}, "unknown method"},
	} {
		if _, err := decodeEvalMap(tt.tree); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("decodeEvalMap(%v): %v, want %q", tt.tree, err, tt.want)
		}
	}
	bad := maps[0]
	bad.m.H++
	if err := h.evalInstall(x, []evalMap{bad}); err == nil || !strings.Contains(err.Error(), "map holds") {
		t.Errorf("evalInstall with a bad map: %v", err)
	}
}

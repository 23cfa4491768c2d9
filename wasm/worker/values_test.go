package main

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

// TestValuesMatchSchema holds what the worker sends for real results (the
// trees values.go builds, which jsValue turns into JS objects as they are)
// to www/api.d.ts: every member named there, with its type, and nothing
// else; and every optional member is met at least once.
func TestValuesMatchSchema(t *testing.T) {
	sc := readSchema(t)
	seen := map[string]bool{}
	check := func(name string, v any, iface string) {
		t.Helper()
		if r, ok := v.(valuer); ok {
			v = r.value()
		}
		for _, p := range sc.check(v, &tsType{kind: "ref", name: iface}, name, seen) {
			t.Error(p)
		}
	}
	model := testModel(t)
	var s session
	info, err := s.load(model)
	if err != nil {
		t.Fatal(err)
	}
	check("ModelInfo", info, "ModelInfo")
	_, pix := rgba()
	p, err := s.predict(pix, 24, 24)
	if err != nil {
		t.Fatal(err)
	}
	check("Prediction", p, "Prediction")
	// Every registered method, with its defaults, then a few options.
	var sent []Options
	for _, m := range xai.Methods() {
		o := opts(m.Name)
		o.Seed = 3
		e, err := s.explain(o, nil)
		if err != nil {
			t.Errorf("%s: %v", m.Name, err)
			continue
		}
		check("Explanation "+m.Name, e, "Explanation")
		sent = append(sent, o)
	}
	one := opts("gradcampp", "posnorm", true)
	one.Target = xai.Target{Class: 1, Kind: xai.Probability}
	one.Layer = "conv2d"
	for _, o := range []Options{one, opts("ig", "steps", 8, "baseline", "blur", "sigma", 2.0)} {
		e, err := s.explain(o, nil)
		if err != nil {
			t.Fatal(err)
		}
		check("Explanation "+o.Method+" with options", e, "Explanation")
		sent = append(sent, o)
	}
	check("Memory", memory(false), "Memory")
	r, err := s.evaluate(context.Background(), EvalOptions{Steps: 3, Sanity: true, Seed: 4,
		Box: &xai.Box{X0: 1, Y0: 2, X1: 8, Y1: 9}}, func(int, int) {})
	if err != nil {
		t.Fatal(err)
	}
	if r.Methods[0].Sanity == nil || r.Methods[0].Metrics.Pointing == nil {
		t.Fatalf("the evaluation lacks what the test covers: %+v", r.Methods[0])
	}
	check("Evaluation", r, "Evaluation")
	sw, err := s.sweep(context.Background(), opts("ig", "steps", 8), func(int, int) {})
	if err != nil {
		t.Fatal(err)
	}
	check("CompletenessSweep", sw, "CompletenessSweep")
	sw.Use, sw.Best = nil, ""
	check("CompletenessSweep without a recommendation", sw, "CompletenessSweep")
	plan, err := s.evalPlan()
	if err != nil {
		t.Fatal(err)
	}
	check("EvalPlan", plan, "EvalPlan")

	// The split: a plan, a helper's part and the main worker's.
	o := opts("ig", "steps", 6)
	sp, err := s.splitPlan(o)
	if err != nil {
		t.Fatal(err)
	}
	check("SplitPlan", sp, "SplitPlan")
	var h session
	if _, err := h.load(model); err != nil {
		t.Fatal(err)
	}
	hp, err := h.splitPart(slices.Clone(sp.Input), o, 3, 6, nil)
	if err != nil {
		t.Fatal(err)
	}
	check("SplitPart (helper)", partValue(hp, true), "SplitPart")
	own, err := s.splitPart(nil, o, 0, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	check("SplitPart (own)", partValue(own, false), "SplitPart")

	// Options as the worker hands them back (evalPlan) decode to what was
	// sent.
	for _, o := range sent {
		v := optionsValue(o)
		check("ExplainOptions "+o.Method, v, "ExplainOptions")
		got, err := decodeOptions(v)
		if err != nil || !sameOptions(got, o) {
			t.Errorf("%s: options %+v decode to %+v (%v)", o.Method, o, got, err)
		}
	}

	// No optional member of the schema is stale.
	unused := map[string]string{
		"Check.layers": "no registered method reports a layer-by-layer conservation yet (LRP will)",
	}
	for _, name := range sc.optionals(t, "Explanation", "Check", "ParamInfo", "MethodEvaluation", "MapMetrics",
		"SplitPart", "ExplainOptions") {
		if !seen[name] && unused[name] == "" {
			t.Errorf("api.d.ts: %s is optional but no value sent has it", name)
		}
	}
}

// sameOptions compares options, the method's values by what they mean
// (an int sent comes back as the float64 JS holds).
func sameOptions(a, b Options) bool {
	pa, pb := a.Params, b.Params
	a.Params, b.Params = nil, nil
	if !reflect.DeepEqual(a, b) || len(pa) != len(pb) {
		return false
	}
	for k, v := range pa {
		if fmt.Sprint(v) != fmt.Sprint(pb[k]) {
			return false
		}
	}
	return true
}

// TestDecodeOptions reads options as goValue gives them (JS numbers are
// float64), and refuses bad ones with messages naming the member, or
// xai's for a method's own options.
func TestDecodeOptions(t *testing.T) {
	type tree = map[string]any
	for _, tt := range []struct {
		in   any
		want Options
	}{
		{tree{"method": "gradcam"}, Options{Method: "gradcam", Target: xai.Predicted()}},
		{tree{"method": "ig", "class": 2.0, "score": "probability", "layer": "conv2d", "seed": 9007199254740992.0,
			"options": tree{"steps": 50.0, "baseline": "blur", "sigma": 5.0, "rule": "trapezoid"}},
			Options{Method: "ig", Target: xai.Target{Class: 2, Kind: xai.Probability}, Layer: "conv2d", Seed: 1 << 53,
				Params: xai.Options{"steps": 50.0, "baseline": "blur", "sigma": 5.0, "rule": "trapezoid"}}},
		{tree{"method": "gradcampp", "class": nil, "options": tree{"posnorm": true, "x": nil}},
			Options{Method: "gradcampp", Target: xai.Predicted(), Params: xai.Options{"posnorm": true}}},
		{tree{"method": "saliency", "class": -1.0, "options": nil}, Options{Method: "saliency", Target: xai.Predicted()}},
	} {
		got, err := decodeOptions(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%v: got %+v (%v), want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, tt := range []struct {
		in   any
		want string
	}{
		{[]any{1.0}, "worker: explain options must be an object"},
		{tree{}, "worker: explain options: method is missing"},
		{tree{"method": 3.0}, "worker: explain options: method must be a string"},
		{tree{"method": "gradcam", "class": true}, "worker: explain options: class must be a number"},
		{tree{"method": "gradcam", "class": 1.5}, "worker: explain options: class must be a whole number"},
		{tree{"method": "gradcam", "seed": -1.0}, "worker: explain options: seed must be a whole number from 0 to 2^53"},
		{tree{"method": "gradcam", "steps": 50.0}, `worker: explain options: unknown member "steps"`},
		{tree{"method": "gradcam", "options": "x"}, "worker: explain options: options must be an object"},
		{tree{"method": "gradcam", "score": "odds"}, "unknown target score"},
		{tree{"method": "lime"}, `xai: unknown method "lime"`},
		{tree{"method": "gradcam", "options": tree{"steps": 5.0}}, `xai: gradcam takes no options, not "steps"`},
		{tree{"method": "ig", "options": tree{"steps": "many"}}, `xai: ig: steps must be a number, not "many"`},
		{tree{"method": "ig", "options": tree{"steps": 2.5}}, "xai: ig: steps must be a whole number, not 2.5"},
		{tree{"method": "ig", "options": tree{"rule": 3.0}}, "xai: ig: rule must be one of"},
		{tree{"method": "gradcampp", "options": tree{"posnorm": "yes"}}, "xai: gradcampp: posnorm must be true or false"},
	} {
		if _, err := decodeOptions(tt.in); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q", tt.in, err, tt.want)
		}
	}
	// Evaluate's options.
	box := &xai.Box{X0: 1, Y0: 2, X1: 5, Y1: 6}
	for _, tt := range []struct {
		in   any
		want EvalOptions
	}{
		{tree{"steps": 8.0, "patch": 2.0, "reference": "blur", "box": tree{"x0": 1.0, "y0": 2.0, "x1": 5.0, "y1": 6.0},
			"tolerance": 3.0, "sanity": true, "seed": 5.0}, EvalOptions{Steps: 8, Patch: 2, Reference: "blur", Box: box, Tolerance: 3, Sanity: true, Seed: 5}},
		{tree{"box": nil}, EvalOptions{}},
		{nil, EvalOptions{}},
	} {
		got, err := decodeEvalOptions(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%v: got %+v (%v), want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, tt := range []struct {
		in   any
		want string
	}{
		{tree{"box": []any{1.0, 2.0, 3.0, 4.0}}, "worker: evaluate options: box must be an object"},
		{tree{"box": tree{"x0": "1"}}, "worker: evaluate options: box: x0 must be a number"},
		{tree{"box": tree{"x0": 1.0, "y0": 1.0, "x1": 2.0, "y1": 2.0, "z": 1.0}}, `worker: evaluate options: box: unknown member "z"`},
		{tree{"sanity": "yes"}, "worker: evaluate options: sanity must be true or false"},
		{tree{"stpes": 3.0}, `worker: evaluate options: unknown member "stpes"`},
	} {
		if _, err := decodeEvalOptions(tt.in); err == nil || err.Error() != tt.want {
			t.Errorf("%v: error %v, want %q", tt.in, err, tt.want)
		}
	}
}

func TestLayerKind(t *testing.T) {
	m, err := nn.Build(nn.Spec{Input: [3]int{8, 8, 1}, Layers: []nn.LayerSpec{
		{Class: "Conv2D", Name: "c", Config: nn.LayerConfig{Filters: 2, KernelSize: []int{3, 3}}},
		{Class: "BatchNormalization", Name: "b"},
		{Class: "ReLU", Name: "r"},
		{Class: "MaxPooling2D", Name: "p"},
		{Class: "Dropout", Name: "d", Config: nn.LayerConfig{Rate: 0.1}},
		{Class: "Flatten", Name: "f"},
		{Class: "Dense", Name: "y", Config: nn.LayerConfig{Units: 2, Activation: "softmax"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range m.Layers {
		if got, want := layerKind(l), strings.TrimPrefix(fmt.Sprintf("%T", l), "*nn."); got != want {
			t.Errorf("layer %s: kind %q, want %q", l.Name(), got, want)
		}
	}
}

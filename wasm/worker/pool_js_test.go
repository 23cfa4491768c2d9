//go:build js && wasm

package main

import (
	"context"
	"math"
	"reflect"
	"strings"
	"syscall/js"
	"testing"
)

// TestPoolMethodsJS calls the pool's JS methods as worker.js does, with a
// JS options object and typed arrays, runs Integrated Gradients split over
// this worker and a helper session, and compares the answer with explain's.
func TestPoolMethodsJS(t *testing.T) {
	model := testModel(t)
	_, pix := rgba()
	if _, err := s.load(model); err != nil {
		t.Fatal(err)
	}
	if _, err := s.predict(pix, 24, 24); err != nil {
		t.Fatal(err)
	}
	o := Options{Method: "ig", Steps: 16, Score: "probability", Baseline: "noise", Seed: 9}
	want, _, wfull, err := s.explain(o, func(int, int) {})
	if err != nil {
		t.Fatal(err)
	}
	wfull = append([]float32(nil), wfull...)
	opts := js.ValueOf(map[string]any{"method": "ig", "steps": 16, "score": "probability", "baseline": "noise", "seed": 9, "class": -1})

	plan, err := igPlanJS([]js.Value{opts})
	if err != nil {
		t.Fatal(err)
	}
	pv := js.ValueOf(plan)
	if n := pv.Get("evaluations").Int(); n != 16 {
		t.Fatalf("igPlan: %d evaluations, want 16", n)
	}
	input := pv.Get("input")
	if input.Get("byteLength").Int() != 4*144 {
		t.Fatalf("igPlan: input of %d bytes, want %d", input.Get("byteLength").Int(), 4*144)
	}

	// The helper's part runs in another session: swap it in, as if it
	// were the helper worker's global session.
	main := s
	s = session{}
	if _, err := s.load(model); err != nil {
		t.Fatal(err)
	}
	var calls int
	prog := js.FuncOf(func(js.Value, []js.Value) any { calls++; return nil })
	defer prog.Release()
	hp, err := igPartJS([]js.Value{input, opts, js.ValueOf(6), js.ValueOf(16), prog.Value})
	if err != nil {
		t.Fatal(err)
	}
	part := js.ValueOf(hp)
	if part.Get("sum").Get("byteLength").Int() != 8*144 || part.Get("lo").Int() != 6 || part.Get("hi").Int() != 16 || calls != 10 {
		t.Fatalf("helper part: sum %v bytes, range %v..%v, %d progress calls; want 1152, 6..16, 10",
			part.Get("sum").Get("byteLength"), part.Get("lo"), part.Get("hi"), calls)
	}
	s = main

	own, err := igPartJS([]js.Value{js.Null(), opts, js.ValueOf(0), js.ValueOf(6)})
	if err != nil {
		t.Fatal(err)
	}
	if !js.ValueOf(own).Get("sum").IsUndefined() {
		t.Error("the main worker's part returned its sum: it should stay in Go")
	}
	res, err := igCombineJS([]js.Value{opts, js.ValueOf([]any{part})})
	if err != nil {
		t.Fatal(err)
	}
	rv := js.ValueOf(res)
	j := rv.Get("json").String()
	if !strings.Contains(j, `"method":"ig"`) || !strings.Contains(j, `"evaluations":16`) {
		t.Errorf("igCombine json %s", j)
	}
	full := make([]float32, 144)
	b := make([]byte, 4*144)
	if n := js.CopyBytesToGo(b, rv.Get("full")); n != len(b) {
		t.Fatalf("full map of %d bytes, want %d", n, len(b))
	}
	float32sTo(full, b)
	for i := range full {
		if d := math.Abs(float64(full[i]) - float64(wfull[i])); d > 2.4e-7*math.Abs(float64(wfull[i]))+1e-30 {
			t.Fatalf("pooled map[%d] = %v, explain %v", i, full[i], wfull[i])
		}
	}
	if !strings.Contains(j, `"class":`+itoa(want.Class)) {
		t.Errorf("igCombine json %s, want class %d", j, want.Class)
	}
}

func TestPoolArgsJS(t *testing.T) {
	for _, tt := range []struct {
		opts map[string]any
		want string
	}{
		{map[string]any{"method": "gradcam"}, "Integrated Gradients only"},
		{map[string]any{"method": "ig", "steps": 2.5}, "steps must be a whole number, not 2.5"},
		{map[string]any{"method": "ig", "steps": "50"}, "steps must be a number"},
		{map[string]any{"method": "ig", "rule": 3}, "rule must be a string"},
		{map[string]any{"method": "ig", "seed": -1}, "seed must be a whole number"},
		{map[string]any{"method": "ig", "class": 1e12}, "class must be a whole number"},
	} {
		if _, err := optionsArg(js.ValueOf(tt.opts)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("optionsArg(%v): %v, want %q", tt.opts, err, tt.want)
		}
	}
	if _, err := optionsArg(js.ValueOf("ig")); err == nil || !strings.Contains(err.Error(), "must be an object") {
		t.Errorf("options as a string: %v", err)
	}
	opts := js.ValueOf(map[string]any{"method": "ig"})
	if _, err := igPartJS([]js.Value{js.ValueOf([]any{1, 2}), opts, js.ValueOf(0), js.ValueOf(1)}); err == nil || !strings.Contains(err.Error(), "Uint8Array") {
		t.Errorf("igPart with an array input: %v", err)
	}
	if _, err := igCombineJS([]js.Value{opts, js.ValueOf(3)}); err == nil || !strings.Contains(err.Error(), "parts must be an array") {
		t.Errorf("igCombine with a number: %v", err)
	}
	bad := js.ValueOf([]any{map[string]any{"lo": 0, "hi": 1, "evaluations": 1, "class": 0, "baselineScore": 0, "sum": []any{}}})
	if _, err := igCombineJS([]js.Value{opts, bad}); err == nil || !strings.Contains(err.Error(), "sum must be a Uint8Array") {
		t.Errorf("igCombine with an array sum: %v", err)
	}
}

// TestPoolEvalMethodsJS runs evaluate split by method through the JS
// methods: the plan's maps and input go to a helper session (evalInstall),
// the main session keeps two methods (evalOnly), each evaluates, and the
// results cross as the JS objects JSON.parse gives before evalCombine;
// the answer equals the one-worker evaluate.
func TestPoolEvalMethodsJS(t *testing.T) {
	one := explained(t)
	o := EvalOptions{Steps: 4}
	want, err := one.evaluate(context.Background(), o, func(int, int) {})
	if err != nil {
		t.Fatal(err)
	}
	s = *explained(t)
	plan, err := evalPlanJS(nil)
	if err != nil {
		t.Fatal(err)
	}
	pv := js.ValueOf(plan)
	maps := pv.Get("maps")
	if maps.Length() != 4 || maps.Index(3).Get("method").String() != "ig" || maps.Index(3).Get("gap").Type() != js.TypeNumber {
		t.Fatalf("evalPlan maps: %d, last %v", maps.Length(), maps.Index(3).Get("method"))
	}
	share := js.Global().Get("Array").New(maps.Index(2), maps.Index(3))
	main := s
	s = session{}
	if _, err := s.load(testModel(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := evalInstallJS([]js.Value{pv.Get("input"), share}); err != nil {
		t.Fatal(err)
	}
	hr, err := s.evaluate(context.Background(), o, func(int, int) {})
	if err != nil {
		t.Fatal(err)
	}
	s = main
	if _, err := evalOnlyJS([]js.Value{js.ValueOf([]any{"gradcam", "gradcampp"}), js.ValueOf(5)}); err != nil {
		t.Fatal(err)
	}
	mr, err := s.evaluate(context.Background(), o, func(int, int) {})
	if err != nil {
		t.Fatal(err)
	}
	jsonOf := func(r Evaluation) js.Value {
		txt, _ := jsonText(r)
		return js.Global().Get("JSON").Call("parse", txt).Get("methods")
	}
	results := jsonOf(mr).Call("concat", jsonOf(hr))
	res, err := evalCombineJS([]js.Value{js.ValueOf(`{"steps": 4}`), results, js.ValueOf(5)})
	if err != nil {
		t.Fatal(err)
	}
	wantText, _ := jsonText(want)
	// Key order follows Go's maps: compare the decoded trees.
	norm := func(txt string) map[string]any {
		v := goValue(js.Global().Get("JSON").Call("parse", txt)).(map[string]any)
		v["ms"] = 0.0
		for _, m := range v["methods"].([]any) {
			m.(map[string]any)["ms"] = 0.0
		}
		return v
	}
	if got, w := norm(res.(string)), norm(wantText); !reflect.DeepEqual(got, w) {
		t.Errorf("pooled evaluation\n%v\none worker\n%v", got, w)
	}
	if _, err := evalOnlyJS([]js.Value{js.ValueOf("ig"), js.ValueOf(1)}); err == nil || !strings.Contains(err.Error(), "array of method names") {
		t.Errorf("evalOnly with a string: %v", err)
	}
	if _, err := evalInstallJS([]js.Value{pv.Get("input"), js.ValueOf(1)}); err == nil || !strings.Contains(err.Error(), "maps must be an array") {
		t.Errorf("evalInstall with a number: %v", err)
	}
}

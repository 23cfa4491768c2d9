//go:build js && wasm

package main

import (
	"context"
	"math"
	"reflect"
	"strings"
	"syscall/js"
	"testing"

	"github.com/mavis-xai/mavis/xai"
)

// TestPoolMethodsJS calls the pool's JS methods as worker.js does, with a
// JS options object and typed arrays, runs Integrated Gradients split over
// this worker and a helper session, and compares the answer with explain's
// (bit for bit).
func TestPoolMethodsJS(t *testing.T) {
	model := testModel(t)
	_, pix := rgba()
	if _, err := s.load(model); err != nil {
		t.Fatal(err)
	}
	if _, err := s.predict(pix, 24, 24); err != nil {
		t.Fatal(err)
	}
	o := withScore(opts("ig", "steps", 16, "baseline", "noise"), xai.Probability)
	o.Seed = 9
	want, err := s.explain(o, func(int, int) {})
	if err != nil {
		t.Fatal(err)
	}
	wfull := append([]float32(nil), want.Full...)
	jsOpts := jsValue(map[string]any{"method": "ig", "score": "probability", "seed": 9, "class": -1,
		"options": map[string]any{"steps": 16, "baseline": "noise"}})

	plan, err := call(1, splitPlanJS, []js.Value{jsOpts})
	if err != nil {
		t.Fatal(err)
	}
	if n := plan.Get("evaluations").Int(); n != 16 {
		t.Fatalf("splitPlan: %d evaluations, want 16", n)
	}
	input := plan.Get("input")
	if input.Get("constructor").Get("name").String() != "Float32Array" || input.Length() != 144 {
		t.Fatalf("splitPlan: input %v of %d values, want a Float32Array of 144", input.Get("constructor").Get("name"), input.Length())
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
	part, err := call(4, splitPartJS, []js.Value{input, jsOpts, js.ValueOf(6), js.ValueOf(16), prog.Value})
	if err != nil {
		t.Fatal(err)
	}
	if sum := part.Get("sum"); sum.Get("constructor").Get("name").String() != "Float64Array" || sum.Length() != 144 ||
		part.Get("lo").Int() != 6 || part.Get("hi").Int() != 16 || calls != 10 {
		t.Fatalf("helper part: sum %v of %d, range %v..%v, %d progress calls; want a Float64Array of 144, 6..16, 10",
			sum.Get("constructor").Get("name"), sum.Length(), part.Get("lo"), part.Get("hi"), calls)
	}
	s = main

	own, err := call(4, splitPartJS, []js.Value{js.Null(), jsOpts, js.ValueOf(0), js.ValueOf(6)})
	if err != nil {
		t.Fatal(err)
	}
	if !own.Get("sum").IsUndefined() {
		t.Error("the main worker's part returned its sum: it should stay in Go")
	}
	rv, err := call(2, splitCombineJS, []js.Value{jsOpts, js.Global().Get("Array").New(part)})
	if err != nil {
		t.Fatal(err)
	}
	if rv.Get("method").String() != "ig" || rv.Get("passes").Int() != 16 || rv.Get("class").Int() != want.Class {
		t.Errorf("splitCombine: method %v, passes %v, class %v; want ig, 16, %d", rv.Get("method"), rv.Get("passes"), rv.Get("class"), want.Class)
	}
	full, ok := goValue(rv.Get("fullMap")).([]float32)
	if !ok || len(full) != 144 {
		t.Fatalf("fullMap %v", rv.Get("fullMap"))
	}
	for i := range full {
		if math.Float32bits(full[i]) != math.Float32bits(wfull[i]) {
			t.Fatalf("pooled map[%d] = %v, explain %v", i, full[i], wfull[i])
		}
	}
}

func TestPoolArgsJS(t *testing.T) {
	ig := func(o map[string]any) js.Value {
		return jsValue(map[string]any{"method": "ig", "options": o})
	}
	for _, tt := range []struct {
		opts js.Value
		want string
	}{
		{jsValue(map[string]any{"method": "gradcam"}), "gradcam cannot be split"},
		{ig(map[string]any{"steps": 2.5}), "steps must be a whole number, not 2.5"},
		{ig(map[string]any{"steps": "many"}), `steps must be a number, not "many"`},
		{ig(map[string]any{"rule": 3}), "rule must be one of"},
		{jsValue(map[string]any{"method": "ig", "seed": -1}), "seed must be a whole number"},
		{jsValue(map[string]any{"method": "ig", "class": 1e12}), "class must be a whole number"},
		{js.ValueOf("ig"), "must be an object"},
	} {
		if _, err := call(1, splitPlanJS, []js.Value{tt.opts}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("splitPlan(%v): %v, want %q", tt.opts, err, tt.want)
		}
	}
	opts := ig(nil)
	if _, err := call(4, splitPartJS, []js.Value{js.ValueOf([]any{1, 2}), opts, js.ValueOf(0), js.ValueOf(1)}); err == nil || !strings.Contains(err.Error(), "Float32Array or null") {
		t.Errorf("splitPart with an array input: %v", err)
	}
	if _, err := call(4, splitPartJS, []js.Value{js.Null(), opts, js.ValueOf("0"), js.ValueOf(1)}); err == nil || !strings.Contains(err.Error(), "lo must be a number") {
		t.Errorf("splitPart with a string lo: %v", err)
	}
	if _, err := call(2, splitCombineJS, []js.Value{opts, js.ValueOf(3)}); err == nil || !strings.Contains(err.Error(), "parts must be an array") {
		t.Errorf("splitCombine with a number: %v", err)
	}
	bad := js.ValueOf([]any{map[string]any{"lo": 0, "hi": 1, "evaluations": 1, "class": 0, "baselineScore": 0, "sum": []any{}}})
	if _, err := call(2, splitCombineJS, []js.Value{opts, bad}); err == nil || !strings.Contains(err.Error(), "sum must be a Float64Array") {
		t.Errorf("splitCombine with an array sum: %v", err)
	}
	if _, err := call(2, splitCombineJS, []js.Value{opts}); err == nil || !strings.Contains(err.Error(), "1 arguments, want 2") {
		t.Errorf("splitCombine with one argument: %v", err)
	}
}

// TestPoolEvalMethodsJS runs evaluate split by method through the JS
// methods: the plan's maps and input go to a helper session (evalInstall),
// the main session and the helper each evaluate two methods (options with
// methods, read as evaluate reads them), and the results cross as the JS
// objects evaluate answers with before evalCombine with the plan's
// version; the answer equals the one-worker evaluate.
func TestPoolEvalMethodsJS(t *testing.T) {
	one := explained(t)
	o := EvalOptions{Steps: 4}
	want, err := one.evaluate(context.Background(), o, func(int, int) {})
	if err != nil {
		t.Fatal(err)
	}
	s = *explained(t)
	pv, err := call(0, evalPlanJS, nil)
	if err != nil {
		t.Fatal(err)
	}
	maps := pv.Get("maps")
	if maps.Length() != 4 || maps.Index(3).Get("method").String() != "ig" || maps.Index(3).Get("gap").Type() != js.TypeNumber {
		t.Fatalf("evalPlan maps: %d, last %v", maps.Length(), maps.Index(3).Get("method"))
	}
	share := js.Global().Get("Array").New(maps.Index(2), maps.Index(3))
	only := func(methods ...any) EvalOptions {
		t.Helper()
		o, err := decodeEvalOptions(goValue(jsValue(map[string]any{"steps": 4, "methods": methods})))
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	main := s
	s = session{}
	if _, err := s.load(testModel(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := call(2, evalInstallJS, []js.Value{pv.Get("input"), share}); err != nil {
		t.Fatal(err)
	}
	hr, err := s.evaluate(context.Background(), only("saliency", "ig"), func(int, int) {})
	if err != nil {
		t.Fatal(err)
	}
	s = main
	mr, err := s.evaluate(context.Background(), only("gradcam", "gradcampp"), func(int, int) {})
	if err != nil {
		t.Fatal(err)
	}
	methodsOf := func(r Evaluation) js.Value { return jsValue(r.value()).Get("methods") }
	results := methodsOf(mr).Call("concat", methodsOf(hr))
	res, err := call(3, evalCombineJS, []js.Value{jsValue(map[string]any{"steps": 4}), results, pv.Get("version")})
	if err != nil {
		t.Fatal(err)
	}
	norm := func(v js.Value) map[string]any {
		m := goValue(v).(map[string]any)
		m["ms"] = 0.0
		for _, e := range m["methods"].([]any) {
			e.(map[string]any)["ms"] = 0.0
		}
		return m
	}
	if got, w := norm(res), norm(jsValue(want.value())); !reflect.DeepEqual(got, w) {
		t.Errorf("pooled evaluation\n%v\none worker\n%v", got, w)
	}
	if _, err := decodeEvalOptions(goValue(jsValue(map[string]any{"methods": "ig"}))); err == nil || !strings.Contains(err.Error(), "methods must be") {
		t.Errorf("evaluate's methods as a string: %v", err)
	}
	if _, err := call(3, evalCombineJS, []js.Value{jsValue(map[string]any{"steps": 4}), results, js.ValueOf(pv.Get("version").Int() - 1)}); err == nil || !strings.Contains(err.Error(), "maps changed") {
		t.Errorf("evalCombine with an older version: %v", err)
	}
	if _, err := call(2, evalInstallJS, []js.Value{pv.Get("input"), js.ValueOf(1)}); err == nil || !strings.Contains(err.Error(), "maps must be an array") {
		t.Errorf("evalInstall with a number: %v", err)
	}
}

// TestValuesRoundTripJS: a tree crosses to JS and back unchanged, typed
// arrays included (jsValue out, goValue in: the worker's one encoder and
// one decoder), and so do the values JSON text escapes or cannot carry.
func TestValuesRoundTripJS(t *testing.T) {
	in := map[string]any{"a": 1.5, "b": "x", "c": true, "d": nil, "e": []any{1.0, "y", []any{}},
		"f": map[string]any{"g": []float32{1, -2.5, float32(math.Inf(1))}}, "h": []float64{math.Pi, -0.0},
		"i": []byte{0, 255, 7}}
	if got := goValue(jsValue(in)); !reflect.DeepEqual(got, in) {
		t.Errorf("round trip\n%v\nwant\n%v", got, in)
	}
	// What JSON text escapes or cannot spell: quotes, backslashes, control
	// characters, U+2028, non-ASCII and invalid UTF-8 (as U+FFFD, which
	// syscall/js also gives), in values and member names; numbers at the
	// ends of float64 and -0; typed arrays inside arrays, and as the root.
	odd := map[string]any{"q\"\\\n\t\u2028é": "a\"b\\c\x01\u2028\u00e9\U0001F600", "bad": "x\xffy",
		"nums": []any{5e-324, 1.7976931348623157e308, -0.0, 1e21, 1e-7, 123456789.125},
		"arrs": []any{[]byte{1}, map[string]any{"f": []float64{2}}, []any{[]float32{3}}}, "empty": map[string]any{}, "none": []any{}}
	want := map[string]any{"q\"\\\n\t\u2028é": "a\"b\\c\x01\u2028\u00e9\U0001F600", "bad": "x\ufffdy",
		"nums": odd["nums"], "arrs": odd["arrs"], "empty": map[string]any{}, "none": []any{}}
	if got := goValue(jsValue(odd)); !reflect.DeepEqual(got, want) {
		t.Errorf("round trip\n%#v\nwant\n%#v", got, want)
	}
	if z := jsValue(odd).Get("nums").Index(2); !js.Global().Get("Object").Call("is", z, -0.0).Bool() {
		t.Errorf("-0 crosses as %v", z)
	}
	if got := goValue(jsValue([]float32{1, 2})); !reflect.DeepEqual(got, []float32{1, 2}) {
		t.Errorf("a root []float32 crosses as %#v", got)
	}
	// NaN and ±Inf, which JSON has no text for, and an int.
	nan := jsValue(map[string]any{"l": []any{math.NaN(), math.Inf(1)}, "m": map[string]any{"n": math.Inf(-1)}, "i": 7})
	if v := nan.Get("l").Index(0); !js.Global().Get("Number").Call("isNaN", v).Bool() || v.Type() != js.TypeNumber {
		t.Errorf("NaN crosses as %v", v)
	}
	if a, b, i := nan.Get("l").Index(1).Float(), nan.Get("m").Get("n").Float(), nan.Get("i").Int(); !math.IsInf(a, 1) || !math.IsInf(b, -1) || i != 7 {
		t.Errorf("+Inf, -Inf and 7 cross as %v, %v and %v", a, b, i)
	}
	u16 := js.Global().Get("Uint16Array").New(2)
	if _, ok := goValue(u16).(unsupported); !ok {
		t.Errorf("a Uint16Array reads as %v, want unsupported", goValue(u16))
	}
}

// TestArenaJS: goValueIn copies typed arrays into the arena's slices, the
// same ones after a reset (no new slices for the pool's inputs and sums),
// grown when an array is longer, with the values of each call.
func TestArenaJS(t *testing.T) {
	f32 := func(v ...float32) js.Value { return jsValue(v) }
	f64 := func(v ...float64) js.Value { return jsValue(v) }
	var a arena
	read := func(v js.Value) []any {
		t.Helper()
		a.reset()
		l, ok := goValueIn(v, &a).([]any)
		if !ok {
			t.Fatalf("goValueIn: %T, want a list", l)
		}
		return l
	}
	first := read(jsValue([]any{f32(1, 2, 3), map[string]any{"sum": f64(4, 5)}, f64(6)}))
	second := read(jsValue([]any{f32(7, 8, 9), map[string]any{"sum": f64(10, 11)}, f64(12, 13, 14)}))
	want := []any{[]float32{7, 8, 9}, map[string]any{"sum": []float64{10, 11}}, []float64{12, 13, 14}}
	if !reflect.DeepEqual(second, want) {
		t.Fatalf("second read %v, want %v", second, want)
	}
	if &first[0].([]float32)[0] != &second[0].([]float32)[0] || &first[1].(map[string]any)["sum"].([]float64)[0] != &second[1].(map[string]any)["sum"].([]float64)[0] {
		t.Error("the second read copied into new slices, not the arena's")
	}
	if len(a.f32) != 1 || len(a.f64) != 2 {
		t.Errorf("the arena holds %d float32 and %d float64 slices, want 1 and 2", len(a.f32), len(a.f64))
	}
	if got := goValue(f32(1)); &got.([]float32)[0] == &a.f32[0][0] {
		t.Error("goValue without an arena returned the arena's slice")
	}
}

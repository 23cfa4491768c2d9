//go:build js && wasm

package main

import (
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall/js"
	"testing"
)

// TestMethodsReleaseGC: of the worker's methods, loadModel keeps the
// collector held and predict releases it once it returns (here with an
// error: no model is loaded); every other method releases it before it
// runs.
func TestMethodsReleaseGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	defer func() { s = session{} }()
	s = session{}
	a := api()
	names := js.Global().Get("Object").Call("keys", a)
	if names.Length() < 10 {
		t.Fatalf("api has %d methods", names.Length())
	}
	// Arguments that get past the count check, for errors after it.
	args := map[string][]any{
		"loadModel": {js.Global().Get("Uint8Array").New(8)}, // not a model
		"predict":   {js.Global().Get("Function").New("return new Uint8Array(4)"), 1, 1},
	}
	ignore := js.FuncOf(func(js.Value, []js.Value) any { return nil }) // not released: the promises settle after the test
	for i := range names.Length() {
		name := names.Index(i).String()
		holdGC()
		in, ok := args[name]
		if !ok {
			in = []any{js.Undefined(), js.Undefined(), js.Undefined(), js.Undefined()}
		}
		if p := a.Get(name).Invoke(in...); p.Type() == js.TypeObject && p.Get("catch").Type() == js.TypeFunction {
			p.Call("catch", ignore) // the errors are expected
		}
		if held, want := held(), name == "loadModel"; held != want {
			t.Errorf("after %s: collector held %v, want %v", name, held, want)
		}
		releaseGC()
	}
}

// TestPredictJSRows: predict reads the image from its rows function,
// which may give a Uint8ClampedArray (canvas pixels), as session.predict
// does from the whole pixels; rows of the wrong length, or not a typed
// array, are refused with what was asked, and rows that throw give an
// error that says so; the worker predicts again after them.
func TestPredictJSRows(t *testing.T) {
	defer func() { s = session{} }()
	s = session{}
	if _, err := s.load(testModel(t)); err != nil {
		t.Fatal(err)
	}
	_, pix := rgba()
	want, err := s.predict(pix, 24, 24)
	if err != nil {
		t.Fatal(err)
	}
	clamped := js.Global().Get("Uint8ClampedArray")
	var calls []string
	rows := js.FuncOf(func(_ js.Value, a []js.Value) any {
		y, n := a[0].Int(), a[1].Int()
		calls = append(calls, strconv.Itoa(y)+"+"+strconv.Itoa(n))
		v := clamped.New(4 * 24 * n)
		js.CopyBytesToJS(js.Global().Get("Uint8Array").New(v.Get("buffer")), pix[4*24*y:4*24*(y+n)])
		return v
	})
	defer rows.Release()
	got, err := predict([]js.Value{rows.Value, js.ValueOf(24), js.ValueOf(24)})
	if err != nil {
		t.Fatal(err)
	}
	if p := got.(Prediction); !slices.Equal(p.Probs, want.Probs) || !slices.Equal(calls, []string{"0+24"}) {
		t.Errorf("probs %v after rows %v, want %v after 0+24", p.Probs, calls, want.Probs)
	}
	for _, bad := range []string{"new Uint8Array(5)", "'pixels'"} {
		f := js.Global().Get("Function").New("return " + bad)
		if _, err := predict([]js.Value{f, js.ValueOf(24), js.ValueOf(24)}); err == nil || !strings.Contains(err.Error(), "rows(0, 24) did not give 2304 bytes of RGBA") {
			t.Errorf("rows giving %s: %v", bad, err)
		}
	}
	throws := js.Global().Get("Function").New("throw new Error('no canvas')")
	if _, err := predict([]js.Value{throws, js.ValueOf(24), js.ValueOf(24)}); err == nil || !strings.Contains(err.Error(), "could not read the image's rows 0 to 23: JavaScript error: no canvas") {
		t.Errorf("rows throwing: %v", err)
	}
	if p, err := predict([]js.Value{rows.Value, js.ValueOf(24), js.ValueOf(24)}); err != nil || !slices.Equal(p.(Prediction).Probs, want.Probs) {
		t.Errorf("predict after the failures: %v", err)
	}
	if _, err := predict([]js.Value{js.Global().Get("Uint8Array").New(4), js.ValueOf(1), js.ValueOf(1)}); err == nil || !strings.Contains(err.Error(), "rows must be a function") {
		t.Errorf("pixels in place of rows: %v", err)
	}
}

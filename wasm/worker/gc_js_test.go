//go:build js && wasm

package main

import (
	"runtime/debug"
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
		"predict":   {js.Global().Get("Uint8Array").New(4), 1, 1},
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

// TestPredictKeepsSmallBuffers: predict keeps its pixel buffer for the
// next image up to keepPixels and lets a larger one go (here the calls
// fail, as no model is loaded: the rule holds whatever the outcome).
func TestPredictKeepsSmallBuffers(t *testing.T) {
	defer func() { s, buf = session{}, nil }()
	s, buf = session{}, nil
	u8 := js.Global().Get("Uint8Array")
	for _, c := range []struct {
		n    int
		keep bool
	}{{4 * 640 * 480, true}, {keepPixels, true}, {keepPixels + 4, false}, {4 * 224 * 224, true}} {
		if _, err := predict([]js.Value{u8.New(c.n), js.ValueOf(1), js.ValueOf(1)}); err == nil {
			t.Fatal("predict without a model succeeded")
		}
		if kept := buf != nil; kept != c.keep {
			t.Errorf("after a predict of %d bytes: buffer kept %v, want %v", c.n, kept, c.keep)
		}
	}
}

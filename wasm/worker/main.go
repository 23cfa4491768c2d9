//go:build js && wasm

// Command worker is the page's compute engine: Go compiled to js/wasm and
// run inside a Web Worker (www/worker.js), so that long explanations never
// block the page. It registers one global object, mavis, whose methods are
// documented in www/api.d.ts:
//
//	mavis.loadModel(bytes)                   -> Promise<string>  ModelInfo JSON
//	mavis.predict(rgba, width, height)       -> Promise<{json, view}>
//	mavis.explain(optionsJSON, onProgress)   -> Promise<{json, map, full?}>
//	mavis.memory(gc)                         -> Promise<string>  Memory JSON (after a GC when gc)
//	mavis.evaluate(optionsJSON, onProgress)  -> Promise<string>  Evaluation JSON
//	mavis.igPlan, igPart, igCombine          the worker pool's Integrated Gradients (pool_js.go)
//	mavis.evalPlan, evalInstall, evalOnly, evalCombine   and its evaluate split by method
//
// Every method validates its arguments and returns a Promise that rejects
// with the error's text; a panic becomes a rejection too. evaluate alone
// runs in a goroutine that yields to the event loop between forward passes
// (at most every 50 ms), so that the worker can take a cancel message meanwhile: when
// onProgress returns false the computation stops and the Promise rejects
// with "worker: metrics cancelled". Pixels and maps
// cross the boundary once, as bytes (float32 maps little-endian).
package main

import (
	"errors"
	"strconv"
	"syscall/js"
	"time"
	"unsafe"
)

var (
	s   session
	buf []byte // reused for incoming pixels and model files
)

func main() {
	api := js.Global().Get("Object").New()
	api.Set("loadModel", method(1, loadModel))
	api.Set("predict", method(3, predict))
	api.Set("explain", method(1, explain))
	api.Set("memory", method(0, func(a []js.Value) (any, error) { return jsonText(memory(len(a) > 0 && a[0].Truthy())) }))
	api.Set("evaluate", js.FuncOf(evaluate))
	api.Set("igPlan", method(1, igPlanJS))
	api.Set("igPart", method(4, igPartJS))
	api.Set("igCombine", method(2, igCombineJS))
	api.Set("evalPlan", method(0, evalPlanJS))
	api.Set("evalInstall", method(2, evalInstallJS))
	api.Set("evalOnly", method(2, evalOnlyJS))
	api.Set("evalCombine", method(3, evalCombineJS))
	js.Global().Set("mavis", api)
	select {} // serve calls forever
}

func loadModel(args []js.Value) (any, error) {
	b, err := bytesArg(args[0], "model")
	if err != nil {
		return nil, err
	}
	info, err := s.load(b)
	if err != nil {
		return nil, err
	}
	buf = nil // a model file can be large: do not keep its buffer
	return jsonText(info)
}

func predict(args []js.Value) (any, error) {
	pix, err := bytesArg(args[0], "pixels")
	if err != nil {
		return nil, err
	}
	if args[1].Type() != js.TypeNumber || args[2].Type() != js.TypeNumber {
		return nil, errors.New("worker: predict(pixels, width, height): width and height must be numbers")
	}
	p, err := s.predict(pix, args[1].Int(), args[2].Int())
	if err != nil {
		return nil, err
	}
	j, err := jsonText(p)
	if err != nil {
		return nil, err
	}
	return map[string]any{"json": j, "view": toJS(s.view)}, nil
}

func explain(args []js.Value) (any, error) {
	tree, err := jsonArg(args[0], "explain(options, onProgress)", "explain options")
	if err != nil {
		return nil, err
	}
	o, err := decodeOptions(tree)
	if err != nil {
		return nil, err
	}
	progress := func(done, total int) {}
	if len(args) > 1 && args[1].Type() == js.TypeFunction {
		progress = func(done, total int) { args[1].Invoke(done, total) }
	}
	r, disp, full, err := s.explain(o, progress)
	if err != nil {
		return nil, err
	}
	j, err := jsonText(r)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"json": j, "map": toJS(floatBytes(disp))}
	if full != nil {
		out["full"] = toJS(floatBytes(full))
	}
	return out, nil
}

// evaluate computes the faithfulness metrics of the last explained maps
// (see session.evaluate). It returns a Promise at once and computes in a
// goroutine; onProgress(done, total) returning false cancels.
func evaluate(this js.Value, args []js.Value) any {
	promise := js.Global().Get("Promise")
	var o EvalOptions
	err := errors.New("worker: evaluate(options, onProgress): options must be a JSON string")
	if len(args) > 0 {
		o, err = evalOptionsArg(args[0], "evaluate(options, onProgress)")
	}
	if err != nil {
		return promise.Call("reject", js.Global().Get("Error").New(err.Error()))
	}
	var onProgress js.Value
	if len(args) > 1 && args[1].Type() == js.TypeFunction {
		onProgress = args[1]
	}
	var executor js.Func
	executor = js.FuncOf(func(_ js.Value, pa []js.Value) any {
		resolve, reject := pa[0], pa[1]
		executor.Release()
		go func() {
			ctx := newCancelCtx()
			cancel := ctx.cancel
			var yielded time.Time
			progress := func(done, total int) {
				if !onProgress.IsUndefined() {
					if v := onProgress.Invoke(done, total); v.Type() == js.TypeBoolean && !v.Bool() {
						cancel()
					}
				}
				// Let the event loop deliver a cancel, at most every 50 ms
				// (a browser clamps nested timers to 4 ms).
				if time.Since(yielded) > 50*time.Millisecond {
					time.Sleep(time.Millisecond)
					yielded = time.Now()
				}
			}
			res, err := call(0, func([]js.Value) (any, error) {
				r, err := s.evaluate(ctx, o, progress)
				if err != nil {
					return nil, err
				}
				return jsonText(r)
			}, nil)
			if err != nil {
				reject.Invoke(js.Global().Get("Error").New(err.Error()))
				return
			}
			resolve.Invoke(res)
		}()
		return nil
	})
	return promise.New(executor)
}

// method wraps f as a JS function returning a Promise. The call runs to
// completion synchronously (wasm is single-threaded; the worker has nothing
// else to do) and settles the Promise with f's result, its error or its
// panic.
func method(nargs int, f func(args []js.Value) (any, error)) js.Func {
	return js.FuncOf(func(this js.Value, args []js.Value) any {
		promise := js.Global().Get("Promise")
		res, err := call(nargs, f, args)
		if err != nil {
			return promise.Call("reject", js.Global().Get("Error").New(err.Error()))
		}
		return promise.Call("resolve", res)
	})
}

func call(nargs int, f func([]js.Value) (any, error), args []js.Value) (res any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("worker: internal error: " + panicText(r))
		}
	}()
	if len(args) < nargs {
		return nil, errors.New("worker: " + strconv.Itoa(len(args)) + " arguments, want " + strconv.Itoa(nargs))
	}
	return f(args)
}

// bytesArg copies a Uint8Array or Uint8ClampedArray into the reused buffer.
func bytesArg(v js.Value, what string) ([]byte, error) {
	u8 := js.Global().Get("Uint8Array")
	if v.Type() != js.TypeObject || !(v.InstanceOf(u8) || v.InstanceOf(js.Global().Get("Uint8ClampedArray"))) {
		return nil, errors.New("worker: " + what + " must be a Uint8Array")
	}
	if !v.InstanceOf(u8) {
		v = u8.New(v.Get("buffer"), v.Get("byteOffset"), v.Get("byteLength"))
	}
	n := v.Get("byteLength").Int()
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	js.CopyBytesToGo(buf, v)
	return buf, nil
}

// toJS copies b into a new Uint8Array (which the worker then transfers).
func toJS(b []byte) js.Value {
	a := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}

// floatBytes views float32s as their little-endian bytes (wasm is
// little-endian), without copying.
func floatBytes(f []float32) []byte {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), 4*len(f))
}

// jsonText gives a result as JSON text, by JS's JSON.stringify of the
// object its value method spells out (values.go).
func jsonText(v valuer) (string, error) {
	return js.Global().Get("JSON").Call("stringify", js.ValueOf(v.value())).String(), nil
}

// jsonArg parses v, the options argument of call (a JSON string), with
// JS's JSON.parse into the tree decodeOptions and decodeEvalOptions read;
// what names it in parse errors.
func jsonArg(v js.Value, call, what string) (tree any, err error) {
	if v.Type() != js.TypeString {
		return nil, errors.New("worker: " + call + ": options must be a JSON string")
	}
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("worker: " + what + ": " + panicText(r))
		}
	}()
	return goValue(js.Global().Get("JSON").Call("parse", v)), nil
}

// evalOptionsArg decodes v, the options argument of call (a JSON string),
// as evaluate's options.
func evalOptionsArg(v js.Value, call string) (EvalOptions, error) {
	tree, err := jsonArg(v, call, "evaluate options")
	if err != nil {
		return EvalOptions{}, err
	}
	return decodeEvalOptions(tree)
}

// goValue converts a JSON-like JS value to nil, bool, float64, string,
// []any or map[string]any.
func goValue(v js.Value) any {
	switch v.Type() {
	case js.TypeBoolean:
		return v.Bool()
	case js.TypeNumber:
		return v.Float()
	case js.TypeString:
		return v.String()
	case js.TypeObject:
		if js.Global().Get("Array").Call("isArray", v).Bool() {
			a := make([]any, v.Length())
			for i := range a {
				a[i] = goValue(v.Index(i))
			}
			return a
		}
		keys := js.Global().Get("Object").Call("keys", v)
		m := make(map[string]any, keys.Length())
		for i := range keys.Length() {
			k := keys.Index(i).String()
			m[k] = goValue(v.Get(k))
		}
		return m
	}
	return nil
}

// panicText describes a recovered panic value.
func panicText(r any) string {
	switch x := r.(type) {
	case error:
		return x.Error()
	case string:
		return x
	}
	return "unexpected panic"
}

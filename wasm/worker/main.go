//go:build js && wasm

// Command worker is the page's compute engine: Go compiled to js/wasm and
// run inside a Web Worker (www/worker.js), so that long explanations never
// block the page. It registers one global object, mavis, whose methods are
// documented in www/api.d.ts (MavisWorkerAPI):
//
//	mavis.loadModel(bytes)                   -> Promise<ModelInfo>
//	mavis.predict(rows, width, height)       -> Promise<Prediction & {view}> (rows(y, n): RGBA rows y to y+n-1)
//	mavis.explain(options, onProgress)       -> Promise<Explanation & {map, fullMap?}>
//	mavis.memory(gc)                         -> Promise<Memory> (after a GC when gc)
//	mavis.evaluate(options, onProgress)      -> Promise<Evaluation> (options.sweep: Promise<CompletenessSweep>)
//	mavis.splitPlan, splitPart, splitCombine the worker pool's split methods (pool_js.go)
//	mavis.evalPlan, evalInstall, evalCombine   and its evaluate split by method
//
// Every method validates its arguments and returns a Promise that rejects
// with the error's text; a panic becomes a rejection too. evaluate alone
// runs in a goroutine that yields to the event loop between forward passes
// (at most every 50 ms), so that the worker can take a cancel message
// meanwhile: when onProgress returns false the computation stops and the
// Promise rejects with "worker: metrics cancelled".
//
// Values cross the boundary one way each: in, goValue turns any JS value
// into a Go tree (typed arrays into []byte, []float32, []float64, copied
// once) that decode.go reads; out, jsValue turns the trees of values.go
// into plain JS objects (the slices into typed arrays, copied once).
// Nothing is JSON text.
package main

import (
	"errors"
	"strconv"
	"syscall/js"
	"time"
)

var s session

func main() {
	holdGC() // until the first prediction (gc.go)
	js.Global().Set("mavis", api())
	select {} // serve calls forever
}

// api is the mavis object.
func api() js.Value {
	api := js.Global().Get("Object").New()
	api.Set("loadModel", method(1, loadModel))
	api.Set("predict", method(3, predict))
	api.Set("explain", method(1, gcOn(explain)))
	api.Set("clearMaps", method(0, gcOn(func([]js.Value) (any, error) { return true, s.clearMaps() })))
	api.Set("memory", method(0, gcOn(func(a []js.Value) (any, error) { return memory(len(a) > 0 && a[0].Truthy()), nil })))
	api.Set("evaluate", js.FuncOf(func(this js.Value, args []js.Value) any {
		releaseGC()
		return evaluate(this, args)
	}))
	api.Set("splitPlan", method(1, gcOn(splitPlanJS)))
	api.Set("splitPart", method(4, gcOn(splitPartJS)))
	api.Set("splitCombine", method(2, gcOn(splitCombineJS)))
	api.Set("evalPlan", method(0, gcOn(evalPlanJS)))
	api.Set("evalInstall", method(2, gcOn(evalInstallJS)))
	api.Set("evalCombine", method(3, gcOn(evalCombineJS)))
	return api
}

// gcOn is f with the collector released first (gc.go): every method but
// loadModel and predict.
func gcOn(f func([]js.Value) (any, error)) func([]js.Value) (any, error) {
	return func(args []js.Value) (any, error) {
		releaseGC()
		return f(args)
	}
}

func loadModel(args []js.Value) (any, error) {
	b, err := bytesArg(args[0], "model")
	if err != nil {
		return nil, err
	}
	loadingGC(len(b))
	info, err := s.load(b)
	if err != nil {
		return nil, err
	}
	return info, nil
}

// predict reads the image from rows(y, n), a function giving n rows from
// row y as a Uint8Array or Uint8ClampedArray of non-premultiplied RGBA
// (canvas getImageData's), a band at a time (session.predictRows).
func predict(args []js.Value) (any, error) {
	rows := args[0]
	if rows.Type() != js.TypeFunction || args[1].Type() != js.TypeNumber || args[2].Type() != js.TypeNumber {
		return nil, errors.New("worker: predict(rows, width, height): rows must be a function, width and height numbers")
	}
	defer releaseGC()
	w := args[1].Int()
	return s.predictRows(func(dst []byte, y int) (err error) {
		n := len(dst) / (4 * w)
		defer func() { // rows threw (a canvas the browser could not make, say)
			if r := recover(); r != nil {
				err = errors.New("worker: predict: could not read the image's rows " + strconv.Itoa(y) + " to " + strconv.Itoa(y+n-1) + ": " + panicText(r))
			}
		}()
		v, ok := uint8Array(rows.Invoke(y, n))
		if !ok || v.Get("byteLength").Int() != len(dst) {
			return errors.New("worker: predict: rows(" + strconv.Itoa(y) + ", " + strconv.Itoa(n) + ") did not give " + strconv.Itoa(len(dst)) + " bytes of RGBA")
		}
		js.CopyBytesToGo(dst, v)
		return nil
	}, w, args[2].Int())
}

func explain(args []js.Value) (any, error) {
	o, err := decodeOptions(goValue(args[0]))
	if err != nil {
		return nil, err
	}
	return s.explain(o, progressArg(args, 1))
}

// progressArg returns a progress callback calling args[i] when it is a
// function.
func progressArg(args []js.Value, i int) func(done, total int) {
	if len(args) > i && args[i].Type() == js.TypeFunction {
		f := args[i]
		return func(done, total int) { f.Invoke(done, total) }
	}
	return func(done, total int) {}
}

// evaluate computes the faithfulness metrics of the last explained maps
// (see session.evaluate). It returns a Promise at once and computes in a
// goroutine; onProgress(done, total) returning false cancels.
func evaluate(this js.Value, args []js.Value) any {
	promise := js.Global().Get("Promise")
	var o EvalOptions
	err := errors.New("worker: evaluate(options, onProgress): options must be an object")
	if len(args) > 0 {
		o, err = decodeEvalOptions(goValue(args[0]))
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
			var yielded time.Time
			progress := func(done, total int) {
				if !onProgress.IsUndefined() {
					if v := onProgress.Invoke(done, total); v.Type() == js.TypeBoolean && !v.Bool() {
						ctx.cancel()
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
				if o.Sweep != nil {
					return s.sweep(ctx, *o.Sweep, progress)
				}
				return s.evaluate(ctx, o, progress)
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

// call runs f and gives its result as a JS value (a valuer through its
// value tree).
func call(nargs int, f func([]js.Value) (any, error), args []js.Value) (res js.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("worker: internal error: " + panicText(r))
		}
	}()
	if len(args) < nargs {
		return js.Undefined(), errors.New("worker: " + strconv.Itoa(len(args)) + " arguments, want " + strconv.Itoa(nargs))
	}
	v, err := f(args)
	if err != nil {
		return js.Undefined(), err
	}
	if r, ok := v.(valuer); ok {
		v = r.value()
	}
	return jsValue(v), nil
}

// uint8Array is v as a Uint8Array when it is a Uint8Array or a
// Uint8ClampedArray (canvas pixels).
func uint8Array(v js.Value) (js.Value, bool) {
	u8 := js.Global().Get("Uint8Array")
	switch {
	case v.Type() != js.TypeObject:
		return v, false
	case v.InstanceOf(u8):
		return v, true
	case v.InstanceOf(js.Global().Get("Uint8ClampedArray")):
		return u8.New(v.Get("buffer"), v.Get("byteOffset"), v.Get("byteLength")), true
	}
	return v, false
}

// bytesArg copies a Uint8Array or Uint8ClampedArray.
func bytesArg(v js.Value, what string) ([]byte, error) {
	v, ok := uint8Array(v)
	if !ok {
		return nil, errors.New("worker: " + what + " must be a Uint8Array")
	}
	b := make([]byte, v.Get("byteLength").Int())
	js.CopyBytesToGo(b, v)
	return b, nil
}

// intArg reads a whole-number argument.
func intArg(v js.Value, name string) (int, error) {
	f, _ := object(obj{name: goValue(v)}, "arguments")
	if !f.has(name) {
		f.fail(name, "a number")
	}
	i := f.int(name)
	return i, f.err
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

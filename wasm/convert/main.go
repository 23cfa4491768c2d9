//go:build js && wasm

// Command convert is the page's Keras converter: weightsconv's libraries
// (weightsconv/keras, weightsconv/hdf5) compiled to js/wasm, run in their
// own Web Worker (www/convert-worker.js) that the page starts only when a
// Keras file arrives (www/convert.js), so that none of it is on the way
// to the first prediction. It registers one global object,
// mavisConvert, whose methods are documented in www/api.d.ts:
//
//	mavisConvert.architectures()         -> Promise<Architecture[]>  the built-ins, for a weights-only file
//	mavisConvert.inspect(bytes)          -> Promise<Inspection>      format, architecture or not, layers, fitting built-ins
//	mavisConvert.convert(bytes, options) -> Promise<{file, info}>    the .safetensors bytes and a ConversionInfo
//
// convert calls keras.Convert, as bin/weightsconv does, so that the file
// it returns equals weightsconv's output for the same inputs byte for
// byte. Every method validates its arguments and returns a Promise that
// rejects with the error's text (what is wrong and what to give instead);
// a panic becomes a rejection too. Results cross as plain JS objects, the
// file once as a Uint8Array.
package main

import (
	"errors"
	"strconv"
	"syscall/js"
)

func main() {
	api := js.Global().Get("Object").New()
	api.Set("architectures", method(0, func([]js.Value) (any, error) { return architectures(), nil }))
	api.Set("inspect", method(1, func(a []js.Value) (any, error) {
		b, err := bytesArg(a[0])
		if err != nil {
			return nil, err
		}
		return inspect(b)
	}))
	api.Set("convert", method(1, func(a []js.Value) (any, error) {
		b, err := bytesArg(a[0])
		if err != nil {
			return nil, err
		}
		var r request
		if len(a) > 1 {
			if r, err = optionsArg(a[1]); err != nil {
				return nil, err
			}
		}
		file, info, err := convert(b, r)
		if err != nil {
			return nil, err
		}
		out := js.Global().Get("Uint8Array").New(len(file))
		js.CopyBytesToJS(out, file)
		return map[string]any{"file": out, "info": info}, nil
	}))
	js.Global().Set("mavisConvert", api)
	select {} // serve calls forever
}

// method wraps f as a JS function returning a Promise settled with f's
// result, its error or its panic.
func method(nargs int, f func(args []js.Value) (any, error)) js.Func {
	return js.FuncOf(func(this js.Value, args []js.Value) any {
		promise := js.Global().Get("Promise")
		res, err := call(nargs, f, args)
		if err != nil {
			return promise.Call("reject", js.Global().Get("Error").New(err.Error()))
		}
		return promise.Call("resolve", js.ValueOf(res))
	})
}

func call(nargs int, f func([]js.Value) (any, error), args []js.Value) (res any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("convert: internal error: " + panicText(r))
		}
	}()
	if len(args) < nargs {
		return nil, errors.New("convert: " + strconv.Itoa(len(args)) + " arguments, want " + strconv.Itoa(nargs))
	}
	return f(args)
}

func panicText(r any) string {
	switch x := r.(type) {
	case error:
		return x.Error()
	case string:
		return x
	}
	return "unexpected panic"
}

// bytesArg copies a Uint8Array (or an ArrayBuffer) into Go, refusing one
// over maxInput before copying.
func bytesArg(v js.Value) ([]byte, error) {
	u8 := js.Global().Get("Uint8Array")
	if v.Type() == js.TypeObject && v.InstanceOf(js.Global().Get("ArrayBuffer")) {
		v = u8.New(v)
	}
	if v.Type() != js.TypeObject || !v.InstanceOf(u8) {
		return nil, errors.New("convert: the file must be a Uint8Array or an ArrayBuffer of its bytes")
	}
	n := v.Get("byteLength").Int()
	if err := checkSize(n); err != nil {
		return nil, err
	}
	b := make([]byte, n)
	js.CopyBytesToGo(b, v)
	return b, nil
}

// optionsArg reads convert's options object: string fields only, names
// from requestFields.
func optionsArg(v js.Value) (request, error) {
	var r request
	if v.IsUndefined() || v.IsNull() {
		return r, nil
	}
	if v.Type() != js.TypeObject {
		return r, errors.New("convert: options must be an object such as {arch: 'mavis', classes: 'cat\\ndog'}")
	}
	keys := js.Global().Get("Object").Call("keys", v)
	names := make([]string, keys.Length())
	for i := range names {
		names[i] = keys.Index(i).String()
	}
	if n := unknownField(names); n != "" {
		return r, errors.New("convert: unknown option " + strconv.Quote(n) + " (have name, arch, spec, classes, scale, resize, crop)")
	}
	for _, n := range names {
		f := v.Get(n)
		if f.IsUndefined() || f.IsNull() {
			continue
		}
		if f.Type() != js.TypeString {
			return r, errors.New("convert: option " + n + " must be a string")
		}
		r.set(n, f.String())
	}
	return r, nil
}

//go:build js && wasm

package main

// The worker's one decoder in and one encoder out: goValue turns any JS
// value into a Go tree (decode.go reads it), jsValue turns the trees of
// values.go into plain JS objects. Bulk data crosses as typed arrays,
// copied once each way.

import "syscall/js"

// goValue converts a JS value to a Go tree: nil, bool, float64, string,
// []any, map[string]any, and []byte, []float32 or []float64 for a
// Uint8Array (or Uint8ClampedArray), Float32Array or Float64Array, whose
// bytes are copied once. Other values (functions, other typed arrays) give
// nil or a value no reader accepts.
func goValue(v js.Value) any { return goValueIn(v, nil) }

// goValueIn is goValue with the typed arrays' floats copied into a's
// slices (a nil: new ones).
func goValueIn(v js.Value, a *arena) any {
	switch v.Type() {
	case js.TypeBoolean:
		return v.Bool()
	case js.TypeNumber:
		return v.Float()
	case js.TypeString:
		return v.String()
	case js.TypeObject:
		if js.Global().Get("Array").Call("isArray", v).Bool() {
			l := make([]any, v.Length())
			for i := range l {
				l[i] = goValueIn(v.Index(i), a)
			}
			return l
		}
		if js.Global().Get("ArrayBuffer").Call("isView", v).Bool() {
			return typedValue(v, a)
		}
		keys := js.Global().Get("Object").Call("keys", v)
		m := make(map[string]any, keys.Length())
		for i := range keys.Length() {
			k := keys.Index(i).String()
			m[k] = goValueIn(v.Get(k), a)
		}
		return m
	}
	return nil
}

// unsupported is a typed array of a kind the worker does not read.
type unsupported string

// arena keeps the float slices goValueIn copies typed arrays into, for
// the next call: the i-th Float32Array (Float64Array) read since reset
// gets the i-th []float32 ([]float64), grown when short. They stay valid
// until the next reset. The pool's inputs and partial sums arrive with
// every range of a split method, and the main worker's heap piled up
// fresh slices for them (14 MB a MAVIS run of Integrated Gradients in ten
// ranges) until a collection, in wasm memory that is never given back.
type arena struct {
	f32      [][]float32
	f64      [][]float64
	n32, n64 int
}

func (a *arena) reset() { a.n32, a.n64 = 0, 0 }

// float32s and float64s return the next slice of n floats (a new one
// from a nil arena).
func (a *arena) float32s(n int) []float32 {
	if a == nil {
		return make([]float32, n)
	}
	return next(&a.f32, &a.n32, n)
}

func (a *arena) float64s(n int) []float64 {
	if a == nil {
		return make([]float64, n)
	}
	return next(&a.f64, &a.n64, n)
}

// next returns the next slice of *list, *i counting those handed out,
// with n elements.
func next[T any](list *[][]T, i *int, n int) []T {
	if *i == len(*list) {
		*list = append(*list, nil)
	}
	s := &(*list)[*i]
	*i++
	if cap(*s) < n {
		*s = make([]T, n)
	}
	*s = (*s)[:n]
	return *s
}

func typedValue(v js.Value, a *arena) any {
	n := v.Get("byteLength").Int()
	u8 := js.Global().Get("Uint8Array").New(v.Get("buffer"), v.Get("byteOffset"), n)
	// The constructor's name, not instanceof: the array may come from
	// another realm (structured clone gives this one's, but tests may not).
	switch kind := v.Get("constructor").Get("name").String(); kind {
	case "Uint8Array", "Uint8ClampedArray":
		b := make([]byte, n)
		js.CopyBytesToGo(b, u8)
		return b
	case "Float32Array":
		f := a.float32s(n / 4)
		js.CopyBytesToGo(float32Bytes(f), u8)
		return f
	case "Float64Array":
		f := a.float64s(n / 8)
		js.CopyBytesToGo(float64Bytes(f), u8)
		return f
	default:
		return unsupported(kind)
	}
}

// jsValue converts a tree of values.go to what js.ValueOf takes, with
// map[string]any and []any as plain objects and arrays and []byte,
// []float32 and []float64 as new typed arrays (copied once).
func jsValue(v any) js.Value {
	switch x := v.(type) {
	case map[string]any:
		o := js.Global().Get("Object").New()
		for k, e := range x {
			o.Set(k, jsValue(e))
		}
		return o
	case []any:
		a := js.Global().Get("Array").New(len(x))
		for i, e := range x {
			a.SetIndex(i, jsValue(e))
		}
		return a
	case []byte:
		return bytesJS(x)
	case []float32:
		return js.Global().Get("Float32Array").New(bytesJS(float32Bytes(x)).Get("buffer"))
	case []float64:
		return js.Global().Get("Float64Array").New(bytesJS(float64Bytes(x)).Get("buffer"))
	}
	return js.ValueOf(v)
}

// bytesJS copies b into a new Uint8Array (which the worker then transfers).
func bytesJS(b []byte) js.Value {
	a := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}

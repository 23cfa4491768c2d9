//go:build js && wasm

package main

// The worker's one decoder in and one encoder out: goValue turns any JS
// value into a Go tree (decode.go reads it), jsValue turns the trees of
// values.go into plain JS objects. Bulk data crosses as typed arrays,
// copied once each way.

import (
	"math"
	"slices"
	"strconv"
	"syscall/js"

	"github.com/mavis-xai/mavis/internal/jsonv"
)

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

// jsValue converts a tree of values.go to plain JS objects, arrays and
// typed arrays. The tree crosses as one JSON text, read by JSON.parse,
// rather than as a call into JS per value; the typed arrays ([]byte,
// []float32 and []float64, copied once), the numbers JSON has no text for
// (NaN, ±Inf) and a value of any other type (through js.ValueOf) are
// written as null and put in place after the parse.
//
// With a call per value, ModelInfo (about a thousand values) took 14-38 ms
// to cross on a cold page load, and V8 compiled syscall/js's ValueOf and
// the runtime's SetFinalizer (a finalizer for every object and string)
// with TurboFan on the way to the first prediction: about 100 ms of CPU
// beside the worker, on two cores. As JSON it takes 7-13 ms.
func jsValue(v any) js.Value {
	var e treeJSON
	b := e.append(nil, v)
	if len(e.patches) == 1 && len(e.patches[0].path) == 0 {
		return e.patches[0].v // the tree is a single typed array or value
	}
	root := js.Global().Get("JSON").Call("parse", string(b))
	for _, p := range e.patches {
		o := root
		last := len(p.path) - 1
		for _, k := range p.path[:last] {
			o = k.in(o)
		}
		p.path[last].set(o, p.v)
	}
	return root
}

// treeJSON writes a tree as JSON and notes where the values JSON does not
// carry go.
type treeJSON struct {
	path    []step // to the value being written
	patches []patch
}

// step is an object's member (index < 0) or an array's element.
type step struct {
	key   string
	index int
}

type patch struct {
	path []step
	v    js.Value
}

func (k step) in(o js.Value) js.Value {
	if k.index < 0 {
		return o.Get(k.key)
	}
	return o.Index(k.index)
}

func (k step) set(o, v js.Value) {
	if k.index < 0 {
		o.Set(k.key, v)
	} else {
		o.SetIndex(k.index, v)
	}
}

// append writes v. It and the functions a tree's values pass through are
// kept small: V8's tier-up budget counts roughly the bytes of code run, and
// one large function (16 KB) called for each value of ModelInfo was
// compiled again by TurboFan before the first prediction.
func (e *treeJSON) append(b []byte, v any) []byte {
	switch x := v.(type) {
	case map[string]any:
		return e.object(b, x)
	case []any:
		return e.array(b, x)
	case string:
		return jsonv.AppendString(b, x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return e.later(b, v)
		}
		return jsonv.AppendFloat(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case bool:
		return strconv.AppendBool(b, x)
	case nil:
		return append(b, "null"...)
	}
	return e.later(b, v)
}

func (e *treeJSON) object(b []byte, x map[string]any) []byte {
	b = append(b, '{')
	n := 0
	for k, m := range x {
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(jsonv.AppendString(b, k), ':')
		e.path = append(e.path, step{key: k, index: -1})
		b = e.append(b, m)
		e.path = e.path[:len(e.path)-1]
	}
	return append(b, '}')
}

func (e *treeJSON) array(b []byte, x []any) []byte {
	b = append(b, '[')
	for i, m := range x {
		if i > 0 {
			b = append(b, ',')
		}
		e.path = append(e.path, step{index: i})
		b = e.append(b, m)
		e.path = e.path[:len(e.path)-1]
	}
	return append(b, ']')
}

// later writes null where v goes and notes v as a JS value: a new typed
// array for []byte, []float32 and []float64.
func (e *treeJSON) later(b []byte, v any) []byte {
	var j js.Value
	switch x := v.(type) {
	case []byte:
		j = bytesJS(x)
	case []float32:
		j = js.Global().Get("Float32Array").New(bytesJS(float32Bytes(x)).Get("buffer"))
	case []float64:
		j = js.Global().Get("Float64Array").New(bytesJS(float64Bytes(x)).Get("buffer"))
	default:
		j = js.ValueOf(v)
	}
	e.patches = append(e.patches, patch{path: slices.Clone(e.path), v: j})
	return append(b, "null"...)
}

// bytesJS copies b into a new Uint8Array (which the worker then transfers).
func bytesJS(b []byte) js.Value {
	a := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}

//go:build js && wasm

package main

// The pool's methods on the JS side (see pool.go and www/api.d.ts):
//
//	mavis.igPlan(options)                               -> Promise<{evaluations, input}>
//	mavis.igPart(input|null, options, lo, hi, onProgress) -> Promise<{lo, hi, evaluations, class, baselineScore, sum?}>
//	mavis.igCombine(options, parts)                     -> Promise<{json, map, full}>
//
// options is the explain options object itself (not JSON); input is the
// float32 input's bytes and sum the float64 path sum's bytes, both
// little-endian.

import (
	"errors"
	"math"
	"strconv"
	"syscall/js"
)

var (
	poolIn   []float32 // a helper's input, reused
	poolSums [][]byte  // the parts' sums igCombine receives, reused
)

func igPlanJS(args []js.Value) (any, error) {
	o, err := optionsArg(args[0])
	if err != nil {
		return nil, err
	}
	n, x, err := s.igPlan(o)
	if err != nil {
		return nil, err
	}
	return map[string]any{"evaluations": n, "input": toJS(floatBytes(x))}, nil
}

func igPartJS(args []js.Value) (any, error) {
	var x []float32
	if !args[0].IsNull() && !args[0].IsUndefined() {
		b, err := bytesArg(args[0], "the IG input")
		if err != nil {
			return nil, err
		}
		if len(b)%4 != 0 {
			return nil, errors.New("worker: the IG input has " + itoa(len(b)) + " bytes, not a whole number of float32s")
		}
		if cap(poolIn) < len(b)/4 {
			poolIn = make([]float32, len(b)/4)
		}
		x = poolIn[:len(b)/4]
		float32sTo(x, b)
	}
	o, err := optionsArg(args[1])
	if err != nil {
		return nil, err
	}
	lo, err := intArg(args[2], "lo")
	if err != nil {
		return nil, err
	}
	hi, err := intArg(args[3], "hi")
	if err != nil {
		return nil, err
	}
	progress := func(done, total int) {}
	if len(args) > 4 && args[4].Type() == js.TypeFunction {
		progress = func(done, total int) { args[4].Invoke(done, total) }
	}
	p, err := s.igPart(x, o, lo, hi, progress)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"lo": p.Lo, "hi": p.Hi, "evaluations": p.Evaluations, "class": p.Class, "baselineScore": p.BaselineScore}
	if x != nil {
		out["sum"] = toJS(float64Bytes(p.Sum))
	}
	return out, nil
}

func igCombineJS(args []js.Value) (any, error) {
	o, err := optionsArg(args[0])
	if err != nil {
		return nil, err
	}
	a := args[1]
	if !a.InstanceOf(js.Global().Get("Array")) {
		return nil, errors.New("worker: igCombine(options, parts): parts must be an array")
	}
	parts := make([]PartIn, a.Length())
	for len(poolSums) < len(parts) {
		poolSums = append(poolSums, nil)
	}
	for i := range parts {
		v := a.Index(i)
		if v.Type() != js.TypeObject {
			return nil, errors.New("worker: IG part " + itoa(i) + " is not an object")
		}
		p := &parts[i]
		for _, f := range []struct {
			name string
			dst  *int
		}{{"lo", &p.Lo}, {"hi", &p.Hi}, {"evaluations", &p.Evaluations}, {"class", &p.Class}} {
			if *f.dst, err = intArg(v.Get(f.name), "IG part "+f.name); err != nil {
				return nil, err
			}
		}
		bs := v.Get("baselineScore")
		if bs.Type() != js.TypeNumber {
			return nil, errors.New("worker: IG part " + itoa(i) + ": baselineScore must be a number")
		}
		p.BaselineScore = bs.Float()
		sum := v.Get("sum")
		if sum.Type() != js.TypeObject || !sum.InstanceOf(js.Global().Get("Uint8Array")) {
			return nil, errors.New("worker: IG part " + itoa(i) + ": sum must be a Uint8Array")
		}
		n := sum.Get("byteLength").Int()
		if cap(poolSums[i]) < n {
			poolSums[i] = make([]byte, n)
		}
		p.Sum = poolSums[i][:n]
		js.CopyBytesToGo(p.Sum, sum)
	}
	r, disp, full, err := s.igCombine(o, parts)
	if err != nil {
		return nil, err
	}
	j, err := jsonText(r)
	if err != nil {
		return nil, err
	}
	return map[string]any{"json": j, "map": toJS(floatBytes(disp)), "full": toJS(floatBytes(full))}, nil
}

// optionsArg reads the explain options from a JS object (the fields IG
// uses; absent or null fields keep their zero values).
func optionsArg(v js.Value) (Options, error) {
	var o Options
	if v.Type() != js.TypeObject {
		return o, errors.New("worker: IG options must be an object")
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"method", &o.Method}, {"score", &o.Score}, {"baseline", &o.Baseline}, {"rule", &o.Rule}} {
		switch x := v.Get(f.name); x.Type() {
		case js.TypeString:
			*f.dst = x.String()
		case js.TypeUndefined, js.TypeNull:
		default:
			return o, errors.New("worker: option " + f.name + " must be a string")
		}
	}
	if o.Method != "ig" {
		return o, errors.New("worker: the pool computes Integrated Gradients only (method \"ig\"), not " + strconv.Quote(o.Method))
	}
	num := func(name string) (float64, bool, error) {
		switch x := v.Get(name); x.Type() {
		case js.TypeNumber:
			return x.Float(), true, nil
		case js.TypeUndefined, js.TypeNull:
			return 0, false, nil
		}
		return 0, false, errors.New("worker: option " + name + " must be a number")
	}
	c, ok, err := num("class")
	if err != nil {
		return o, err
	}
	if ok {
		k, err := whole(c, "class")
		if err != nil {
			return o, err
		}
		o.Class = &k
	}
	st, _, err := num("steps")
	if err != nil {
		return o, err
	}
	if o.Steps, err = whole(st, "steps"); err != nil {
		return o, err
	}
	if o.Sigma, _, err = num("sigma"); err != nil {
		return o, err
	}
	seed, _, err := num("seed")
	if err != nil {
		return o, err
	}
	if !(seed >= 0 && seed <= 1<<53 && seed == math.Trunc(seed)) {
		return o, errors.New("worker: option seed must be a whole number from 0 to 2^53")
	}
	o.Seed = uint64(seed)
	return o, nil
}

func intArg(v js.Value, name string) (int, error) {
	if v.Type() != js.TypeNumber {
		return 0, errors.New("worker: " + name + " must be a number")
	}
	return whole(v.Float(), name)
}

// whole converts a JS number that must be a whole number of modest size.
func whole(f float64, name string) (int, error) {
	if !(f == math.Trunc(f) && math.Abs(f) <= 1<<31) {
		return 0, errors.New("worker: " + name + " must be a whole number, not " + strconv.FormatFloat(f, 'g', -1, 64))
	}
	return int(f), nil
}

// The evaluation split by method (metrics_pool.go):
//
//	mavis.evalPlan()                       -> Promise<{input, maps: [{method, options, class, gap, shape, map}]}>
//	mavis.evalInstall(input, maps)         -> Promise<true>  a helper's share, then the usual evaluate
//	mavis.evalOnly(methods, token)         -> Promise<true>  the main worker's share, then the usual evaluate
//	mavis.evalCombine(optionsJSON, results, token) -> Promise<string> Evaluation JSON (results [] restores only)

func evalPlanJS([]js.Value) (any, error) {
	maps, x, err := s.evalPlan()
	if err != nil {
		return nil, err
	}
	out := make([]any, len(maps))
	for i, e := range maps {
		var gap any
		if e.gap != nil {
			gap = *e.gap
		}
		out[i] = map[string]any{"method": e.method, "options": optionsValue(e.opts), "class": e.class, "gap": gap,
			"shape": []any{e.m.H, e.m.W, e.m.C}, "map": toJS(floatBytes(e.m.Data))}
	}
	return map[string]any{"input": toJS(floatBytes(x)), "maps": out}, nil
}

func evalInstallJS(args []js.Value) (any, error) {
	b, err := bytesArg(args[0], "the input to evaluate")
	if err != nil {
		return nil, err
	}
	if len(b)%4 != 0 {
		return nil, errors.New("worker: the input to evaluate has " + itoa(len(b)) + " bytes, not a whole number of float32s")
	}
	x := make([]float32, len(b)/4)
	float32sTo(x, b)
	a := args[1]
	if !a.InstanceOf(js.Global().Get("Array")) {
		return nil, errors.New("worker: evalInstall(input, maps): maps must be an array")
	}
	maps := make([]evalMap, a.Length())
	for i := range maps {
		v := a.Index(i)
		if v.Type() != js.TypeObject {
			return nil, errors.New("worker: map " + itoa(i) + " to evaluate is not an object")
		}
		e := &maps[i]
		if m := v.Get("method"); m.Type() == js.TypeString {
			e.method = m.String()
		} else {
			return nil, errors.New("worker: map " + itoa(i) + " to evaluate: method must be a string")
		}
		var err error
		if e.class, err = intArg(v.Get("class"), "the "+e.method+" map's class"); err != nil {
			return nil, err
		}
		if g := v.Get("gap"); g.Type() == js.TypeNumber {
			x := g.Float()
			e.gap = &x
		}
		if e.opts, err = decodeOptions(goValue(v.Get("options"))); err != nil {
			return nil, err
		}
		sh := v.Get("shape")
		if !sh.InstanceOf(js.Global().Get("Array")) || sh.Length() != 3 {
			return nil, errors.New("worker: the " + e.method + " map's shape must be [H, W, C]")
		}
		dims := [3]int{}
		for k := range dims {
			if dims[k], err = intArg(sh.Index(k), "map shape"); err != nil {
				return nil, err
			}
		}
		e.m.H, e.m.W, e.m.C = dims[0], dims[1], dims[2]
		mb, err := bytesArg(v.Get("map"), "the "+e.method+" map")
		if err != nil {
			return nil, err
		}
		e.m.Data = make([]float32, len(mb)/4)
		float32sTo(e.m.Data, mb)
	}
	if err := s.evalInstall(x, maps); err != nil {
		return nil, err
	}
	return true, nil
}

func evalOnlyJS(args []js.Value) (any, error) {
	a := args[0]
	if !a.InstanceOf(js.Global().Get("Array")) {
		return nil, errors.New("worker: evalOnly(methods): methods must be an array of method names")
	}
	var methods []string
	for i := range a.Length() {
		if a.Index(i).Type() != js.TypeString {
			return nil, errors.New("worker: evalOnly(methods): methods must be an array of method names")
		}
		methods = append(methods, a.Index(i).String())
	}
	token, err := intArg(args[1], "evalOnly's token")
	if err != nil {
		return nil, err
	}
	return true, s.evalOnly(methods, token)
}

func evalCombineJS(args []js.Value) (any, error) {
	o, err := evalOptionsArg(args[0], "evalCombine(options, results)")
	if err != nil {
		return nil, err
	}
	var parts []MethodEvaluation
	if a := args[1]; a.InstanceOf(js.Global().Get("Array")) {
		for i := range a.Length() {
			me, err := decodeMethodEvaluation(goValue(a.Index(i)))
			if err != nil {
				return nil, err
			}
			parts = append(parts, me)
		}
	}
	token, err := intArg(args[2], "evalCombine's token")
	if err != nil {
		return nil, err
	}
	r, err := s.evalCombine(o, parts, token)
	if err != nil {
		return nil, err
	}
	return jsonText(r)
}

//go:build js && wasm

package main

// The pool's methods on the JS side (see pool.go, metrics_pool.go and
// www/api.d.ts):
//
//	mavis.splitPlan(options)                                  -> Promise<{evaluations, input: Float32Array}>
//	mavis.splitPart(input|null, options, lo, hi, onProgress)  -> Promise<{lo, hi, evaluations, class, baselineScore, sum?: Float64Array}>
//	mavis.splitCombine(options, parts)                        -> Promise<Explanation & {map, fullMap?}>
//	mavis.evalPlan()                       -> Promise<{input: Float32Array, version, maps: [{method, options, class, gap, shape, map: Float32Array}]}>
//	mavis.evalInstall(input, maps)         -> Promise<true>  a helper's maps and input, for evaluate({methods})
//	mavis.evalCombine(options, results, version) -> Promise<Evaluation>
//
// options are ExplainOptions (EvaluateOptions for evalCombine); every
// argument goes through goValue and decode.go, as explain's do.

import (
	"errors"
	"syscall/js"

	"github.com/mavis-xai/mavis/xai"
)

func splitPlanJS(args []js.Value) (any, error) {
	o, err := decodeOptions(goValue(args[0]))
	if err != nil {
		return nil, err
	}
	return s.splitPlan(o)
}

// partArgs and combineArgs hold the floats of splitPart's input and of
// splitCombine's partial sums from one call to the next (see arena).
var partArgs, combineArgs arena

func splitPartJS(args []js.Value) (any, error) {
	var x []float32
	if !args[0].IsNull() && !args[0].IsUndefined() {
		var ok bool
		partArgs.reset()
		if x, ok = goValueIn(args[0], &partArgs).([]float32); !ok {
			return nil, errors.New("worker: splitPart: input must be a Float32Array or null")
		}
	}
	o, err := decodeOptions(goValue(args[1]))
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
	p, err := s.splitPart(x, o, lo, hi, progressArg(args, 4))
	if err != nil {
		return nil, err
	}
	return partValue(p, x != nil), nil
}

func splitCombineJS(args []js.Value) (any, error) {
	o, err := decodeOptions(goValue(args[0]))
	if err != nil {
		return nil, err
	}
	combineArgs.reset()
	a, ok := goValueIn(args[1], &combineArgs).([]any)
	if !ok {
		return nil, errors.New("worker: splitCombine(options, parts): parts must be an array")
	}
	parts := make([]xai.Part, len(a))
	for i, v := range a {
		if parts[i], err = decodePart(v); err != nil {
			return nil, err
		}
	}
	return s.splitCombine(o, parts)
}

func evalPlanJS([]js.Value) (any, error) {
	return s.evalPlan()
}

func evalInstallJS(args []js.Value) (any, error) {
	x, ok := goValue(args[0]).([]float32)
	if !ok {
		return nil, errors.New("worker: evalInstall(input, maps): input must be a Float32Array")
	}
	a, ok := goValue(args[1]).([]any)
	if !ok {
		return nil, errors.New("worker: evalInstall(input, maps): maps must be an array")
	}
	maps := make([]evalMap, len(a))
	for i, v := range a {
		var err error
		if maps[i], err = decodeEvalMap(v); err != nil {
			return nil, err
		}
	}
	return true, s.evalInstall(x, maps)
}

func evalCombineJS(args []js.Value) (any, error) {
	o, err := decodeEvalOptions(goValue(args[0]))
	if err != nil {
		return nil, err
	}
	var parts []MethodEvaluation
	if a, ok := goValue(args[1]).([]any); ok {
		for _, v := range a {
			me, err := decodeMethodEvaluation(v)
			if err != nil {
				return nil, err
			}
			parts = append(parts, me)
		}
	}
	version, err := intArg(args[2], "version")
	if err != nil {
		return nil, err
	}
	return s.evalCombine(o, parts, version)
}

package main

import (
	"errors"
	"math"
	"strconv"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

// This file moves the worker's small results and options across the JS
// boundary without encoding/json (which, with fmt and reflect, would cost
// the worker a third of its gzipped size). A result's value method spells
// out its JSON by hand as nested map[string]any, []any, float64, string,
// bool and nil, which js.ValueOf turns into JS objects; options arrive as
// the same kind of tree (goValue in main.go) and are decoded by hand.
// values_test.go holds both to encoding/json and the structs' json tags,
// which stay the documented contract (www/api.d.ts).

// valuer is a result that can cross to JS.
type valuer interface{ value() any }

type obj = map[string]any

// f32 gives a float32 as the float64 that JSON's shortest decimal for it
// parses to (what encoding/json and then JSON.parse produced).
func f32(v float32) float64 {
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		return float64(v)
	}
	f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(v), 'g', -1, 32), 64)
	return f
}

// jsonList gives a slice as the []any JSON.parse would produce for it, each
// element through conv, and nil for a nil slice (JSON null).
func jsonList[T any](s []T, conv func(T) any) any {
	if s == nil {
		return nil
	}
	a := make([]any, len(s))
	for i, v := range s {
		a[i] = conv(v)
	}
	return a
}

func floats(s []float64) any   { return jsonList(s, func(v float64) any { return v }) }
func floats32(s []float32) any { return jsonList(s, func(v float32) any { return f32(v) }) }
func ints(s []int) any         { return jsonList(s, func(v int) any { return float64(v) }) }
func strs(s []string) any      { return jsonList(s, func(v string) any { return v }) }

func (m ModelInfo) value() any {
	var classes []any
	if m.Classes != nil {
		classes = make([]any, len(m.Classes))
	}
	for i, c := range m.Classes {
		classes[i] = obj{"id": c.ID, "name": c.Name}
	}
	var layers []any
	if m.Layers != nil {
		layers = make([]any, len(m.Layers))
	}
	for i, l := range m.Layers {
		layers[i] = obj{"name": l.Name, "kind": l.Kind, "shape": ints(l.Shape[:]), "spatial": l.Spatial}
	}
	p := m.Preprocess
	return obj{"name": m.Name, "input": ints(m.Input[:]), "classes": nilable(classes),
		"preprocess": obj{"height": float64(p.Height), "width": float64(p.Width), "channels": float64(p.Channels),
			"color": p.Color, "scale": p.Scale, "resize": p.Resize, "crop": p.Crop},
		"layers": nilable(layers), "camLayer": m.CAMLayer, "params": float64(m.Params)}
}

// nilable keeps a nil []any a JSON null (not an empty array).
func nilable(a []any) any {
	if a == nil {
		return nil
	}
	return a
}

func (p Prediction) value() any {
	return obj{"class": float64(p.Class), "probs": floats(p.Probs), "top": ints(p.Top),
		"input": ints(p.Input[:]), "ms": p.MS}
}

func (e Explanation) value() any {
	o := obj{"method": e.Method, "class": float64(e.Class), "score": e.Score, "value": e.Value,
		"probs": floats(e.Probs), "shape": ints(e.Shape[:]), "min": f32(e.Min), "max": f32(e.Max),
		"zero": e.Zero, "ms": e.MS}
	if len(e.Full) > 0 {
		o["fullShape"] = ints(e.Full)
	}
	if e.Layer != "" {
		o["layer"] = e.Layer
	}
	if len(e.Weights) > 0 {
		o["weights"] = floats32(e.Weights)
	}
	if e.Samples != 0 {
		o["samples"] = float64(e.Samples)
	}
	if g := e.IG; g != nil {
		o["ig"] = obj{"steps": float64(g.Steps), "rule": g.Rule, "baseline": g.Baseline,
			"baselineScore": g.BaselineScore, "sum": g.Sum, "gap": g.Gap, "relGap": g.RelGap,
			"evaluations": float64(g.Evaluations)}
	}
	return o
}

func (m Memory) value() any {
	return obj{"heapAlloc": float64(m.HeapAlloc), "heapSys": float64(m.HeapSys), "sys": float64(m.Sys),
		"numGC": float64(m.NumGC)}
}

func (r Evaluation) value() any {
	var methods []any
	if r.Methods != nil {
		methods = make([]any, len(r.Methods))
	}
	for i, m := range r.Methods {
		o := obj{"method": m.Method, "label": m.Label, "metrics": metricsValue(m.Metrics), "ms": m.MS}
		if m.Sanity != nil {
			o["sanity"] = sanityValue(*m.Sanity)
		}
		if m.Gap != nil {
			o["completenessGap"] = *m.Gap
		}
		methods[i] = o
	}
	return obj{"methods": nilable(methods), "ranking": rankingValue(r.Ranking), "steps": float64(r.Steps),
		"patch": float64(r.Patch), "input": ints(r.Input[:]), "ms": r.MS}
}

func curveValue(c xai.Curve) any {
	return obj{"fraction": floats(c.Fraction), "score": floats(c.Score), "auc": c.AUC}
}

func metricsValue(m xai.MapMetrics) any {
	var conf []any
	if m.Confidence != nil {
		conf = make([]any, len(m.Confidence))
	}
	for i, c := range m.Confidence {
		conf[i] = obj{"keep": c.Keep, "prob": c.Prob, "drop": c.Drop, "raise": c.Raise}
	}
	o := obj{"class": float64(m.Class), "score": m.Score, "prob": m.Prob, "steps": float64(m.Steps),
		"patch": float64(m.Patch), "reference": m.Reference, "deletion": curveValue(m.Deletion),
		"insertion": curveValue(m.Insertion), "faithfulness": m.Faithfulness, "confidence": nilable(conf),
		"gini": m.Gini, "entropy": m.Entropy}
	if m.Pointing != nil {
		o["pointing"] = *m.Pointing
	}
	if m.Mass != nil {
		o["mass"] = *m.Mass
	}
	return o
}

func sanityValue(s xai.SanityResult) any {
	return obj{"class": float64(s.Class), "seed": float64(s.Seed), "layers": strs(s.Layers),
		"spearman": floats(s.Spearman), "mean": s.Mean, "threshold": s.Threshold, "pass": s.Pass}
}

func rankingValue(r xai.Ranking) any {
	var scores []any
	if r.Scores != nil {
		scores = make([]any, len(r.Scores))
	}
	for i, s := range r.Scores {
		o := obj{"method": s.Method, "faithfulness": s.Faithfulness, "insertion_auc": s.Insertion,
			"deletion_auc": s.Deletion, "gini": s.Gini, "entropy": s.Entropy, "flagged": s.Flagged}
		if s.Sanity != nil {
			o["sanity"] = sanityValue(*s.Sanity)
		}
		if s.Gap != nil {
			o["completeness_gap"] = *s.Gap
		}
		scores[i] = o
	}
	return obj{"scores": nilable(scores), "trusted": r.Trusted, "flags": strs(r.Flags), "verdict": r.Verdict}
}

// fields reads an options object: absent and null members keep their zero
// values, unknown members are ignored (as encoding/json did), and a member
// of the wrong type is an error naming it.
type fields struct {
	m    map[string]any
	what string // "explain options"
	err  error
}

func (f *fields) fail(key, want string) {
	if f.err == nil {
		f.err = errors.New("worker: " + f.what + ": " + key + " must be " + want)
	}
}

func (f *fields) str(key string) string {
	switch v := f.m[key].(type) {
	case nil:
	case string:
		return v
	default:
		f.fail(key, "a string")
	}
	return ""
}

func (f *fields) bool(key string) bool {
	switch v := f.m[key].(type) {
	case nil:
	case bool:
		return v
	default:
		f.fail(key, "true or false")
	}
	return false
}

func (f *fields) num(key string) float64 {
	switch v := f.m[key].(type) {
	case nil:
	case float64:
		return v
	default:
		f.fail(key, "a number")
	}
	return 0
}

// int reads a whole number of magnitude at most 2^31.
func (f *fields) int(key string) int {
	v := f.num(key)
	if v != math.Trunc(v) || math.Abs(v) > 1<<31 {
		f.fail(key, "a whole number")
		return 0
	}
	return int(v)
}

// seed reads a whole number from 0 to 2^53.
func (f *fields) seed(key string) uint64 {
	v := f.num(key)
	if !(v >= 0 && v <= 1<<53 && v == math.Trunc(v)) {
		f.fail(key, "a whole number from 0 to 2^53")
		return 0
	}
	return uint64(v)
}

// object reads an options tree's top level.
func object(v any, what string) (fields, error) {
	m, ok := v.(map[string]any)
	if !ok && v != nil {
		return fields{}, errors.New("worker: " + what + " must be an object")
	}
	return fields{m: m, what: what}, nil
}

// decodeOptions reads explain's options.
func decodeOptions(v any) (Options, error) {
	f, err := object(v, "explain options")
	if err != nil {
		return Options{}, err
	}
	o := Options{Method: f.str("method"), Score: f.str("score"), Layer: f.str("layer"),
		PosNorm: f.bool("posNorm"), Samples: f.int("samples"), Noise: f.num("noise"), Seed: f.seed("seed"),
		Steps: f.int("steps"), Baseline: f.str("baseline"), Sigma: f.num("sigma"), Rule: f.str("rule")}
	if f.m["class"] != nil {
		c := f.int("class")
		o.Class = &c
	}
	return o, f.err
}

// decodeEvalOptions reads evaluate's options.
func decodeEvalOptions(v any) (EvalOptions, error) {
	f, err := object(v, "evaluate options")
	if err != nil {
		return EvalOptions{}, err
	}
	o := EvalOptions{Steps: f.int("steps"), Patch: f.int("patch"), Reference: f.str("reference"),
		Tolerance: f.int("tolerance"), Sanity: f.bool("sanity"), Seed: f.seed("seed")}
	if b := f.m["box"]; b != nil && f.err == nil {
		g, err := object(b, "evaluate options: box")
		if err != nil {
			return EvalOptions{}, err
		}
		o.Box = &xai.Box{X0: g.int("x0"), Y0: g.int("y0"), X1: g.int("x1"), Y1: g.int("y1")}
		f.err = g.err
	}
	return o, f.err
}

// layerKind names a layer's type as the page shows it ("Conv2D").
func layerKind(l nn.Layer) string {
	switch l.(type) {
	case *nn.Conv2D:
		return "Conv2D"
	case *nn.BatchNorm:
		return "BatchNorm"
	case *nn.MaxPool2D:
		return "MaxPool2D"
	case *nn.Dropout:
		return "Dropout"
	case *nn.Flatten:
		return "Flatten"
	case *nn.Dense:
		return "Dense"
	case *nn.SoftmaxLayer:
		return "SoftmaxLayer"
	case *nn.ActivationLayer:
		return "ActivationLayer"
	}
	return "Layer"
}

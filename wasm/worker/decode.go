package main

import (
	"errors"
	"math"
	"slices"
	"strconv"

	"github.com/mavis-xai/mavis/xai"
)

// This file reads what the page sends: the trees goValue (main.go) makes
// of JS values (nil, bool, float64, string, []any, map[string]any, and
// []byte, []float32, []float64 for typed arrays). Every options object,
// split part and evaluation result crosses through these readers, so a
// bad member always gets the same kind of message:
//
//	worker: explain options: class must be a whole number
//
// and a method's options get xai's own (Method.Resolve, Param.Parse).

// fields reads one object: absent and null members keep their zero
// values, a member of the wrong type is an error naming it, and members
// not read are reported by done.
type fields struct {
	m    map[string]any
	what string // "explain options"
	read map[string]bool
	err  error
}

// object reads v as an object (nil: an empty one).
func object(v any, what string) (*fields, error) {
	m, ok := v.(map[string]any)
	if !ok && v != nil {
		return nil, errors.New("worker: " + what + " must be an object")
	}
	return &fields{m: m, what: what, read: map[string]bool{}}, nil
}

func (f *fields) fail(key, want string) {
	if f.err == nil {
		f.err = errors.New("worker: " + f.what + ": " + key + " must be " + want)
	}
}

// get returns member key (nil when absent) and marks it read.
func (f *fields) get(key string) any {
	f.read[key] = true
	return f.m[key]
}

// has reports whether member key is present and not null (and marks it
// read: the caller handles it).
func (f *fields) has(key string) bool {
	f.read[key] = true
	return f.m[key] != nil
}

// done returns the first error, or one naming a member nothing read (a
// misspelt option must not be ignored silently).
func (f *fields) done() error {
	if f.err != nil {
		return f.err
	}
	var extra []string
	for k := range f.m {
		if !f.read[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return errors.New("worker: " + f.what + ": unknown member " + strconv.Quote(extra[0]))
	}
	return nil
}

func (f *fields) str(key string) string {
	switch v := f.get(key).(type) {
	case nil:
	case string:
		return v
	default:
		f.fail(key, "a string")
	}
	return ""
}

func (f *fields) bool(key string) bool {
	switch v := f.get(key).(type) {
	case nil:
	case bool:
		return v
	default:
		f.fail(key, "true or false")
	}
	return false
}

func (f *fields) num(key string) float64 {
	switch v := f.get(key).(type) {
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

// obj reads a member object (nil when absent).
func (f *fields) obj(key string) *fields {
	g, err := object(f.get(key), f.what+": "+key)
	if err != nil {
		f.fail(key, "an object")
		return nil
	}
	return g
}

// join takes g's error (or unknown member) as f's, when f has none yet.
func (f *fields) join(g *fields) {
	if g == nil || f.err != nil {
		return
	}
	f.err = g.done()
}

// list reads an array member (nil when absent or null).
func (f *fields) list(key string) []any {
	switch v := f.get(key).(type) {
	case nil:
	case []any:
		return v
	default:
		f.fail(key, "a list")
	}
	return nil
}

// numbers reads an array of numbers (nil when absent or null).
func (f *fields) numbers(key string) []float64 {
	a := f.list(key)
	if a == nil {
		return nil
	}
	out := make([]float64, len(a))
	for i, v := range a {
		x, ok := v.(float64)
		if !ok {
			f.fail(key, "a list of numbers")
			return nil
		}
		out[i] = x
	}
	return out
}

// strings reads an array of strings (nil when absent or null).
func (f *fields) strings(key string) []string {
	var out []string
	for _, v := range f.list(key) {
		s, ok := v.(string)
		if !ok {
			f.fail(key, "a list of strings")
			return nil
		}
		out = append(out, s)
	}
	return out
}

// float32s reads a Float32Array member.
func (f *fields) float32s(key string) []float32 {
	v, ok := f.get(key).([]float32)
	if !ok {
		f.fail(key, "a Float32Array")
	}
	return v
}

// float64s reads a Float64Array member.
func (f *fields) float64s(key string) []float64 {
	v, ok := f.get(key).([]float64)
	if !ok {
		f.fail(key, "a Float64Array")
	}
	return v
}

// Options selects one explanation: what explain and the split methods take
// (api.d.ts ExplainOptions). It is xai.Request without the callbacks.
type Options struct {
	Method string
	Target xai.Target // Class -1: the predicted class
	Layer  string     // a layer method's layer ("": the last Conv2D)
	Seed   uint64
	// Params are the method's options by name, as given: xai checks them
	// and fills in the defaults (Method.Resolve).
	Params xai.Options
}

// request is o as xai's request.
func (o Options) request(progress func(done, total int)) xai.Request {
	return xai.Request{Method: o.Method, Target: o.Target, Layer: o.Layer, Options: o.Params, Seed: o.Seed, Progress: progress}
}

// decodeOptions reads explain's options (ExplainOptions): the method must
// be registered and its options valid, with xai's messages.
func decodeOptions(v any) (Options, error) {
	f, err := object(v, "explain options")
	if err != nil {
		return Options{}, err
	}
	o := Options{Method: f.str("method"), Layer: f.str("layer"), Seed: f.seed("seed"), Target: xai.Target{Class: -1}}
	if f.has("class") {
		o.Target.Class = f.int("class")
	}
	score := f.str("score")
	if p := f.obj("options"); p != nil {
		for k := range p.m {
			if v := p.get(k); v != nil {
				if o.Params == nil {
					o.Params = xai.Options{}
				}
				o.Params[k] = v
			}
		}
	}
	if err := f.done(); err != nil {
		return Options{}, err
	}
	if o.Target.Kind, err = xai.ParseScore(score); err != nil {
		return Options{}, err
	}
	if o.Method == "" {
		return Options{}, errors.New("worker: explain options: method is missing")
	}
	m, err := xai.Lookup(o.Method)
	if err != nil {
		return Options{}, err
	}
	if _, err := m.Resolve(o.Params); err != nil {
		return Options{}, err
	}
	return o, nil
}

// decodeEvalOptions reads evaluate's options (EvaluateOptions).
func decodeEvalOptions(v any) (EvalOptions, error) {
	f, err := object(v, "evaluate options")
	if err != nil {
		return EvalOptions{}, err
	}
	o := EvalOptions{Steps: f.int("steps"), Patch: f.int("patch"), Reference: f.str("reference"),
		Tolerance: f.int("tolerance"), Sanity: f.bool("sanity"), Seed: f.seed("seed")}
	if f.has("methods") {
		o.Methods = f.strings("methods")
		if o.Methods == nil && f.err == nil {
			o.Methods = []string{} // named, but none: mapsOf says so
		}
	}
	if f.has("box") {
		g := f.obj("box")
		if g != nil {
			o.Box = &xai.Box{X0: g.int("x0"), Y0: g.int("y0"), X1: g.int("x1"), Y1: g.int("y1")}
			f.join(g)
		}
	}
	if f.has("sweep") {
		so, err := decodeOptions(f.get("sweep"))
		if err != nil {
			return o, err
		}
		o.Sweep = &so
	}
	return o, f.done()
}

// decodePart reads one split part a helper computed (SplitPart with its
// sum), as splitCombine receives it.
func decodePart(v any) (xai.Part, error) {
	f, err := object(v, "split part")
	if err != nil {
		return xai.Part{}, err
	}
	if f.m == nil {
		return xai.Part{}, errors.New("worker: split part must be an object")
	}
	p := xai.Part{Lo: f.int("lo"), Hi: f.int("hi"), Evaluations: f.int("evaluations"), Class: f.int("class"),
		BaselineScore: f.num("baselineScore"), Sum: f.float64s("sum")}
	return p, f.done()
}

// decodeEvalMap reads one kept map of evalPlan, as evalInstall receives it.
func decodeEvalMap(v any) (evalMap, error) {
	f, err := object(v, "map to evaluate")
	if err != nil {
		return evalMap{}, err
	}
	if f.m == nil {
		return evalMap{}, errors.New("worker: map to evaluate must be an object")
	}
	e := evalMap{method: f.str("method"), class: f.int("class")}
	f.what = "the " + e.method + " map to evaluate"
	if f.has("gap") {
		g := f.num("gap")
		e.gap = &g
	}
	if sh := f.numbers("shape"); len(sh) == 3 {
		e.m.H, e.m.W, e.m.C = int(sh[0]), int(sh[1]), int(sh[2])
	} else {
		f.fail("shape", "[H, W, C]")
	}
	e.m.Data = f.float32s("map")
	opts := f.get("options")
	if err := f.done(); err != nil {
		return evalMap{}, err
	}
	if e.opts, err = decodeOptions(opts); err != nil {
		return evalMap{}, err
	}
	return e, nil
}

// decodeMethodEvaluation reads one of evaluate's per-method results
// (Evaluation.methods[i], as methodEvaluationValue spells it), which the
// pool hands back to the main worker for evalCombine.
func decodeMethodEvaluation(v any) (MethodEvaluation, error) {
	f, err := object(v, "evaluation result")
	if err != nil {
		return MethodEvaluation{}, err
	}
	me := MethodEvaluation{Method: f.str("method"), Label: f.str("label"), MS: f.num("ms")}
	if f.has("completenessGap") {
		g := f.num("completenessGap")
		me.Gap = &g
	}
	g := f.obj("metrics")
	if g == nil || g.m == nil {
		return MethodEvaluation{}, errors.New("worker: evaluation result: metrics are missing")
	}
	mm := &me.Metrics
	mm.Class, mm.Score, mm.Prob, mm.Steps = g.int("class"), g.str("score"), g.num("prob"), g.int("steps")
	mm.Patch, mm.Reference, mm.Faithfulness = g.int("patch"), g.str("reference"), g.num("faithfulness")
	mm.Gini, mm.Entropy = g.num("gini"), g.num("entropy")
	if g.has("pointing") {
		p := g.bool("pointing")
		mm.Pointing = &p
	}
	if g.has("mass") {
		m := g.num("mass")
		mm.Mass = &m
	}
	mm.Deletion = decodeCurve(g, "deletion")
	mm.Insertion = decodeCurve(g, "insertion")
	for _, c := range g.list("confidence") {
		h, err := object(c, g.what+": confidence")
		if err != nil || h.m == nil {
			g.fail("confidence", "a list of objects")
			break
		}
		mm.Confidence = append(mm.Confidence, xai.Confidence{Keep: h.num("keep"), Prob: h.num("prob"), Drop: h.num("drop"), Raise: h.bool("raise")})
		g.join(h)
	}
	f.join(g)
	if f.has("sanity") {
		h := f.obj("sanity")
		if h != nil {
			sr := xai.SanityResult{Class: h.int("class"), Seed: h.seed("seed"), Mean: h.num("mean"),
				Threshold: h.num("threshold"), Pass: h.bool("pass"), Spearman: h.numbers("spearman"), Layers: h.strings("layers")}
			me.Sanity = &sr
			f.join(h)
		}
	}
	if err := f.done(); err != nil {
		return MethodEvaluation{}, err
	}
	return me, nil
}

func decodeCurve(f *fields, key string) xai.Curve {
	g := f.obj(key)
	if g == nil || g.m == nil {
		f.fail(key, "an object")
		return xai.Curve{}
	}
	c := xai.Curve{Fraction: g.numbers("fraction"), Score: g.numbers("score"), AUC: g.num("auc")}
	f.join(g)
	return c
}

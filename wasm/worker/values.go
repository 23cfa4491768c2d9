package main

import (
	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

// This file spells out what the worker sends the page, as trees of
// map[string]any, []any, float64, string, bool and nil, with []byte,
// []float32 and []float64 for the bulk data that crosses once as typed
// arrays (Uint8Array, Float32Array, Float64Array). jsvalue.go's jsValue
// turns a tree into plain JS objects (it carries the tree across as one
// JSON text, the typed arrays beside it). www/api.d.ts is the written
// schema, and TestValuesMatchSchema holds these trees to it.

// valuer is a result that can cross to JS.
type valuer interface{ value() any }

type obj = map[string]any

// list gives a slice as a JS array, each element through conv, and nil
// (JS null) for a nil slice.
func list[T any](s []T, conv func(T) any) any {
	if s == nil {
		return nil
	}
	a := make([]any, len(s))
	for i, v := range s {
		a[i] = conv(v)
	}
	return a
}

func floats(s []float64) any   { return list(s, func(v float64) any { return v }) }
func floats32(s []float32) any { return list(s, func(v float32) any { return float64(v) }) }
func ints(s []int) any         { return list(s, func(v int) any { return float64(v) }) }
func strs(s []string) any      { return list(s, func(v string) any { return v }) }

func (m ModelInfo) value() any {
	p := m.Preprocess
	return obj{"name": m.Name, "input": ints(m.Input[:]),
		"classes": list(m.Classes, func(c nn.Class) any { return obj{"id": c.ID, "name": c.Name} }),
		"preprocess": obj{"height": float64(p.Height), "width": float64(p.Width), "channels": float64(p.Channels),
			"color": p.Color, "scale": p.Scale, "resize": p.Resize, "crop": p.Crop},
		"layers": list(m.Layers, func(l LayerInfo) any {
			return obj{"name": l.Name, "kind": l.Kind, "shape": ints(l.Shape[:]), "spatial": l.Spatial}
		}),
		"camLayer": m.CAMLayer, "params": float64(m.Params),
		"families": list(xai.Families, func(f xai.Family) any { return obj{"name": string(f), "label": f.Label()} }),
		"methods":  list(m.Methods, methodValue),
		"scores":   list(m.Scores, func(s xai.Score) any { return s.String() }),
		"colormaps": list(m.Colormaps, func(c *xai.Colormap) any {
			return obj{"name": c.Name, "label": c.Label, "diverging": c.Diverging, "lut": c.LUT()}
		}),
		"scaleRules": list(m.ScaleRules, func(r xai.ScaleRule) any { return obj{"name": string(r), "label": r.Label()} }),
		"displays": list(m.Displays, func(d xai.Display) any {
			return obj{"name": string(d), "rule": string(d.DefaultRule()), "colormap": d.Colormap().Name}
		}),
		"metrics": m.Metrics.value(),
	}
}

func methodValue(m *xai.Method) any {
	return obj{"name": m.Name, "label": m.Label, "family": string(m.Family), "paper": m.Paper, "url": m.URL,
		"doc": m.Doc, "display": string(m.Display), "layer": m.Layer, "default": m.Default, "seeded": m.Seeded,
		"split": m.Splittable(), "params": list(m.Params, paramValue)}
}

func paramValue(p xai.Param) any {
	o := obj{"name": p.Name, "label": p.Label, "doc": p.Doc, "kind": string(p.Kind), "default": optionValue(p.Default)}
	switch p.Kind {
	case xai.Int, xai.Float:
		o["min"], o["max"] = p.Min, p.Max
	case xai.Choice:
		o["choices"] = strs(p.Choices)
	}
	if p.With != nil {
		o["with"] = obj{"param": p.With.Param, "values": strs(p.With.Values)}
	}
	return o
}

// optionValue gives an option's value (int, float64, string or bool) as
// JS holds it.
func optionValue(v any) any {
	if i, ok := v.(int); ok {
		return float64(i)
	}
	return v
}

func (m MetricsInfo) value() any {
	return obj{"steps": float64(m.Steps), "minSteps": float64(m.MinSteps), "maxSteps": float64(m.MaxSteps),
		"patch": float64(m.Patch), "reference": m.Reference.String(),
		"references":   list(m.References, func(r xai.Reference) any { return r.String() }),
		"keep":         floats(m.Keep),
		"gapThreshold": m.GapThreshold, "sanityThreshold": m.SanityThreshold}
}

func (p Prediction) value() any {
	return obj{"class": float64(p.Class), "probs": floats(p.Probs), "top": ints(p.Top),
		"input": ints(p.Input[:]), "ms": p.MS, "view": p.View, "fit": fitValue(p.Fit)}
}

func fitValue(f xai.Fit) any {
	return obj{"coloured": f.Coloured, "grey": f.Grey, "shift": f.Shift, "shiftLayer": f.ShiftLayer, "top": f.Top,
		"outside": f.Outside, "problems": strs(append([]string{}, f.Problems...)), "limits": f.Limits}
}

func (e Explanation) value() any {
	o := obj{"method": e.Method, "label": e.Label, "class": float64(e.Class), "score": e.Score.String(), "value": e.Value,
		"probs": floats(e.Probs), "shape": ints(e.Shape[:]), "min": float64(e.Min), "max": float64(e.Max),
		"zero": e.Zero, "passes": float64(e.Passes), "ms": e.MS, "map": e.Map,
		"fullShape": ints(e.FullShape), "fullMap": e.Full, "values": valuesValue(e.Values),
		"display": string(e.Display), "scales": list(e.Scales, func(s DisplayScale) any {
			return obj{"rule": string(s.Rule), "lo": float64(s.Lo), "hi": float64(s.Hi), "below": s.Below, "above": s.Above}
		})}
	if e.Layer != "" {
		o["layer"] = e.Layer
	}
	if len(e.Weights) > 0 {
		o["weights"] = floats32(e.Weights)
	}
	if len(e.Extras) > 0 {
		o["extras"] = list(e.Extras, func(x xai.Extra) any {
			return obj{"name": x.Name, "shape": ints(x.Shape), "data": x.Data}
		})
	}
	if c := e.Check; c != nil {
		cv := checkValue(c).(obj)
		if e.Method == sweepMethod {
			cv["sweep"] = true // the page offers the completeness sweep (sweep.go)
		}
		o["check"] = cv
	}
	return o
}

func valuesValue(v xai.Values) any {
	o := obj{}
	for k, x := range v {
		o[k] = optionValue(x)
	}
	return o
}

func checkValue(c *xai.Check) any {
	o := obj{"name": c.Name, "sum": c.Sum, "want": c.Want, "scoreX": c.ScoreX, "scoreRef": c.ScoreRef,
		"gap": c.Gap, "rel": c.Rel, "threshold": c.Threshold, "pass": c.Pass()}
	if c.Layers != nil {
		o["layers"] = list(c.Layers, func(l xai.LayerSum) any { return obj{"layer": l.Layer, "sum": l.Sum} })
	}
	return o
}

func (m Memory) value() any {
	return obj{"heapAlloc": float64(m.HeapAlloc), "heapSys": float64(m.HeapSys), "sys": float64(m.Sys),
		"numGC": float64(m.NumGC)}
}

func (r Evaluation) value() any {
	return obj{"methods": list(r.Methods, methodEvaluationValue), "ranking": rankingValue(r.Ranking),
		"steps": float64(r.Steps), "patch": float64(r.Patch), "input": ints(r.Input[:]), "ms": r.MS}
}

func methodEvaluationValue(m MethodEvaluation) any {
	o := obj{"method": m.Method, "label": m.Label, "metrics": metricsValue(m.Metrics), "ms": m.MS}
	if m.Sanity != nil {
		o["sanity"] = sanityValue(*m.Sanity)
	}
	if m.Gap != nil {
		o["completenessGap"] = *m.Gap
	}
	return o
}

func curveValue(c xai.Curve) any {
	return obj{"fraction": floats(c.Fraction), "score": floats(c.Score), "auc": c.AUC}
}

func metricsValue(m xai.MapMetrics) any {
	o := obj{"class": float64(m.Class), "score": m.Score, "prob": m.Prob, "steps": float64(m.Steps),
		"patch": float64(m.Patch), "reference": m.Reference, "deletion": curveValue(m.Deletion),
		"insertion": curveValue(m.Insertion), "faithfulness": m.Faithfulness,
		"confidence": list(m.Confidence, func(c xai.Confidence) any {
			return obj{"keep": c.Keep, "prob": c.Prob, "drop": c.Drop, "raise": c.Raise}
		}),
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
	return obj{"scores": list(r.Scores, func(s xai.MethodScore) any {
		o := obj{"method": s.Method, "faithfulness": s.Faithfulness, "insertion_auc": s.Insertion,
			"deletion_auc": s.Deletion, "gini": s.Gini, "entropy": s.Entropy, "flagged": s.Flagged,
			"problems": strs(append([]string{}, s.Problems...))}
		if s.Sanity != nil {
			o["sanity"] = sanityValue(*s.Sanity)
		}
		if s.Gap != nil {
			o["completeness_gap"] = *s.Gap
		}
		return o
	}), "trusted": r.Trusted, "flags": strs(r.Flags), "verdict": r.Verdict, "headline": r.Headline}
}

// SplitPlan is splitPlan's answer: how many evaluations a split method
// runs, and the input the helpers need.
type SplitPlan struct {
	Evaluations int
	Input       []float32
	// Class is the class predict found for Input (-1 if unknown): a
	// helper's part asking for the predicted class can be given it, rather
	// than predict Input again to resolve it (splitPart).
	Class int
}

func (p SplitPlan) value() any {
	return obj{"evaluations": float64(p.Evaluations), "input": p.Input, "class": float64(p.Class)}
}

// partValue is a split part for the page: a helper's with its float64 sum
// (withSum), the main worker's without (its sum stays in Go).
func partValue(p *xai.Part, withSum bool) any {
	o := obj{"lo": float64(p.Lo), "hi": float64(p.Hi), "evaluations": float64(p.Evaluations),
		"class": float64(p.Class), "baselineScore": p.BaselineScore}
	if withSum {
		o["sum"] = p.Sum
	}
	return o
}

// EvalPlan is evalPlan's answer: the kept maps of the current input, their
// version (evalCombine's check) and that input.
type EvalPlan struct {
	Maps    []evalMap
	Version int
	Input   []float32
}

func (p EvalPlan) value() any {
	return obj{"input": p.Input, "version": float64(p.Version), "maps": list(p.Maps, func(e evalMap) any {
		var gap any
		if e.gap != nil {
			gap = *e.gap
		}
		return obj{"method": e.method, "options": optionsValue(e.opts), "class": float64(e.class), "gap": gap,
			"shape": ints([]int{e.m.H, e.m.W, e.m.C}), "map": e.m.Data}
	})}
}

// optionsValue is o as ExplainOptions (what decodeOptions reads).
func optionsValue(o Options) any {
	v := obj{"method": o.Method, "class": float64(o.Target.Class), "score": o.Target.Kind.String(),
		"layer": o.Layer, "seed": float64(o.Seed)}
	if len(o.Params) > 0 {
		p := obj{}
		for k, x := range o.Params {
			p[k] = optionValue(x)
		}
		v["options"] = p
	}
	return v
}

package main

import (
	"errors"
	"time"

	"github.com/mavis-xai/mavis/xai"
)

// This file is the completeness sweep: what brings a map's conservation
// check (Integrated Gradients' completeness) within its threshold on the
// current input, measured (xai.CompletenessSweep), in plain Go like
// session.go. It runs through evaluate (EvaluateOptions.sweep), whose
// goroutine yields for progress and cancel.

// sweepMethod is the method the sweep measures: Integrated Gradients,
// whose rule, steps and baseline CompletenessSweep varies.
const sweepMethod = "ig"

// errSweepCancelled is sweep's error when its context is cancelled.
var errSweepCancelled = errors.New("worker: sweep cancelled")

// Sweep is sweep's answer (api.d.ts CompletenessSweep).
type Sweep struct {
	Method string
	Trials []xai.GapTrial
	Advice string // xai.GapAdvice
	// Best is the recommended trial (xai.BestGapTrial) when it holds
	// within the threshold, and Use the method's options that run it;
	// "" and nil when no trial does.
	Best string
	Use  xai.Options
	MS   float64
}

// sweep measures the completeness gap of o's method (Integrated
// Gradients) on the current input for other rules, step counts and
// baselines: from o's baseline, then a blur and black
// (xai.SweepBaselines), for the class of the method's kept map (o's
// target when none is kept). progress reports passes; ctx cancels between
// baselines.
func (s *session) sweep(ctx xai.Canceller, o Options, progress func(done, total int)) (Sweep, error) {
	if s.m == nil || s.x == nil {
		return Sweep{}, errors.New("worker: no image to sweep (call predict first)")
	}
	if o.Method != sweepMethod {
		return Sweep{}, errors.New("worker: the completeness sweep measures Integrated Gradients (ig), not " + o.Method)
	}
	m, err := xai.Lookup(o.Method)
	if err != nil {
		return Sweep{}, err
	}
	v, err := m.Resolve(o.Params)
	if err != nil {
		return Sweep{}, err
	}
	bl, err := xai.ParseBaseline(v.String("baseline"))
	if err != nil {
		return Sweep{}, err
	}
	bl.Sigma, bl.Seed = v.Float("sigma"), o.Seed
	t := o.Target
	for _, e := range s.maps {
		if e.method == o.Method {
			t.Class = e.class
		}
	}
	start := time.Now()
	trials, err := s.ex.CompletenessSweep(s.x, xai.GapSweep{Target: t, Baselines: xai.SweepBaselines(bl), Progress: progress, Cancel: ctx})
	if err != nil {
		if ctx != nil && ctx.Err() != nil {
			return Sweep{}, errSweepCancelled
		}
		return Sweep{}, err
	}
	r := Sweep{Method: o.Method, Trials: trials, Advice: xai.GapAdvice(trials)}
	if best, ok := xai.BestGapTrial(trials); ok && best.Pass() {
		r.Best, r.Use = best.String(), best.Options()
	}
	r.MS = ms(start)
	return r, nil
}

func (r Sweep) value() any {
	var use any
	if r.Use != nil {
		use = valuesValue(xai.Values(r.Use))
	}
	return obj{"method": r.Method, "advice": r.Advice, "best": r.Best, "use": use, "threshold": xai.GapThreshold, "ms": r.MS,
		"trials": list(r.Trials, func(g xai.GapTrial) any {
			return obj{"rule": g.Rule.String(), "steps": float64(g.Steps), "baseline": g.Baseline.String(),
				"sum": g.Sum, "want": g.Want, "rel": g.Rel, "flat": g.Flat, "pass": g.Pass()}
		})}
}

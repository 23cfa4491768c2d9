package main

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"time"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

// This file is evaluate's logic: the faithfulness metrics of the maps of
// the last explain calls (issue 7), in plain Go like session.go.

// cancelCtx is the context evaluate runs under: a context.Context that
// cancel cancels. context.WithCancel would do, but links the context
// package's machinery (timers, goroutines, formatting of deadlines) into
// the worker for nothing.
type cancelCtx struct {
	done   chan struct{}
	closed bool
}

func newCancelCtx() *cancelCtx { return &cancelCtx{done: make(chan struct{})} }

func (c *cancelCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *cancelCtx) Done() <-chan struct{}       { return c.done }
func (c *cancelCtx) Value(any) any               { return nil }

func (c *cancelCtx) Err() error {
	if c.closed {
		return context.Canceled
	}
	return nil
}

// cancel cancels c; it is called from evaluate's own goroutine (its
// progress callback), so no lock is needed.
func (c *cancelCtx) cancel() {
	if !c.closed {
		c.closed = true
		close(c.done)
	}
}

// errCancelled is evaluate's error when its context is cancelled.
var errCancelled = errors.New("worker: metrics cancelled")

// evalMap is a map kept from an explain call on the current input, with
// what is needed to recompute it for the randomisation check.
type evalMap struct {
	method string
	opts   Options
	class  int      // the class explained
	m      xai.Map  // the map evaluated (CAM: layer resolution; saliency: H x W; IG: H x W x C)
	gap    *float64 // Integrated Gradients' relative completeness gap
}

// keepMap stores a copy of m as the current map of its method (replacing
// an earlier one of the same method). An explanation during a split
// evaluation (between evalOnly and evalCombine) ends the split: every kept
// map is back, and evalCombine reports that the maps changed.
func (s *session) keepMap(o Options, class int, m xai.Map, gap *float64) {
	if s.pool.eval.all != nil {
		s.maps, s.pool.eval = s.pool.eval.all, evalSplit{}
	}
	e := evalMap{method: o.Method, opts: o, class: class, gap: gap,
		m: xai.Map{H: m.H, W: m.W, C: m.C, Data: append([]float32(nil), m.Data...)}}
	for i := range s.maps {
		if s.maps[i].method == o.Method {
			s.maps[i] = e
			return
		}
	}
	s.maps = append(s.maps, e)
}

// EvalOptions configures evaluate. Zero values are the page's defaults,
// chosen for speed in the browser.
type EvalOptions struct {
	Steps     int      `json:"steps"`     // deletion/insertion steps (default 32, the page's)
	Patch     int      `json:"patch"`     // patch side in input pixels (default: the input's side / 28, at least 1)
	Reference string   `json:"reference"` // rise (default), black, blur
	Box       *xai.Box `json:"box"`       // on the model's input grid, for the pointing game and relevance mass
	Tolerance int      `json:"tolerance"` // pointing-game tolerance in pixels
	Sanity    bool     `json:"sanity"`    // run the randomisation check (slow)
	Seed      uint64   `json:"seed"`      // the randomisation check's seed
}

// MethodEvaluation is one method's metrics.
type MethodEvaluation struct {
	Method  string            `json:"method"`
	Label   string            `json:"label"`
	Metrics xai.MapMetrics    `json:"metrics"`
	Sanity  *xai.SanityResult `json:"sanity,omitempty"`
	Gap     *float64          `json:"completenessGap,omitempty"`
	MS      float64           `json:"ms"`
}

// Evaluation is evaluate's result: the metrics per method in explain
// order, and the ranking with its verdict.
type Evaluation struct {
	Methods []MethodEvaluation `json:"methods"`
	Ranking xai.Ranking        `json:"ranking"`
	Steps   int                `json:"steps"`
	Patch   int                `json:"patch"`
	Input   [3]int             `json:"input"`
	MS      float64            `json:"ms"`
}

// metricsOptions resolves o's defaults for the current model.
func (s *session) metricsOptions(o EvalOptions) (xai.MetricsOptions, error) {
	in := s.m.InputShape()
	mo := xai.MetricsOptions{Steps: o.Steps, Patch: o.Patch, Box: o.Box, Tolerance: o.Tolerance}
	if mo.Steps == 0 {
		mo.Steps = 32
	}
	if mo.Steps < 1 || mo.Steps > 1000 {
		return mo, errors.New("worker: " + strconv.Itoa(o.Steps) + " deletion steps (want 1..1000)")
	}
	if mo.Patch == 0 {
		mo.Patch = max(1, min(in[0], in[1])/28)
	}
	var err error
	if mo.Reference, err = xai.ParseReference(o.Reference); err != nil {
		return mo, err
	}
	return mo, nil
}

// evaluate computes the metrics of every kept map of the current input and
// ranks the methods. progress reports forward passes and sanity maps;
// ctx cancels between them.
func (s *session) evaluate(ctx context.Context, o EvalOptions, progress func(done, total int)) (Evaluation, error) {
	if s.m == nil || s.x == nil {
		return Evaluation{}, errors.New("worker: no image to evaluate (call predict first)")
	}
	if len(s.maps) == 0 {
		return Evaluation{}, errors.New("worker: no maps to evaluate (call explain first)")
	}
	mo, err := s.metricsOptions(o)
	if err != nil {
		return Evaluation{}, err
	}
	if s.ev == nil {
		s.ev = xai.NewEvaluator(s.m)
	}
	keep := 3 // xai's default kept fractions
	per := 2*(mo.Steps+1) + keep
	sanitySteps := 0
	if o.Sanity {
		sanitySteps = randomisable(s.m) + 1
	}
	total := len(s.maps) * (per + sanitySteps)
	done := 0
	start := time.Now()
	r := Evaluation{Steps: mo.Steps, Patch: mo.Patch, Input: s.m.InputShape()}
	var scores []xai.MethodScore
	for _, e := range s.maps {
		t0 := time.Now()
		if err := ctx.Err(); err != nil {
			return Evaluation{}, errCancelled
		}
		base := done
		mo.Class = e.class
		mo.Progress = func(d, _ int) { progress(base+d, total) }
		mm, err := s.ev.Evaluate(ctx, s.x, e.m, mo)
		if err != nil {
			if ctx.Err() != nil {
				return Evaluation{}, errCancelled
			}
			return Evaluation{}, errors.New(xai.MethodLabel(e.method) + ": " + err.Error())
		}
		done = base + per
		me := MethodEvaluation{Method: e.method, Label: xai.MethodLabel(e.method), Metrics: mm, Gap: e.gap}
		sc := xai.ScoreOf(e.method, mm)
		sc.Gap = e.gap
		if o.Sanity {
			base := done
			// In place: a copy of the model would hold a second set of
			// activations and gradients (about 85 MB for MAVIS). The worker
			// runs one call at a time, so nothing else sees the randomised
			// weights.
			so := xai.SanityOptions{Target: xai.Target{Class: e.class}, Seed: o.Seed, InPlace: true,
				Progress: func(d, _ int) { progress(base+d, total) }}
			if so.Target.Kind, err = xai.ParseScore(e.opts.Score); err != nil {
				return Evaluation{}, err
			}
			opts := e.opts
			sr, err := xai.RandomisationCheck(ctx, s.m, s.x, func(ex *xai.Explainer, x *nn.Tensor, t xai.Target) (xai.Map, error) {
				return methodMap(ex, x, opts, t)
			}, so)
			// Collect the check's garbage (a map, its ranks and the
			// explainer's buffers per step: about 18 MB for MAVIS) before
			// the next method's: left to the pacer, the heap would first
			// grow to twice the live buffers, and wasm memory never shrinks.
			runtime.GC()
			if err != nil {
				if ctx.Err() != nil {
					return Evaluation{}, errCancelled
				}
				return Evaluation{}, errors.New(xai.MethodLabel(e.method) + ": " + err.Error())
			}
			done = base + sanitySteps
			me.Sanity, sc.Sanity = &sr, &sr
		}
		progress(done, total)
		me.MS = ms(t0)
		r.Methods = append(r.Methods, me)
		scores = append(scores, sc)
	}
	r.Ranking = xai.Rank(scores)
	r.MS = ms(start)
	return r, nil
}

// randomisable counts the layers the randomisation check re-initialises
// (Conv2D and Dense up to the logits), as xai.RandomisationCheck does.
func randomisable(m *nn.Model) int {
	n := 0
	for _, l := range m.Layers[:m.Logits()+1] {
		switch l.(type) {
		case *nn.Conv2D, *nn.Dense:
			n++
		}
	}
	return n
}

// methodMap computes the map explain keeps for o's method, with explainer
// ex (the randomisation check's partly random copy of the model).
func methodMap(ex *xai.Explainer, x *nn.Tensor, o Options, t xai.Target) (xai.Map, error) {
	switch o.Method {
	case "gradcam", "gradcampp":
		co := xai.CAMOptions{Target: t, Layer: o.Layer, PosNorm: o.PosNorm}
		var c xai.CAM
		var err error
		if o.Method == "gradcam" {
			c, err = ex.GradCAM(x, co)
		} else {
			c, err = ex.GradCAMPlusPlus(x, co)
		}
		return c.Raw, err
	case "saliency":
		var sal xai.SaliencyMap
		var err error
		if o.Samples > 0 {
			sal, err = ex.SmoothGrad(x, xai.SmoothGradOptions{Target: t, Samples: o.Samples, Noise: o.Noise, Seed: o.Seed})
		} else {
			err = ex.SaliencyTo(&sal, x, t)
		}
		return sal.Map, err
	case "ig":
		io := xai.IGOptions{Target: t, Steps: o.Steps}
		var err error
		if io.Rule, err = xai.ParseRule(o.Rule); err != nil {
			return xai.Map{}, err
		}
		if io.Baseline, err = xai.ParseBaseline(o.Baseline); err != nil {
			return xai.Map{}, err
		}
		io.Baseline.Sigma, io.Baseline.Seed = o.Sigma, o.Seed
		var a xai.Attribution
		err = ex.IntegratedGradientsTo(&a, x, io)
		return a.Map, err
	}
	return xai.Map{}, errors.New("worker: unknown method " + strconv.Quote(o.Method))
}

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
	class  int        // the class explained
	m      xai.Map    // the method's map at its native resolution (xai.Result.Map)
	gap    *float64   // the relative gap of the method's conservation check (Integrated Gradients' completeness)
	check  *xai.Check // that check (nil on a helper, which does not rank)
}

// keepMap stores a copy of r's map as the current map of its method
// (replacing an earlier one of the same method). The maps' version changes,
// so that a split evaluation of the old maps is not combined (evalCombine).
func (s *session) keepMap(o Options, r *xai.Result) {
	s.mapsVersion++
	e := evalMap{method: r.Method, opts: o, class: r.Class,
		m: xai.Map{H: r.Map.H, W: r.Map.W, C: r.Map.C, Data: append([]float32(nil), r.Map.Data...)}}
	if r.Check != nil {
		c := *r.Check
		e.gap, e.check = &c.Rel, &c
	}
	for i := range s.maps {
		if s.maps[i].method == e.method {
			s.maps[i] = e
			return
		}
	}
	s.maps = append(s.maps, e)
}

// clearMaps forgets the kept maps of the current input, which stays, so
// that evaluate scores only the maps explained after it: a new round of
// maps for the same image, without predicting it again (which would mean
// reading a photo's rows again). As predict does, it runs the input's
// forward pass and keeps it (xai's Predict), so that the round's
// explanations start from it. It fails without a current input.
func (s *session) clearMaps() error {
	if s.m == nil || s.x == nil {
		return errors.New("worker: no image (call predict first)")
	}
	s.maps = s.maps[:0]
	s.mapsVersion++
	_, err := s.ex.Predict(s.x)
	return err
}

// maxEvalSteps bounds the deletion and insertion steps evaluate takes.
const maxEvalSteps = 1000

// EvalOptions configures evaluate (api.d.ts EvaluateOptions). Zero values
// take the defaults the page is told (MetricsInfo).
type EvalOptions struct {
	Steps     int      // deletion/insertion steps (xai.DefaultCurveSteps)
	Patch     int      // patch side in input pixels (defaultPatch)
	Reference string   // rise (default), black, blur
	Box       *xai.Box // on the model's input grid, for the pointing game and relevance mass
	Tolerance int      // pointing-game tolerance in pixels
	Sanity    bool     // run the randomisation check (slow)
	Seed      uint64   // the randomisation check's seed
	// Methods, when set, restricts evaluate to these methods' kept maps (a
	// share of the pool's split, metrics_pool.go).
	Methods []string
	// Sweep, when set, asks for the completeness sweep of a map made with
	// these explain options (sweep.go) instead of the metrics.
	Sweep *Options
}

// MethodEvaluation is one method's metrics.
type MethodEvaluation struct {
	Method  string
	Label   string
	Metrics xai.MapMetrics
	Sanity  *xai.SanityResult
	Gap     *float64 // the relative gap of the method's conservation check
	MS      float64
}

// Evaluation is evaluate's result: the metrics per method in explain
// order, and the ranking with its verdict.
type Evaluation struct {
	Methods []MethodEvaluation
	Ranking xai.Ranking
	Steps   int
	Patch   int
	Input   [3]int
	MS      float64
}

// metricsOptions resolves o's defaults for the current model.
func (s *session) metricsOptions(o EvalOptions) (xai.MetricsOptions, error) {
	mo := xai.MetricsOptions{Steps: o.Steps, Patch: o.Patch, Box: o.Box, Tolerance: o.Tolerance}
	if mo.Steps == 0 {
		mo.Steps = xai.DefaultCurveSteps
	}
	if mo.Steps < 1 || mo.Steps > maxEvalSteps {
		return mo, errors.New("worker: " + strconv.Itoa(o.Steps) + " deletion steps (want 1.." + strconv.Itoa(maxEvalSteps) + ")")
	}
	if mo.Patch == 0 {
		mo.Patch = defaultPatch(s.m)
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
	maps, err := s.mapsOf(o.Methods)
	if err != nil {
		return Evaluation{}, err
	}
	mo, err := s.metricsOptions(o)
	if err != nil {
		return Evaluation{}, err
	}
	if s.ev == nil {
		s.ev = xai.NewEvaluator(s.m)
	}
	per := 2*(mo.Steps+1) + len(xai.DefaultKeep())
	sanitySteps := 0
	if o.Sanity {
		sanitySteps = randomisable(s.m) + 1
	}
	total := len(maps) * (per + sanitySteps)
	done := 0
	start := time.Now()
	r := Evaluation{Steps: mo.Steps, Patch: mo.Patch, Input: s.m.InputShape()}
	var scores []xai.MethodScore
	for _, e := range maps {
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
		sc.SetCheck(e.check)
		if o.Sanity {
			base := done
			// In place: a copy of the model would hold a second set of
			// activations and gradients (about 85 MB for MAVIS). The worker
			// runs one call at a time, so nothing else sees the randomised
			// weights.
			so := xai.SanityOptions{Target: xai.Target{Class: e.class, Kind: e.opts.Target.Kind}, Seed: o.Seed, InPlace: true,
				Progress: func(d, _ int) { progress(base+d, total) }}
			opts := e.opts
			var scratch xai.Result
			sr, err := xai.RandomisationCheck(ctx, s.m, s.x, func(ex *xai.Explainer, x *nn.Tensor, t xai.Target) (xai.Map, error) {
				return methodMapTo(&scratch, ex, x, opts, t)
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

// methodMapTo computes the map explain keeps for o's method, with
// explainer ex (the randomisation check's partly random copy of the
// model) and target t, into dst through xai's registry.
func methodMapTo(dst *xai.Result, ex *xai.Explainer, x *nn.Tensor, o Options, t xai.Target) (xai.Map, error) {
	r := o.request(nil)
	r.Target = t
	err := ex.ExplainTo(dst, x, r)
	return dst.Map, err
}

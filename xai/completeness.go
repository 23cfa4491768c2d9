package xai

import (
	"math"
	"slices"

	"github.com/mavis-xai/mavis/nn"
)

// What brings Integrated Gradients within its completeness tolerance on a
// given model and input is an empirical question: on the MAVIS model the
// gradient near the black baseline is steep, so the linspace rule (which
// weights the baseline itself by 1/m) and even Gauss–Legendre converge
// slowly or not at all, while a blurred baseline often does at 50 steps.
// CompletenessSweep measures it for one input at a small multiple of one
// IG run's cost, and GapAdvice says what it found.

// GapTrial is Integrated Gradients with one rule, step count and
// baseline, and the completeness gap it gives on one input.
type GapTrial struct {
	Rule     Rule
	Steps    int
	Baseline Baseline
	// Sum is Σ attributions, Want the score difference Score(x) −
	// Score(b) it should equal, Rel the relative gap (RelativeGap).
	Sum, Want, Rel float64
	// Flat marks a baseline that scores as the input does (|Want| at most
	// 1e-3·|Score(x)| + 1e-6, such as a blur of a uniform image): there is
	// nothing to attribute, and its gap says nothing.
	Flat bool
}

// Pass reports whether the trial is within GapThreshold and not Flat.
func (g GapTrial) Pass() bool { return !g.Flat && math.Abs(g.Rel) <= GapThreshold }

// String is "trapezoid, 49 steps, baseline blur(sigma=5)".
func (g GapTrial) String() string {
	return sprintf("%s, %d steps, baseline %s", g.Rule, g.Steps, g.Baseline)
}

// Options returns the Integrated-Gradients options that run g's rule,
// steps and baseline ("rule", "steps", "baseline" and, for a blur,
// "sigma"; Resolve accepts them), or nil for a Custom baseline, which no
// option names.
func (g GapTrial) Options() Options {
	if g.Baseline.Kind == Custom {
		return nil
	}
	o := Options{"rule": g.Rule.String(), "steps": g.Steps, "baseline": g.Baseline.Kind.String()}
	if g.Baseline.Kind == Blur {
		o["sigma"] = g.Baseline.sigma()
	}
	return o
}

// SweepBaselines are the baselines a completeness sweep of a map made
// from baseline b tries: b, then a blur (of the default sigma) and black
// when b was neither.
func SweepBaselines(b Baseline) []Baseline {
	bls := []Baseline{b}
	for _, k := range []BaselineKind{Blur, Black} {
		if b.Kind != k {
			bls = append(bls, Baseline{Kind: k})
		}
	}
	return bls
}

// GapSweep configures CompletenessSweep.
type GapSweep struct {
	Target Target
	// Baselines to try (default: black and a blur of sigma 5).
	Baselines []Baseline
	// Grid is the number of intervals of the uniform α grid evaluated per
	// baseline (default 48): the linspace and trapezoid rules are
	// measured at m = Grid/d + 1 steps for d = 4, 2 and 1, where d divides
	// Grid (13, 25 and 49 for 48). It must be from 4 to 1024.
	Grid int
	// GaussLegendre lists the Gauss–Legendre node counts tried per
	// baseline (default 16; at most 1024 each).
	GaussLegendre []int
	// Progress, when not nil, is called after every pass.
	Progress func(done, total int)
	// Cancel, when not nil, stops the sweep between baselines.
	Cancel Canceller
}

// CompletenessSweep measures Integrated Gradients' relative completeness
// gap on x (1 x H x W x C) for each baseline with the linspace and
// trapezoid rules at several step counts and with Gauss–Legendre. Σ
// attributions of a rule with nodes α_k and weights w_k is
// Σ_k w_k (x − b)·∇Score(b + α_k (x − b)), so the rules sharing a grid
// share its gradients: the cost is Grid + 1 + Σ GaussLegendre gradients
// per baseline (65 for the defaults: 130 for two baselines, about 2.6
// times one 50-step IG run). The class is x's prediction for Target.Class −1, fixed for every
// point. Trials come baseline by baseline, linspace then trapezoid by
// rising steps, then Gauss–Legendre.
func (ex *Explainer) CompletenessSweep(x *nn.Tensor, o GapSweep) ([]GapTrial, error) {
	if err := ex.check(x, o.Target); err != nil {
		return nil, err
	}
	grid := o.Grid
	if grid == 0 {
		grid = 48
	}
	if grid < 4 || grid > 1024 {
		return nil, errorf("xai: completeness sweep grid of %d intervals (want 4..1024)", grid)
	}
	gl := o.GaussLegendre
	if gl == nil {
		gl = []int{16}
	}
	for _, n := range gl {
		if n < 1 || n > 1024 {
			return nil, errorf("xai: completeness sweep with %d Gauss-Legendre nodes (want 1..1024)", n)
		}
	}
	bls := o.Baselines
	if len(bls) == 0 {
		bls = []Baseline{{Kind: Black}, {Kind: Blur}}
	}
	// The α values evaluated per baseline: the grid from 1 down to 0 (x
	// first, so that its prediction fixes the class), then each
	// Gauss–Legendre rule's nodes.
	alpha := make([]float64, 0, grid+1)
	for k := grid; k >= 0; k-- {
		alpha = append(alpha, float64(k)/float64(grid))
	}
	type glRule struct {
		n         int
		at        int // index of its first node in alpha
		w         []float64
		alphaNode []float64
	}
	var rules []glRule
	for _, n := range gl {
		a, w, err := alphas(GaussLegendre, n)
		if err != nil {
			return nil, err
		}
		rules = append(rules, glRule{n, len(alpha), w, a})
		alpha = append(alpha, a...)
	}
	total := len(alpha) * len(bls)
	b := &nn.Tensor{Shape: x.Shape, Data: make([]float32, len(x.Data))}
	slope := make([]float64, len(alpha))
	t := o.Target
	var trials []GapTrial
	for bi, bl := range bls {
		if err := cancelled(o.Cancel); err != nil {
			return nil, err
		}
		if err := baselineTo(b, x, bl, ex.Model.Preprocess); err != nil {
			return nil, err
		}
		var sx, sb float64
		point := func(i int, p []float32) {
			a := alpha[i]
			for j, v := range x.Data {
				bv := float64(b.Data[j])
				p[j] = float32(bv + a*(float64(v)-bv))
			}
		}
		use := func(i int, g []float32, score float64) {
			var s float64
			for j, v := range x.Data {
				s += (float64(v) - float64(b.Data[j])) * float64(g[j])
			}
			slope[i] = s
			switch i {
			case 0:
				sx = score
			case grid:
				sb = score
			}
		}
		var progress func(done, n int)
		if o.Progress != nil {
			progress = func(done, n int) { o.Progress(bi*len(alpha)+done, total) }
		}
		t.Class = ex.eng.sweep(len(alpha), ex.batch(), t, point, use, progress)
		want := sx - sb
		flat := math.Abs(want) <= 1e-3*math.Abs(sx)+1e-6
		trial := func(r Rule, steps int, sum float64) {
			trials = append(trials, GapTrial{Rule: r, Steps: steps, Baseline: bl, Sum: sum, Want: want,
				Rel: RelativeGap(sum-want, sx, sb), Flat: flat})
		}
		// slope[grid−k] is the slope at α = k/grid.
		for _, r := range []Rule{Linspace, Trapezoid} {
			for _, stride := range []int{4, 2, 1} {
				if grid%stride != 0 {
					continue
				}
				m := grid/stride + 1
				a, w, err := alphas(r, m)
				if err != nil {
					return nil, err
				}
				var sum float64
				for k := range a {
					sum += w[k] * slope[grid-k*stride]
				}
				trial(r, m, sum)
			}
		}
		for _, g := range rules {
			var sum float64
			for k, w := range g.w {
				sum += w * slope[g.at+k]
			}
			trial(GaussLegendre, g.n, sum)
		}
	}
	return trials, nil
}

// GapAdvice says in one or two sentences what the trials show: the gap
// at each step count of the first baseline's linspace rule (the
// original's), and the cheapest trial within GapThreshold, or the closest
// one when none is.
func GapAdvice(trials []GapTrial) string {
	if len(trials) == 0 {
		return ""
	}
	first := trials[0].Baseline
	var steps []string
	for _, g := range trials {
		if g.Baseline == first && g.Rule == Linspace {
			steps = append(steps, sprintf("%s at %d", percent(g.Rel), g.Steps))
		}
	}
	s := ""
	if len(steps) > 0 {
		s = sprintf("Measured on this image from the %s baseline, the linspace rule misses by %s steps", first, join(steps, ", "))
		if trials[0].Flat {
			s = sprintf("On this image the %s baseline scores as the image does, so its gaps say nothing", first)
		}
	}
	best, ok := BestGapTrial(trials)
	switch {
	case ok && best.Pass():
		return s + sprintf("; what helps: %s (%s, and within %.0f%% at every larger step count tried).", best, percent(best.Rel), 100*GapThreshold)
	case ok:
		return s + sprintf("; no rule, step count or baseline tried comes within %.0f%%, the closest is %s (%s).", 100*GapThreshold, best, percent(best.Rel))
	}
	return s + "."
}

// BestGapTrial returns the trial to recommend: the one with the fewest
// steps (the smallest gap among equals) among those that hold, that is
// pass with every trial of the same rule and baseline at more steps
// passing too (the gap of a ReLU network's path need not shrink
// steadily with the steps, and one lucky step count is no advice); else
// the one with the smallest gap. ok is false when every trial is Flat.
func BestGapTrial(trials []GapTrial) (best GapTrial, ok bool) {
	holds := func(g GapTrial) bool {
		for _, h := range trials {
			if h.Rule == g.Rule && h.Baseline == g.Baseline && h.Steps >= g.Steps && !h.Pass() {
				return false
			}
		}
		return true
	}
	var pass, live []GapTrial
	for _, g := range trials {
		if holds(g) {
			pass = append(pass, g)
		}
		if !g.Flat {
			live = append(live, g)
		}
	}
	if len(pass) > 0 {
		return slices.MinFunc(pass, func(a, b GapTrial) int {
			if a.Steps != b.Steps {
				return a.Steps - b.Steps
			}
			return cmpFloat(math.Abs(a.Rel), math.Abs(b.Rel))
		}), true
	}
	if len(live) == 0 {
		return GapTrial{}, false
	}
	return slices.MinFunc(live, func(a, b GapTrial) int { return cmpFloat(math.Abs(a.Rel), math.Abs(b.Rel)) }), true
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

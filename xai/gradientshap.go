package xai

import (
	"math"
	"math/rand/v2"

	"github.com/mavis-xai/mavis/nn"
)

// SHAPBaselines is the distribution GradientSHAP draws its baselines from.
type SHAPBaselines int

const (
	// UniformBaselines draws every value of each baseline uniformly from
	// the input range (0..255 for MAVIS): random-noise images.
	UniformBaselines SHAPBaselines = iota
	// BlackWhiteBaselines draws the all-black or the all-white image with
	// probability 1/2 each.
	BlackWhiteBaselines
	// BlackBaselines always uses the black image: GradientSHAP is then
	// Integrated Gradients with random points on the path.
	BlackBaselines
	// BlurBaselines always uses the image blurred by a Gaussian of Sigma
	// pixels.
	BlurBaselines
	// CustomBaselines always uses GradientSHAPOptions.Baseline.
	CustomBaselines
)

var shapBaselineNames = []string{"uniform", "black-white", "black", "blur"}

func (b SHAPBaselines) String() string {
	if b == CustomBaselines {
		return "custom"
	}
	return shapBaselineNames[min(max(int(b), 0), len(shapBaselineNames)-1)]
}

// ParseSHAPBaselines reads "uniform", "black-white", "black" or "blur".
func ParseSHAPBaselines(s string) (SHAPBaselines, error) {
	for i, n := range shapBaselineNames {
		if s == n {
			return SHAPBaselines(i), nil
		}
	}
	return 0, errorf("xai: unknown GradientSHAP baselines %q (want uniform, black-white, black or blur)", s)
}

// GradientSHAPOptions configures GradientSHAP.
type GradientSHAPOptions struct {
	Target    Target
	Samples   int // n (default 25)
	Baselines SHAPBaselines
	Sigma     float64    // BlurBaselines' Gaussian standard deviation in pixels (default 5)
	Baseline  *nn.Tensor // CustomBaselines' image, 1 x H x W x C
	// Noise is the standard deviation of Gaussian noise added to x for
	// each sample, as a fraction of the input range (Captum's stdevs;
	// default 0: none).
	Noise float64
	Seed  uint64 // seeds the samples; equal seeds give equal maps on every platform
	// Progress, when not nil, is called after every pass with the number
	// of passes done and their total.
	Progress func(done, total int)
}

// SHAPAttribution is a GradientSHAP explanation.
type SHAPAttribution struct {
	Prediction     // at x; Score is Score(x)
	Map        Map // H x W x C attributions
	Samples    int
	// Check is the expected completeness: Σ Map against the mean over the
	// samples of Score(x̃_i) − Score(b_i).
	Check Check
	// Passes counts the forward passes, backward passes included: x, the
	// n gradients and the forward passes of the check.
	Passes int
}

// GradientSHAP computes the GradientSHAP of Lundberg and Lee ("A Unified
// Approach to Interpreting Model Predictions", NeurIPS 2017; the expected
// gradients of SHAP's GradientExplainer) as Captum's GradientShap does it,
// for x (1 x H x W x C): for samples i = 1..n, a baseline b_i drawn from
// the distribution, a point α_i ~ U(0, 1) on the path and, when Noise > 0,
// x̃_i = x + ε_i with ε_i ~ N(0, σ²) (else x̃_i = x),
//
//	Map = (1/n) Σ_i (x̃_i − b_i) ⊙ ∂Score/∂x (b_i + α_i (x̃_i − b_i))
//
// Each term is a one-point Monte Carlo estimate of the Integrated
// Gradients of x̃_i against b_i, so in expectation the attributions add up
// to E[Score(x̃) − Score(b)]: the expected completeness, which the result's
// Check reports against the mean over the samples drawn (one forward pass
// per distinct baseline and noisy input). Its Threshold is the larger of
// GapThreshold and three standard errors of the Monte Carlo gap (the
// spread of Σ term_i − (Score(x̃_i) − Score(b_i)) over the samples), so a
// map fails it only when its gap is more than sampling noise. The class is
// x's (Target.Class −1: the prediction) for every sample.
//
// Sample i draws α_i, then b_i, then ε_i from its own PCG stream of (seed,
// i): the samples are the same whatever the batch size.
//
// The evaluations (x, then the samples) can be split into ranges computed
// by other workers and combined (the registry's PartTo and CombineTo);
// one part gives GradientSHAP's result bit for bit.
func (ex *Explainer) GradientSHAP(x *nn.Tensor, o GradientSHAPOptions) (SHAPAttribution, error) {
	var a SHAPAttribution
	n, err := o.evaluations()
	if err != nil {
		return a, err
	}
	p := &ex.shap.part
	if err := ex.shapPart(p, x, o, 0, n); err != nil {
		return a, err
	}
	ex.shap.one[0] = p
	err = ex.shapCombine(&a, x, o, ex.shap.one[:])
	return a, err
}

func (o GradientSHAPOptions) samples() (int, error) {
	n := o.Samples
	if n == 0 {
		n = 25
	}
	if n < 1 || n > maxSteps {
		return 0, errorf("xai: gradientshap samples %d out of range 1..%d", n, maxSteps)
	}
	if !(o.Noise >= 0 && o.Noise <= 10) {
		return 0, errorf("xai: gradientshap noise %g out of range 0..10 (a fraction of the input range)", o.Noise)
	}
	return n, nil
}

func (o GradientSHAPOptions) evaluations() (int, error) {
	n, err := o.samples()
	return n + 1, err
}

// shapLayout says what a GradientSHAP part's Sum holds after the L sums
// of its terms: per sample of the part its term's total, then (with
// noise) Score(x̃_i), then (for uniform baselines) Score(b_i); and, in the
// part holding x, the scores of the fixed baselines (black and white, or
// the one baseline).
type shapLayout struct {
	perSample int // values per sample: 1, 2 or 3
	noisy     bool
	varying   bool // a baseline per sample
	fixed     int  // fixed baselines: 0, 1 or 2
}

func (o GradientSHAPOptions) layout() shapLayout {
	l := shapLayout{perSample: 1, noisy: o.Noise > 0, varying: o.Baselines == UniformBaselines}
	if l.noisy {
		l.perSample++
	}
	if l.varying {
		l.perSample++
	}
	switch o.Baselines {
	case BlackWhiteBaselines:
		l.fixed = 2
	case UniformBaselines:
	default:
		l.fixed = 1
	}
	return l
}

// size is the length of the Sum of part [lo, hi) for attributions of L
// values.
func (l shapLayout) size(L, lo, hi int) int {
	k := L + l.perSample*(hi-max(lo, 1))
	if lo == 0 {
		k += l.fixed
	}
	return k
}

// shapPart computes GradientSHAP's evaluations [lo, hi) (0 is x, i ≥ 1
// sample i) into dst, with the check's forward passes of its samples
// (see shapLayout). A part without x needs Target.Class ≥ 0.
func (ex *Explainer) shapPart(dst *Part, x *nn.Tensor, o GradientSHAPOptions, lo, hi int) error {
	if err := ex.check(x, o.Target); err != nil {
		return err
	}
	n, err := o.evaluations()
	if err != nil {
		return err
	}
	if lo < 0 || hi > n || lo >= hi {
		return errorf("xai: gradientshap evaluations %d..%d are not a non-empty range within 0..%d", lo, hi, n)
	}
	if lo > 0 && o.Target.Class < 0 {
		return errorf("xai: gradientshap evaluations %d..%d exclude x (evaluation 0), so they need the class explained (Target.Class ≥ 0), not the predicted class", lo, hi)
	}
	rlo, rhi := inputRange(ex.Model.Preprocess)
	st := &ex.shap
	B := ex.batch()
	if err := st.setup(x, o, rlo, rhi, B); err != nil {
		return err
	}
	L := len(x.Data)
	lay := o.layout()
	first := max(lo, 1) // the part's first sample
	m := hi - first
	dst.Sum = resize64(dst.Sum, lay.size(L, lo, hi))
	clear(dst.Sum)
	dst.Lo, dst.Hi, dst.Evaluations, dst.BaselineScore = lo, hi, n, 0
	acc, per := dst.Sum[:L], dst.Sum[L:L+lay.perSample*m]
	point := func(i int, p []float32) {
		if i += lo; i == 0 {
			copy(p, x.Data)
			return
		}
		d := st.diff[(i%B)*L : (i%B+1)*L]
		alpha := st.sample(i, x.Data)
		for j, v := range st.xt {
			bv := float64(st.b[j])
			d[j] = float32(float64(v) - bv)
			p[j] = float32(bv + alpha*(float64(v)-bv))
		}
	}
	var scoreX float64
	use := func(i int, g []float32, s float64) {
		if i += lo; i == 0 {
			scoreX = s
			return
		}
		d := st.diff[(i%B)*L : (i%B+1)*L]
		var t float64
		for j, v := range g {
			q := float64(v) * float64(d[j])
			acc[j] += q
			t += q
		}
		per[(i-first)*lay.perSample] = t
	}
	class := ex.eng.sweep(hi-lo, B, o.Target, point, use, o.Progress)
	dst.Class = class
	if lo == 0 {
		setPrediction(&dst.Prediction, o.Target, class, ex.eng.p0, ex.eng.z0, scoreX)
	} else {
		dst.Prediction.Class, dst.Prediction.Target, dst.Prediction.Score = class, o.Target, 0
		dst.Prediction.Probs, dst.Prediction.Logits = dst.Prediction.Probs[:0], dst.Prediction.Logits[:0]
	}
	// The check's forward passes: the part's noisy inputs and baselines,
	// and the fixed baselines in the part holding x.
	fixed := 0
	if lo == 0 {
		fixed = lay.fixed
	}
	k := fixed + (lay.perSample-1)*m
	if k == 0 {
		return nil
	}
	out := dst.Sum[L+lay.perSample*m:]
	pt := func(q int, p []float32) {
		if q < fixed {
			switch {
			case lay.fixed == 2 && q == 1:
				fill32(p, float32(st.hi))
			case lay.fixed == 2:
				clear(p)
			default:
				copy(p, st.fixed.Data)
			}
			return
		}
		q -= fixed
		j := q / (lay.perSample - 1)
		st.sample(first+j, x.Data)
		if lay.noisy && q%(lay.perSample-1) == 0 {
			copy(p, st.xt)
		} else {
			copy(p, st.b)
		}
	}
	put := func(q int, s float64) {
		if q < fixed {
			out[q] = s
			return
		}
		q -= fixed
		j, r := q/(lay.perSample-1), q%(lay.perSample-1)
		per[j*lay.perSample+1+r] = s
	}
	_, _, err = ex.eng.scan(nil, k, B, Target{Class: class, Kind: o.Target.Kind}, pt, put, nil)
	return err
}

// shapCombine writes GradientSHAP's attribution of x made of parts (any
// order) that cover every evaluation once: the terms' sums added in
// ascending Lo, and the expected completeness from the samples' values.
func (ex *Explainer) shapCombine(dst *SHAPAttribution, x *nn.Tensor, o GradientSHAPOptions, parts []*Part) error {
	if err := ex.check(x, o.Target); err != nil {
		return err
	}
	n, err := o.evaluations()
	if err != nil {
		return err
	}
	if o.Baselines == CustomBaselines && (o.Baseline == nil || o.Baseline.Shape != x.Shape) {
		return errorf("xai: gradientshap baseline image %v, want the input's shape %v", o.Baseline, x)
	}
	st := &ex.shap
	L, lay := len(x.Data), o.layout()
	ord, err := chainParts(st.order[:0], parts, n, "gradientshap", func(p *Part) int { return lay.size(L, p.Lo, p.Hi) })
	st.order = ord
	defer clear(ord)
	if err != nil {
		return err
	}
	if o.Target.Class >= 0 && ord[0].Class != o.Target.Class {
		return errorf("xai: a gradientshap part explains class %d, want %d", ord[0].Class, o.Target.Class)
	}
	in := ex.Model.InputShape()
	dst.Map.reshape(in[0], in[1], in[2])
	fn := float64(n - 1)
	for j := range L {
		s := ord[0].Sum[j]
		for _, p := range ord[1:] {
			s += p.Sum[j]
		}
		dst.Map.Data[j] = float32(s / fn)
	}
	px := &ord[0].Prediction
	setPrediction(&dst.Prediction, o.Target, ord[0].Class, px.Probs, px.Logits, px.Score)
	dst.Samples = n - 1
	// The check: per sample d_i = Score(x̃_i) − Score(b_i) and the term's
	// miss e_i = term_i − d_i.
	fixed := ord[0].Sum[lay.size(L, 0, ord[0].Hi)-lay.fixed:][:lay.fixed]
	var sx, sb, se, se2 float64
	for _, p := range ord {
		first := max(p.Lo, 1)
		per := p.Sum[L:]
		for i := first; i < p.Hi; i++ {
			v := per[(i-first)*lay.perSample:]
			xs, q := px.Score, 1
			if lay.noisy {
				xs, q = v[1], 2
			}
			var bs float64
			switch {
			case lay.varying:
				bs = v[q]
			case lay.fixed == 2 && st.white(o.Seed, i):
				bs = fixed[1]
			default:
				bs = fixed[0]
			}
			sx += xs
			sb += bs
			e := v[0] - (xs - bs)
			se += e
			se2 += e * e
		}
	}
	c := &dst.Check
	*c = Check{Name: "expected completeness", ScoreX: sx / fn, ScoreRef: sb / fn}
	if !lay.noisy {
		c.ScoreX = px.Score // not a sum of n copies, rounded
	}
	if lay.fixed == 1 {
		c.ScoreRef = fixed[0]
	}
	c.Sum, c.Gap = Completeness(dst.Map.Data, c.ScoreX, c.ScoreRef)
	c.Want = c.ScoreX - c.ScoreRef
	c.Rel = RelativeGap(c.Gap, c.ScoreX, c.ScoreRef)
	c.Threshold = GapThreshold
	c.Advice = "draw more samples: the gap is a Monte Carlo estimate over random baselines and path points"
	if n > 2 && c.Want != 0 {
		mean := se / fn
		sd := math.Sqrt(max(se2/fn-mean*mean, 0) * fn / (fn - 1))
		c.Threshold = max(GapThreshold, 3*sd/math.Sqrt(fn)/math.Abs(c.Want))
	}
	dst.Passes = n + lay.fixed + (lay.perSample-1)*(n-1)
	return nil
}

func fill32(d []float32, v float32) {
	for i := range d {
		d[i] = v
	}
}

// shapState is GradientSHAP's storage.
type shapState struct {
	o      GradientSHAPOptions
	lo, hi float64
	sigma  float64   // noise standard deviation
	fixed  nn.Tensor // a fixed baseline (black, blur, custom)
	b, xt  []float32 // the current sample's baseline and noisy input
	diff   []float32 // batch x L: x̃_i − b_i of the samples in flight
	part   Part
	one    [1]*Part
	order  []*Part
	pcg    rand.PCG
	rng    *rand.Rand
}

// shapTag picks GradientSHAP's family of random streams.
const shapTag = 0x54a9

func (st *shapState) setup(x *nn.Tensor, o GradientSHAPOptions, lo, hi float64, batch int) error {
	st.o, st.lo, st.hi, st.sigma = o, lo, hi, o.Noise*(hi-lo)
	if st.rng == nil {
		st.rng = rand.New(&st.pcg)
	}
	L := len(x.Data)
	if len(st.b) != L {
		st.b, st.xt = make([]float32, L), make([]float32, L)
	}
	if len(st.diff) != batch*L {
		st.diff = make([]float32, batch*L)
	}
	if st.fixed.Shape != x.Shape {
		st.fixed = nn.Tensor{Shape: x.Shape, Data: make([]float32, L)}
	}
	switch o.Baselines {
	case UniformBaselines, BlackWhiteBaselines:
	case BlackBaselines:
		clear(st.fixed.Data)
	case BlurBaselines:
		s := o.Sigma
		if s == 0 {
			s = 5
		}
		if !(s > 0 && s <= 1000) {
			return errorf("xai: gradientshap blur sigma %g out of range (0, 1000] pixels", o.Sigma)
		}
		gaussianBlurTo(&st.fixed, x, s)
	case CustomBaselines:
		if o.Baseline == nil || o.Baseline.Shape != x.Shape || len(o.Baseline.Data) != L {
			return errorf("xai: gradientshap baseline image %v, want the input's shape %v", o.Baseline, x)
		}
		copy(st.fixed.Data, o.Baseline.Data)
	default:
		return errorf("xai: unknown GradientSHAP baselines %d", int(o.Baselines))
	}
	return nil
}

// sample draws sample i (≥ 1) into st.b and st.xt and returns α_i.
func (st *shapState) sample(i int, x []float32) float64 {
	seedStream(&st.pcg, st.o.Seed, shapTag, i)
	r := st.rng
	alpha := r.Float64()
	switch st.o.Baselines {
	case UniformBaselines:
		for j := range st.b {
			st.b[j] = float32(st.lo + (st.hi-st.lo)*r.Float64())
		}
	case BlackWhiteBaselines:
		if r.Float64() < 0.5 {
			clear(st.b)
		} else {
			fill32(st.b, float32(st.hi))
		}
	default:
		copy(st.b, st.fixed.Data)
	}
	if st.sigma > 0 {
		for j, v := range x {
			st.xt[j] = float32(float64(v) + st.sigma*r.NormFloat64())
		}
	} else {
		copy(st.xt, x)
	}
	return alpha
}

// white reports whether sample i's black-or-white baseline is white.
func (st *shapState) white(seed uint64, i int) bool {
	if st.rng == nil {
		st.rng = rand.New(&st.pcg)
	}
	seedStream(&st.pcg, seed, shapTag, i)
	st.rng.Float64()
	return st.rng.Float64() >= 0.5
}

func init() {
	register(Method{Name: "gradientshap", Label: "GradientSHAP", Family: FamilyPath, Display: DisplaySigned, Seeded: true,
		Paper: "Lundberg and Lee, \"A Unified Approach to Interpreting Model Predictions\", NeurIPS 2017 (expected gradients, as Captum's GradientShap)",
		URL:   "https://arxiv.org/abs/1705.07874",
		Doc:   "Gradients at random points between the image and random baseline images, times the difference, averaged: an estimate of each pixel's SHAP value, summed over the colour channels. Red raises the score, blue lowers it.",
		Params: []Param{
			{Name: "samples", Label: "Samples", Kind: Int, Default: 25, Min: 1, Max: maxSteps, Doc: "random baselines and path points averaged"},
			{Name: "baselines", Label: "Baselines", Kind: Choice, Default: "uniform", Choices: shapBaselineNames,
				Doc: "the baselines' distribution: uniform noise images, black or white, black, or the blurred image"},
			{Name: "noise", Label: "Noise", Kind: Float, Default: 0.0, Min: 0, Max: 10, Doc: "standard deviation of noise added to the image per sample, as a fraction of the input range"},
			{Name: "sigma", Label: "Blur sigma", Kind: Float, Default: 5.0, Min: 0.1, Max: 1000, Doc: "the blur baseline's Gaussian standard deviation in pixels",
				With: &ParamWith{"baselines", []string{"blur"}}},
		},
		run: func(ex *Explainer, x *nn.Tensor, r *Request, v Values, dst *Result) error {
			o, err := shapOptions(r, v)
			if err != nil {
				return err
			}
			a, err := ex.GradientSHAP(x, o)
			if err != nil {
				return err
			}
			shapResult(dst, &a)
			return nil
		},
		split: &splitter{
			evaluations: func(ex *Explainer, r *Request, v Values) (int, error) {
				o, err := shapOptions(r, v)
				if err != nil {
					return 0, err
				}
				return o.evaluations()
			},
			part: func(ex *Explainer, dst *Part, x *nn.Tensor, r *Request, v Values, lo, hi int) error {
				o, err := shapOptions(r, v)
				if err != nil {
					return err
				}
				return ex.shapPart(dst, x, o, lo, hi)
			},
			combine: func(ex *Explainer, dst *Result, x *nn.Tensor, r *Request, v Values, parts []*Part) error {
				o, err := shapOptions(r, v)
				if err != nil {
					return err
				}
				var a SHAPAttribution
				if err := ex.shapCombine(&a, x, o, parts); err != nil {
					return err
				}
				shapResult(dst, &a)
				return nil
			},
		}})
}

func shapOptions(r *Request, v Values) (GradientSHAPOptions, error) {
	b, err := ParseSHAPBaselines(v.String("baselines"))
	o := GradientSHAPOptions{Target: r.Target, Samples: v.Int("samples"), Baselines: b, Sigma: v.Float("sigma"),
		Noise: v.Float("noise"), Seed: r.Seed, Progress: r.Progress}
	if r.Baseline != nil {
		o.Baselines, o.Baseline = CustomBaselines, r.Baseline
	}
	return o, err
}

func shapResult(dst *Result, a *SHAPAttribution) {
	dst.setPrediction(a.Prediction)
	dst.Map.reshape(a.Map.H, a.Map.W, a.Map.C)
	copy(dst.Map.Data, a.Map.Data)
	dst.Zero, dst.Passes = allZero(a.Map.Data), a.Passes
	c := a.Check
	dst.Check = &c
}

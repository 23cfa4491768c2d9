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
func (ex *Explainer) GradientSHAP(x *nn.Tensor, o GradientSHAPOptions) (SHAPAttribution, error) {
	var a SHAPAttribution
	if err := ex.check(x, o.Target); err != nil {
		return a, err
	}
	n := o.Samples
	if n == 0 {
		n = 25
	}
	if n < 1 || n > maxSteps {
		return a, errorf("xai: gradientshap samples %d out of range 1..%d", n, maxSteps)
	}
	if !(o.Noise >= 0 && o.Noise <= 10) {
		return a, errorf("xai: gradientshap noise %g out of range 0..10 (a fraction of the input range)", o.Noise)
	}
	lo, hi := inputRange(ex.Model.Preprocess)
	st := &ex.shap
	if err := st.setup(x, o, lo, hi, ex.batch()); err != nil {
		return a, err
	}
	L := len(x.Data)
	B := ex.batch()
	terms := resize64(st.terms, n+1) // Σ_j of sample i's term
	st.terms = terms
	st.acc = resize64(st.acc, L)
	clear(st.acc)
	point := func(i int, dst []float32) {
		if i == 0 {
			copy(dst, x.Data)
			return
		}
		d := st.diff[(i%B)*L : (i%B+1)*L]
		alpha := st.sample(i, x.Data)
		for j, v := range st.xt {
			bv := float64(st.b[j])
			d[j] = float32(float64(v) - bv)
			dst[j] = float32(bv + alpha*(float64(v)-bv))
		}
	}
	var scoreX float64
	use := func(i int, g []float32, s float64) {
		if i == 0 {
			scoreX = s
			return
		}
		d := st.diff[(i%B)*L : (i%B+1)*L]
		var t float64
		for j, v := range g {
			p := float64(v) * float64(d[j])
			st.acc[j] += p
			t += p
		}
		terms[i] = t
	}
	class := ex.eng.sweep(n+1, B, o.Target, point, use, o.Progress)
	setPrediction(&a.Prediction, o.Target, class, ex.eng.p0, ex.eng.z0, scoreX)
	a.Samples, a.Passes = n, n+1
	in := ex.Model.InputShape()
	a.Map = NewMap(in[0], in[1], in[2])
	for j, v := range st.acc {
		a.Map.Data[j] = float32(v / float64(n))
	}
	passes, err := ex.shapCheck(&a.Check, x, o, n, class, scoreX, a.Map.Data)
	a.Passes += passes
	return a, err
}

// shapCheck computes GradientSHAP's expected completeness from the
// samples' terms in ex.shap.terms, with forward passes at the distinct
// baselines and noisy inputs. It returns the number of passes.
func (ex *Explainer) shapCheck(c *Check, x *nn.Tensor, o GradientSHAPOptions, n, class int, scoreX float64, attr []float32) (int, error) {
	st := &ex.shap
	t := Target{Class: class, Kind: o.Target.Kind}
	// The points to score: per sample, its noisy input (when there is
	// noise) and its baseline (when baselines vary), or the fixed
	// baselines once.
	noisy := o.Noise > 0
	var fixed []func(dst []float32) // baselines that do not vary
	switch o.Baselines {
	case BlackWhiteBaselines:
		fixed = []func([]float32){func(d []float32) { clear(d) }, func(d []float32) { fill32(d, float32(st.hi)) }}
	case BlackBaselines, BlurBaselines, CustomBaselines:
		fixed = []func([]float32){func(d []float32) { copy(d, st.fixed.Data) }}
	}
	perSample := 0
	if noisy {
		perSample++
	}
	if fixed == nil {
		perSample++
	}
	total := len(fixed) + perSample*n
	scores := resize64(st.scores, total)
	st.scores = scores
	point := func(k int, dst []float32) {
		if k < len(fixed) {
			fixed[k](dst)
			return
		}
		k -= len(fixed)
		i := k/perSample + 1
		st.sample(i, x.Data)
		if noisy && k%perSample == 0 {
			copy(dst, st.xt)
		} else {
			copy(dst, st.b)
		}
	}
	use := func(k int, s float64) { scores[k] = s }
	if total > 0 {
		if _, _, err := ex.eng.scan(nil, total, ex.batch(), t, point, use, nil); err != nil {
			return total, err
		}
	}
	// Per sample: d_i = Score(x̃_i) − Score(b_i), and the term's miss
	// e_i = term_i − d_i (for the standard error).
	var sx, sb, se, se2 float64
	for i := 1; i <= n; i++ {
		k := len(fixed) + (i-1)*perSample
		xs := scoreX
		if noisy {
			xs = scores[k]
			k++
		}
		var bs float64
		switch {
		case fixed == nil:
			bs = scores[k]
		case len(fixed) == 2:
			bs = scores[0]
			if st.white(i) {
				bs = scores[1]
			}
		default:
			bs = scores[0]
		}
		sx += xs
		sb += bs
		e := st.terms[i] - (xs - bs)
		se += e
		se2 += e * e
	}
	fn := float64(n)
	c.Name = "expected completeness"
	c.ScoreX, c.ScoreRef = sx/fn, sb/fn
	if !noisy {
		c.ScoreX = scoreX // not a sum of n copies, rounded
	}
	if len(fixed) == 1 {
		c.ScoreRef = scores[0]
	}
	c.Sum, c.Gap = Completeness(attr, c.ScoreX, c.ScoreRef)
	c.Want = c.ScoreX - c.ScoreRef
	c.Rel = RelativeGap(c.Gap, c.ScoreX, c.ScoreRef)
	c.Threshold = GapThreshold
	if n > 1 && c.Want != 0 {
		mean := se / fn
		sd := math.Sqrt(max(se2/fn-mean*mean, 0) * fn / (fn - 1))
		c.Threshold = max(GapThreshold, 3*sd/math.Sqrt(fn)/math.Abs(c.Want))
	}
	return total, nil
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
	acc    []float64 // Σ terms, per value
	terms  []float64 // per sample: Σ_j of its term
	scores []float64 // the check's forward passes
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
func (st *shapState) white(i int) bool {
	seedStream(&st.pcg, st.o.Seed, shapTag, i)
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
			{Name: "sigma", Label: "Blur sigma", Kind: Float, Default: 5.0, Min: 0.1, Max: 1000, Doc: "the blur baseline's Gaussian standard deviation in pixels"},
		},
		run: func(ex *Explainer, x *nn.Tensor, r *Request, v Values, dst *Result) error {
			b, err := ParseSHAPBaselines(v.String("baselines"))
			if err != nil {
				return err
			}
			o := GradientSHAPOptions{Target: r.Target, Samples: v.Int("samples"), Baselines: b, Sigma: v.Float("sigma"),
				Noise: v.Float("noise"), Seed: r.Seed, Progress: r.Progress}
			if r.Baseline != nil {
				o.Baselines, o.Baseline = CustomBaselines, r.Baseline
			}
			a, err := ex.GradientSHAP(x, o)
			if err != nil {
				return err
			}
			dst.setPrediction(a.Prediction)
			dst.Map, dst.Zero, dst.Passes = a.Map, allZero(a.Map.Data), a.Passes
			c := a.Check
			dst.Check = &c
			return nil
		}})
}

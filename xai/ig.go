package xai

import (
	"errors"
	"strconv"

	"github.com/mavis-xai/mavis/nn"
)

// IGOptions configures IntegratedGradients.
type IGOptions struct {
	Target   Target
	Steps    int // m, the number of quadrature points (default 50)
	Rule     Rule
	Baseline Baseline
	// Progress, when not nil, is called after every batch of steps with
	// the number of gradients computed and the total (Evaluations; for
	// IGPathSumTo, those of its range).
	Progress func(done, total int)
}

// Attribution is an Integrated-Gradients explanation.
type Attribution struct {
	Prediction          // at x; Score is Score(x)
	Map        Map      // H x W x C attributions
	Baseline   Baseline // as asked
	Rule       Rule
	Steps      int
	// BaselineScore is Score(b) for the explained class.
	BaselineScore float64
	// Sum is Σ Map (accumulated in float64) and Gap the completeness gap
	// Sum − (Score − BaselineScore) (see Completeness).
	Sum, Gap float64
	// Evaluations is the number of gradients computed: Steps, plus 2 for
	// Gauss–Legendre, whose nodes exclude x and b.
	Evaluations int
}

// IntegratedGradients computes Integrated Gradients (Sundararajan, Taly
// and Yan, "Axiomatic Attribution for Deep Networks", ICML 2017, eq. 1 and
// its Riemann approximation eq. 3) for x (1 x H x W x C):
//
//	IG = (x − b) ⊙ Σ_k w_k ∂Score/∂x (b + α_k (x − b))
//
// with nodes α_k and weights w_k from the rule (see Rule): by default the
// original's inclusive linspace(0, 1, m) with the plain mean, which is what
// the fixtures specify. Steps run Batch at a time through one forward and
// backward pass; the result does not depend on Batch. The class is fixed at
// x's prediction (for Target.Class −1) for every step and the baseline.
// The gradients are accumulated in float64.
//
// The path sum can also be split into ranges of evaluations computed apart
// (by other workers, each with its own Explainer) and combined: see
// IGPathSumTo and CombineIGTo.
func (ex *Explainer) IntegratedGradients(x *nn.Tensor, o IGOptions) (Attribution, error) {
	var a Attribution
	err := ex.IntegratedGradientsTo(&a, x, o)
	return a, err
}

// IntegratedGradientsTo is IntegratedGradients writing into dst, reusing its
// storage: repeated calls with the same options allocate nothing (the rule's
// nodes aside) once warm. It is IGPathSumTo over every evaluation followed
// by CombineIGTo of that one part.
func (ex *Explainer) IntegratedGradientsTo(dst *Attribution, x *nn.Tensor, o IGOptions) error {
	n, err := ex.evaluations(o)
	if err != nil {
		return err
	}
	p := &ex.ig.part
	if err := ex.pathSum(p, x, o, 0, n); err != nil {
		return err
	}
	ex.ig.one[0] = p
	ex.combine(dst, x, o, ex.ig.one[:])
	return nil
}

// IGPart is a slice of the Integrated-Gradients path sum: the weighted
// gradients at evaluations [Lo, Hi) of the evaluation order, summed.
//
// The evaluation order is x (α = 1) first, so that its prediction fixes the
// class; then descending α down to the baseline (α = 0), the last
// evaluation. A rule whose nodes exclude 1 and 0 (Gauss–Legendre) gets x
// and b as extra evaluations of weight 0, for their scores.
type IGPart struct {
	Lo, Hi      int // the evaluations summed, 0 ≤ Lo < Hi ≤ Evaluations
	Evaluations int // of the whole path (IGOptions.Evaluations)
	Class       int // the class explained
	// Sum is Σ_{i ∈ [Lo, Hi)} w_i ∂Score/∂x (b + α_i (x − b)), H x W x C,
	// accumulated in float64 in evaluation order.
	Sum []float64
	// Prediction is the model's output at x, set when Lo == 0 (the part
	// holds x); otherwise only its Class and Target are set.
	Prediction Prediction
	// BaselineScore is Score(b), set when Hi == Evaluations (the part
	// holds b); otherwise 0.
	BaselineScore float64
}

// Evaluations returns the number of gradients Integrated Gradients with
// these options computes: Steps (50 when 0), plus 2 for a rule whose
// nodes exclude 1 and 0 (Gauss–Legendre). It fails for a step count the
// rule does not support.
func (o IGOptions) Evaluations() (int, error) {
	alpha, _, err := alphas(o.Rule, o.steps())
	if err != nil {
		return 0, err
	}
	return len(alpha) + igEnds(alpha), nil
}

func (o IGOptions) steps() int {
	if o.Steps == 0 {
		return 50
	}
	return o.Steps
}

// igEnds is 2 when the nodes lack x (α = 1) or b (α = 0), else 0.
func igEnds(alpha []float64) int {
	if alpha[0] != 0 || alpha[len(alpha)-1] != 1 {
		return 2
	}
	return 0
}

// evaluations is IGOptions.Evaluations with the explainer's cached nodes.
func (ex *Explainer) evaluations(o IGOptions) (int, error) {
	alpha, _, err := ex.nodes(o.Rule, o.steps())
	if err != nil {
		return 0, err
	}
	return len(alpha) + igEnds(alpha), nil
}

// IGPathSumTo computes the part of Integrated Gradients' path sum over the
// evaluations [lo, hi) (see IGPart; o.Evaluations() is their number) for x
// into dst, reusing its storage. A part that excludes x (lo > 0) cannot
// resolve the predicted class, so it needs o.Target.Class ≥ 0: the class
// the part holding x resolved (or Predict's class for x). Splitting the
// evaluations into ranges, computing each with its own Explainer and
// combining the parts with CombineIGTo gives IntegratedGradients' result
// up to the float64 summation order of the parts.
func (ex *Explainer) IGPathSumTo(dst *IGPart, x *nn.Tensor, o IGOptions, lo, hi int) error {
	return ex.pathSum(dst, x, o, lo, hi)
}

func (ex *Explainer) pathSum(dst *IGPart, x *nn.Tensor, o IGOptions, lo, hi int) error {
	if err := ex.check(x, o.Target); err != nil {
		return err
	}
	m := o.steps()
	alpha, weight, err := ex.nodes(o.Rule, m)
	if err != nil {
		return err
	}
	ends := igEnds(alpha)
	n := m + ends
	if lo < 0 || hi > n || lo >= hi {
		return errors.New("xai: IG evaluations " + itoa(lo) + ".." + itoa(hi) + " are not a non-empty range within 0.." + itoa(n))
	}
	if lo > 0 && o.Target.Class < 0 {
		return errors.New("xai: IG evaluations " + itoa(lo) + ".." + itoa(hi) + " exclude x (evaluation 0), so they need the class explained (Target.Class ≥ 0), not the predicted class")
	}
	b, err := ex.baseline(x, o.Baseline)
	if err != nil {
		return err
	}
	// at returns α and w of evaluation i; points the rule lacks get
	// weight 0.
	at := func(i int) (a, w float64) {
		if ends == 2 {
			switch i {
			case 0:
				return 1, 0
			case n - 1:
				return 0, 0
			}
			i--
		}
		return alpha[m-1-i], weight[m-1-i]
	}
	dst.Sum = resize64(dst.Sum, len(x.Data))
	clear(dst.Sum)
	var sx, sb float64
	point := func(i int, p []float32) {
		a, _ := at(lo + i)
		for j, v := range x.Data {
			bv := float64(b.Data[j])
			p[j] = float32(bv + a*(float64(v)-bv))
		}
	}
	use := func(i int, g []float32, score float64) {
		i += lo
		switch i {
		case 0:
			sx = score
		case n - 1:
			sb = score
		}
		_, w := at(i)
		if w == 0 {
			return
		}
		for j, v := range g {
			dst.Sum[j] += w * float64(v)
		}
	}
	c := ex.eng.sweep(hi-lo, ex.batch(), o.Target, point, use, o.Progress)
	dst.Lo, dst.Hi, dst.Evaluations, dst.Class = lo, hi, n, c
	if lo == 0 {
		setPrediction(&dst.Prediction, o.Target, c, ex.eng.p0, ex.eng.z0, sx)
	} else {
		dst.Prediction.Class, dst.Prediction.Target, dst.Prediction.Score = c, o.Target, 0
		dst.Prediction.Probs, dst.Prediction.Logits = dst.Prediction.Probs[:0], dst.Prediction.Logits[:0]
	}
	dst.BaselineScore = 0
	if hi == n {
		dst.BaselineScore = sb
	}
	return nil
}

// CombineIGTo writes into dst the Integrated-Gradients attribution of x
// made of parts computed by IGPathSumTo with the same x and options (o's
// Progress aside): the parts, in any order, must cover the evaluations
// 0..o.Evaluations() once each and agree on the class. The path sums are
// added in ascending Lo (bitwise IntegratedGradients' result for a single
// part), and the map, completeness sum and gap and the scores at x and
// the baseline are then those IntegratedGradients gives. Parts that do not
// fit x, o or each other are an error (they may come from another worker).
func (ex *Explainer) CombineIGTo(dst *Attribution, x *nn.Tensor, o IGOptions, parts []*IGPart) error {
	if err := ex.check(x, o.Target); err != nil {
		return err
	}
	n, err := ex.evaluations(o)
	if err != nil {
		return err
	}
	// Chain the parts from 0 to n (split.go's chainParts, as for every
	// split method); they must also explain the class asked for, if any.
	ord, err := chainParts(ex.ig.order[:0], parts, n, "IG", func(*Part) int { return len(x.Data) })
	ex.ig.order = ord
	defer clear(ord) // keep no parts alive
	if err != nil {
		return err
	}
	if o.Target.Class >= 0 && len(ord) > 0 && ord[0].Class != o.Target.Class {
		return errors.New("xai: an IG part explains class " + itoa(ord[0].Class) + ", want " + itoa(o.Target.Class))
	}
	if _, err := ex.baseline(x, o.Baseline); err != nil {
		return err
	}
	ex.combine(dst, x, o, ord)
	return nil
}

func countParts(parts []*IGPart) int {
	k := 0
	for _, p := range parts {
		if p != nil {
			k++
		}
	}
	return k
}

// combine fills dst from parts chained in ascending Lo over every
// evaluation, with the baseline for x in ex.base.
func (ex *Explainer) combine(dst *Attribution, x *nn.Tensor, o IGOptions, ord []*IGPart) {
	first, last := ord[0], ord[len(ord)-1]
	b := &ex.base
	in := ex.Model.InputShape()
	dst.Map.reshape(in[0], in[1], in[2])
	for j, v := range x.Data {
		s := first.Sum[j]
		for _, p := range ord[1:] {
			s += p.Sum[j]
		}
		dst.Map.Data[j] = float32((float64(v) - float64(b.Data[j])) * s)
	}
	px := &first.Prediction
	setPrediction(&dst.Prediction, o.Target, first.Class, px.Probs, px.Logits, px.Score)
	dst.Baseline, dst.Rule, dst.Steps, dst.Evaluations = o.Baseline, o.Rule, o.steps(), first.Evaluations
	dst.BaselineScore = last.BaselineScore
	dst.Sum, dst.Gap = Completeness(dst.Map.Data, px.Score, last.BaselineScore)
}

// baseline writes the baseline for x into ex.base and returns it.
func (ex *Explainer) baseline(x *nn.Tensor, bl Baseline) (*nn.Tensor, error) {
	if ex.base.Shape != x.Shape {
		ex.base = nn.Tensor{Shape: x.Shape, Data: make([]float32, len(x.Data))}
	}
	if err := baselineTo(&ex.base, x, bl, ex.Model.Preprocess); err != nil {
		return nil, err
	}
	return &ex.base, nil
}

// igState is the explainer's Integrated-Gradients storage.
type igState struct {
	part  IGPart     // IntegratedGradientsTo's single part
	one   [1]*IGPart // and the list holding it
	order []*IGPart  // CombineIGTo's parts in order
}

func itoa(i int) string { return strconv.Itoa(i) }

// Completeness returns Σ attr (in float64) and the completeness gap
// Σ attr − (Score(x) − Score(b)), Captum's convergence delta. Integrated
// Gradients satisfies completeness exactly in the limit of many steps
// (Sundararajan et al., Proposition 1), so the gap measures the
// quadrature error; the fixtures' rule (Linspace) keeps an O(1/m) bias.
func Completeness(attr []float32, scoreX, scoreBaseline float64) (sum, gap float64) {
	for _, v := range attr {
		sum += float64(v)
	}
	return sum, sum - (scoreX - scoreBaseline)
}

// nodes returns alphas(r, m), cached for repeated calls.
func (ex *Explainer) nodes(r Rule, m int) (alpha, weight []float64, err error) {
	if ex.rule != r || len(ex.alpha) != m {
		ex.alpha, ex.weight, err = alphas(r, m)
		if err != nil {
			ex.alpha, ex.weight = nil, nil
			return nil, nil, err
		}
		ex.rule = r
	}
	return ex.alpha, ex.weight, nil
}

func init() {
	register(Method{Name: "ig", Label: "Integrated Gradients", Family: FamilyPath, Display: DisplaySigned, Default: true, Tunnel: true,
		Paper: "Sundararajan, Taly and Yan, \"Axiomatic Attribution for Deep Networks\", ICML 2017",
		URL:   "https://arxiv.org/abs/1703.01365",
		Doc:   "How much each pixel adds to the score compared with a baseline image, summed over the colour channels; the values add up to the score difference. Red raises the score, blue lowers it.",
		Params: []Param{
			{Name: "steps", Label: "Steps", Kind: Int, Default: 50, Min: 1, Max: maxSteps, Doc: "points on the path from the baseline to the image"},
			{Name: "rule", Label: "Rule", Kind: Choice, Default: "linspace", Choices: []string{"linspace", "trapezoid", "gauss-legendre"},
				Doc: "quadrature rule: the original's linspace mean, the trapezoid rule, or Gauss-Legendre (most accurate for few steps)"},
			baselineParam("the reference image the path starts from"), sigmaParam,
		},
		run: func(ex *Explainer, x *nn.Tensor, r *Request, v Values, dst *Result) error {
			o, err := igOptions(r, v)
			if err != nil {
				return err
			}
			if err := ex.IntegratedGradientsTo(&ex.att, x, o); err != nil {
				return err
			}
			igResult(dst, &ex.att)
			return nil
		},
		split: &splitter{
			evaluations: func(ex *Explainer, r *Request, v Values) (int, error) {
				o, err := igOptions(r, v)
				if err != nil {
					return 0, err
				}
				return ex.evaluations(o)
			},
			part: func(ex *Explainer, dst *Part, x *nn.Tensor, r *Request, v Values, lo, hi int) error {
				o, err := igOptions(r, v)
				if err != nil {
					return err
				}
				return ex.IGPathSumTo(dst, x, o, lo, hi)
			},
			combine: func(ex *Explainer, dst *Result, x *nn.Tensor, r *Request, v Values, parts []*Part) error {
				o, err := igOptions(r, v)
				if err != nil {
					return err
				}
				if err := ex.CombineIGTo(&ex.att, x, o, parts); err != nil {
					return err
				}
				igResult(dst, &ex.att)
				return nil
			},
		}})
}

// igOptions turns a request for "ig" into IGOptions.
func igOptions(r *Request, v Values) (IGOptions, error) {
	o := IGOptions{Target: r.Target, Steps: v.Int("steps"), Progress: r.Progress}
	var err error
	if o.Rule, err = ParseRule(v.String("rule")); err != nil {
		return o, err
	}
	o.Baseline, err = baselineOption(r, v)
	return o, err
}

// igResult fills dst from an attribution: its map is the H x W x C
// attribution, with the completeness check.
func igResult(dst *Result, a *Attribution) {
	dst.setPrediction(a.Prediction)
	dst.Passes = a.Evaluations
	dst.Map.reshape(a.Map.H, a.Map.W, a.Map.C)
	copy(dst.Map.Data, a.Map.Data)
	dst.Zero = a.Sum == 0 && allZero(a.Map.Data)
	dst.Check = &Check{Name: "completeness", Sum: a.Sum, Want: a.Score - a.BaselineScore, ScoreX: a.Score, ScoreRef: a.BaselineScore,
		Gap: a.Gap, Rel: IGGap(*a), Threshold: GapThreshold, Advice: gapAdvice}
}

func allZero(d []float32) bool {
	for _, v := range d {
		if v != 0 {
			return false
		}
	}
	return true
}

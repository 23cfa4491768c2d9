package xai

import (
	"github.com/mavis-xai/mavis/nn"
)

// IGOptions configures IntegratedGradients.
type IGOptions struct {
	Target   Target
	Steps    int // m, the number of quadrature points (default 50)
	Rule     Rule
	Baseline Baseline
	// Progress, when not nil, is called after every batch of steps with
	// the number of gradients computed and the total (Evaluations).
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
func (ex *Explainer) IntegratedGradients(x *nn.Tensor, o IGOptions) (Attribution, error) {
	var a Attribution
	err := ex.IntegratedGradientsTo(&a, x, o)
	return a, err
}

// IntegratedGradientsTo is IntegratedGradients writing into dst, reusing its
// storage: repeated calls with the same options allocate nothing (the rule's
// nodes aside) once warm.
func (ex *Explainer) IntegratedGradientsTo(dst *Attribution, x *nn.Tensor, o IGOptions) error {
	if err := ex.check(x, o.Target); err != nil {
		return err
	}
	m := o.Steps
	if m == 0 {
		m = 50
	}
	alpha, weight, err := ex.nodes(o.Rule, m)
	if err != nil {
		return err
	}
	if ex.base.Shape != x.Shape {
		ex.base = nn.Tensor{Shape: x.Shape, Data: make([]float32, len(x.Data))}
	}
	b := &ex.base
	if err := baselineTo(b, x, o.Baseline, ex.Model.Preprocess); err != nil {
		return err
	}
	// Evaluation order: x (α = 1) first, so that its prediction fixes the
	// class before the first backward pass; then descending α down to the
	// baseline (α = 0). Points the rule lacks get weight 0.
	ends := 0
	if alpha[0] != 0 || alpha[m-1] != 1 {
		ends = 2
	}
	n := m + ends
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
	ex.acc = resize64(ex.acc, len(x.Data))
	clear(ex.acc)
	var sx, sb float64
	point := func(i int, dst []float32) {
		a, _ := at(i)
		for j, v := range x.Data {
			bv := float64(b.Data[j])
			dst[j] = float32(bv + a*(float64(v)-bv))
		}
	}
	use := func(i int, g []float32, score float64) {
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
			ex.acc[j] += w * float64(v)
		}
	}
	c := ex.eng.sweep(n, ex.batch(), o.Target, point, use, o.Progress)
	setPrediction(&dst.Prediction, o.Target, c, ex.eng.p0, ex.eng.z0, sx)
	in := ex.Model.InputShape()
	dst.Map.reshape(in[0], in[1], in[2])
	for j, v := range x.Data {
		a := float32((float64(v) - float64(b.Data[j])) * ex.acc[j])
		dst.Map.Data[j] = a

	}
	dst.Baseline, dst.Rule, dst.Steps, dst.Evaluations = o.Baseline, o.Rule, m, n
	dst.BaselineScore = sb
	dst.Sum, dst.Gap = Completeness(dst.Map.Data, sx, sb)
	return nil
}

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

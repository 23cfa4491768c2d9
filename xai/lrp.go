package xai

import "github.com/mavis-xai/mavis/nn"

// LRPRule is the rule layer-wise relevance propagation applies at every
// convolution and dense layer.
type LRPRule int

const (
	// ZPlus is the z⁺ rule (Montavon et al., "Explaining nonlinear
	// classification decisions with deep Taylor decomposition", Pattern
	// Recognition 2017): only positive contributions, biases ignored;
	// the α-β rule with α = 1, β = 0. It conserves relevance exactly at
	// every unit with a positive contribution.
	ZPlus LRPRule = iota
	// Epsilon is the ε rule (Bach et al. 2015; Montavon et al. 2019's
	// LRP-ε): contributions over the pre-activation plus
	// ε·sign; biases and ε absorb relevance. With ε = 0 (LRP-0) it equals
	// Gradient × Input on a ReLU network.
	Epsilon
	// AlphaBeta is the α-β rule (Bach et al. 2015): positive
	// contributions weighted α, negative ones β = α − 1, each normalised
	// by their own sum; biases ignored.
	AlphaBeta
)

var lrpRules = []string{"z+", "epsilon", "alpha-beta"}

func (r LRPRule) String() string {
	if r >= 0 && int(r) < len(lrpRules) {
		return lrpRules[r]
	}
	return "unknown"
}

// ParseLRPRule reads "z+", "epsilon" or "alpha-beta".
func ParseLRPRule(s string) (LRPRule, error) {
	for i, name := range lrpRules {
		if s == name {
			return LRPRule(i), nil
		}
	}
	return 0, errorf("xai: unknown LRP rule %q (want %s)", s, join(lrpRules, ", "))
}

// LRPOptions configures LRP.
type LRPOptions struct {
	Target  Target
	Rule    LRPRule
	Epsilon float64 // the ε rule's stabiliser, ≥ 0
	Alpha   float64 // the α-β rule's α ≥ 1 (β = α − 1); 0 means 2
}

// Relevance is an LRP explanation.
type Relevance struct {
	Prediction     // at x; Score is the relevance put in at the logit
	Map        Map // H x W x C relevance of the input values
	// Sum is Σ Map (float64); Layers the relevance summed at every layer's
	// input, the model's input first, up to the logits layer's.
	Sum    float64
	Layers []LayerSum
}

// LRP computes layer-wise relevance propagation (Bach, Binder, Montavon,
// Klauschen, Müller and Samek, "On Pixel-Wise Explanations for Non-Linear
// Classifier Decisions by Layer-Wise Relevance Propagation", PLoS ONE
// 2015; Montavon, Binder, Lapuschkin, Samek and Müller, "Layer-Wise
// Relevance Propagation: An Overview", in Explainable AI, LNCS 11700,
// 2019) for x (1 x H x W x C). The relevance starts as the score at the
// logit of class c (z_c for the logit target; for the probability target
// p_c, put at the same logit: LRP explains the logit, and the map is then
// the logit's scaled by p_c / z_c under the linear rules) and is passed
// down layer by layer:
//
//   - convolutions and dense layers by the rule (ZPlus, Epsilon,
//     AlphaBeta), the same at every one of them, the first included
//     (pixels are non-negative);
//   - ReLUs pass relevance unchanged (R of a unit's output is that of its
//     pre-activation);
//   - max-pools send a window's relevance to its first maximum (winner
//     takes all), flatten and dropout pass it on;
//   - batch normalisation, y = s·x + t at inference, is folded into the
//     next convolution or dense layer (through pools, dropout and flatten):
//     s into its weights, t into its bias. Relevance passes the batch
//     normalisation unchanged, and the next layer sees its input minus t.
//     A batch normalisation not followed by a linear layer that way is an
//     error.
//
// Conservation: Σ R at a layer's input equals Σ R at its output, except
// for what a rule drops. ZPlus drops the relevance of units without a
// positive contribution (z⁺ = 0), AlphaBeta also that of units without a
// negative one (then only α of it passes), and Epsilon the share of the
// biases (the folded shifts included) and of ε: Σ_j R_j (b_j + ε·sign z_j)
// / (z_j + ε·sign z_j) per layer. Relevance.Layers shows where it goes.
func (ex *Explainer) LRP(x *nn.Tensor, o LRPOptions) (Relevance, error) {
	var r Relevance
	err := ex.LRPTo(&r, x, o)
	return r, err
}

// LRPTo is LRP writing into dst, reusing its storage.
func (ex *Explainer) LRPTo(dst *Relevance, x *nn.Tensor, o LRPOptions) error {
	if err := ex.check(x, o.Target); err != nil {
		return err
	}
	rule := lrpRule{eps: o.Epsilon}
	switch o.Rule {
	case ZPlus:
		rule.alphaBeta, rule.alpha, rule.beta = true, 1, 0
	case Epsilon:
		if !(o.Epsilon >= 0) {
			return errorf("xai: lrp epsilon %g must be at least 0", o.Epsilon)
		}
	case AlphaBeta:
		a := o.Alpha
		if a == 0 {
			a = 2
		}
		if !(a >= 1 && a <= 1e6) {
			return errorf("xai: lrp alpha %g out of range 1..1e6 (beta = alpha − 1)", o.Alpha)
		}
		rule.alphaBeta, rule.alpha, rule.beta = true, a, a-1
	default:
		return errorf("xai: unknown LRP rule %d", int(o.Rule))
	}
	e := &ex.eng
	copy(e.input(1).Data, x.Data)
	c := e.pass(o.Target, noBackward)
	setPrediction(&dst.Prediction, o.Target, c, e.p[:e.k], e.z[:e.k], e.score[0])
	r, err := e.relevance(rule, c, e.score[0])
	if err != nil {
		return err
	}
	in := ex.Model.InputShape()
	dst.Map.reshape(in[0], in[1], in[2])
	copy(dst.Map.Data, r)
	dst.Sum = 0
	for _, v := range r {
		dst.Sum += float64(v)
	}
	dst.Layers = dst.Layers[:0]
	for i, s := range e.lrp.sums {
		dst.Layers = append(dst.Layers, LayerSum{Layer: ex.Model.Layers[i].Name(), Sum: s})
	}
	return nil
}

func init() {
	register(Method{Name: "lrp", Fast: true, Label: "LRP", Family: FamilyPropagation, Display: DisplaySigned,
		Paper: "Bach et al., \"On Pixel-Wise Explanations for Non-Linear Classifier Decisions by Layer-Wise Relevance Propagation\", PLoS ONE 2015",
		URL:   "https://doi.org/10.1371/journal.pone.0130140",
		Doc:   "The score passed back layer by layer as relevance, each unit sharing it among its inputs by their contributions, summed over the colour channels; the z+ rule keeps positive contributions only and loses almost none of the score on the way. Red supports the class, blue speaks against it.",
		Params: []Param{
			{Name: "rule", Label: "Rule", Kind: Choice, Default: "z+", Choices: lrpRules,
				Doc: "how a layer shares relevance: z+ (positive contributions only, conservative), epsilon (all contributions, biases absorb some) or alpha-beta (positive ones weighted alpha, negative ones alpha − 1)"},
			{Name: "epsilon", Label: "Epsilon", Kind: Float, Default: 0.25, Min: 0, Max: 1e6,
				Doc: "the epsilon rule's stabiliser, added to each pre-activation's magnitude (0: Gradient × Input)"},
			{Name: "alpha", Label: "Alpha", Kind: Float, Default: 2.0, Min: 1, Max: 1e6,
				Doc: "the alpha-beta rule's weight of positive contributions (beta = alpha − 1)"},
		},
		run: func(ex *Explainer, x *nn.Tensor, r *Request, v Values, dst *Result) error {
			rule, err := ParseLRPRule(v.String("rule"))
			if err != nil {
				return err
			}
			var rel Relevance
			rel.Map = dst.Map
			if err := ex.LRPTo(&rel, x, LRPOptions{Target: r.Target, Rule: rule, Epsilon: v.Float("epsilon"), Alpha: v.Float("alpha")}); err != nil {
				return err
			}
			dst.setPrediction(rel.Prediction)
			dst.Map, dst.Passes = rel.Map, 1
			dst.Zero = rel.Sum == 0 && allZero(rel.Map.Data)
			gap := rel.Sum - rel.Score
			dst.Check = &Check{Name: "relevance conservation", Sum: rel.Sum, Want: rel.Score, ScoreX: rel.Score,
				Gap: gap, Rel: RelativeGap(gap, rel.Score, 0), Threshold: GapThreshold, Layers: rel.Layers,
				Advice: lrpAdvice(rule)}
			return nil
		}})
}

// lrpAdvice says why an LRP map may miss conservation and what keeps it.
func lrpAdvice(r LRPRule) string {
	if r == Epsilon {
		return "the epsilon rule lets biases and epsilon absorb relevance by design; the z+ or alpha-beta rule conserves it"
	}
	return "the rule drops the relevance of units with no positive input (black regions seen by the first layer); read the map as conservative only up to that share"
}

package xai

import "github.com/mavis-xai/mavis/nn"

// DeepLIFTOptions configures DeepLIFT.
type DeepLIFTOptions struct {
	Target Target
	// Reference is the reference input x⁰, chosen like Integrated
	// Gradients' baseline (Black, the default, White, Blur, Noise or a
	// Custom image).
	Reference Baseline
}

// Contributions is a DeepLIFT explanation.
type Contributions struct {
	Prediction           // at x; Score is Score(x)
	Map        Map       // H x W x C contribution scores m ⊙ (x − x⁰)
	Reference  Baseline  // as asked
	RefScore   float64   // Score(x⁰) for the explained class
	RefLogits  []float64 // the model's logits at x⁰
	// Sum is Σ Map (accumulated in float64), Delta the score difference
	// Score(x) − Score(x⁰) it should equal (summation-to-delta) and Gap
	// their difference Sum − Delta.
	Sum, Delta, Gap float64
}

// DeepLIFT computes DeepLIFT with the Rescale rule (Shrikumar, Greenside
// and Kundaje, "Learning Important Features Through Propagating
// Activation Differences", ICML 2017: summation-to-delta, multipliers
// and their chain rule, the Linear and Rescale rules) for x
// (1 x H x W x C) against the reference x⁰:
//
//	Map = m ⊙ (x − x⁰),   Σ Map = Score(x) − Score(x⁰)   (summation-to-delta)
//
// where m are the multipliers of the input, propagated backwards as
// gradients are (the chain rule for multipliers) with these rules:
//
//   - a ReLU multiplies by its secant slope (y − y⁰)/(u − u⁰) (the Rescale
//     rule), or by its derivative where u = u⁰;
//   - convolutions, dense layers, batch normalisation (the affine map it
//     is at inference), flatten and dropout are linear: their multipliers
//     are their ordinary backward pass (the Linear rule);
//   - a max-pool follows Captum's rule (captum.attr.DeepLift): each
//     window's Δy = y − y⁰ is split into max(y, y⁰) − y⁰, credited to the
//     input's maximum, and y − max(y, y⁰), credited to the reference's, each
//     divided by that element's own Δx. Summation-to-delta then holds
//     exactly through the pool; the authors' implementation routes by the
//     input's maximum alone, which holds it only when a window's elements
//     share one reference value (nn.Rescale has the details);
//   - the target: for the logit, the multiplier of z_c is 1; for the
//     probability, the softmax (which has no single-input rule) gets the
//     multipliers ∫_0^1 ∂p_c/∂z (z⁰ + α(z − z⁰)) dα along the straight line
//     between the logits, so that Σ_j m_j (z_j − z⁰_j) = p_c(x) − p_c(x⁰).
//
// The class is x's prediction (for Target.Class −1). Summation-to-delta
// holds up to float32 rounding of the two forward passes; Gap measures it.
// It costs two forward passes (x⁰, then x) and one backward pass.
func (ex *Explainer) DeepLIFT(x *nn.Tensor, o DeepLIFTOptions) (Contributions, error) {
	var d Contributions
	err := ex.DeepLIFTTo(&d, x, o)
	return d, err
}

// DeepLIFTTo is DeepLIFT writing into dst, reusing its storage.
func (ex *Explainer) DeepLIFTTo(dst *Contributions, x *nn.Tensor, o DeepLIFTOptions) error {
	if err := ex.check(x, o.Target); err != nil {
		return err
	}
	x0, err := ex.baseline(x, o.Reference)
	if err != nil {
		return err
	}
	e := &ex.eng
	c, z0, p0 := e.rescale(x, x0, o.Target)
	k := e.k
	setPrediction(&dst.Prediction, o.Target, c, e.p[:k], e.z[:k], e.score[0])
	dst.Reference = o.Reference
	dst.RefLogits = append(dst.RefLogits[:0], z0...)
	if o.Target.Kind == Probability {
		dst.RefScore = p0[c]
		// p_c(x) − p_c(x⁰) as (1 − p_c(x⁰)) − (1 − p_c(x)), each 1 − p_c a
		// sum over the other classes: no cancellation when p_c ≈ 1.
		dst.Delta = rest(p0, c) - rest(e.p[:k], c)
	} else {
		dst.RefScore = z0[c]
		dst.Delta = dst.Score - dst.RefScore
	}
	g := ex.Model.InputGrad()
	dst.Map.reshape(g.Shape[1], g.Shape[2], g.Shape[3])
	var sum float64
	for i, v := range x.Data {
		a := float32(float64(g.Data[i]) * (float64(v) - float64(x0.Data[i])))
		dst.Map.Data[i] = a
		sum += float64(a)
	}
	dst.Sum, dst.Gap = sum, sum-dst.Delta
	return nil
}

// rest returns Σ_{j≠c} p_j, that is 1 − p_c without cancellation.
func rest(p []float64, c int) float64 {
	var s float64
	for j, v := range p {
		if j != c {
			s += v
		}
	}
	return s
}

func init() {
	register(Method{Name: "deeplift", Fast: true, Label: "DeepLIFT", Family: FamilyPropagation, Display: DisplaySigned,
		Paper:  "Shrikumar, Greenside and Kundaje, \"Learning Important Features Through Propagating Activation Differences\", ICML 2017",
		URL:    "https://arxiv.org/abs/1704.02685",
		Doc:    "How much each pixel's difference from a reference image adds to the score's difference, summed over the colour channels, in one backward pass; the values add up to the score difference exactly. Red raises the score, blue lowers it.",
		Params: []Param{baselineParam("the reference image the differences are taken from"), sigmaParam},
		run: func(ex *Explainer, x *nn.Tensor, r *Request, v Values, dst *Result) error {
			ref, err := baselineOption(r, v)
			if err != nil {
				return err
			}
			var d Contributions
			d.Map = dst.Map
			if err := ex.DeepLIFTTo(&d, x, DeepLIFTOptions{Target: r.Target, Reference: ref}); err != nil {
				return err
			}
			dst.setPrediction(d.Prediction)
			dst.Map, dst.Passes = d.Map, 2
			dst.Zero = d.Sum == 0 && allZero(d.Map.Data)
			dst.Check = &Check{Name: "summation to delta", Sum: d.Sum, Want: d.Delta, ScoreX: d.Score, ScoreRef: d.RefScore,
				Gap: d.Gap, Rel: RelativeGap(d.Gap, d.Delta, 0), Threshold: GapThreshold,
				Advice: "DeepLIFT's rules add up exactly, so a gap is float32 rounding on a score difference near zero: compare against another reference"}
			return nil
		}})
}

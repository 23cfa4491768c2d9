package xai

import "github.com/mavis-xai/mavis/nn"

// InputXGradient computes Gradient ⊙ Input (Shrikumar et al., "Not Just a
// Black Box: Learning Important Features Through Propagating Activation
// Differences", 2016, sec. 2; Ancona et al., ICLR 2018, sec. 2.1) for x
// (1 x H x W x C):
//
//	Map[h,w,c] = x[h,w,c] · ∂Score/∂x[h,w,c]
//
// the first-order Taylor contribution of each input value against an
// all-zero input, signed. For a linear model z = wᵀx + b it is exactly
// each term w_i x_i; it equals Integrated Gradients with a black baseline
// whenever the gradient is constant along the path.
func (ex *Explainer) InputXGradient(x *nn.Tensor, t Target) (Map, Prediction, error) {
	if err := ex.SaliencyTo(&ex.sal, x, t); err != nil {
		return Map{}, Prediction{}, err
	}
	g := ex.sal.Grad
	m := NewMap(g.H, g.W, g.C)
	for i, v := range x.Data {
		m.Data[i] = v * g.Data[i]
	}
	return m, ex.sal.Prediction, nil
}

func init() {
	register(Method{Name: "inputxgrad", Fast: true, Label: "Gradient × Input", Family: FamilyGradient, Display: DisplaySigned, Tunnel: true,
		Paper: "Shrikumar et al., \"Not Just a Black Box: Learning Important Features Through Propagating Activation Differences\", 2016",
		URL:   "https://arxiv.org/abs/1605.01713",
		Doc:   "Each pixel's value times the score's gradient there, summed over the colour channels: a first-order estimate of what the pixel contributes against a black image. Red raises the score, blue lowers it.",
		run: func(ex *Explainer, x *nn.Tensor, r *Request, _ Values, dst *Result) error {
			m, p, err := ex.InputXGradient(x, r.Target)
			if err != nil {
				return err
			}
			dst.setPrediction(p)
			dst.Map, dst.Zero, dst.Passes = m, allZero(m.Data), 1
			return nil
		}})
}

package xai

import "github.com/mavis-xai/mavis/nn"

// HiResCAM computes HiResCAM (Draelos and Carin, "Use HiResCAM instead of
// Grad-CAM for faithful explanations of convolutional neural networks",
// arXiv:2011.08891, 2020) for x (1 x H x W x C), with A the chosen layer's output and
// g = ∂Score/∂A:
//
//	Raw = relu(Σ_k g[:,:,k] ⊙ A[:,:,k])
//
// Grad-CAM without the spatial mean of the gradient: each position's own
// gradient weights its activations, so the map sums, position by position,
// the first-order contributions g·A of the layer's values to the score.
// When A is followed by a global average pool and a dense layer (CAM's
// architecture), g is the same at every position and HiResCAM equals
// Grad-CAM. It has no channel weights.
func (ex *Explainer) HiResCAM(x *nn.Tensor, o CAMOptions) (CAM, error) {
	return ex.elementCAM(x, o, "hirescam", false)
}

// elementCAM computes Raw = relu(Σ_k f(g_k) ⊙ A_k) with f the identity
// (HiResCAM) or relu (LayerCAM), in float64.
func (ex *Explainer) elementCAM(x *nn.Tensor, o CAMOptions, method string, reluGrad bool) (CAM, error) {
	r, err := ex.camPass(x, o, method, true)
	if err != nil {
		return CAM{}, err
	}
	a, g, k := r.Act.Data, r.Grad.Data, r.Act.C
	raw := make([]float64, r.Act.H*r.Act.W)
	for p := range raw {
		var s float64
		for c := p * k; c < (p+1)*k; c++ {
			gv := float64(g[c])
			if reluGrad {
				gv = max(gv, 0)
			}
			s += gv * float64(a[c])
		}
		raw[p] = max(s, 0)
	}
	r.setRaw(raw)
	return r, nil
}

func init() {
	register(Method{Name: "hirescam", Fast: true, Label: "HiResCAM", Family: FamilyCAM, Display: DisplayMax, Layer: true,
		Paper: "Draelos and Carin, \"Use HiResCAM instead of Grad-CAM for faithful explanations of convolutional neural networks\", 2020",
		URL:   "https://arxiv.org/abs/2011.08891",
		Doc:   "Each position of the layer weighted by its own gradient rather than the channel's mean: the parts of the layer that add to the score, where they are. Bright is strong support.",
		run:   camRun((*Explainer).HiResCAM)})
}

package xai

import "github.com/mavis-xai/mavis/nn"

// XGradCAM computes XGrad-CAM (Fu et al., "Axiom-based Grad-CAM: Towards
// Accurate Visualization and Explanation of CNNs", BMVC 2020) for
// x (1 x H x W x C), with A the chosen layer's output and g = ∂Score/∂A:
//
//	w_k = Σ_{i,j} g[i,j,k] A[i,j,k] / (Σ_{i,j} A[i,j,k] + 1e-7)
//	Raw = relu(Σ_k w_k A[:,:,k])
//
// Grad-CAM with the gradient averaged under the channel's own activation
// instead of uniformly, the weights that best satisfy the paper's
// sensitivity and conservation axioms. The 1e-7 (pytorch-grad-cam's,
// the fixtures') keeps a dead channel's weight at 0.
func (ex *Explainer) XGradCAM(x *nn.Tensor, o CAMOptions) (CAM, error) {
	return ex.cam(x, o, "xgradcam", xgradCAMWeights)
}

// xgradCAMWeights is XGrad-CAM's activation-weighted mean of the gradient.
func xgradCAMWeights(w []float64, a, g []float32, k int) {
	clear(w)
	sum := make([]float64, k)
	for p := 0; p < len(a); p += k {
		for c := range k {
			w[c] += float64(g[p+c]) * float64(a[p+c])
			sum[c] += float64(a[p+c])
		}
	}
	for c := range w {
		w[c] /= sum[c] + 1e-7
	}
}

func init() {
	register(Method{Name: "xgradcam", Fast: true, Label: "XGrad-CAM", Family: FamilyCAM, Display: DisplayMax, Layer: true,
		Paper: "Fu et al., \"Axiom-based Grad-CAM: Towards Accurate Visualization and Explanation of CNNs\", BMVC 2020",
		URL:   "https://arxiv.org/abs/2008.02312",
		Doc:   "Like Grad-CAM, with each channel's gradient averaged where the channel is active rather than everywhere. Bright is strong support.",
		run:   camRun((*Explainer).XGradCAM)})
}

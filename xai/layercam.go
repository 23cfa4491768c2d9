package xai

import "github.com/mavis-xai/mavis/nn"

// LayerCAM computes LayerCAM (Jiang et al., "LayerCAM: Exploring
// Hierarchical Class Activation Maps for Localization", IEEE Transactions
// on Image Processing 30, 2021) for x (1 x H x W x C), with A
// the chosen layer's output and g = ∂Score/∂A:
//
//	Raw = relu(Σ_k relu(g[:,:,k]) ⊙ A[:,:,k])
//
// HiResCAM with only the positive gradients: each activation counts where
// raising it would raise the score. Its maps stay sharp at early, high-
// resolution layers, where Grad-CAM's channel means blur. It has no
// channel weights.
func (ex *Explainer) LayerCAM(x *nn.Tensor, o CAMOptions) (CAM, error) {
	return ex.elementCAM(x, o, "layercam", true)
}

func init() {
	register(Method{Name: "layercam", Fast: true, Label: "LayerCAM", Family: FamilyCAM, Display: DisplayMax, Layer: true,
		Paper: "Jiang et al., \"LayerCAM: Exploring Hierarchical Class Activation Maps for Localization\", IEEE TIP 2021",
		URL:   "https://doi.org/10.1109/TIP.2021.3089943",
		Doc:   "Each activation of the layer weighted by its positive gradient: where raising the layer's features would raise the score. Sharp even at early layers. Bright is strong support.",
		run:   camRun((*Explainer).LayerCAM)})
}

package xai

import "github.com/mavis-xai/mavis/nn"

// EigenCAM computes Eigen-CAM (Bany Muhammad and Yeasin, "Eigen-CAM: Class
// Activation Map using Principal Components", IJCNN 2020) for x
// (1 x H x W x C): the projection of the chosen layer's output A on its
// first principal component. With M the positions x channels matrix of A
// (row 7i+j for position (i, j) of a 7 x 7 layer), Mc = M with each
// column centred, and v the first right singular vector of Mc,
//
//	proj = Mc v,  negated when proj · (M's row sums) < 0
//	Raw  = relu(proj)
//
// and all zeros when Mc is zero. The SVD's sign is arbitrary; the rule
// above (the fixtures', README "Wave 2") picks the direction along which
// the layer's total activation grows. v is the top eigenvector of Mcᵀ Mc,
// computed in float64 (principalTo). The map does not depend on the
// target or class (no gradient): it shows what the layer responds to most,
// whatever the prediction. It has no channel weights.
func (ex *Explainer) EigenCAM(x *nn.Tensor, o CAMOptions) (CAM, error) {
	r, err := ex.camPass(x, o, "eigencam", false)
	if err != nil {
		return CAM{}, err
	}
	r.setRaw(principalMap(r.Act.Data, nil, r.Act.H*r.Act.W, r.Act.C))
	return r, nil
}

// EigenGradCAM computes Eigen-Grad-CAM (pytorch-grad-cam's EigenGradCAM,
// Gildenblat and contributors, 2021): EigenCAM of M = (g ⊙ A) with
// g = ∂Score/∂A, the first principal component of the gradient-weighted
// activations (the sign rule uses this M's row sums). Unlike EigenCAM it
// depends on the target and class.
func (ex *Explainer) EigenGradCAM(x *nn.Tensor, o CAMOptions) (CAM, error) {
	r, err := ex.camPass(x, o, "eigengradcam", true)
	if err != nil {
		return CAM{}, err
	}
	r.setRaw(principalMap(r.Act.Data, r.Grad.Data, r.Act.H*r.Act.W, r.Act.C))
	return r, nil
}

// principalMap returns relu of the sign-fixed first principal component
// (principalTo) of M = a, or of M = g ⊙ a when g is not nil, in float64.
//
//	a, g: (n, k)
func principalMap(a, g []float32, n, k int) []float64 {
	m := make([]float64, n*k)
	for i, v := range a {
		m[i] = float64(v)
		if g != nil {
			m[i] *= float64(g[i])
		}
	}
	proj := make([]float64, n)
	principalTo(proj, m, n, k)
	for i, v := range proj {
		proj[i] = max(v, 0)
	}
	return proj
}

func init() {
	register(Method{Name: "eigencam", Fast: true, Label: "Eigen-CAM", Family: FamilyCAM, Display: DisplayMax, Layer: true,
		Paper: "Bany Muhammad and Yeasin, \"Eigen-CAM: Class Activation Map using Principal Components\", IJCNN 2020",
		URL:   "https://arxiv.org/abs/2008.00299",
		Doc:   "The layer's dominant pattern, its first principal component, with no gradient and no class: what the network looks at most, whatever it predicts. Bright is strong response.",
		run:   camRun((*Explainer).EigenCAM)})
	register(Method{Name: "eigengradcam", Fast: true, Label: "Eigen-Grad-CAM", Family: FamilyCAM, Display: DisplayMax, Layer: true,
		Paper: "Gildenblat and contributors, pytorch-grad-cam (EigenGradCAM), 2021; after Bany Muhammad and Yeasin, IJCNN 2020",
		URL:   "https://github.com/jacobgil/pytorch-grad-cam",
		Doc:   "The first principal component of the layer's activations times their gradients: Eigen-CAM made class-specific, like a cleaner Grad-CAM. Bright is strong support.",
		run:   camRun((*Explainer).EigenGradCAM)})
}

package xai

import "github.com/mavis-xai/mavis/nn"

// Guided backpropagation, the deconvnet and Guided Grad-CAM: the score's
// gradient with respect to the input, with a modified backward pass
// through every ReLU (nn.Rule; the convolutions' and the dense layers'
// alike). Everything else runs backward as usual: batch normalisation
// multiplies by its scale, a max-pool sends a window's gradient to the
// first maximum of its forward pass, and the pass starts from
// d(Score)/d(logits) as Saliency's does.
//
// Their maps are shown like Saliency's, as the largest magnitude over the
// colour channels from 0 to a high percentile (DisplayPercentile), not on
// a signed scale: they are not attributions (nothing adds up to the
// score), and the sign of a pixel only reflects the first layer's mixed
// weights after the negative signals above were dropped. The metrics and
// explain's .npy files get the signed H x W x C map.

// GuidedBackprop computes guided backpropagation (Springenberg,
// Dosovitskiy, Brox and Riedmiller, "Striving for Simplicity: The All
// Convolutional Net", ICLR workshop 2015) for x (1 x H x W x C): ∂Score/∂x
// with the backward pass of every ReLU replaced by
//
//	grad_in = grad_out · [u > 0] · [grad_out > 0]
//
// (u the ReLU's input in the forward pass): only positive signals pass,
// and only through units that were active.
func (ex *Explainer) GuidedBackprop(x *nn.Tensor, t Target) (Map, Prediction, error) {
	var m Map
	p, err := ex.ruleGradientTo(&m, x, t, nn.Guided)
	return m, p, err
}

// Deconvnet computes the deconvnet's reconstruction (Zeiler and Fergus,
// "Visualizing and Understanding Convolutional Networks", ECCV 2014) as
// Springenberg et al. (2015) state it: ∂Score/∂x with the backward pass
// of every ReLU replaced by
//
//	grad_in = max(grad_out, 0)
//
// (the ReLU applied to the signal going down, whatever the forward pass
// did); max-pools still route by the forward pass's maximum (the
// deconvnet's "switches").
func (ex *Explainer) Deconvnet(x *nn.Tensor, t Target) (Map, Prediction, error) {
	var m Map
	p, err := ex.ruleGradientTo(&m, x, t, nn.Deconv)
	return m, p, err
}

// ruleGradientTo writes into dst the input gradient of one pass under rule
// r and returns the prediction.
func (ex *Explainer) ruleGradientTo(dst *Map, x *nn.Tensor, t Target, r nn.Rule) (Prediction, error) {
	if err := ex.check(x, t); err != nil {
		return Prediction{}, err
	}
	e := &ex.eng
	copy(e.input(1).Data, x.Data)
	c := e.rulePass(t, 0, r)
	var p Prediction
	setPrediction(&p, t, c, e.p[:e.k], e.z[:e.k], e.score[0])
	g := ex.Model.InputGrad()
	dst.reshape(g.Shape[1], g.Shape[2], g.Shape[3])
	copy(dst.Data, g.Data)
	return p, nil
}

// GuidedGradCAM computes Guided Grad-CAM (Selvaraju et al., "Grad-CAM:
// Visual Explanations from Deep Networks via Gradient-based
// Localization", ICCV 2017): guided backpropagation times the
// layer's raw (unnormalised) Grad-CAM map, upsampled to the input by
// nearest neighbour:
//
//	Map[h,w,c] = GuidedBackprop[h,w,c] · Raw[⌊h·h'/H⌋, ⌊w·w'/W⌋]
//
// for a h' x w' map and an H x W input (each cell of MAVIS's 7 x 7 map
// becomes a 32 x 32 block). It takes Grad-CAM's forward pass and runs the
// guided backward pass over it. It also returns the Grad-CAM.
func (ex *Explainer) GuidedGradCAM(x *nn.Tensor, o CAMOptions) (Map, CAM, error) {
	var m Map
	c, err := ex.guidedGradCAMTo(&m, x, o)
	return m, c, err
}

func (ex *Explainer) guidedGradCAMTo(dst *Map, x *nn.Tensor, o CAMOptions) (CAM, error) {
	c, err := ex.GradCAM(x, o)
	if err != nil {
		return CAM{}, err
	}
	ex.eng.ruleBackward(nn.Guided, 0)
	g := ex.Model.InputGrad()
	H, W, C := g.Shape[1], g.Shape[2], g.Shape[3]
	dst.reshape(H, W, C)
	raw := c.Raw
	for h := range H {
		row := raw.Data[h*raw.H/H*raw.W:][:raw.W]
		for w := range W {
			v := row[w*raw.W/W]
			o := (h*W + w) * C
			for k := range C {
				dst.Data[o+k] = g.Data[o+k] * v
			}
		}
	}
	return c, nil
}

func init() {
	register(Method{Name: "guidedbackprop", Fast: true, Label: "Guided Backprop", Family: FamilyGradient, Display: DisplayPercentile,
		Paper: "Springenberg, Dosovitskiy, Brox and Riedmiller, \"Striving for Simplicity: The All Convolutional Net\", ICLR workshop 2015",
		URL:   "https://arxiv.org/abs/1412.6806",
		Doc:   "The gradient with only positive signals let back through the active units: crisp edges and textures the network responds to, as the largest magnitude over the colour channels. Bright pixels matter; it changes little with the class.",
		run: func(ex *Explainer, x *nn.Tensor, r *Request, _ Values, dst *Result) error {
			return ruleResult(ex, dst, x, r.Target, nn.Guided)
		}})
	register(Method{Name: "deconvnet", Fast: true, Label: "Deconvnet", Family: FamilyGradient, Display: DisplayPercentile,
		Paper: "Zeiler and Fergus, \"Visualizing and Understanding Convolutional Networks\", ECCV 2014",
		URL:   "https://arxiv.org/abs/1311.2901",
		Doc:   "The network's positive signals projected back to the pixels, whatever the units did in the forward pass: the patterns the class's features look for, as the largest magnitude over the colour channels. Bright pixels matter.",
		run: func(ex *Explainer, x *nn.Tensor, r *Request, _ Values, dst *Result) error {
			return ruleResult(ex, dst, x, r.Target, nn.Deconv)
		}})
	register(Method{Name: "guidedgradcam", Fast: true, Label: "Guided Grad-CAM", Family: FamilyGradient, Display: DisplayPercentile, Layer: true,
		Paper: "Selvaraju et al., \"Grad-CAM: Visual Explanations from Deep Networks via Gradient-based Localization\", ICCV 2017",
		URL:   "https://arxiv.org/abs/1610.02391",
		Doc:   "Guided Backprop's fine detail kept only where Grad-CAM finds the class: the class's regions at pixel resolution, as the largest magnitude over the colour channels. Bright pixels matter.",
		run: func(ex *Explainer, x *nn.Tensor, r *Request, _ Values, dst *Result) error {
			c, err := ex.guidedGradCAMTo(&dst.Map, x, CAMOptions{Target: r.Target, Layer: r.Layer})
			if err != nil {
				return err
			}
			dst.setPrediction(c.Prediction)
			dst.Layer, dst.Weights, dst.Passes = c.Layer, c.Weights, 1
			dst.Extras = append(dst.Extras, Extra{Name: "gradcam", Shape: c.Raw.Shape(), Data: c.Raw.Data})
			dst.Zero = allZero(dst.Map.Data)
			ReduceTo(&dst.Display, dst.Map, MaxAbs)
			return nil
		}})
}

// ruleResult fills dst with the input gradient under rule r: the signed
// H x W x C map, shown as its largest magnitude over the channels.
func ruleResult(ex *Explainer, dst *Result, x *nn.Tensor, t Target, r nn.Rule) error {
	p, err := ex.ruleGradientTo(&dst.Map, x, t, r)
	if err != nil {
		return err
	}
	dst.setPrediction(p)
	dst.Passes, dst.Zero = 1, allZero(dst.Map.Data)
	ReduceTo(&dst.Display, dst.Map, MaxAbs)
	return nil
}

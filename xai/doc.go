// Package xai explains image classifiers built with nn: the CAM family
// (Grad-CAM, Grad-CAM++, HiResCAM, XGrad-CAM, LayerCAM, Eigen-CAM,
// Eigen-Grad-CAM, Score-CAM, Ablation-CAM), gradient saliency, SmoothGrad
// and Integrated Gradients, and the rendering of their maps as heatmaps,
// overlays and panels.
//
// # One engine, thin explainers
//
// An Explainer wraps one *nn.Model. Every method runs the same gradient
// engine: a forward pass to the logits (the layer nn.Model.Logits names),
// the softmax recomputed from them in float64, a seed d(Score)/d(logits),
// and nn's backward pass down to the layer the method needs. The methods
// only weight what the engine leaves:
//
//	GradCAM          w_k = spatial mean of ∂Score/∂A_k;  relu(Σ_k w_k A_k)     (stops at the layer: cheaper)
//	GradCAMPlusPlus  w_k = Σ alpha relu(∂Score/∂A_k), alpha in closed form   (same pass)
//	HiResCAM         relu(Σ_k ∂Score/∂A_k ⊙ A_k)                             (same pass)
//	XGradCAM         w_k = Σ (∂Score/∂A_k ⊙ A_k) / Σ A_k                     (same pass)
//	LayerCAM         relu(Σ_k relu(∂Score/∂A_k) ⊙ A_k)                       (same pass)
//	EigenCAM         relu(A's first principal component)                     (forward only)
//	EigenGradCAM     relu(the first principal component of ∂Score/∂A ⊙ A)    (same pass)
//	ScoreCAM         w = softmax_k Score(x ⊙ normalised upsampled A_k)       (channels + 1 forward passes, batched)
//	AblationCAM      w_k = (y − y_k)/y, y_k the Score with A_k zeroed        (the layers after A, batched)
//	Saliency         max_c |∂Score/∂x|                                       (backward to the input)
//	SmoothGrad       Saliency of the mean gradient over noisy copies         (batched)
//	IntegratedGradients (x − b) ⊙ Σ_k w_k ∂Score/∂x(b + α_k(x − b))          (batched)
//	NoiseTunnel      mean (SmoothGrad), mean square (SmoothGrad²) or variance
//	                 (VarGrad) of a gradient or a method's map over noisy copies
//	GradientSHAP     mean of (x̃ − b) ⊙ ∂Score/∂x(b + α(x̃ − b)), b and α random (batched)
//	GuidedBackprop   ∂Score/∂x, ReLUs pass dy·[u > 0]·[dy > 0]                (nn.Guided)
//	Deconvnet        ∂Score/∂x, ReLUs pass max(dy, 0)                         (nn.Deconv)
//	GuidedGradCAM    GuidedBackprop ⊙ nearest-upsampled Grad-CAM             (one forward, two backward)
//
// The perturbation methods only run forward passes:
//
//	Occlusion        Score(x) − Score(x with a window hidden), averaged per pixel (nn.Delta)
//	RISE             Σ_i Score(x ⊙ M_i) M_i / (N p) over random upsampled masks  (batched)
//
// The propagation methods pass their own quantity down the layers:
//
//	DeepLIFT         m ⊙ (x − x⁰), multipliers by the Rescale rule           (nn.Rescale: x⁰'s and x's forward, one backward)
//	LRP              relevance from the logit, layer by layer                (engine_lrp.go: one forward, a rule per layer)
//
// The seeded methods (SmoothGrad, SmoothGrad², VarGrad, GradientSHAP,
// RISE) draw sample i's random numbers from a stream that depends only on
// Request.Seed and i, in pure Go: equal seeds give equal maps on every
// platform, whatever the batch size or the split across workers.
//
// Each method's doc comment cites its paper and equation and states the
// exact convention; they are those of the reference fixtures in
// ../shared/fixtures/README.md, which the tests hold them to.
//
// # Targets
//
// A Target is a class and a Score kind. Class −1 (Predicted) explains the
// predicted class c = argmax p(x), fixed for every IG step, the baseline
// and every SmoothGrad sample. Logit (the default) differentiates z_c:
// a saturated softmax has vanishing gradients and blank maps.
// Probability differentiates p_c with dp_c/dz_j = p_c(δ_cj − p_j), where
// 1 − p_c is evaluated as Σ_{j≠c} p_j in float64, so it stays exact when
// p_c rounds to 1 in float32.
//
// # Layout and aliasing
//
// Inputs are one-sample nn tensors, 1 x H x W x C, in the range of the
// model's Preprocess contract (0..255 for MAVIS). Results are plain
// structs holding Maps (H x W x C float32 grids in HWC order, like an
// image.RGBA's Pix) that the caller owns. The *To variants
// (SaliencyTo, IntegratedGradientsTo) reuse the destination's storage.
// An Explainer reuses its buffers and the model's between calls: in steady
// state IntegratedGradientsTo allocates nothing. An Explainer and its model
// are not safe for concurrent use.
//
// # Batching
//
// IG steps and SmoothGrad samples run Explainer.Batch at a time through
// one forward and backward pass (DefaultBatch when 0). Every pass of a
// call has the same batch size (the last is padded), so the model's
// buffers are never reallocated; the result does not depend on Batch.
// Progress hooks on IGOptions and SmoothGradOptions report each pass.
//
// # Rendering
//
// Computation never renders. Maps become pictures through separate
// functions: Resize (bilinear, standard library only), the Scale family
// (min–max, percentile clip, symmetric, shared across maps), Colormaps
// (matplotlib's exact 256-entry tables of viridis, inferno, magma, turbo,
// jet, hot, grey, rdbu_r and coolwarm; LUT gives a viewer the table),
// HeatmapTo, OverlayTo and Panel (the original notebook's four tiles;
// PanelOptions.Layout says where its parts are). A map with no contrast,
// such as an all-zero Grad-CAM, has a flat Scale: it renders as the
// colormap's lowest colour and is reported as flat (CAM.Zero,
// SaliencyMap.Zero), never as NaN.
//
// DisplayScale is the one rule that turns a Result's Display map into
// colours, for the page and the explain command alike: each Method's
// Display kind has a default ScaleRule (CAMs by their max, gradient and
// attribution maps at the 99th percentile of the values, of |value| and
// symmetric around 0 for signed maps) and a default Colormap; a person may
// pick max, p99.5, p99 or p98 instead (ScaleRules). DisplayScales gives
// several rules' scales of one map for about the cost of one.
//
// # Completeness
//
// Integrated Gradients' attributions should add up to Score(x) −
// Score(baseline) (Check, GapThreshold). When they do not, more steps are
// often not the remedy on ReLU networks: CompletenessSweep measures the
// gap on one input for several rules, step counts and baselines at a few
// IG runs' cost, and GapAdvice says what helps; Rank quotes it
// (MethodScore.Advice).
//
// # Errors
//
// Anything that comes from a user choice (a class, a layer name, a step
// count, a baseline, an input of the wrong shape) returns an error
// prefixed "xai: " with the numbers involved; for example a Grad-CAM layer
// without a spatial output is refused in plain words. Shape mismatches
// between our own code paths panic.
package xai

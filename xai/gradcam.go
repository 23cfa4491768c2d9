package xai

import (
	"math"

	"github.com/mavis-xai/mavis/nn"
)

// CAMOptions configures the CAM family: GradCAM, GradCAMPlusPlus,
// HiResCAM, XGradCAM, LayerCAM, EigenCAM, EigenGradCAM, ScoreCAM and
// AblationCAM.
type CAMOptions struct {
	Target Target
	// Layer names the layer whose output A is weighted; "" means the last
	// Conv2D layer (conv2d_7 in MAVIS). It must have a spatial output.
	Layer string
	// PosNorm (Grad-CAM++ only) normalises alpha over the positions with a
	// positive gradient instead of all positions, as the authors' current
	// code does (see GradCAMPlusPlus).
	PosNorm bool
	// Progress, when not nil, is called after every forward pass of
	// ScoreCAM and AblationCAM with the number of passes done and their
	// total.
	Progress func(done, total int)
	// Cancel, when not nil, stops ScoreCAM and AblationCAM between passes
	// (they then return its error).
	Cancel Canceller
}

// CAM is a class activation map at the resolution of its layer.
type CAM struct {
	Prediction
	Layer   string    // the layer explained
	Method  string    // the registry name ("gradcam", "scorecam", ...), or "gradcampp_posnorm"
	Weights []float32 // w_k, one per channel of the layer (nil for HiResCAM, LayerCAM and the Eigen-CAMs)
	Scores  []float32 // Score-CAM's masked scores s_k, Ablation-CAM's ablated scores y_k (nil for the others)
	Raw     Map       // relu(Σ_k w_k A_k), h x w x 1, before normalisation
	Norm    Map       // Raw / max(Raw), or all zeros when Zero
	Zero    bool      // max(Raw) == 0: no position supports the class; Norm is all zeros
	Act     Map       // A, the layer's output, h x w x k
	Grad    Map       // ∂Score/∂A, h x w x k (empty for the gradient-free EigenCAM, ScoreCAM and AblationCAM)
}

// channelWeights writes one weight per channel from a layer's activation
// and the score's gradient there.
//
//	w: (k)   a, g: (positions, k)
type channelWeights func(w []float64, a, g []float32, k int)

// GradCAM computes Grad-CAM (Selvaraju et al., "Grad-CAM: Visual
// Explanations from Deep Networks via Gradient-based Localization", ICCV
// 2017, eqs. 1-2) for x (1 x H x W x C):
//
//	w_k = (1/Z) Σ_{i,j} ∂Score/∂A[i,j,k]        (Z = h·w, global average pooling of the gradient)
//	Raw = relu(Σ_k w_k A[:,:,k])
//
// where A is the output of the chosen layer (after its activation: for a
// Keras Conv2D with ReLU, after the ReLU and before any BatchNorm that
// follows) and Score is the target's logit or probability.
func (ex *Explainer) GradCAM(x *nn.Tensor, o CAMOptions) (CAM, error) {
	return ex.cam(x, o, "gradcam", gradCAMWeights)
}

// GradCAMPlusPlus computes Grad-CAM++ (Chattopadhyay et al.,
// "Grad-CAM++: Improved Visual Explanations for Deep Convolutional
// Networks", WACV 2018, eqs. 19 and 10) in its closed form, elementwise
// with g = ∂Score/∂A:
//
//	S_k   = Σ_{i,j} A[i,j,k]
//	alpha = g² / (2g² + S_k g³)            (alpha = 0 where g = 0: the denominator is set to 1)
//	alpha[:,:,k] /= Σ_{i,j} alpha[i,j,k]   (unless that sum is 0)
//	w_k   = Σ_{i,j} alpha[i,j,k] relu(g[i,j,k])
//	Raw   = relu(Σ_k w_k A[:,:,k])
//
// The paper's derivation assumes Score = exp(S) for a smooth S so that
// higher derivatives are powers of the first; its exp(S) factor cancels in
// alpha and only rescales Raw, so it is left out (the normalised map is
// unchanged). With PosNorm the alpha sum runs only over positions with
// g > 0, the normalisation of adityac94/Grad_CAM_plus_plus's current code.
func (ex *Explainer) GradCAMPlusPlus(x *nn.Tensor, o CAMOptions) (CAM, error) {
	if o.PosNorm {
		return ex.cam(x, o, "gradcampp_posnorm", gradCAMPPWeightsPos)
	}
	return ex.cam(x, o, "gradcampp", gradCAMPPWeights)
}

func (ex *Explainer) cam(x *nn.Tensor, o CAMOptions, method string, weights channelWeights) (CAM, error) {
	r, err := ex.camPass(x, o, method, true)
	if err != nil {
		return CAM{}, err
	}
	k := r.Act.C
	w64 := make([]float64, k)
	weights(w64, r.Act.Data, r.Grad.Data, k)
	r.Weights = make([]float32, k)
	for i, v := range w64 {
		r.Weights[i] = float32(v)
	}
	raw := make([]float64, r.Act.H*r.Act.W)
	weightedTo(raw, r.Act.Data, w64)
	r.setRaw(raw)
	return r, nil
}

// camPass resolves o.Layer and runs x forward to the logits and, with
// grad, backward to that layer's output. It returns a CAM holding Layer,
// Method, the Prediction, Act (A) and, with grad, Grad (∂Score/∂A).
func (ex *Explainer) camPass(x *nn.Tensor, o CAMOptions, method string, grad bool) (CAM, error) {
	if err := ex.check(x, o.Target); err != nil {
		return CAM{}, err
	}
	e := &ex.eng
	l, err := e.spatialLayer(o.Layer)
	if err != nil {
		return CAM{}, err
	}
	copy(e.input(1).Data, x.Data)
	stop := noBackward
	if grad {
		stop = l + 1 // backward only down to the layer's output
	}
	c := e.pass(o.Target, stop)
	a := ex.Model.Output(l)
	h, w, k := a.Shape[1], a.Shape[2], a.Shape[3]
	r := CAM{Layer: ex.Model.Layers[l].Name(), Method: method, Act: NewMap(h, w, k)}
	copy(r.Act.Data, a.Data)
	if grad {
		r.Grad = NewMap(h, w, k)
		copy(r.Grad.Data, ex.Model.Grad(l).Data)
	}
	setPrediction(&r.Prediction, o.Target, c, e.p[:e.k], e.z[:e.k], e.score[0])
	return r, nil
}

// CAMLayer returns the name of the layer the layer-based methods
// (Method.Layer) explain for Request.Layer name: name itself, or the last
// Conv2D before the logits when name is "". It is an error when there is
// no such layer or its output is not a map over image positions. Callers
// check a layer with it once rather than by explaining an input.
func (ex *Explainer) CAMLayer(name string) (string, error) {
	l, err := ex.eng.spatialLayer(name)
	if err != nil {
		return "", err
	}
	return ex.Model.Layers[l].Name(), nil
}

// setRaw sets Raw to raw (the map before normalisation, relu already
// applied, in float64 and rounded once), Norm to raw / max(raw) and Zero;
// Norm is all zeros when max(raw) is 0.
func (r *CAM) setRaw(raw []float64) {
	h, w := r.Act.H, r.Act.W
	r.Raw, r.Norm = NewMap(h, w, 1), NewMap(h, w, 1)
	var top float64
	for p, v := range raw {
		r.Raw.Data[p] = float32(v)
		top = max(top, v)
	}
	r.Zero = !(top > 0) || math.IsInf(top, 0)
	if r.Zero {
		return
	}
	for p, v := range raw {
		r.Norm.Data[p] = float32(v / top)
	}
}

// weightedTo writes raw = relu(Σ_k w_k a[:,k]) in float64.
//
//	raw: (positions)   a: (positions, k)   w: (k)
func weightedTo(raw []float64, a []float32, w []float64) {
	k := len(w)
	for p := range raw {
		var s float64
		for c, v := range a[p*k : (p+1)*k] {
			s += w[c] * float64(v)
		}
		raw[p] = max(s, 0)
	}
}

// gradCAMWeights is Grad-CAM's spatial mean of the gradient.
func gradCAMWeights(w []float64, a, g []float32, k int) {
	clear(w)
	n := len(g) / k
	for p := 0; p < len(g); p += k {
		for c, v := range g[p : p+k] {
			w[c] += float64(v)
		}
	}
	for c := range w {
		w[c] /= float64(n)
	}
}

func gradCAMPPWeights(w []float64, a, g []float32, k int) { gradCAMPP(w, a, g, k, false) }

func gradCAMPPWeightsPos(w []float64, a, g []float32, k int) { gradCAMPP(w, a, g, k, true) }

// gradCAMPP is Grad-CAM++'s closed form (see GradCAMPlusPlus), in float64.
func gradCAMPP(w []float64, a, g []float32, k int, posNorm bool) {
	sum := make([]float64, k) // S_k
	for p := 0; p < len(a); p += k {
		for c, v := range a[p : p+k] {
			sum[c] += float64(v)
		}
	}
	alpha := func(p, c int) float64 {
		gv := float64(g[p+c])
		g2 := gv * gv
		den := 2*g2 + sum[c]*g2*gv
		if den == 0 {
			den = 1
		}
		return g2 / den
	}
	z := make([]float64, k) // Z_k
	for p := 0; p < len(g); p += k {
		for c := range k {
			if !posNorm || g[p+c] > 0 {
				z[c] += alpha(p, c)
			}
		}
	}
	clear(w)
	for p := 0; p < len(g); p += k {
		for c := range k {
			if g[p+c] > 0 {
				w[c] += alpha(p, c) * float64(g[p+c])
			}
		}
	}
	for c := range w {
		if z[c] != 0 {
			w[c] /= z[c]
		}
	}
}

func init() {
	register(Method{Name: "gradcam", Fast: true, Label: "Grad-CAM", Family: FamilyCAM, Display: DisplayMax, Layer: true, Default: true,
		Paper: "Selvaraju et al., \"Grad-CAM: Visual Explanations from Deep Networks via Gradient-based Localization\", ICCV 2017",
		URL:   "https://arxiv.org/abs/1610.02391",
		Doc:   "The regions whose features raise the score, at the layer's coarse resolution: its channels weighted by their mean gradient. Bright is strong support; dark is none.",
		run: func(ex *Explainer, x *nn.Tensor, r *Request, _ Values, dst *Result) error {
			c, err := ex.GradCAM(x, CAMOptions{Target: r.Target, Layer: r.Layer})
			camResult(dst, c, err)
			return err
		}})
	register(Method{Name: "gradcampp", Fast: true, Label: "Grad-CAM++", Family: FamilyCAM, Display: DisplayMax, Layer: true, Default: true,
		Paper: "Chattopadhyay et al., \"Grad-CAM++: Improved Visual Explanations for Deep Convolutional Networks\", WACV 2018",
		URL:   "https://arxiv.org/abs/1710.11063",
		Doc:   "Like Grad-CAM, with channel weights from positive gradients only, weighted per position, so that several objects of the class all show. Bright is strong support.",
		Params: []Param{{Name: "posnorm", Label: "Positive normalisation", Kind: Bool, Default: false,
			Doc: "normalise alpha over the positions with a positive gradient (the authors' current code) instead of all positions (the paper)"}},
		run: func(ex *Explainer, x *nn.Tensor, r *Request, v Values, dst *Result) error {
			c, err := ex.GradCAMPlusPlus(x, CAMOptions{Target: r.Target, Layer: r.Layer, PosNorm: v.Bool("posnorm")})
			camResult(dst, c, err)
			return err
		}})
}

// camResult fills dst from a CAM: its map is the unnormalised Raw at the
// layer's resolution; Scores, when set, become the extra "scores". Passes
// is 1 unless the method sets it.
func camResult(dst *Result, c CAM, err error) {
	if err != nil {
		return
	}
	dst.setPrediction(c.Prediction)
	dst.Layer, dst.Map, dst.Weights, dst.Zero = c.Layer, c.Raw, c.Weights, c.Zero
	if c.Scores != nil {
		dst.Extras = append(dst.Extras, Extra{Name: "scores", Shape: []int{len(c.Scores)}, Data: c.Scores})
	}
	dst.Passes = 1
}

// camRun is the registry's run function of a CAM method f (a method
// expression such as (*Explainer).HiResCAM).
func camRun(f func(*Explainer, *nn.Tensor, CAMOptions) (CAM, error)) func(*Explainer, *nn.Tensor, *Request, Values, *Result) error {
	return func(ex *Explainer, x *nn.Tensor, r *Request, _ Values, dst *Result) error {
		c, err := f(ex, x, CAMOptions{Target: r.Target, Layer: r.Layer, Progress: r.Progress, Cancel: r.Cancel})
		camResult(dst, c, err)
		if err == nil && c.Scores != nil {
			dst.Passes = 1 + len(c.Scores)
		}
		return err
	}
}

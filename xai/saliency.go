package xai

import (
	"math"
	"slices"

	"github.com/mavis-xai/mavis/nn"
)

// SaliencyMap is a vanilla-gradient or SmoothGrad explanation.
type SaliencyMap struct {
	Prediction
	Map     Map // H x W x 1: max over channels of |Grad|
	Grad    Map // H x W x C: the signed gradient dScore/dx (mean over samples for SmoothGrad)
	Samples int // 0 for plain saliency, the number of noisy samples for SmoothGrad
	Zero    bool
}

// Saliency computes the gradient saliency map of Simonyan, Vedaldi and
// Zisserman, "Deep Inside Convolutional Networks: Visualising Image
// Classification Models and Saliency Maps" (ICLR workshop 2014, sec. 3.1):
//
//	G = ∂Score/∂x (H x W x C),   Map[h,w] = max_c |G[h,w,c]|
//
// the reduction the paper uses for colour images (and the original
// notebook). Score is the target's logit or probability.
func (ex *Explainer) Saliency(x *nn.Tensor, t Target) (SaliencyMap, error) {
	var s SaliencyMap
	err := ex.SaliencyTo(&s, x, t)
	return s, err
}

// SaliencyTo is Saliency writing into dst, reusing its storage.
func (ex *Explainer) SaliencyTo(dst *SaliencyMap, x *nn.Tensor, t Target) error {
	if err := ex.check(x, t); err != nil {
		return err
	}
	e := &ex.eng
	copy(e.input(1).Data, x.Data)
	c := e.pass(t, 0)
	setPrediction(&dst.Prediction, t, c, e.p[:e.k], e.z[:e.k], e.score[0])
	g := ex.Model.InputGrad()
	dst.Grad.reshape(g.Shape[1], g.Shape[2], g.Shape[3])
	copy(dst.Grad.Data, g.Data)
	dst.Samples = 0
	dst.Zero = maxAbsTo(&dst.Map, dst.Grad)
	return nil
}

// maxAbsTo writes dst[h,w] = max_c |g[h,w,c]| and reports whether the
// result is all zeros.
func maxAbsTo(dst *Map, g Map) bool {
	dst.reshape(g.H, g.W, 1)
	zero := true
	for p := range dst.Data {
		var m float32
		for _, v := range g.Data[p*g.C : (p+1)*g.C] {
			m = fmax(m, float32(math.Abs(float64(v))))
		}
		dst.Data[p] = m
		zero = zero && m == 0
	}
	return zero
}

// SmoothGradOptions configures SmoothGrad.
type SmoothGradOptions struct {
	Target  Target
	Samples int     // noisy samples (default 25)
	Noise   float64 // noise standard deviation as a fraction of the input range, hi − lo (default 0.15)
	Seed    uint64  // seeds the noise (PCG); equal seeds give equal maps
	// Progress, when not nil, is called after every batch with the number
	// of gradients computed and the total (Samples + 1: the clean input is
	// evaluated first).
	Progress func(done, total int)
}

// SmoothGrad computes SmoothGrad (Smilkov et al., "SmoothGrad: removing
// noise by adding noise", 2017, section 3, the smoothed map M̂_c): the
// gradient averaged over n noisy copies of the input, then reduced like
// Saliency:
//
//	Grad = (1/n) Σ_{i=1..n} ∂Score/∂x (x + ε_i),   ε_i ~ N(0, σ²),   σ = Noise · (hi − lo)
//	Map[h,w] = max_c |Grad[h,w,c]|
//
// following the paper, which averages the sensitivity maps M_c before any
// visualisation step (so signs can cancel; averaging |grad| instead gives
// a different, always brighter map). [lo, hi] is the model's input range
// from its Preprocess contract (0..255 for MAVIS). The class is the one
// predicted for the clean x; noisy inputs are not clipped.
func (ex *Explainer) SmoothGrad(x *nn.Tensor, o SmoothGradOptions) (SaliencyMap, error) {
	if err := ex.check(x, o.Target); err != nil {
		return SaliencyMap{}, err
	}
	if o.Samples < 0 || o.Samples > maxSteps {
		return SaliencyMap{}, errorf("xai: smoothgrad samples %d out of range 1..%d", o.Samples, maxSteps)
	}
	if !(o.Noise >= 0 && o.Noise <= 10) {
		return SaliencyMap{}, errorf("xai: smoothgrad noise %g out of range (a fraction of the input range, such as 0.15)", o.Noise)
	}
	tu, err := ex.NoiseTunnel(x, NoiseTunnelOptions{Target: o.Target, Samples: o.Samples, Noise: o.Noise, Seed: o.Seed, Progress: o.Progress})
	if err != nil {
		return SaliencyMap{}, err
	}
	r := SaliencyMap{Prediction: tu.Prediction, Grad: tu.Mean, Samples: tu.Samples}
	r.Zero = maxAbsTo(&r.Map, r.Grad)
	return r, nil
}

// inputRange returns the range of input values the model's preprocessing
// produces.
func inputRange(p nn.Preprocess) (lo, hi float64) {
	if p.Scale == "0..1" {
		return 0, 1
	}
	return 0, 255
}

func resize64(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

func init() {
	register(Method{Name: "saliency", Fast: true, Label: "Saliency", Family: FamilyGradient, Display: DisplayPercentile, Default: true,
		Paper: "Simonyan, Vedaldi and Zisserman, \"Deep Inside Convolutional Networks: Visualising Image Classification Models and Saliency Maps\", ICLR workshop 2014",
		URL:   "https://arxiv.org/abs/1312.6034",
		Doc:   "The pixels whose small change would change the score most: the gradient's largest magnitude over the colour channels. Bright pixels are sensitive; it shows edges and texture, not whole objects.",
		run: func(ex *Explainer, x *nn.Tensor, r *Request, _ Values, dst *Result) error {
			if err := ex.SaliencyTo(&ex.sal, x, r.Target); err != nil {
				return err
			}
			saliencyResult(dst, &ex.sal, 1)
			return nil
		}})
}

// saliencyResult fills dst from a saliency map: its map is the max over
// channels of |gradient|, with the signed gradient as the extra "grad".
func saliencyResult(dst *Result, s *SaliencyMap, passes int) {
	dst.setPrediction(s.Prediction)
	dst.Zero, dst.Passes = s.Zero, passes
	dst.Map.reshape(s.Map.H, s.Map.W, s.Map.C)
	copy(dst.Map.Data, s.Map.Data)
	dst.Extras = append(dst.Extras, Extra{Name: "grad", Shape: s.Grad.Shape(), Data: slices.Clone(s.Grad.Data)})
}

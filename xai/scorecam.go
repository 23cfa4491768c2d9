package xai

import (
	"math"

	"github.com/mavis-xai/mavis/nn"
)

// ScoreCAM computes Score-CAM (Wang et al., "Score-CAM: Score-Weighted
// Visual Explanations for Convolutional Neural Networks", CVPR Workshops
// 2020) for x (1 x H x W x C) as pytorch-grad-cam and the fixtures
// (README "Wave 2") define it, with A the chosen layer's output (h x w x K):
//
//	U_k = A[:,:,k] resampled bilinearly to H x W with aligned corners (cornerTaps)
//	N_k = (U_k − min U_k) / (max U_k − min U_k),  all zeros when U_k is flat
//	s_k = Score(x ⊙ N_k)                 (the same mask on every input channel)
//	w   = softmax_k(s)
//	Raw = relu(Σ_k w_k A[:,:,k])
//
// Score is the target's logit or probability of the class predicted for x
// itself. Each channel's weight is how much the class likes the input seen
// through that channel's mask: no gradient is used, so saturation and
// noisy gradients do not matter, at the price of one forward pass per
// channel, Explainer.Batch masked inputs per pass (K+1 passes with the
// first). There is no +1e-8 in N_k's denominator (pytorch-grad-cam has
// one): a dead channel's mask is all zeros, its input all black, and its
// score still enters the softmax. The paper's own weights are the score's
// increase over a baseline, normalised differently; the softmax over the
// masked scores is the common implementation's. Scores holds s and
// Weights w.
func (ex *Explainer) ScoreCAM(x *nn.Tensor, o CAMOptions) (CAM, error) {
	r, err := ex.camPass(x, o, "scorecam", false)
	if err != nil {
		return CAM{}, err
	}
	in := ex.Model.InputShape()
	H, W, C := in[0], in[1], in[2]
	act, K := r.Act, r.Act.C
	rows, cols := cornerTaps(H, act.H), cornerTaps(W, act.W)
	mask, tmp := make([]float64, H*W), make([]float64, H*act.W)
	point := func(k int, dst []float32) {
		upsampleCornersTo(mask, tmp, act, k, rows, cols)
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range mask {
			lo, hi = min(lo, v), max(hi, v)
		}
		for p, v := range mask {
			n := 0.0
			if hi > lo {
				n = (v - lo) / (hi - lo)
			}
			for c := p * C; c < (p+1)*C; c++ {
				dst[c] = float32(float64(x.Data[c]) * n)
			}
		}
	}
	scores := make([]float64, K)
	var progress func(int, int)
	if o.Progress != nil {
		progress = func(done, total int) { o.Progress(1+done, 1+total) }
	}
	t := Target{Class: r.Class, Kind: o.Target.Kind}
	if _, _, err := ex.eng.scan(o.Cancel, K, ex.batch(), t, point, func(k int, s float64) { scores[k] = s }, progress); err != nil {
		return CAM{}, err
	}
	// w = softmax(scores), in float64.
	w, top, sum := make([]float64, K), math.Inf(-1), 0.0
	for _, v := range scores {
		top = max(top, v)
	}
	for k, v := range scores {
		w[k] = math.Exp(v - top)
		sum += w[k]
	}
	for k := range w {
		w[k] /= sum
	}
	r.Weights, r.Scores = make([]float32, K), make([]float32, K)
	for k := range K {
		r.Weights[k], r.Scores[k] = float32(w[k]), float32(scores[k])
	}
	raw := make([]float64, act.H*act.W)
	weightedTo(raw, act.Data, w)
	r.setRaw(raw)
	return r, nil
}

func init() {
	register(Method{Name: "scorecam", Label: "Score-CAM", Family: FamilyCAM, Display: DisplayMax, Layer: true,
		Paper: "Wang et al., \"Score-CAM: Score-Weighted Visual Explanations for Convolutional Neural Networks\", CVPR Workshops 2020",
		URL:   "https://arxiv.org/abs/1910.01279",
		Doc:   "The layer's channels weighted by the score of the image seen through each channel's upsampled map: gradient-free, one forward pass per channel. Bright is strong support.",
		run:   camRun((*Explainer).ScoreCAM)})
}

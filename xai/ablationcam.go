package xai

import "github.com/mavis-xai/mavis/nn"

// AblationCAM computes Ablation-CAM (Desai and Ramaswamy, "Ablation-CAM:
// Visual Explanations for Deep Convolutional Network via Gradient-free
// Localization", WACV 2020) for x (1 x H x W x C), with A the chosen
// layer's output (h x w x K):
//
//	y   = Score(x)
//	y_k = Score with A[:,:,k] set to 0 and the layers after A run as usual
//	w_k = (y − y_k) / y
//	Raw = relu(Σ_k w_k A[:,:,k])
//
// a channel's weight is the share of the score lost without it. For a
// convolution with a built-in ReLU, A is taken after the ReLU (and before
// any BatchNorm that follows), as for Grad-CAM. Score is the target's
// logit or probability of the class predicted for x; for the probability
// the differences are taken as (1 − p_c(y_k)) − (1 − p_c(y)) with
// 1 − p_c = Σ_{j≠c} p_j, exact when p_c is close to 1. A negative y (a
// negative logit) flips every weight's sign, as in the paper's formula;
// y = 0 leaves the weights undefined and is an error.
//
// x runs forward once (none when x was just predicted: the prediction's
// pass, nn.Model.ForwardAgain); the K ablated copies of A and A itself
// then run through the layers after it only
// (nn.Model.ForwardFrom), as many per pass as fit in ablationBudget (at
// least Explainer.Batch): at MAVIS's last convolution all nine in one
// pass, far cheaper than the first. Scores holds y_k and Weights w.
func (ex *Explainer) AblationCAM(x *nn.Tensor, o CAMOptions) (CAM, error) {
	r, err := ex.camPass(x, o, "ablationcam", false)
	if err != nil {
		return CAM{}, err
	}
	e := &ex.eng
	l := ex.Model.Index(r.Layer)
	h, w, K := r.Act.H, r.Act.W, r.Act.C

	// Sample 0 is A, sample k+1 is A with channel k zeroed.
	n := K + 1
	b := ex.ablationBatch(l, n)
	passes := (n + b - 1) / b
	b = (n + passes - 1) / passes
	batch := nn.NewTensor(b, h, w, K)
	y := make([]float64, n)    // Score of each sample
	rest := make([]float64, n) // 1 − p_c of each sample (probability target)
	class := o.Target.Class
	for start := 0; start < n; start += b {
		if err := cancelled(o.Cancel); err != nil {
			return CAM{}, err
		}
		cnt := min(b, n-start)
		for s := range b {
			dst := batch.Sample(s)
			copy(dst, r.Act.Data)
			if k := min(start+s, n-1) - 1; k >= 0 {
				for p := k; p < len(dst); p += K {
					dst[p] = 0
				}
			}
		}
		class = e.passFrom(batch, l+1, Target{Class: class, Kind: o.Target.Kind})
		if start == 0 {
			setPrediction(&r.Prediction, o.Target, class, e.p[:e.k], e.z[:e.k], e.score[0])
		}
		for s := range cnt {
			y[start+s], rest[start+s] = e.score[s], e.rest(s, class)
		}
		if o.Progress != nil {
			o.Progress(start+cnt, n)
		}
	}
	if y[0] == 0 {
		return CAM{}, errorf("xai: ablationcam: the score of class %d is 0 at this input, so the weights (y − y_k)/y are undefined; explain another target or class", class)
	}
	wk := make([]float64, K)
	r.Weights, r.Scores = make([]float32, K), make([]float32, K)
	for k := range K {
		d := y[0] - y[k+1]
		if o.Target.Kind == Probability {
			d = rest[k+1] - rest[0]
		}
		wk[k] = d / y[0]
		r.Weights[k], r.Scores[k] = float32(wk[k]), float32(y[k+1])
	}
	raw := make([]float64, h*w)
	weightedTo(raw, r.Act.Data, wk)
	r.setRaw(raw)
	return r, nil
}

// ablationBudget bounds the activations, in float32 values, that one
// Ablation-CAM pass holds from its layer on (16 MB): the ablated copies
// run as many per pass as fit.
const ablationBudget = 1 << 22

// ablationBatch returns how many of n copies of layer l's output run
// through the layers after it in one pass: as many as fit in
// ablationBudget, at least Explainer.Batch, at most n.
func (ex *Explainer) ablationBatch(l, n int) int {
	per := 0
	for i := l; i <= ex.eng.logits; i++ {
		s := ex.Model.Shapes[i]
		per += s[0] * s[1] * s[2]
	}
	return min(n, max(ex.batch(), ablationBudget/max(per, 1)))
}

func init() {
	register(Method{Name: "ablationcam", Label: "Ablation-CAM", Family: FamilyCAM, Display: DisplayMax, Layer: true,
		Paper: "Desai and Ramaswamy, \"Ablation-CAM: Visual Explanations for Deep Convolutional Network via Gradient-free Localization\", WACV 2020",
		URL:   "https://doi.org/10.1109/WACV45572.2020.9093360",
		Doc:   "The layer's channels weighted by the share of the score lost when each is switched off: gradient-free, the layers after it run once per channel. Bright is strong support.",
		run:   camRun((*Explainer).AblationCAM)})
}

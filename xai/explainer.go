package xai

import (
	"github.com/mavis-xai/mavis/internal/order"
	"github.com/mavis-xai/mavis/nn"
)

// DefaultBatch is the number of Integrated-Gradients steps or SmoothGrad
// samples run through one forward and backward pass when Explainer.Batch
// is 0. Batching is supported (and tested equal to step-by-step), but with
// nn's kernels as of this writing it does not pay: IG-50 on MAVIS took
// 63 s at batch 1, 80 s at batch 5 and 95 s at batch 10 (one loaded run,
// BENCHMARKS.md), while each sample adds about 100 MB of activations,
// gradients and im2col buffers, which a browser tab can ill afford. So the
// default is 1; raise Explainer.Batch when the kernels favour it.
const DefaultBatch = 1

// Explainer computes explanations of one model. It owns the buffers reused
// between calls (so repeated calls allocate nothing in steady state) and
// is not safe for concurrent use; use one Explainer per goroutine, each
// with its own Model.
type Explainer struct {
	Model *nn.Model
	// Batch is the number of IG steps, SmoothGrad samples or Score-CAM
	// masked inputs per pass (DefaultBatch when 0), and the least number
	// of Ablation-CAM's ablated copies per pass. The result does not
	// depend on it.
	Batch int

	eng  engine
	tun  tunnelState // the noise tunnel's sums (tunnel.go)
	occ  occlusionState
	rise riseState
	shap shapState
	sal  SaliencyMap // the registry's saliency buffers
	att  Attribution // and Integrated Gradients'
	base nn.Tensor   // the IG baseline
	ig   igState     // the IG parts (ig.go)

	rule          Rule // the rule and nodes of the last IG call
	alpha, weight []float64
}

// New returns an explainer for m. m must classify: its logits layer (see
// nn.Model.Logits) has a 1 x 1 x classes output.
func New(m *nn.Model) *Explainer {
	return &Explainer{Model: m, eng: newEngine(m)}
}

func (ex *Explainer) batch() int {
	if ex.Batch > 0 {
		return ex.Batch
	}
	return DefaultBatch
}

// Prediction is the model's output for the explained input and the target
// actually explained.
type Prediction struct {
	Class  int       // the explained class (the predicted one when Target.Class was -1)
	Target Target    // the target as asked
	Probs  []float64 // softmax probabilities of the input, in float64
	Logits []float64 // the model's logits for the input
	Score  float64   // Score of Class at the input (z_c or p_c)
}

// check validates x as one input sample of the model.
func (ex *Explainer) check(x *nn.Tensor, t Target) error {
	in := ex.Model.InputShape()
	want := [4]int{1, in[0], in[1], in[2]}
	if x == nil || x.Shape != want {
		return errorf("xai: input %v, want %dx%dx%dx%d", x, 1, in[0], in[1], in[2])
	}
	if len(x.Data) != x.Len() {
		return errorf("xai: input %v holds %d values, want %d", x, len(x.Data), x.Len())
	}
	return t.check(ex.eng.k)
}

// Predict runs the model on x (1 x H x W x C) and returns the predicted
// class and probabilities (softmax of the logits in float64), with Score
// the predicted class's logit.
func (ex *Explainer) Predict(x *nn.Tensor) (Prediction, error) {
	if err := ex.check(x, Predicted()); err != nil {
		return Prediction{}, err
	}
	e := &ex.eng
	copy(e.input(1).Data, x.Data)
	// Always a forward pass (a prediction is timed as one), kept for the
	// explanations of the same image that follow (engine.pass).
	c := e.record(e.m.ForwardKeep(e.x, e.logits), Predicted())
	var p Prediction
	setPrediction(&p, Predicted(), c, e.p[:e.k], e.z[:e.k], e.score[0])
	return p, nil
}

// TopK returns the indices of the k largest probabilities, largest first.
func (p Prediction) TopK(k int) []int {
	idx := order.Index(len(p.Probs), func(a, b int32) int {
		switch {
		case p.Probs[a] > p.Probs[b]:
			return -1
		case p.Probs[a] < p.Probs[b]:
			return 1
		}
		return 0
	})
	top := make([]int, min(max(k, 0), len(idx)))
	for i := range top {
		top[i] = int(idx[i])
	}
	return top
}

// setPrediction fills dst, reusing its Probs storage.
func setPrediction(dst *Prediction, t Target, c int, p, z []float64, score float64) {
	dst.Class, dst.Target, dst.Score = c, t, score
	dst.Probs = append(dst.Probs[:0], p...)
	dst.Logits = append(dst.Logits[:0], z...)
}

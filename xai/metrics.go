package xai

import (
	"math"
	"slices"

	"github.com/mavis-xai/mavis/nn"
)

// MetricsOptions configures Evaluator.Evaluate. The zero value (with
// Class set) gives the defaults: 32 steps of single pixels, the RISE
// references (black for deletion, blurred with sigma 5 for insertion), the
// class probability as the score, and top 10, 25 and 50% kept for the
// confidence scores.
type MetricsOptions struct {
	// Class is the class the map explains (the explanation's
	// Prediction.Class); −1 means the class predicted for x.
	Class int `json:"class"`
	// Logit scores the deletion and insertion curves with the class logit
	// instead of its softmax probability (Petsiuk et al. use the
	// probability; logit AUCs are not bounded to [0, 1]).
	Logit bool `json:"logit"`
	// Steps is the number of steps k of each curve (default
	// DefaultCurveSteps, 32): the curves have k+1 points, so both cost
	// 2(k+1) forward passes.
	Steps int `json:"steps"`
	// Patch is the side in input pixels of the square patches removed
	// together (their relevance is the mean over the patch); 0 or 1
	// removes single pixels.
	Patch int `json:"patch"`
	// Reference selects what removed pixels become (default RISE).
	Reference Reference `json:"reference"`
	// BlurSigma is the Gaussian blur's standard deviation in input pixels
	// (default 5).
	BlurSigma float64 `json:"blur_sigma"`
	// Keep lists the fractions of the most relevant pixels kept (the
	// others black) for the confidence drop and increase; default
	// DefaultKeep().
	Keep []float64 `json:"keep"`
	// KeepFill is what the pixels not kept become: black (RISE, the zero
	// value, or BlackReference: Chattopadhyay et al.'s masking) or the
	// image blurred by BlurSigma (BlurReference), for a model that gives
	// a black image one class whatever the kept pixels show.
	KeepFill Reference `json:"keep_fill"`
	// Box, when not nil, is an object's bounding box on the model's input
	// grid, for the pointing game and the relevance mass.
	Box *Box `json:"box,omitempty"`
	// Tolerance is the pointing game's tolerance in input pixels (0:
	// the maximum must lie in the box itself; Zhang et al. use 15 pixels).
	Tolerance int `json:"tolerance"`
	// Progress, when not nil, is called after every forward pass with the
	// number of perturbed images scored and the total.
	Progress func(done, total int) `json:"-"`
}

// Confidence is the model's response to keeping only the most relevant
// fraction Keep of the pixels (the rest black), after Chattopadhyay et al.
// (see Evaluate).
type Confidence struct {
	Keep  float64 `json:"keep"`  // fraction of pixels kept
	Prob  float64 `json:"prob"`  // the class probability O_c of the masked image
	Drop  float64 `json:"drop"`  // max(0, Y_c − O_c) / Y_c, in [0, 1]
	Raise bool    `json:"raise"` // O_c > Y_c, an increase in confidence
}

// MapMetrics are the faithfulness, complexity and localisation scores of
// one map for one image.
type MapMetrics struct {
	Class int    `json:"class"`
	Score string `json:"score"` // what the curves score: "probability" or "logit"
	// Prob is the class probability Y_c of the unperturbed image.
	Prob      float64 `json:"prob"`
	Steps     int     `json:"steps"`
	Patch     int     `json:"patch"`
	Reference string  `json:"reference"`
	Deletion  Curve   `json:"deletion"`
	Insertion Curve   `json:"insertion"`
	// Faithfulness is Insertion.AUC − Deletion.AUC, the ranking's primary
	// score: high when the pixels the map calls relevant are the ones the
	// score depends on.
	Faithfulness float64      `json:"faithfulness"`
	Confidence   []Confidence `json:"confidence"`
	// Gini is the sparseness of |map| (see Gini) and Entropy its
	// complexity in nats (see Entropy), both on the input grid.
	Gini    float64 `json:"gini"`
	Entropy float64 `json:"entropy"`
	// Pointing and Mass are set when a box was given (see PointingGame
	// and RelevanceMass).
	Pointing *bool    `json:"pointing,omitempty"`
	Mass     *float64 `json:"mass,omitempty"`
}

// Evaluate computes the per-image metrics of map m explaining x
// (1 x H x W x C) for class o.Class. m may have any resolution and 1 or C
// channels; it is brought to the H x W input grid as described in
// eval_maps.go.
//
// Deletion and insertion (Petsiuk, Das and Saenko, "RISE: Randomized
// Input Sampling for Explanation of Black-box Models", BMVC 2018):
// the pixels (or patches) are ranked by relevance, most relevant first;
// point i of k removes (deletion: replaces by the reference) or inserts
// (insertion: copies from x into the reference) the first
// n_i = round(i·N/k) of the N units, and records the class probability
// (or logit). A faithful map makes the deletion curve fall fast (low AUC)
// and the insertion curve rise fast (high AUC); the AUCs use the
// trapezoid rule over the fraction n_i/N in [0, 1].
//
// Confidence drop and increase (Chattopadhyay et al., "Grad-CAM++", WACV
// 2018, "Average Drop %" and "% Increase in Confidence"): for
// each fraction in Keep, the image keeping only that fraction of the most
// relevant units (the rest black) has class probability O_c; with Y_c the
// probability of x, Drop = max(0, Y_c − O_c)/Y_c and Raise = O_c > Y_c.
// Averaged over a data set they give the paper's two percentages. The
// paper masks with the map itself (E = L ∘ I); keeping the top fraction
// is the thresholded variant that does not depend on the map's scale.
//
// Gini, Entropy, PointingGame and RelevanceMass are computed on the
// same input-grid map. The 2(k+1) + len(Keep) perturbed images run
// through the model one at a time and incrementally (nn.Delta: each
// image recomputes only what its changed pixels reach, bit-equal to a
// full pass), or, with Evaluator.Batch > 0, in full batched passes;
// ctx is checked between forward passes.
func (ev *Evaluator) Evaluate(ctx Canceller, x *nn.Tensor, m Map, o MetricsOptions) (MapMetrics, error) {
	var r MapMetrics
	err := ev.EvaluateTo(ctx, &r, x, m, o)
	return r, err
}

// EvaluateTo is Evaluate writing into dst, reusing its storage.
func (ev *Evaluator) EvaluateTo(ctx Canceller, dst *MapMetrics, x *nn.Tensor, m Map, o MetricsOptions) error {
	in := ev.Model.InputShape()
	H, W, C := in[0], in[1], in[2]
	if x == nil || x.Shape != [4]int{1, H, W, C} || len(x.Data) != H*W*C {
		return errorf("xai: input %v, want 1x%dx%dx%d", x, H, W, C)
	}
	if err := checkMap(m); err != nil {
		return err
	}
	if err := (Target{Class: o.Class}).check(ev.eng.k); err != nil {
		return err
	}
	k := o.Steps
	if k == 0 {
		k = DefaultCurveSteps
	}
	if k < 1 || k > 100000 {
		return errorf("xai: %d deletion steps (want 1..100000)", o.Steps)
	}
	if o.Patch < 0 || o.Patch > max(H, W) {
		return errorf("xai: patch size %d out of range 1..%d pixels", o.Patch, max(H, W))
	}
	keep := o.Keep
	if keep == nil {
		keep = DefaultKeep()
	}
	for _, f := range keep {
		if !(f >= 0 && f <= 1) {
			return errorf("xai: kept fraction %g outside [0, 1]", f)
		}
	}
	if o.Box != nil {
		if err := o.Box.check(H, W); err != nil {
			return err
		}
	}
	if o.Tolerance < 0 {
		return errorf("xai: pointing-game tolerance %d pixels is negative", o.Tolerance)
	}
	if err := ev.references(x, o.Reference, o.BlurSigma); err != nil {
		return err
	}
	keepFill, err := ev.keepFill(x, o.KeepFill, o.BlurSigma)
	if err != nil {
		return err
	}

	// Rank the units.
	ev.pix = resize32(ev.pix, H*W)
	pixelMapTo(ev.pix, H, W, m)
	u := newUnits(H, W, o.Patch)
	N := u.count()
	ev.unit = resize64(ev.unit, N)
	if cap(ev.order) < N {
		ev.order = make([]int32, N)
	}
	ev.order = ev.order[:N]
	u.rankTo(ev.order, ev.unit, ev.pix)

	// One sweep: deletion points 0..k, insertion points 0..k, then the
	// kept fractions. Point 0 is x itself, so it fixes the class.
	n := 2*(k+1) + len(keep)
	ev.sc, ev.pr = resize64(ev.sc, n), resize64(ev.pr, n)
	ev.cur = resize32(ev.cur, H*W*C)
	done := 0 // units applied to cur in the current curve
	point := func(i int, dst []float32) {
		switch {
		case i <= k: // deletion
			if i == 0 {
				copy(ev.cur, x.Data)
				done = 0
			}
			to := stepCount(i, k, N)
			copyUnits(ev.cur, ev.del.Data, u, ev.order, done, to, C)
			done = to
		case i <= 2*k+1: // insertion
			j := i - (k + 1)
			if j == 0 {
				copy(ev.cur, ev.ins.Data)
				done = 0
			}
			to := stepCount(j, k, N)
			copyUnits(ev.cur, x.Data, u, ev.order, done, to, C)
			done = to
		default: // keep the top fraction on black (or keepFill)
			f := keep[i-2*(k+1)]
			if keepFill != nil {
				copy(ev.cur, keepFill)
			} else {
				clear(ev.cur)
			}
			copyUnits(ev.cur, x.Data, u, ev.order, 0, int(math.Round(f*float64(N))), C)
		}
		copy(dst, ev.cur)
	}
	kind := Probability
	if o.Logit {
		kind = Logit
	}
	c, err := ev.scores(ctx, n, Target{Class: o.Class, Kind: kind}, point, ev.sc, ev.pr, o.Progress)
	if err != nil {
		return err
	}
	// The confidence scores always use the probability (Chattopadhyay et
	// al.'s Y_c and O_c).
	y := ev.pr[0]

	dst.Class, dst.Score, dst.Prob = c, kind.String(), y
	dst.Steps, dst.Patch, dst.Reference = k, max(o.Patch, 1), o.Reference.String()
	for ci, cv := range []*Curve{&dst.Deletion, &dst.Insertion} {
		cv.resize(k + 1)
		for i := range k + 1 {
			cv.Fraction[i] = float64(stepCount(i, k, N)) / float64(N)
			cv.Score[i] = ev.sc[ci*(k+1)+i]
		}
		cv.AUC = AUC(cv.Fraction, cv.Score)
	}
	dst.Faithfulness = dst.Insertion.AUC - dst.Deletion.AUC

	dst.Confidence = dst.Confidence[:0]
	for j, f := range keep {
		p := ev.pr[2*(k+1)+j]
		cf := Confidence{Keep: f, Prob: p, Raise: p > y}
		if y > 0 {
			cf.Drop = max(0, y-p) / y
		}
		dst.Confidence = append(dst.Confidence, cf)
	}

	dst.Gini = Gini(ev.pix)
	dst.Entropy = Entropy(ev.pix)
	dst.Pointing, dst.Mass = nil, nil
	if o.Box != nil {
		hit := pointingGame(ev.pix, H, W, *o.Box, o.Tolerance)
		mass := relevanceMass(ev.pix, H, W, *o.Box)
		dst.Pointing, dst.Mass = &hit, &mass
	}
	return nil
}

func resize32(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// Gini returns the Gini index of |v| (Hurley and Rickard, "Comparing
// Measures of Sparsity", IEEE Trans. Inf. Theory 2009, eq. for G(c);
// used as the sparseness of an explanation by Chalasani et al., "Concise
// Explanations of Neural Networks using Adversarial Training", ICML 2020):
// with |v| sorted ascending into c_1 <= ... <= c_n,
//
//	G = 1 − 2 Σ_k (c_k / ‖c‖₁) · (n − k + ½) / n
//
// 0 for a uniform map, 1 − 1/n for a map with one non-zero value: higher
// is sparser. An all-zero (or empty) map gives 0.
func Gini(v []float32) float64 {
	n := len(v)
	if n == 0 {
		return 0
	}
	// |v_i| as float64 bits, NaN as 0: for values of one sign their bits
	// sort as the values do, and integers sort faster than floats (as
	// uint64, the sort ranks instantiates: one copy of it in the binary).
	c := make([]uint64, n)
	var sum float64
	for i, x := range v {
		a := math.Abs(float64(x))
		if a != a {
			a = 0
		}
		c[i] = math.Float64bits(a)
		sum += a
	}
	if sum == 0 || math.IsInf(sum, 0) {
		return 0
	}
	slices.Sort(c)
	var g float64
	for k, b := range c {
		// k is 0-based: (n − (k+1) + ½) = n − k − ½
		g += math.Float64frombits(b) / sum * (float64(n-k) - 0.5)
	}
	return 1 - 2*g/float64(n)
}

// Entropy returns the Shannon entropy in nats of the normalised |v|,
// p_i = |v_i| / Σ|v|: the complexity of an explanation of Bhatt, Weller
// and Moura, "Evaluating and Aggregating Feature-based Model
// Explanations", IJCAI 2020, the complexity criterion:
//
//	H = −Σ_i p_i ln p_i   (0 ln 0 = 0)
//
// 0 for one non-zero value, ln n for a uniform map: lower is simpler. An
// all-zero map gives 0.
func Entropy(v []float32) float64 {
	var sum float64
	for _, x := range v {
		if a := math.Abs(float64(x)); a == a {
			sum += a
		}
	}
	if sum == 0 || math.IsInf(sum, 0) {
		return 0
	}
	var h float64
	for _, x := range v {
		a := math.Abs(float64(x))
		if a > 0 {
			p := a / sum
			h -= p * math.Log(p)
		}
	}
	return h
}

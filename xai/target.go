package xai

import (
	"strconv"
	"strings"
)

// Score names the scalar an explanation differentiates.
type Score int

const (
	// Logit is the pre-softmax output z_c of the target class (the
	// default: a saturated softmax has vanishing gradients and blank maps).
	Logit Score = iota
	// Probability is the softmax output p_c, what the original MAVIS
	// notebook differentiated. dp_c/dz_j = p_c(δ_cj − p_j), with 1 − p_c
	// evaluated as Σ_{j≠c} p_j in float64 so it stays exact when p_c
	// rounds to 1.
	Probability
)

func (s Score) String() string {
	if s == Probability {
		return "probability"
	}
	return "logit"
}

// ParseScore reads "logit" or "probability" (also "prob", "softmax").
func ParseScore(s string) (Score, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "logit", "logits":
		return Logit, nil
	case "probability", "prob", "softmax":
		return Probability, nil
	}
	return Logit, errorf("xai: unknown target score %q (want logit or probability)", s)
}

// Target is what an explanation explains: the Score of one class.
//
// Class -1 means the predicted class c = argmax_j p_j(x) of the explained
// input. The same c is then used for every Integrated-Gradients step, the
// baseline and every SmoothGrad sample.
type Target struct {
	Class int   // class index, or -1 for the predicted class
	Kind  Score // Logit (default) or Probability
}

// Predicted returns the target for the predicted class's logit.
func Predicted() Target { return Target{Class: -1} }

func (t Target) String() string {
	c := "predicted"
	if t.Class >= 0 {
		c = strconv.Itoa(t.Class)
	}
	return sprintf("%s of class %s", t.Kind, c)
}

func (t Target) check(classes int) error {
	if t.Class < -1 || t.Class >= classes {
		return errorf("xai: target class %d out of range (the model has %d classes, -1 means predicted)", t.Class, classes)
	}
	if t.Kind != Logit && t.Kind != Probability {
		return errorf("xai: unknown target score %d", int(t.Kind))
	}
	return nil
}

package xai

import (
	"cmp"
	"math"
	"strings"

	"github.com/mavis-xai/mavis/internal/order"
)

// GapThreshold is the relative completeness gap |Σ attributions −
// (Score(x) − Score(b))| / |Score(x) − Score(b)| above which the ranking
// flags an Integrated-Gradients map: Sundararajan et al. (ICML 2017,
// sec. 3) advise checking that the attributions add up to the score
// difference, and report that 20 to 300 steps bring them within 5%.
const GapThreshold = 0.05

// MethodScore is one method's scores for the ranking: of one image, or
// means over a data set.
type MethodScore struct {
	Method string `json:"method"` // "gradcam", "gradcampp", "saliency", "ig", ...
	// Faithfulness is the insertion AUC minus the deletion AUC, the
	// primary score.
	Faithfulness float64 `json:"faithfulness"`
	Insertion    float64 `json:"insertion_auc"`
	Deletion     float64 `json:"deletion_auc"`
	Gini         float64 `json:"gini"`
	Entropy      float64 `json:"entropy"`
	// Sanity is the randomisation check, when it was run.
	Sanity *SanityResult `json:"sanity,omitempty"`
	// Gap is the relative gap of the method's conservation check (see
	// Check and SetCheck: Integrated Gradients' completeness, DeepLIFT's
	// summation to delta, ...): (Σ attributions − want) / |want|.
	Gap *float64 `json:"completeness_gap,omitempty"`
	// Check names the conservation property Gap measures ("completeness"
	// when empty) and GapLimit the |Gap| above which the map is flagged
	// (GapThreshold when 0).
	Check    string  `json:"check,omitempty"`
	GapLimit float64 `json:"gap_limit,omitempty"`
	// Advice, when set (by a caller that ran CompletenessSweep: see
	// GapAdvice), says what brings a completeness gap above GapThreshold
	// within it on this input; Rank quotes it instead of its general
	// advice.
	Advice string `json:"advice,omitempty"`
	// Flagged, set by Rank, marks a method that cannot be trusted however
	// high its faithfulness: a failed randomisation check, a completeness
	// gap above GapThreshold or no faithfulness score. Problems, also set
	// by Rank, says which, one plain phrase each (as in Ranking.Flags).
	Flagged  bool     `json:"flagged"`
	Problems []string `json:"problems,omitempty"`
}

// SetCheck records a method's conservation check c (nil: none) in s: its
// relative gap, name, limit and, unless s has advice already, c's advice.
func (s *MethodScore) SetCheck(c *Check) {
	if c == nil {
		return
	}
	g := c.Rel
	s.Gap, s.Check, s.GapLimit = &g, c.Name, c.Threshold
	if s.Advice == "" {
		s.Advice = c.Advice
	}
}

func (s MethodScore) gapLimit() float64 {
	if s.GapLimit > 0 {
		return s.GapLimit
	}
	return GapThreshold
}

// ScoreOf returns the ranking entry of a method from its metrics. Set
// Sanity when the randomisation check ran, and Gap (see IGGap) for
// Integrated Gradients.
func ScoreOf(method string, m MapMetrics) MethodScore {
	return MethodScore{Method: method, Faithfulness: m.Faithfulness,
		Insertion: m.Insertion.AUC, Deletion: m.Deletion.AUC, Gini: m.Gini, Entropy: m.Entropy}
}

// RelativeGap returns the completeness gap relative to the score
// difference it should add up to: gap / |scoreX − scoreBaseline|, clamped
// to ±1e6 (a zero difference with a non-zero gap gives ±1e6; both zero
// give 0), so that it always fits in JSON.
func RelativeGap(gap, scoreX, scoreBaseline float64) float64 {
	const limit = 1e6
	d := math.Abs(scoreX - scoreBaseline)
	switch {
	case gap == 0:
		return 0
	case math.IsNaN(gap) || math.IsNaN(d):
		return limit
	case d == 0 || math.Abs(gap)/d > limit:
		return math.Copysign(limit, gap)
	}
	return gap / d
}

// IGGap returns the relative completeness gap of an Integrated-Gradients
// explanation, for MethodScore.Gap.
func IGGap(a Attribution) float64 { return RelativeGap(a.Gap, a.Score, a.BaselineScore) }

// Ranking orders methods by faithfulness and says which to trust.
type Ranking struct {
	// Scores are the methods, most faithful first (ties: the order given).
	Scores []MethodScore `json:"scores"`
	// Trusted is the method to trust: the most faithful one that passed
	// the randomisation check (when run) and has no large completeness
	// gap, or "" when there is none.
	Trusted string `json:"trusted"`
	// Flags lists the problems found, one plain phrase each.
	Flags []string `json:"flags"`
	// Verdict is one plain sentence saying which method to trust and why,
	// and the flags.
	Verdict string `json:"verdict"`
	// Headline is the verdict without the flags, for a view that shows
	// each method's problems beside it (the page's ranking).
	Headline string `json:"headline"`
}

// problems returns the plain phrases that disqualify s (empty when none).
func (s MethodScore) problems() []string {
	var p []string
	if s.Sanity != nil && !s.Sanity.Pass {
		p = append(p, sprintf("%s failed the randomisation check (its map barely changes when the weights are scrambled: mean Spearman %.2f > %.2f)",
			MethodLabel(s.Method), s.Sanity.Mean, s.Sanity.Threshold))
	}
	if s.Gap != nil && !(math.Abs(*s.Gap) <= s.gapLimit()) {
		advice := strings.TrimSuffix(s.Advice, ".")
		if advice == "" {
			advice = gapAdvice
		} else if c := advice[0]; 'A' <= c && c <= 'Z' && len(advice) > 1 && 'a' <= advice[1] && advice[1] <= 'z' {
			advice = string(c+'a'-'A') + advice[1:] // a clause, not a sentence
		}
		check := s.Check
		if check == "" {
			check = "completeness"
		}
		p = append(p, sprintf("%s misses %s by %s of the score difference (more than %s); %s",
			MethodLabel(s.Method), check, percent(*s.Gap), sprintf("%.2g%%", 100*s.gapLimit()), advice))
	}
	if math.IsNaN(s.Faithfulness) {
		p = append(p, sprintf("%s has no faithfulness score", MethodLabel(s.Method)))
	}
	return p
}

// percent prints a relative gap as a percentage: one decimal under 10%.
// gapAdvice is Rank's advice on a completeness gap when no
// CompletenessSweep ran. More steps are the textbook remedy, but on ReLU
// networks the path's gradient can be steep near the baseline, and then
// they barely help. Measured with the MAVIS model on the fixture photos
// (logit target, from the black baseline): "immunohistochemistry" misses
// by -4247% with linspace at 50 steps and still -1376% at 150, trapezoid
// -2138% at 50, Gauss–Legendre +36% at 16 and +71% at 48; "chelsea" by
// -6.6% at 50 linspace steps and -25% at 150. From a blurred baseline the
// same photos come within 2% at 50 linspace or trapezoid steps (+1.7%,
// +1.0%; -1.4%, +1.3%). No one remedy fits every image: "astronaut"
// misses by +213% at 50 linspace steps and +69% at 150 from black, where
// Gauss–Legendre at 16 steps comes within -1.1%, while from a blurred
// baseline linspace still misses by +54% at 50 steps.
const gapAdvice = "more steps alone often do not close it (a steep gradient near the baseline); " +
	"measure another baseline (blur) and rule (trapezoid, gauss-legendre) on this image: the page's “Find settings that add up” on the map's card does, and so does the command-line explain (its report.json)"

func percent(v float64) string {
	switch {
	case math.IsInf(v, 0):
		return sprintf("%+.0f%%", v)
	case math.Abs(v) < 0.1:
		return sprintf("%+.1f%%", 100*v)
	}
	return sprintf("%+.0f%%", 100*v)
}

// Rank orders the methods by Faithfulness (insertion AUC − deletion AUC,
// highest first; NaN last) and writes the verdict: the method to trust is
// the most faithful one without a failed randomisation check or a
// completeness gap above GapThreshold. When every method's faithfulness
// is at most 0 (no better than deleting pixels in a random order), no
// method is trusted.
func Rank(scores []MethodScore) Ranking {
	r := Ranking{Scores: make([]MethodScore, len(scores))}
	for k, i := range order.Index(len(scores), func(a, b int32) int {
		return cmp.Compare(nanLow(scores[b].Faithfulness), nanLow(scores[a].Faithfulness))
	}) {
		r.Scores[k] = scores[i]
	}
	if scores == nil {
		r.Scores = nil
	}
	if len(r.Scores) == 0 {
		r.Verdict, r.Headline = "No method was evaluated.", "No method was evaluated."
		return r
	}
	trusted := -1
	for i, s := range r.Scores {
		p := s.problems()
		r.Flags = append(r.Flags, p...)
		r.Scores[i].Flagged, r.Scores[i].Problems = len(p) > 0, p
		if trusted < 0 && len(p) == 0 && s.Faithfulness > 0 {
			trusted = i
		}
	}
	top := r.Scores[0]
	flags := ""
	if len(r.Flags) > 0 {
		flags = "; " + strings.Join(r.Flags, "; ")
	}
	// say writes the verdict, format's last %s being the flags, and the
	// headline without them.
	say := func(format string, a ...any) {
		r.Verdict = sprintf(format, append(a, flags)...)
		r.Headline = sprintf(format, append(a, "")...)
	}
	switch {
	case !(top.Faithfulness > 0):
		say("Trust none of these maps: even the best, %s, does no better than a random pixel order (insertion − deletion AUC %.3f)%s.",
			MethodLabel(top.Method), top.Faithfulness)
	case trusted < 0:
		say("Trust none of these maps: %s ranks highest (insertion − deletion AUC %.3f) but every method has a problem%s.",
			MethodLabel(top.Method), top.Faithfulness)
	case trusted == 0:
		s := r.Scores[0]
		r.Trusted = s.Method
		why := sprintf("the pixels it marks are the ones the model's score depends on most (best insertion − deletion AUC, %.3f", s.Faithfulness)
		if len(r.Scores) > 1 {
			n := r.Scores[1]
			if sprintf("%.3f", n.Faithfulness) == sprintf("%.3f", s.Faithfulness) {
				why += sprintf(", tied with %s to three decimals", MethodLabel(n.Method))
			} else {
				why += sprintf(", against %.3f for %s", n.Faithfulness, MethodLabel(n.Method))
			}
		}
		why += ")"
		if s.Sanity != nil {
			why += " and it passes the randomisation check"
		}
		say("Trust %s: %s%s.", MethodLabel(s.Method), why)
	default:
		// Flagged methods rank above the trusted one: say so, each with
		// its score, and why they are passed over.
		s := r.Scores[trusted]
		r.Trusted = s.Method
		var above []string
		for _, f := range r.Scores[:trusted] {
			above = append(above, sprintf("%.3f for %s", f.Faithfulness, MethodLabel(f.Method)))
		}
		which := "which ranks above it but is flagged"
		if len(above) > 1 {
			which = "which rank above it but are flagged"
		}
		why := sprintf("it is the most faithful map without a problem (insertion − deletion AUC %.3f, against %s, %s)",
			s.Faithfulness, andList(above), which)
		if s.Sanity != nil {
			why += " and it passes the randomisation check"
		}
		say("Trust %s: %s%s.", MethodLabel(s.Method), why)
	}
	return r
}

// andList joins "a", "a and b", "a, b and c".
func andList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

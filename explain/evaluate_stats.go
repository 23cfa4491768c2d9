package main

// The statistics of the -evaluate report (issue 15), all from
// internal/stats: every mean gets a 95% bootstrap interval over the
// images (seeded with -seed, so a rerun or a merge gives the same
// interval), the methods are compared pairwise on the ranking metric by
// Wilcoxon's signed-rank test with Holm's correction, and the verdict
// says that one method is more faithful than another only when that test
// does.

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/mavis-xai/mavis/internal/stats"
	"github.com/mavis-xai/mavis/xai"
)

// alpha is the family-wise error rate of the pairwise comparisons.
const alpha = 0.05

// bootstrap is how every interval in the report is computed.
func bootstrap(seed uint64) stats.Bootstrap {
	return stats.Bootstrap{Level: stats.DefaultLevel, Resamples: stats.DefaultResamples, Seed: seed}
}

// metricDef is one per-image metric of a method, as a number (ok false
// when the image has none, such as a relevance mass without a box).
type metricDef struct {
	name  string // as in the report
	key   string // as in metrics.json
	lower bool   // lower is better
	fill  string // what removed pixels become ("" when nothing is removed)
	value func(e *evalMethod) (float64, bool)
}

// faithfulnessMetrics are the metrics that say whether a map points at
// what the model uses; the separation check runs on them. The fills name
// the references of the deletion and insertion curves and of the
// confidence scores.
func faithfulnessMetrics(keep []float64, delFill, insFill, keepFill string) []metricDef {
	ms := []metricDef{
		{"faithfulness (ins − del)", "faithfulness", false, delFill + " and " + insFill, func(e *evalMethod) (float64, bool) { return e.Metrics.Faithfulness, true }},
		{"insertion AUC", "insertion_auc", false, insFill, func(e *evalMethod) (float64, bool) { return e.Metrics.Insertion.AUC, true }},
		{"deletion AUC", "deletion_auc", true, delFill, func(e *evalMethod) (float64, bool) { return e.Metrics.Deletion.AUC, true }},
	}
	if delFill == insFill {
		ms[0].fill = delFill
	}
	for i, k := range keep {
		ms = append(ms,
			metricDef{fmt.Sprintf("average drop at the top %.0f%%", 100*k), fmt.Sprintf("average_drop_%g", k), true, keepFill, func(e *evalMethod) (float64, bool) {
				if i >= len(e.Metrics.Confidence) {
					return 0, false
				}
				return 100 * e.Metrics.Confidence[i].Drop, true
			}},
			metricDef{fmt.Sprintf("increase at the top %.0f%%", 100*k), fmt.Sprintf("increase_%g", k), false, keepFill, func(e *evalMethod) (float64, bool) {
				if i >= len(e.Metrics.Confidence) {
					return 0, false
				}
				return map[bool]float64{false: 0, true: 100}[e.Metrics.Confidence[i].Raise], true
			}})
	}
	ms = append(ms,
		metricDef{"pointing game", "pointing", false, "", func(e *evalMethod) (float64, bool) {
			if e.Metrics.Pointing == nil {
				return 0, false
			}
			return map[bool]float64{false: 0, true: 1}[*e.Metrics.Pointing], true
		}},
		metricDef{"relevance mass", "relevance_mass", false, "", func(e *evalMethod) (float64, bool) {
			if e.Metrics.Mass == nil {
				return 0, false
			}
			return *e.Metrics.Mass, true
		}})
	return ms
}

// scoreRows returns rows[m][i], method m's value of def on record i (NaN
// when missing), and whether any value was present.
func scoreRows(methods []string, recs []*evalRecord, def metricDef) ([][]float64, bool) {
	rows := make([][]float64, len(methods))
	any := false
	for m, name := range methods {
		rows[m] = make([]float64, len(recs))
		for i, r := range recs {
			rows[m][i] = math.NaN()
			if e := r.Methods[name]; e != nil {
				if v, ok := def.value(e); ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
					rows[m][i], any = v, true
				}
			}
		}
	}
	return rows, any
}

// interval is a 95% bootstrap confidence interval of a mean.
type interval [2]float64

// intervalOf returns iv's bounds, or nil when there are none (fewer than
// two values).
func intervalOf(iv stats.Interval) *interval {
	if math.IsNaN(iv.Lo) || math.IsNaN(iv.Hi) {
		return nil
	}
	return &interval{iv.Lo, iv.Hi}
}

// comparison is the pairwise test of the methods on one metric.
type comparison struct {
	Metric string     `json:"metric"`
	Test   string     `json:"test"`
	Alpha  float64    `json:"alpha"`
	Pairs  []pairTest `json:"pairs"`
	// Best is the method no other is significantly better than (the
	// highest mean among those); Top is Best and the methods that cannot
	// be told apart from it, most faithful first.
	Best string   `json:"best"`
	Top  []string `json:"indistinguishable_from_best"`
	// MinImages is the fewest images with which any pair could differ
	// significantly at Alpha after Holm's correction (exact test).
	MinImages int `json:"min_images"`
}

// pairTest is one pair's Wilcoxon signed-rank test, A − B.
type pairTest struct {
	A       string   `json:"a"`
	B       string   `json:"b"`
	N       int      `json:"n"`     // images with a non-zero difference
	Zeros   int      `json:"zeros"` // images where they tie
	MedianD *float64 `json:"median_difference,omitempty"`
	// RankBiserial is the matched-pairs rank-biserial correlation, in
	// [−1, 1], positive when A tends to score higher.
	RankBiserial *float64 `json:"rank_biserial,omitempty"`
	P            *float64 `json:"p,omitempty"`
	PHolm        *float64 `json:"p_holm,omitempty"`
	Exact        bool     `json:"exact"`
	// Better is the method significantly better than the other, "" when
	// they are statistically indistinguishable.
	Better string `json:"better,omitempty"`
}

func optional(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// compareMethods tests every pair of methods on rows (higher better; the
// caller negates a lower-is-better metric).
func compareMethods(metric string, methods []string, rows [][]float64) (*comparison, error) {
	c, err := stats.Compare(rows, alpha)
	if err != nil {
		return nil, err
	}
	pairs := len(methods) * (len(methods) - 1) / 2
	out := &comparison{Metric: metric, Alpha: alpha, MinImages: minImages(pairs),
		Test: fmt.Sprintf("Wilcoxon signed-rank (two-sided, paired over images), Holm-adjusted over %s", count(pairs, "pair"))}
	for _, pr := range c.Pairs {
		pt := pairTest{A: methods[pr.A], B: methods[pr.B], N: pr.N, Zeros: pr.Zeros, Exact: pr.Exact,
			MedianD: optional(pr.MedianDiff), RankBiserial: optional(pr.RankBiserial), P: optional(pr.P), PHolm: optional(pr.PHolm)}
		if pr.Better >= 0 {
			pt.Better = methods[pr.Better]
		}
		out.Pairs = append(out.Pairs, pt)
	}
	if c.Best >= 0 {
		out.Best = methods[c.Best]
		for _, k := range c.Top {
			out.Top = append(out.Top, methods[k])
		}
	}
	return out, nil
}

// minImages is the fewest paired images with which a two-sided exact
// Wilcoxon test can reach Holm's first threshold alpha/pairs: its
// smallest p-value, all differences of one sign, is 2/2^n.
func minImages(pairs int) int {
	if pairs < 1 {
		return 0
	}
	return int(math.Ceil(math.Log2(2 * float64(pairs) / alpha)))
}

// pair returns the test of a against b, oriented a − b; nil when c does
// not hold it.
func (c *comparison) pair(a, b string) *pairTest {
	for _, p := range c.Pairs {
		switch {
		case p.A == a && p.B == b:
			return &p
		case p.A == b && p.B == a:
			p.A, p.B = a, b
			if p.MedianD != nil {
				d := -*p.MedianD
				p.MedianD = &d
			}
			if p.RankBiserial != nil {
				r := -*p.RankBiserial
				p.RankBiserial = &r
			}
			return &p
		}
	}
	return nil
}

// significant counts the pairs that differ.
func (c *comparison) significant() int {
	n := 0
	for _, p := range c.Pairs {
		if p.Better != "" {
			n++
		}
	}
	return n
}

// verdict says in words what the test of a against b shows, the effect
// sizes oriented from the winner's side.
func (p *pairTest) verdict(metric string) string {
	if p.Better == p.B {
		q := *p
		q.A, q.B = p.B, p.A
		if p.MedianD != nil {
			d := -*p.MedianD
			q.MedianD = &d
		}
		if p.RankBiserial != nil {
			r := -*p.RankBiserial
			q.RankBiserial = &r
		}
		p = &q
	}
	a, b := xai.MethodLabel(p.A), xai.MethodLabel(p.B)
	if p.PHolm == nil {
		return fmt.Sprintf("%s and %s score the same %s on every image", a, b, metric)
	}
	effect := ""
	if p.RankBiserial != nil && p.MedianD != nil {
		effect = fmt.Sprintf("; rank-biserial r = %+.2f, median difference %+.3g", *p.RankBiserial, *p.MedianD)
	}
	if p.Better == p.A {
		return fmt.Sprintf("%s is more faithful than %s on this data (Holm-adjusted p %s over %d images%s)", a, b, pEquals(*p.PHolm), p.N+p.Zeros, effect)
	}
	return fmt.Sprintf("%s and %s are statistically indistinguishable on this data (Holm-adjusted p %s over %d images%s)", a, b, pEquals(*p.PHolm), p.N+p.Zeros, effect)
}

// pEquals is "= p", or "< 0.0001".
func pEquals(p float64) string {
	if s := pValue(p); strings.HasPrefix(s, "<") {
		return s
	}
	return "= " + pValue(p)
}

// pValue prints a p-value with two significant digits, and tiny ones as
// a bound.
func pValue(p float64) string {
	switch {
	case p < 0.0001:
		return "< 0.0001"
	case p < 0.01:
		return fmt.Sprintf("%.1g", p)
	}
	return fmt.Sprintf("%.2f", p)
}

// metricCheck says whether one metric tells the methods apart on this
// data (item 5 of issue 15: metric sanity as a protocol).
type metricCheck struct {
	Metric string `json:"metric"`
	Fill   string `json:"fill,omitempty"` // what removed pixels became
	Images int    `json:"images"`
	// Tied is the fraction of images on which every method scores the
	// same (within 0.1% of the metric's scale).
	Tied        float64 `json:"tied"`
	Significant int     `json:"significant_pairs"`
	Pairs       int     `json:"pairs"`
	// Separates is false when the metric cannot tell the methods apart:
	// they tie on most images, or (with enough images for a test to
	// succeed) no pair differs. TooFew is set when there are too few
	// images for any pair to differ significantly, and the methods do
	// not tie: then whether the metric separates them is not known.
	Separates  bool   `json:"separates"`
	TooFew     bool   `json:"too_few_images,omitempty"`
	Warning    string `json:"warning,omitempty"`
	Suggestion string `json:"suggestion,omitempty"`
}

// tiedFraction is the fraction of columns (images) where every row with
// a value agrees within 0.1% of the largest magnitude (at least 1e-9).
func tiedFraction(rows [][]float64) float64 {
	if len(rows) == 0 || len(rows[0]) == 0 {
		return 0
	}
	tied, n := 0, 0
	for i := range rows[0] {
		lo, hi, big, k := math.Inf(1), math.Inf(-1), 0.0, 0
		for _, r := range rows {
			if v := r[i]; !math.IsNaN(v) {
				lo, hi, big, k = min(lo, v), max(hi, v), max(big, math.Abs(v)), k+1
			}
		}
		if k < 2 {
			continue
		}
		n++
		if hi-lo <= max(1e-3*max(big, 1), 1e-9) {
			tied++
		}
	}
	if n == 0 {
		return 0
	}
	return float64(tied) / float64(n)
}

// referenceScore is what the model makes of one reference image, the
// fill the metrics replace removed pixels with, for one image.
type referenceScore struct {
	Name    string  `json:"name"`     // "black" or "blur"
	Prob    float64 `json:"prob"`     // the explained class's probability on it
	Top     int     `json:"top"`      // the class predicted for it
	TopProb float64 `json:"top_prob"` // that class's probability
}

// referenceSummary is one reference over the images.
type referenceSummary struct {
	Name   string `json:"name"`
	Images int    `json:"images"`
	// Prob is the explained class's probability on the reference, and
	// ImageProb on the images themselves.
	Prob      stat    `json:"class_probability"`
	ImageProb float64 `json:"image_probability"`
	// Top is the class the model most often predicts for the reference,
	// on TopShare of the images, with mean probability TopProb there.
	Top      int     `json:"top_class"`
	TopName  string  `json:"top_name,omitempty"`
	TopShare float64 `json:"top_share"`
	TopProb  float64 `json:"top_probability"`
	// Dominant: the model gives the reference one class with p ≥ 0.9 on
	// at least 90% of the images, so that any fill of it pulls every
	// masked image towards that class whatever the map kept.
	Dominant bool `json:"dominant"`
}

// referenceCandidates are the fills an -eval-reference can give the
// curves, in the order a suggestion prefers them.
var referenceCandidates = []string{"blur", "black"}

// refPhrase names a reference in a sentence.
func refPhrase(name string) string {
	if name == "blur" {
		return "the blurred image"
	}
	return "the " + name + " image"
}

// referenceFills returns the fills of the deletion and insertion curves
// for a reference setting (xai.Evaluator's references).
func referenceFills(reference string) (del, ins string) {
	switch reference {
	case "black":
		return "black", "black"
	case "blur":
		return "blur", "blur"
	}
	return "black", "blur"
}

// summariseReferences pools the records' reference scores.
func summariseReferences(recs []*evalRecord, classes []string) []referenceSummary {
	var out []referenceSummary
	for _, name := range []string{"black", "blur"} {
		rs := referenceSummary{Name: name}
		var probs, imgProbs []float64
		tops := map[int][]float64{}
		for _, r := range recs {
			for _, s := range r.References {
				if s.Name == name {
					probs = append(probs, s.Prob)
					imgProbs = append(imgProbs, r.Prob)
					tops[s.Top] = append(tops[s.Top], s.TopProb)
				}
			}
		}
		if len(probs) == 0 {
			continue
		}
		rs.Images, rs.Prob, rs.ImageProb = len(probs), statOf(probs), statOf(imgProbs).Mean
		rs.Top = -1
		for k, ps := range tops {
			if len(ps) > len(tops[rs.Top]) || len(ps) == len(tops[rs.Top]) && k < rs.Top {
				rs.Top = k
			}
		}
		rs.TopShare = float64(len(tops[rs.Top])) / float64(len(probs))
		rs.TopProb = statOf(tops[rs.Top]).Mean
		if rs.Top < len(classes) {
			rs.TopName = classes[rs.Top]
		}
		rs.Dominant = rs.TopShare >= 0.9 && rs.TopProb >= 0.9
		out = append(out, rs)
	}
	return out
}

// checkMetrics runs the separation check on every faithfulness metric
// and writes the warnings and suggestions.
func checkMetrics(s *evalSummary, recs []*evalRecord, defs []metricDef) ([]metricCheck, error) {
	methods := s.methodNames()
	if len(methods) < 2 {
		return nil, nil
	}
	var out []metricCheck
	for _, def := range defs {
		rows, any := scoreRows(methods, recs, def)
		if !any {
			continue
		}
		if def.lower {
			for _, r := range rows {
				for i := range r {
					r[i] = -r[i]
				}
			}
		}
		c, err := compareMethods(def.name, methods, rows)
		if err != nil {
			return nil, err
		}
		mc := metricCheck{Metric: def.name, Fill: def.fill, Images: len(recs), Tied: tiedFraction(rows),
			Significant: c.significant(), Pairs: len(c.Pairs)}
		mc.Separates = mc.Tied < 0.5 && mc.Significant > 0
		mc.TooFew = mc.Tied < 0.5 && len(recs) < c.MinImages
		switch {
		case mc.TooFew:
		case mc.Tied >= 0.5:
			mc.Warning = fmt.Sprintf("%s cannot separate the methods on this data: every method scores the same on %.0f%% of the images", def.name, 100*mc.Tied)
		case !mc.Separates:
			mc.Warning = fmt.Sprintf("%s finds no difference between any two methods on these %d images (Holm-adjusted α = %g)", def.name, len(recs), alpha)
		}
		if mc.Warning != "" {
			mc.Suggestion = suggestReference(s, def, out)
		}
		out = append(out, mc)
	}
	return out, nil
}

// suggestReference says which reference would let metric def separate
// the methods, from what the model makes of each reference on this data
// and from the curves that used the other one; "" when nothing better is
// known.
func suggestReference(s *evalSummary, def metricDef, earlier []metricCheck) string {
	if def.fill == "" {
		return ""
	}
	refs := map[string]referenceSummary{}
	for _, r := range s.References {
		refs[r.Name] = r
	}
	fills := strings.Split(def.fill, " and ")
	var why []string
	for _, f := range fills {
		if r, ok := refs[f]; ok && r.Dominant {
			why = append(why, fmt.Sprintf("the model calls %s %q with p = %.2f on %.0f%% of the images, so filling with it pulls a masked image towards that class whatever the map kept",
				refPhrase(f), r.TopName, r.TopProb, 100*r.TopShare))
		} else if ok && r.Prob.Mean >= 0.5*r.ImageProb {
			why = append(why, fmt.Sprintf("%s already scores the explained class at p = %.2f on average (the images themselves %.2f)", refPhrase(f), r.Prob.Mean, r.ImageProb))
		}
	}
	// A candidate is one the metric did not use, that is not dominant,
	// and that scores the class lower than the fill did.
	for _, c := range referenceCandidates {
		if slices.Contains(fills, c) {
			continue
		}
		r, ok := refs[c]
		if !ok || r.Dominant {
			continue
		}
		evidence := fmt.Sprintf("the model gives %s the explained class with p = %.2f on average and no one class dominates it (its most frequent class, %q, on %.0f%% of the images)",
			refPhrase(c), r.Prob.Mean, r.TopName, 100*r.TopShare)
		for _, e := range earlier {
			if e.Fill == c && e.Significant > 0 {
				evidence += fmt.Sprintf("; the %s, which fills with it, separates %d of %s", e.Metric, e.Significant, count(e.Pairs, "pair"))
			}
		}
		how := "-eval-reference " + c
		if strings.HasPrefix(def.key, "average_drop") || strings.HasPrefix(def.key, "increase") {
			how = "-eval-keep-fill " + c
		}
		out := "Try " + how + ": " + evidence + "."
		if len(why) > 0 {
			out = "On this data " + strings.Join(why, "; ") + ". " + out
		}
		return out
	}
	if len(why) > 0 {
		return "On this data " + strings.Join(why, "; ") + "."
	}
	return ""
}

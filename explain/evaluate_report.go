package main

// The -evaluate summary: per-method statistics over the images (means
// with bootstrap intervals), the ranking of the means, the pairwise
// tests, the per-class breakdown and the metric checks: the summary of
// metrics.json, from which report.md is written (evaluate_markdown.go).

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/mavis-xai/mavis/internal/stats"
	"github.com/mavis-xai/mavis/xai"
)

// stat is the mean, standard deviation and median of a sample, and the
// mean's 95% bootstrap confidence interval (over images, seeded; absent
// with fewer than two values).
type stat struct {
	Mean   float64   `json:"mean"`
	SD     float64   `json:"sd"`
	Median float64   `json:"median"`
	N      int       `json:"n"`
	CI     *interval `json:"ci95,omitempty"`
}

func statOf(v []float64) stat {
	if len(v) == 0 {
		return stat{}
	}
	var s stat
	s.N = len(v)
	for _, x := range v {
		s.Mean += x
	}
	s.Mean /= float64(len(v))
	for _, x := range v {
		s.SD += (x - s.Mean) * (x - s.Mean)
	}
	if len(v) > 1 {
		s.SD = math.Sqrt(s.SD / float64(len(v)-1))
	} else {
		s.SD = 0
	}
	w := slices.Clone(v)
	slices.Sort(w)
	if n := len(w); n%2 == 1 {
		s.Median = w[n/2]
	} else {
		s.Median = (w[n/2-1] + w[n/2]) / 2
	}
	s.Mean, s.SD, s.Median = finite(s.Mean), finite(s.SD), finite(s.Median)
	return s
}

// methodSummary is one method over all evaluated images.
type methodSummary struct {
	Method       string `json:"method"`
	Label        string `json:"label"`
	Faithfulness stat   `json:"faithfulness"` // insertion AUC − deletion AUC
	Insertion    stat   `json:"insertion_auc"`
	Deletion     stat   `json:"deletion_auc"`
	Gini         stat   `json:"gini"`
	Entropy      stat   `json:"entropy"`
	// Fraction and the mean curves (all images share the fractions).
	Fraction      []float64 `json:"fraction"`
	MeanDeletion  []float64 `json:"mean_deletion"`
	MeanInsertion []float64 `json:"mean_insertion"`
	// Chattopadhyay et al.'s Average Drop % and % Increase in Confidence
	// per kept fraction, with their intervals.
	Keep          []float64   `json:"keep"`
	AverageDrop   []float64   `json:"average_drop_percent"`
	Increase      []float64   `json:"increase_percent"`
	AverageDropCI []*interval `json:"average_drop_ci95,omitempty"`
	IncreaseCI    []*interval `json:"increase_ci95,omitempty"`
	// Localisation over the images with a box.
	Boxes      int       `json:"boxes"`
	Pointing   *float64  `json:"pointing_accuracy,omitempty"`
	PointingCI *interval `json:"pointing_ci95,omitempty"`
	Mass       *stat     `json:"relevance_mass,omitempty"`
	// Sanity pools the checked images: Spearman per cascade step averaged
	// over them.
	Sanity *xai.SanityResult `json:"sanity,omitempty"`
	// Gap is the median relative completeness gap (IG).
	Gap  *float64 `json:"completeness_gap_median,omitempty"`
	Wins int      `json:"ranked_first"` // images where the method ranked first
	// Trusted counts the images where the verdict trusted it.
	Trusted int `json:"trusted"`
}

// evalSummary is the top of metrics.json. It depends only on the
// records and the header's settings, never on how or where they were
// computed, so that a merge of shards gives the same bytes as one run.
type evalSummary struct {
	Model    string          `json:"model"`
	Dir      string          `json:"dir"`
	Images   int             `json:"images"`
	Settings map[string]any  `json:"settings"`
	Methods  []methodSummary `json:"methods"`
	// Ranking ranks the methods by their mean scores; its Trusted is the
	// recommended method for this model on this data.
	Ranking xai.Ranking `json:"ranking"`
	// Comparison tests the methods pairwise on faithfulness; Confidence
	// says in words how sure the recommendation is.
	Comparison *comparison `json:"comparison,omitempty"`
	Confidence string      `json:"confidence,omitempty"`
	// Classes breaks faithfulness down by the class explained.
	Classes []classSummary `json:"classes,omitempty"`
	// Checks says which metrics can separate the methods on this data;
	// References what the model makes of the metrics' fills.
	Checks     []metricCheck      `json:"metric_checks,omitempty"`
	References []referenceSummary `json:"references,omitempty"`
	// Skipped lists the images that could not be evaluated, and why.
	Skipped []skippedImage `json:"skipped,omitempty"`
	// Timing is for report.md only (timings.json; it differs between
	// runs of the same images).
	Timing *timings `json:"-"`
	// Notes are said at the top of report.md (a merge's missing shards).
	Notes []string `json:"-"`
}

// classSummary is faithfulness over the images of one explained class.
type classSummary struct {
	Class   int           `json:"class"`
	Name    string        `json:"name"`
	Images  int           `json:"images"`
	Methods []classMethod `json:"methods"`
	Best    string        `json:"best,omitempty"`
	Top     []string      `json:"indistinguishable_from_best,omitempty"`
	Pairs   int           `json:"significant_pairs"`
	Ranking []string      `json:"-"`
}

// classMethod is one method's faithfulness on one class.
type classMethod struct {
	Method       string `json:"method"`
	Faithfulness stat   `json:"faithfulness"`
}

// skippedImage is an image left out of the report.
type skippedImage struct {
	Image string `json:"image"`
	Error string `json:"error"`
}

func (s *evalSummary) methodNames() []string {
	var out []string
	for _, m := range s.Methods {
		out = append(out, m.Method)
	}
	return out
}

// settingsMap is metrics.json's settings: the header's, the numbers the
// report depends on, and how the statistics were computed.
func settingsMap(st evalSettings, recs []*evalRecord) map[string]any {
	sanity := 0
	for _, r := range recs {
		for _, e := range r.Methods {
			if e.Sanity != nil {
				sanity++
				break
			}
		}
	}
	del, ins := referenceFills(st.Reference)
	return map[string]any{
		"model_sha256": st.ModelSHA256, "methods": st.Methods, "target": st.Target, "layer": st.Layer, "class": st.Class,
		"options": st.Options, "seed": st.Seed,
		"steps": st.Steps, "patch": st.Patch, "reference": st.Reference, "deletion_reference": del, "insertion_reference": ins,
		"confidence_fill": st.KeepFill, "blur_sigma": st.BlurSigma, "keep": st.Keep,
		"curve_score": st.CurveScore, "sanity_first": st.Sanity,
		"sanity_images": sanity, "sanity_threshold": xai.SanityThreshold,
		"gap_threshold": xai.GapThreshold, "pointing_tolerance": st.Tolerance,
		"bootstrap": map[string]any{"level": stats.DefaultLevel, "resamples": stats.DefaultResamples, "seed": st.Seed, "interval": "percentile"},
		"alpha":     alpha,
	}
}

// summarise computes the summary of records recs (sorted by image) for
// the settings of header h.
func summarise(h evalHeader, recs []*evalRecord, skipped []skippedImage) (*evalSummary, error) {
	st := h.Settings
	s := &evalSummary{Model: h.Model, Dir: h.Dir, Images: len(recs), Settings: settingsMap(st, recs), Skipped: skipped}
	var scores []xai.MethodScore
	for _, method := range st.Methods {
		ms := methodSummary{Method: method, Label: xai.MethodLabel(method)}
		var faith, ins, del, gini, ent, mass []float64
		var hits, n int
		var sanity []*xai.SanityResult
		var drops, raises [][]float64
		var gaps, limits []float64
		var check string
		for _, r := range recs {
			e := r.Methods[method]
			if e == nil {
				continue
			}
			n++
			m := e.Metrics
			faith = append(faith, m.Faithfulness)
			ins, del = append(ins, m.Insertion.AUC), append(del, m.Deletion.AUC)
			gini, ent = append(gini, m.Gini), append(ent, m.Entropy)
			if ms.Fraction == nil {
				ms.Fraction = slices.Clone(m.Deletion.Fraction)
				ms.MeanDeletion = make([]float64, len(m.Deletion.Score))
				ms.MeanInsertion = make([]float64, len(m.Insertion.Score))
				for _, c := range m.Confidence {
					ms.Keep = append(ms.Keep, c.Keep)
				}
				drops, raises = make([][]float64, len(ms.Keep)), make([][]float64, len(ms.Keep))
			}
			for i := range ms.MeanDeletion {
				ms.MeanDeletion[i] += m.Deletion.Score[i]
				ms.MeanInsertion[i] += m.Insertion.Score[i]
			}
			for i, c := range m.Confidence {
				if i < len(drops) {
					drops[i] = append(drops[i], 100*c.Drop)
					raises[i] = append(raises[i], map[bool]float64{false: 0, true: 100}[c.Raise])
				}
			}
			if m.Pointing != nil {
				ms.Boxes++
				if *m.Pointing {
					hits++
				}
				mass = append(mass, *m.Mass)
			}
			if e.Sanity != nil {
				sanity = append(sanity, e.Sanity)
			}
			if e.Gap != nil {
				gaps = append(gaps, *e.Gap)
				limits = append(limits, e.GapLimit)
				check = e.Check
			}
			if len(r.Ranking.Scores) > 0 && r.Ranking.Scores[0].Method == method {
				ms.Wins++
			}
			if r.Ranking.Trusted == method {
				ms.Trusted++
			}
		}
		for i := range ms.MeanDeletion {
			ms.MeanDeletion[i] /= float64(n)
			ms.MeanInsertion[i] /= float64(n)
		}
		ms.Faithfulness, ms.Insertion, ms.Deletion = statOf(faith), statOf(ins), statOf(del)
		ms.Gini, ms.Entropy = statOf(gini), statOf(ent)
		for i := range ms.Keep {
			ms.AverageDrop = append(ms.AverageDrop, statOf(drops[i]).Mean)
			ms.Increase = append(ms.Increase, statOf(raises[i]).Mean)
		}
		if ms.Boxes > 0 {
			acc := float64(hits) / float64(ms.Boxes)
			st := statOf(mass)
			ms.Pointing, ms.Mass = &acc, &st
		}
		ms.Sanity = poolSanity(sanity)
		var limit float64
		if len(gaps) > 0 {
			g := statOf(gaps).Median
			ms.Gap, limit = &g, statOf(limits).Median
		}
		s.Methods = append(s.Methods, ms)
		scores = append(scores, xai.MethodScore{Method: method, Faithfulness: ms.Faithfulness.Mean,
			Insertion: ms.Insertion.Mean, Deletion: ms.Deletion.Mean, Gini: ms.Gini.Mean, Entropy: ms.Entropy.Mean,
			Sanity: ms.Sanity, Gap: ms.Gap, Check: check, GapLimit: limit})
	}
	s.Ranking = xai.Rank(scores)

	delFill, insFill := referenceFills(st.Reference)
	defs := faithfulnessMetrics(st.Keep, delFill, insFill, st.KeepFill)
	if err := s.intervals(recs, defs, st.Seed); err != nil {
		return nil, err
	}
	if len(st.Methods) > 1 {
		rows, _ := scoreRows(st.Methods, recs, defs[0])
		c, err := compareMethods("faithfulness", st.Methods, rows)
		if err != nil {
			return nil, err
		}
		s.Comparison = c
	}
	s.Confidence = s.confidence()
	var err error
	if s.Classes, err = classSummaries(st, recs, h.Classes, defs[0]); err != nil {
		return nil, err
	}
	s.References = summariseReferences(recs, h.Classes)
	if s.Checks, err = checkMetrics(s, recs, defs); err != nil {
		return nil, err
	}
	return s, nil
}

// intervals sets the 95% bootstrap interval of every mean: one bootstrap
// over all the metrics and methods at once (the images resampled
// jointly, as they are paired).
func (s *evalSummary) intervals(recs []*evalRecord, defs []metricDef, seed uint64) error {
	defs = append(slices.Clone(defs),
		metricDef{key: "gini", value: func(e *evalMethod) (float64, bool) { return e.Metrics.Gini, true }},
		metricDef{key: "entropy", value: func(e *evalMethod) (float64, bool) { return e.Metrics.Entropy, true }})
	methods := s.methodNames()
	var rows [][]float64
	var keys []string
	for _, def := range defs {
		r, any := scoreRows(methods, recs, def)
		if !any {
			continue
		}
		rows = append(rows, r...)
		keys = append(keys, def.key)
	}
	if len(rows) == 0 {
		return nil
	}
	ivs, err := bootstrap(seed).Means(rows)
	if err != nil {
		return err
	}
	for k, key := range keys {
		for m := range s.Methods {
			ms := &s.Methods[m]
			ci := intervalOf(ivs[k*len(methods)+m])
			switch key {
			case "faithfulness":
				ms.Faithfulness.CI = ci
			case "insertion_auc":
				ms.Insertion.CI = ci
			case "deletion_auc":
				ms.Deletion.CI = ci
			case "gini":
				ms.Gini.CI = ci
			case "entropy":
				ms.Entropy.CI = ci
			case "pointing":
				ms.PointingCI = ci
			case "relevance_mass":
				if ms.Mass != nil {
					ms.Mass.CI = ci
				}
			}
			for i, kf := range ms.Keep {
				switch key {
				case fmt.Sprintf("average_drop_%g", kf):
					ms.AverageDropCI = setAt(ms.AverageDropCI, i, len(ms.Keep), ci)
				case fmt.Sprintf("increase_%g", kf):
					ms.IncreaseCI = setAt(ms.IncreaseCI, i, len(ms.Keep), ci)
				}
			}
		}
	}
	return nil
}

func setAt(v []*interval, i, n int, ci *interval) []*interval {
	if v == nil {
		v = make([]*interval, n)
	}
	v[i] = ci
	return v
}

// classSummaries breaks faithfulness down by the class explained: the
// means with their intervals and which methods are best on that class.
func classSummaries(st evalSettings, recs []*evalRecord, names []string, faith metricDef) ([]classSummary, error) {
	byClass := map[int][]*evalRecord{}
	var classes []int
	for _, r := range recs {
		if byClass[r.Class] == nil {
			classes = append(classes, r.Class)
		}
		byClass[r.Class] = append(byClass[r.Class], r)
	}
	slices.Sort(classes)
	var out []classSummary
	for _, k := range classes {
		rs := byClass[k]
		cs := classSummary{Class: k, Images: len(rs), Name: strconv.Itoa(k)}
		if k < len(names) {
			cs.Name = names[k]
		}
		rows, _ := scoreRows(st.Methods, rs, faith)
		ivs, err := bootstrap(st.Seed).Means(rows)
		if err != nil {
			return nil, err
		}
		for m, method := range st.Methods {
			var v []float64
			for _, x := range rows[m] {
				if !math.IsNaN(x) {
					v = append(v, x)
				}
			}
			fs := statOf(v)
			fs.CI = intervalOf(ivs[m])
			cs.Methods = append(cs.Methods, classMethod{Method: method, Faithfulness: fs})
		}
		if len(st.Methods) > 1 {
			c, err := compareMethods("faithfulness", st.Methods, rows)
			if err != nil {
				return nil, err
			}
			cs.Best, cs.Top, cs.Pairs = c.Best, c.Top, c.significant()
		}
		out = append(out, cs)
	}
	return out, nil
}

// confidence says how sure the recommendation is: which methods the
// recommended one is significantly more faithful than, which it cannot
// be told apart from, and whether there were enough images to tell.
func (s *evalSummary) confidence() string {
	c := s.Comparison
	if c == nil {
		return ""
	}
	var b strings.Builder
	if s.Images < c.MinImages {
		fmt.Fprintf(&b, "With %s no difference between methods can be significant (at α = %g after Holm's correction over %s, at least %d images are needed), so the ranking above is not evidence. ",
			imageCount(s.Images), alpha, count(len(c.Pairs), "pair"), c.MinImages)
	}
	t := s.Ranking.Trusted
	if t == "" {
		if c.Best != "" {
			fmt.Fprintf(&b, "By the paired tests alone, the most faithful %s %s.", map[bool]string{true: "method is", false: "methods are"}[len(c.Top) == 1], joinLabels(c.Top))
		}
		return strings.TrimSpace(b.String())
	}
	var beats, ties, loses []string
	var beatP, tieP []float64
	for _, m := range s.methodNames() {
		if m == t {
			continue
		}
		p := c.pair(t, m)
		if p == nil {
			continue
		}
		switch {
		case p.Better == t:
			beats = append(beats, m)
			beatP = append(beatP, *p.PHolm)
		case p.Better == m:
			loses = append(loses, m)
		default:
			ties = append(ties, m)
			if p.PHolm != nil {
				tieP = append(tieP, *p.PHolm)
			}
		}
	}
	T := xai.MethodLabel(t)
	fmt.Fprintf(&b, "How sure: on these %s, ", imageCount(s.Images))
	switch {
	case len(beats) > 0 && len(ties) == 0 && len(loses) == 0:
		fmt.Fprintf(&b, "%s is more faithful than every other method (%s; Wilcoxon signed-rank, Holm-adjusted p %s).", T, joinLabels(beats), pRange(beatP, true))
	case len(beats) > 0:
		fmt.Fprintf(&b, "%s is more faithful than %s (Holm-adjusted p %s)", T, joinLabels(beats), pRange(beatP, true))
	default:
		fmt.Fprintf(&b, "%s is not significantly more faithful than any other method", T)
	}
	if len(ties) > 0 {
		if len(beats) > 0 {
			b.WriteString(", but")
		} else {
			b.WriteString(":")
		}
		fmt.Fprintf(&b, " it cannot be told apart from %s (Holm-adjusted p %s): on these images, %s %s as good a choice.", joinLabels(ties), pRange(tieP, false),
			joinLabels(ties), map[bool]string{true: "is", false: "are"}[len(ties) == 1])
	} else if len(beats) == 0 || len(loses) > 0 {
		b.WriteString(".")
	}
	for _, m := range loses {
		p := c.pair(m, t)
		why := "the rank test and the means disagree: it wins on more images while " + T + " has the higher mean"
		for _, sc := range s.Ranking.Scores {
			if sc.Method == m && sc.Flagged {
				why = "it is flagged (see above)"
			}
		}
		fmt.Fprintf(&b, " %s is significantly more faithful than %s (Holm-adjusted p %s) but is not recommended: %s.", xai.MethodLabel(m), T, pEquals(*p.PHolm), why)
	}
	return strings.TrimSpace(b.String())
}

// pRange prints p-values as "= p" for one, else "≤ the largest" (upper,
// for the pairs that differ) or "≥ the smallest" (for those that do not).
func pRange(ps []float64, upper bool) string {
	if len(ps) == 0 {
		return "not available"
	}
	lo, hi := slices.Min(ps), slices.Max(ps)
	switch {
	case pValue(lo) == pValue(hi) && strings.HasPrefix(pValue(lo), "<"):
		return pValue(lo)
	case pValue(lo) == pValue(hi):
		return "= " + pValue(lo)
	case upper:
		return "≤ " + pValue(hi)
	}
	return "≥ " + pValue(lo)
}

// joinLabels lists methods by label: "A", "A and B", "A, B and C".
func joinLabels(methods []string) string {
	var l []string
	for _, m := range methods {
		l = append(l, xai.MethodLabel(m))
	}
	return joinAnd(l)
}

// poolSanity averages the randomisation checks of several images step by
// step; the pooled check passes when the mean over steps is at most the
// threshold.
func poolSanity(rs []*xai.SanityResult) *xai.SanityResult {
	if len(rs) == 0 {
		return nil
	}
	p := &xai.SanityResult{Class: -1, Seed: rs[0].Seed, Layers: rs[0].Layers, Threshold: rs[0].Threshold,
		Spearman: make([]float64, len(rs[0].Spearman))}
	for _, r := range rs {
		for i := range p.Spearman {
			if i < len(r.Spearman) {
				p.Spearman[i] += r.Spearman[i] / float64(len(rs))
			}
		}
	}
	for _, v := range p.Spearman {
		p.Mean += v
	}
	p.Mean /= float64(len(p.Spearman))
	p.Pass = p.Mean <= p.Threshold
	return p
}

// methodValues gives every method's options as used, defaults included.
func methodValues(cfg *config) map[string]xai.Values {
	out := map[string]xai.Values{}
	for _, name := range cfg.methods {
		m, err := xai.Lookup(name)
		if err != nil {
			continue
		}
		if v, err := m.Resolve(cfg.options[name]); err == nil && len(v) > 0 {
			out[name] = v
		}
	}
	return out
}

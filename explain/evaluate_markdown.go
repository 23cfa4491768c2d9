package main

// report.md, metrics.json and timings.json of -evaluate and -merge.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mavis-xai/mavis/internal/atomicfile"
	"github.com/mavis-xai/mavis/xai"
)

// writeEvaluation writes metrics.json, timings.json, the figures and
// report.md. metrics.json holds no time or path of the run, so the same
// records give the same bytes (a merge of shards and one run alike).
func writeEvaluation(out string, s *evalSummary, recs []*evalRecord, t *timings) error {
	clean := make([]*evalRecord, len(recs))
	for i, r := range recs {
		c := *r
		c.Seconds = 0
		c.Methods = make(map[string]*evalMethod, len(r.Methods))
		for k, e := range r.Methods {
			ce := *e
			ce.MapSeconds, ce.MetricsSeconds = 0, 0
			c.Methods[k] = &ce
		}
		clean[i] = &c
	}
	data, err := metricsJSON(s, clean)
	if err != nil {
		return fmt.Errorf("metrics.json: %v", err)
	}
	if err := atomicfile.Write(filepath.Join(out, "metrics.json"), data); err != nil {
		return err
	}
	s.Timing = t
	if t != nil {
		data, err := json.MarshalIndent(t, "", "  ")
		if err != nil {
			return fmt.Errorf("timings.json: %v", err)
		}
		if err := atomicfile.Write(filepath.Join(out, "timings.json"), append(data, '\n')); err != nil {
			return err
		}
	}
	figs, err := writeFigures(filepath.Join(out, "figures"), s, recs)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(out, "report.md"), []byte(reportMarkdown(s, recs, figs)))
}

// metricsJSON encodes metrics.json: {"summary": ..., "images": [...]},
// the summary indented and each image's record on one line (a folder of
// 10,000 images would otherwise give a file of hundreds of megabytes,
// mostly indentation). The records are encoded in parallel.
func metricsJSON(s *evalSummary, recs []*evalRecord) ([]byte, error) {
	sum, err := json.MarshalIndent(s, "  ", "  ")
	if err != nil {
		return nil, err
	}
	lines := make([][]byte, len(recs))
	errs := make([]error, len(recs))
	var wg sync.WaitGroup
	var next atomic.Int64
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(recs); i = int(next.Add(1)) - 1 {
				lines[i], errs[i] = json.Marshal(recs[i])
			}
		})
	}
	wg.Wait()
	size := len(sum) + 64
	for i, l := range lines {
		if errs[i] != nil {
			return nil, fmt.Errorf("%s: %v", recs[i].Image, errs[i])
		}
		size += len(l) + 6
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	buf.WriteString("{\n  \"summary\": ")
	buf.Write(sum)
	buf.WriteString(",\n  \"images\": [")
	for i, l := range lines {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n    ")
		buf.Write(l)
	}
	if len(lines) > 0 {
		buf.WriteString("\n  ")
	}
	buf.WriteString("]\n}\n")
	return buf.Bytes(), nil
}

// timings are the times of the images, per method and whole, and the
// runs that computed them: timings.json.
type timings struct {
	Methods []methodTiming `json:"methods"`
	// ImageSeconds is the wall time per image (all methods, metrics and
	// sanity check, with other images evaluated alongside under -j).
	ImageSeconds stat      `json:"image_seconds"`
	Runs         []runInfo `json:"runs"`
}

type methodTiming struct {
	Method         string `json:"method"`
	MapSeconds     stat   `json:"map_seconds"`
	MetricsSeconds stat   `json:"metrics_seconds"`
}

func newTimings(methods []string, recs []*evalRecord, runs []runInfo) *timings {
	t := &timings{Runs: runs}
	var img []float64
	for _, r := range recs {
		img = append(img, r.Seconds)
	}
	t.ImageSeconds = statOf(img)
	for _, m := range methods {
		var mapS, metS []float64
		for _, r := range recs {
			if e := r.Methods[m]; e != nil {
				mapS, metS = append(mapS, e.MapSeconds), append(metS, e.MetricsSeconds)
			}
		}
		t.Methods = append(t.Methods, methodTiming{Method: m, MapSeconds: statOf(mapS), MetricsSeconds: statOf(metS)})
	}
	return t
}

func (t *timings) method(m string) *methodTiming {
	if t == nil {
		return nil
	}
	for i := range t.Methods {
		if t.Methods[i].Method == m {
			return &t.Methods[i]
		}
	}
	return nil
}

// ci prints a mean and its interval: "0.123 [0.101, 0.145]".
func ci(format string, mean float64, iv *interval) string {
	if iv == nil {
		return fmt.Sprintf(format, mean)
	}
	return fmt.Sprintf(format+" ["+format+", "+format+"]", mean, iv[0], iv[1])
}

// reportMarkdown renders report.md.
func reportMarkdown(s *evalSummary, recs []*evalRecord, figs []figure) string {
	var b strings.Builder
	f := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	f("# Which explanation to trust: %s on %s\n\n", filepath.Base(s.Model), s.Dir)
	for _, n := range s.Notes {
		f("> **Note:** %s\n\n", n)
	}
	skipped := ""
	if len(s.Skipped) > 0 {
		skipped = fmt.Sprintf(" (%d more could not be read: see Skipped)", len(s.Skipped))
	}
	f("%s%s, methods %s. Maps explain the %s of the class %s; the deletion and insertion curves score its %s ",
		imageCount(s.Images), skipped, strings.Join(labels(s.Methods), ", "), s.Settings["target"], classPhrase(recs), s.Settings["curve_score"])
	f("over %v steps of %s (reference: %s).\n\n", s.Settings["steps"], unitPhrase(s.Settings["patch"]), s.Settings["reference"])
	f("How to read this: deletion removes the pixels a map calls most relevant first and should make the score fall fast (low deletion AUC); ")
	f("insertion adds them first to a reference image and should make it rise fast (high insertion AUC). ")
	f("Faithfulness = insertion AUC − deletion AUC ranks the methods (Petsiuk et al. 2018). ")
	f("A method whose map barely changes when the model's weights are re-initialised layer by layer fails the randomisation check (Adebayo et al. 2018: mean Spearman > %.2f). ", xai.SanityThreshold)
	f("Every mean comes with its 95%% bootstrap confidence interval over the images, in brackets; two methods are called different only when a paired test says so.\n\n")

	settingsSection(f, s)
	scoresSection(f, s)
	comparisonSection(f, s)
	classSection(f, s)
	checksSection(f, s)

	f("\n### Sanity and completeness\n\n")
	any := false
	for _, m := range s.Methods {
		if m.Sanity != nil {
			any = true
			verdict := "passes"
			if !m.Sanity.Pass {
				verdict = "FAILS"
			}
			f("- %s %s the randomisation check: mean Spearman %.3f over %d steps (%s).\n", m.Label, verdict, m.Sanity.Mean, len(m.Sanity.Spearman), spearmanSteps(m.Sanity))
		}
		if m.Gap != nil {
			flag := "within"
			if !(math.Abs(*m.Gap) <= xai.GapThreshold) {
				flag = "outside"
			}
			f("- %s: median completeness gap %+.1f%% of Score(x) − Score(baseline), %s the %.0f%% tolerance.\n", m.Label, 100**m.Gap, flag, 100*xai.GapThreshold)
		}
	}
	if !any {
		f("- The randomisation check was not run (-eval-sanity 0).\n")
	}
	f("\n## Figures\n\n")
	for _, fg := range figs {
		f("![%s](figures/%s)\n\n%s\n\n", fg.title, fg.file, fg.caption)
	}
	f("## Per image\n\n| image | class | p | best | verdict |\n|---|---|---|---|---|\n")
	// The randomisation check runs on the first images only; an image's
	// verdict without it says so when the method failed it there.
	failed := map[string]bool{}
	for _, m := range s.Methods {
		failed[m.Method] = m.Sanity != nil && !m.Sanity.Pass
	}
	for i, r := range recs {
		if i == 200 {
			f("| … | %d more in metrics.json | | | |\n", len(recs)-200)
			break
		}
		best := ""
		if len(r.Ranking.Scores) > 0 {
			best = xai.MethodLabel(r.Ranking.Scores[0].Method)
		}
		class := strconv.Itoa(r.Class)
		if r.ClassName != "" {
			class = r.ClassName + " (" + class + ")"
		}
		verdict := r.Ranking.Verdict
		if failed[r.Ranking.Trusted] {
			verdict += fmt.Sprintf(" But %s fails the randomisation check on the images it ran on (above): do not trust it here either.", xai.MethodLabel(r.Ranking.Trusted))
		}
		f("| %s | %s | %.3f | %s | %s |\n", r.Image, strings.ReplaceAll(class, "|", "/"), r.Prob, best, strings.ReplaceAll(verdict, "|", "/"))
	}
	if len(s.Skipped) > 0 {
		f("\n## Skipped\n\n%s could not be evaluated and %s left out of every figure and score:\n\n", imageCount(len(s.Skipped)),
			map[bool]string{true: "is", false: "are"}[len(s.Skipped) == 1])
		for i, k := range s.Skipped {
			if i == 50 {
				f("- … %d more in metrics.json\n", len(s.Skipped)-50)
				break
			}
			f("- %s: %s\n", k.Image, k.Error)
		}
	}
	f("\n## Recommendation\n\n")
	if s.Ranking.Trusted != "" {
		f("**Recommended method for this model on this data: %s.** ", xai.MethodLabel(s.Ranking.Trusted))
	} else {
		f("**No method can be recommended for this model on this data.** ")
	}
	f("%s", s.Ranking.Verdict)
	for _, m := range s.Methods {
		if m.Gap != nil && !(math.Abs(*m.Gap) <= xai.GapThreshold) { // the verdict quotes it (xai.Rank)
			f(" (The completeness gap quoted is the median over the images.)")
			break
		}
	}
	if s.Confidence != "" {
		f(" %s", s.Confidence)
	}
	f("\n")
	return b.String()
}

// settingsSection states the metric settings, the protocol of item 5 of
// issue 15: what the numbers below mean.
func settingsSection(f func(string, ...any), s *evalSummary) {
	st := s.Settings
	if st["steps"] == nil {
		return
	}
	f("## Metric settings\n\n| setting | value |\n|---|---|\n")
	f("| curves | %v steps of %s, scoring the class %s |\n", st["steps"], unitPhrase(st["patch"]), st["curve_score"])
	f("| deletion: removed pixels become | %s |\n", fillPhrase(st["deletion_reference"], st["blur_sigma"]))
	f("| insertion: pixels are added to | %s |\n", fillPhrase(st["insertion_reference"], st["blur_sigma"]))
	if keep, ok := st["keep"].([]float64); ok {
		var k []string
		for _, v := range keep {
			k = append(k, fmt.Sprintf("%g%%", 100*v))
		}
		f("| confidence drop and increase | keep the top %s of the map, the rest %s |\n", strings.Join(k, ", "), st["confidence_fill"])
	}
	switch st["sanity_first"] {
	case 0:
		f("| randomisation check | not run (-eval-sanity 0) |\n")
	case 1:
		f("| randomisation check | the folder's first image (%v of these images) |\n", st["sanity_images"])
	default:
		f("| randomisation check | the folder's first %v images (%v of these images) |\n", st["sanity_first"], st["sanity_images"])
	}
	f("| pointing game tolerance | %v pixels |\n", st["pointing_tolerance"])
	if bs, ok := st["bootstrap"].(map[string]any); ok {
		f("| intervals | %v%% %v bootstrap over images, %v resamples, seed %v |\n", 100*bs["level"].(float64), bs["interval"], bs["resamples"], bs["seed"])
	}
	if s.Comparison != nil {
		f("| tests | %s, α = %g |\n", s.Comparison.Test, s.Comparison.Alpha)
	}
	f("\n")
}

func fillPhrase(name, sigma any) string {
	if name == "blur" {
		return fmt.Sprintf("the image blurred (Gaussian, sigma %v pixels)", sigma)
	}
	return fmt.Sprint(name)
}

func scoresSection(f func(string, ...any), s *evalSummary) {
	f("## Scores (mean over images [95%% interval])\n\n")
	f("| method | faithfulness (ins − del) | insertion AUC | deletion AUC | Gini | entropy (nats) | map s | metrics s | ranked first |\n")
	f("|---|---|---|---|---|---|---|---|---|\n")
	for _, m := range s.Methods {
		mapS, metS := "", ""
		if t := s.Timing.method(m.Method); t != nil {
			mapS, metS = fmt.Sprintf("%.3f", t.MapSeconds.Mean), fmt.Sprintf("%.3f", t.MetricsSeconds.Mean)
		}
		f("| %s | %s | %s | %s | %s | %s | %s | %s | %d of %d |\n", m.Label, ci("%.3f", m.Faithfulness.Mean, m.Faithfulness.CI),
			ci("%.3f", m.Insertion.Mean, m.Insertion.CI), ci("%.3f", m.Deletion.Mean, m.Deletion.CI), ci("%.3f", m.Gini.Mean, m.Gini.CI),
			ci("%.2f", m.Entropy.Mean, m.Entropy.CI), mapS, metS, m.Wins, s.Images)
	}
	if len(s.Methods) > 0 && len(s.Methods[0].MeanDeletion) > 0 {
		m := s.Methods[0]
		f("\nThe curves end and start at the references, the same for every method: with everything removed the class %s is %.3f on average, at the insertion's start (nothing inserted) %.3f, and on the images themselves %.3f.",
			s.Settings["curve_score"], m.MeanDeletion[len(m.MeanDeletion)-1], m.MeanInsertion[0], m.MeanDeletion[0])
		f(" A reference the model already assigns to the class compresses every method's AUCs.\n")
	}
	f("\n### Confidence when keeping only the most relevant pixels (Chattopadhyay et al. 2018)\n\n")
	if len(s.Methods) > 0 && len(s.Methods[0].Keep) > 0 {
		f("| method |")
		for _, k := range s.Methods[0].Keep {
			f(" avg drop, top %.0f%% | increase, top %.0f%% |", 100*k, 100*k)
		}
		f("\n|---|")
		for range s.Methods[0].Keep {
			f("---|---|")
		}
		f("\n")
		for _, m := range s.Methods {
			f("| %s |", m.Label)
			for i := range m.Keep {
				f(" %s | %s |", ci("%.1f%%", m.AverageDrop[i], at(m.AverageDropCI, i)), ci("%.1f%%", m.Increase[i], at(m.IncreaseCI, i)))
			}
			f("\n")
		}
		f("\nLower average drop and higher increase are better.\n")
	}
	if len(s.Methods) > 0 && s.Methods[0].Boxes > 0 {
		f("\n### Localisation (%d images with a box)\n\n| method | pointing game (Zhang et al. 2018) | relevance mass in box (Arras et al. 2022) |\n|---|---|---|\n", s.Methods[0].Boxes)
		for _, m := range s.Methods {
			if m.Pointing != nil {
				pt := ci("%.1f%%", 100**m.Pointing, nil)
				if m.PointingCI != nil {
					pt = ci("%.1f%%", 100**m.Pointing, &interval{100 * m.PointingCI[0], 100 * m.PointingCI[1]})
				}
				f("| %s | %s | %s |\n", m.Label, pt, ci("%.3f", m.Mass.Mean, m.Mass.CI))
			}
		}
	}
}

func at(v []*interval, i int) *interval {
	if i < len(v) {
		return v[i]
	}
	return nil
}

// comparisonSection is the pairwise tests on faithfulness.
func comparisonSection(f func(string, ...any), s *evalSummary) {
	c := s.Comparison
	if c == nil {
		return
	}
	f("\n## Are the differences real? Paired tests on faithfulness\n\n")
	f("Each pair of methods is compared image by image with Wilcoxon's signed-rank test; the p-values are adjusted by Holm's method for the %d comparisons, so that the chance of calling any two equally faithful methods different is at most %g. ", len(c.Pairs), c.Alpha)
	f("The effect size is the matched-pairs rank-biserial correlation r (from −1 to +1: +1 when the first method scores higher on every image).")
	if s.Images < c.MinImages {
		f(" **With %s, no pair can differ significantly: at least %d are needed.**", imageCount(s.Images), c.MinImages)
	}
	f("\n\n| method A | method B | images | median A − B | rank-biserial r | Holm-adjusted p | verdict |\n|---|---|---|---|---|---|---|\n")
	for _, p := range c.Pairs {
		med, r, ph := "–", "–", "–"
		if p.MedianD != nil {
			med = fmt.Sprintf("%+.3f", *p.MedianD)
		}
		if p.RankBiserial != nil {
			r = fmt.Sprintf("%+.2f", *p.RankBiserial)
		}
		if p.PHolm != nil {
			ph = pValue(*p.PHolm)
		}
		verdict := "indistinguishable"
		if p.Better != "" {
			verdict = xai.MethodLabel(p.Better) + " more faithful"
		}
		f("| %s | %s | %d | %s | %s | %s | %s |\n", xai.MethodLabel(p.A), xai.MethodLabel(p.B), p.N+p.Zeros, med, r, ph, verdict)
	}
	f("\n")
	// In words: every pair, or with many methods those of the best.
	for _, p := range c.Pairs {
		if len(s.Methods) <= 6 || p.A == c.Best || p.B == c.Best {
			f("- %s.\n", p.verdict("faithfulness"))
		}
	}
	if len(c.Top) > 0 {
		f("\nMost faithful by the tests: %s", joinLabels(c.Top))
		if len(c.Top) > 1 {
			f(" (%s cannot be told apart on this data)", map[bool]string{true: "the two", false: "these"}[len(c.Top) == 2])
		}
		f(".\n")
	}
}

// classSection breaks faithfulness down by class.
func classSection(f func(string, ...any), s *evalSummary) {
	if len(s.Classes) == 0 {
		return
	}
	f("\n## Per class (the class explained)\n\n| class | images |")
	for _, m := range s.Methods {
		f(" %s |", m.Label)
	}
	f(" most faithful (tests) |\n|---|---|")
	for range s.Methods {
		f("---|")
	}
	f("---|\n")
	for i, c := range s.Classes {
		if i == 200 {
			f("| … | %d more classes in metrics.json |\n", len(s.Classes)-200)
			break
		}
		f("| %s | %d |", c.Name, c.Images)
		for _, m := range c.Methods {
			f(" %s |", ci("%.3f", m.Faithfulness.Mean, m.Faithfulness.CI))
		}
		switch {
		case len(c.Top) == 0:
			f(" – |\n")
		case s.Comparison != nil && c.Images < s.Comparison.MinImages && c.Pairs == 0:
			f(" too few images to tell |\n")
		case len(c.Top) == len(s.Methods) && len(s.Methods) > 1:
			f(" no difference found |\n")
		default:
			f(" %s |\n", joinLabels(c.Top))
		}
	}
	f("\nFaithfulness (insertion − deletion AUC) per class; the last column is the best method and those the paired tests cannot tell apart from it within the class (few images per class make that group large).\n")
}

// checksSection says which metrics separate the methods, and what to do
// about those that do not.
func checksSection(f func(string, ...any), s *evalSummary) {
	if len(s.Checks) == 0 {
		return
	}
	f("\n## Can each metric separate the methods on this data?\n\n")
	var good, unknown []string
	type group struct {
		metrics []string
		check   metricCheck
	}
	var warned []*group // metrics with the same problem and suggestion, together
	for _, c := range s.Checks {
		switch {
		case c.Separates:
			good = append(good, fmt.Sprintf("%s (%d of %s differ)", c.Metric, c.Significant, count(c.Pairs, "pair")))
		case c.TooFew:
			unknown = append(unknown, c.Metric)
		case c.Warning != "":
			key := strings.TrimPrefix(c.Warning, c.Metric)
			var g *group
			for _, w := range warned {
				if strings.TrimPrefix(w.check.Warning, w.metrics[0]) == key && w.check.Suggestion == c.Suggestion {
					g = w
				}
			}
			if g == nil {
				g = &group{check: c}
				warned = append(warned, g)
			}
			g.metrics = append(g.metrics, c.Metric)
		}
	}
	for _, g := range warned {
		what := g.check.Warning
		if len(g.metrics) > 1 {
			what = joinAnd(g.metrics) + strings.Replace(strings.TrimPrefix(what, g.metrics[0]), " finds ", " find ", 1)
		}
		f("- **Warning:** %s.", what)
		if g.check.Suggestion != "" {
			f(" %s", g.check.Suggestion)
		}
		f("\n")
	}
	if len(unknown) > 0 {
		f("- With %s, the tests cannot tell whether %s separate the methods (%d images are needed for a significant difference).\n",
			imageCount(s.Images), joinAnd(unknown), s.Comparison.MinImages)
	}
	if len(good) > 0 {
		f("- These separate the methods: %s.\n", strings.Join(good, "; "))
	}
	if len(s.References) > 0 {
		f("\nWhat the model makes of the references (the fills of removed pixels):\n\n| reference | explained class's p on it | on the images | its most frequent class | on | with p |\n|---|---|---|---|---|---|\n")
		for _, r := range s.References {
			dom := ""
			if r.Dominant {
				dom = " (dominant)"
			}
			f("| %s | %s | %.3f | %s%s | %.0f%% of images | %.3f |\n", r.Name, ci("%.3f", r.Prob.Mean, r.Prob.CI), r.ImageProb, r.TopName, dom, 100*r.TopShare, r.TopProb)
		}
	}
}

// joinAnd lists words: "a", "a and b", "a, b and c".
func joinAnd(w []string) string {
	if len(w) <= 1 {
		return strings.Join(w, "")
	}
	return strings.Join(w[:len(w)-1], ", ") + " and " + w[len(w)-1]
}

// imageCount is "1 image" or "n images".
func imageCount(n int) string { return count(n, "image") }

// count is "1 image", "2 images": n and noun, plural but for one.
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func labels(ms []methodSummary) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Label)
	}
	return out
}

func classPhrase(recs []*evalRecord) string {
	for _, r := range recs {
		if r.Class != r.Predicted {
			return "asked for (-class)"
		}
	}
	return "predicted for each image"
}

func unitPhrase(patch any) string {
	if p, ok := patch.(int); ok && p > 1 {
		return fmt.Sprintf("%dx%d-pixel patches", p, p)
	}
	return "single pixels"
}

func spearmanSteps(r *xai.SanityResult) string {
	var parts []string
	for i, v := range r.Spearman {
		parts = append(parts, fmt.Sprintf("%s %.2f", r.Layers[i], v))
	}
	return strings.Join(parts, ", ")
}

package main

// The -evaluate report: per-method summaries over the images, the ranking
// of the means, metrics.json and report.md.

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mavis-xai/mavis/xai"
)

// stat is the mean, standard deviation and median of a sample.
type stat struct {
	Mean   float64 `json:"mean"`
	SD     float64 `json:"sd"`
	Median float64 `json:"median"`
	N      int     `json:"n"`
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
	// per kept fraction.
	Keep        []float64 `json:"keep"`
	AverageDrop []float64 `json:"average_drop_percent"`
	Increase    []float64 `json:"increase_percent"`
	// Localisation over the images with a box.
	Boxes    int      `json:"boxes"`
	Pointing *float64 `json:"pointing_accuracy,omitempty"`
	Mass     *stat    `json:"relevance_mass,omitempty"`
	// Seconds per image.
	MapSeconds     stat `json:"map_seconds"`
	MetricsSeconds stat `json:"metrics_seconds"`
	// Sanity pools the checked images: Spearman per cascade step averaged
	// over them.
	Sanity *xai.SanityResult `json:"sanity,omitempty"`
	// Gap is the median relative completeness gap (IG).
	Gap  *float64 `json:"completeness_gap_median,omitempty"`
	Wins int      `json:"ranked_first"` // images where the method ranked first
	// Trusted counts the images where the verdict trusted it.
	Trusted int `json:"trusted"`
}

// evalSummary is the top of metrics.json.
type evalSummary struct {
	Model    string          `json:"model"`
	Dir      string          `json:"dir"`
	Images   int             `json:"images"`
	Settings map[string]any  `json:"settings"`
	Methods  []methodSummary `json:"methods"`
	// Ranking ranks the methods by their mean scores; its Trusted is the
	// recommended method for this model on this data.
	Ranking xai.Ranking `json:"ranking"`
	// Skipped lists the images that could not be evaluated, and why.
	Skipped []skippedImage `json:"skipped,omitempty"`
}

// skippedImage is an image left out of the report.
type skippedImage struct {
	Image string `json:"image"`
	Error string `json:"error"`
}

func summarise(cfg *config, ev *evalConfig, ref xai.Reference, recs []*evalRecord) *evalSummary {
	s := &evalSummary{Model: cfg.model, Dir: ev.dir, Images: len(recs), Settings: map[string]any{
		"methods": cfg.methods, "target": cfg.target, "layer": cfg.layer, "options": methodValues(cfg),
		"steps": ev.steps, "patch": ev.patch,
		"reference": ref.String(), "curve_score": map[bool]string{false: "probability", true: "logit"}[ev.logit],
		"sanity_images": min(ev.sanity, len(recs)), "sanity_threshold": xai.SanityThreshold,
		"gap_threshold": xai.GapThreshold, "pointing_tolerance": ev.tolerance,
	}}
	var scores []xai.MethodScore
	for _, method := range cfg.methods {
		ms := methodSummary{Method: method, Label: xai.MethodLabel(method)}
		var faith, ins, del, gini, ent, mapS, metS, mass, gaps []float64
		var hits int
		var sanity []*xai.SanityResult
		var drops, raises [][]float64
		for _, r := range recs {
			e := r.Methods[method]
			if e == nil {
				continue
			}
			m := e.Metrics
			faith = append(faith, m.Faithfulness)
			ins, del = append(ins, m.Insertion.AUC), append(del, m.Deletion.AUC)
			gini, ent = append(gini, m.Gini), append(ent, m.Entropy)
			mapS, metS = append(mapS, e.MapSeconds), append(metS, e.MetricsSeconds)
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
				ms.MeanDeletion[i] += m.Deletion.Score[i] / float64(len(recs))
				ms.MeanInsertion[i] += m.Insertion.Score[i] / float64(len(recs))
			}
			for i, c := range m.Confidence {
				drops[i] = append(drops[i], 100*c.Drop)
				raises[i] = append(raises[i], map[bool]float64{false: 0, true: 100}[c.Raise])
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
			}
			if len(r.Ranking.Scores) > 0 && r.Ranking.Scores[0].Method == method {
				ms.Wins++
			}
			if r.Ranking.Trusted == method {
				ms.Trusted++
			}
		}
		ms.Faithfulness, ms.Insertion, ms.Deletion = statOf(faith), statOf(ins), statOf(del)
		ms.Gini, ms.Entropy = statOf(gini), statOf(ent)
		ms.MapSeconds, ms.MetricsSeconds = statOf(mapS), statOf(metS)
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
		if len(gaps) > 0 {
			g := statOf(gaps).Median
			ms.Gap = &g
		}
		s.Methods = append(s.Methods, ms)
		scores = append(scores, xai.MethodScore{Method: method, Faithfulness: ms.Faithfulness.Mean,
			Insertion: ms.Insertion.Mean, Deletion: ms.Deletion.Mean, Gini: ms.Gini.Mean, Entropy: ms.Entropy.Mean,
			Sanity: ms.Sanity, Gap: ms.Gap})
	}
	s.Ranking = xai.Rank(scores)
	return s
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

// writeEvaluation writes metrics.json, the figures and report.md.
func writeEvaluation(out string, s *evalSummary, recs []*evalRecord) error {
	data, err := json.MarshalIndent(struct {
		Summary *evalSummary  `json:"summary"`
		Images  []*evalRecord `json:"images"`
	}{s, recs}, "", "  ")
	if err != nil {
		return fmt.Errorf("metrics.json: %v", err)
	}
	if err := writeFile(filepath.Join(out, "metrics.json"), append(data, '\n')); err != nil {
		return err
	}
	figs, err := writeFigures(filepath.Join(out, "figures"), s, recs)
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(out, "report.md"), []byte(reportMarkdown(s, recs, figs)))
}

// reportMarkdown renders report.md.
func reportMarkdown(s *evalSummary, recs []*evalRecord, figs []figure) string {
	var b strings.Builder
	f := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	f("# Which explanation to trust: %s on %s\n\n", filepath.Base(s.Model), s.Dir)
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
	f("A method whose map barely changes when the model's weights are re-initialised layer by layer fails the randomisation check (Adebayo et al. 2018: mean Spearman > %.2f).\n\n", xai.SanityThreshold)

	f("## Scores (mean over images)\n\n")
	f("| method | faithfulness (ins − del) | insertion AUC | deletion AUC | Gini | entropy (nats) | map s | metrics s | ranked first |\n")
	f("|---|---|---|---|---|---|---|---|---|\n")
	for _, m := range s.Methods {
		f("| %s | %.3f ± %.3f | %.3f | %.3f | %.3f | %.2f | %.3f | %.3f | %d of %d |\n", m.Label, m.Faithfulness.Mean, m.Faithfulness.SD,
			m.Insertion.Mean, m.Deletion.Mean, m.Gini.Mean, m.Entropy.Mean, m.MapSeconds.Mean, m.MetricsSeconds.Mean, m.Wins, s.Images)
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
				f(" %.1f%% | %.1f%% |", m.AverageDrop[i], m.Increase[i])
			}
			f("\n")
		}
		f("\nLower average drop and higher increase are better.\n")
	}
	if len(s.Methods) > 0 && s.Methods[0].Boxes > 0 {
		f("\n### Localisation (%d images with a box)\n\n| method | pointing game (Zhang et al. 2018) | relevance mass in box (Arras et al. 2022) |\n|---|---|---|\n", s.Methods[0].Boxes)
		for _, m := range s.Methods {
			if m.Pointing != nil {
				f("| %s | %.1f%% | %.3f |\n", m.Label, 100**m.Pointing, m.Mass.Mean)
			}
		}
	}
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
	for i, r := range recs {
		if i == 200 {
			f("| … | %d more in metrics.json | | | |\n", len(recs)-200)
			break
		}
		best := ""
		if len(r.Ranking.Scores) > 0 {
			best = xai.MethodLabel(r.Ranking.Scores[0].Method)
		}
		f("| %s | %d | %.3f | %s | %s |\n", filepath.Base(r.Image), r.Class, r.Prob, best, strings.ReplaceAll(r.Ranking.Verdict, "|", "/"))
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
	f("\n")
	return b.String()
}

// imageCount is "1 image" or "n images".
func imageCount(n int) string {
	if n == 1 {
		return "1 image"
	}
	return fmt.Sprintf("%d images", n)
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

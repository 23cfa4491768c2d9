package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/internal/cputime"
	"github.com/mavis-xai/mavis/internal/stats"
	"github.com/mavis-xai/mavis/xai"
)

// synthHeader is the header of a synthetic evaluation of methods.
func synthHeader(methods ...string) evalHeader {
	return evalHeader{Format: logFormat, Model: "synthetic.safetensors", Dir: "synthetic", Shard: shardSpec{0, 1},
		Classes: []string{"goldfish", "salamander", "frog", "scorpion", "goose"},
		Settings: evalSettings{ModelSHA256: "00", Methods: methods, Options: map[string]xai.Values{}, Target: "logit", Class: -1,
			Seed: 1, Batch: 5, Steps: 4, Patch: 1, Reference: "rise", BlurSigma: 5, Keep: []float64{0.1, 0.25, 0.5}, KeepFill: "black",
			CurveScore: "probability"}}
}

// synthRecord is image i of class class whose methods score faith[m]
// (insertion AUC faith[m], deletion AUC 0 on a two-point curve); drop[m]
// is the confidence drop at every kept fraction, and the black
// reference is called "scorpion" with p 0.97, the blurred one the
// image's own class with p 0.2.
func synthRecord(i, class int, faith, drop map[string]float64) *evalRecord {
	r := &evalRecord{Image: fmt.Sprintf("img%05d.png", i), Class: class, Predicted: class, Prob: 0.9, Methods: map[string]*evalMethod{},
		References: []referenceScore{{Name: "black", Prob: 0.001, Top: 3, TopProb: 0.97}, {Name: "blur", Prob: 0.2, Top: class, TopProb: 0.2}}}
	var scores []xai.MethodScore
	for m, f := range faith {
		mm := xai.MapMetrics{Class: class, Score: "probability", Prob: 0.9, Steps: 4, Patch: 1, Reference: "rise",
			Deletion:     xai.Curve{Fraction: []float64{0, 1}, Score: []float64{0, 0}},
			Insertion:    xai.Curve{Fraction: []float64{0, 1}, Score: []float64{f, f}, AUC: f},
			Faithfulness: f, Gini: 0.5, Entropy: 3}
		for _, k := range []float64{0.1, 0.25, 0.5} {
			mm.Confidence = append(mm.Confidence, xai.Confidence{Keep: k, Drop: drop[m], Prob: 0.9 * (1 - drop[m])})
		}
		r.Methods[m] = &evalMethod{Metrics: mm, MapSeconds: 0.1, MetricsSeconds: 0.2}
		scores = append(scores, xai.ScoreOf(m, mm))
	}
	r.Ranking = xai.Rank(scores)
	return r
}

// TestStatisticsKnownTruth: synthetic scores whose truth is known.
// Saliency is Grad-CAM minus 0.1 on every image: significantly less
// faithful. IG is Grad-CAM plus differences ±0.01k in balanced pairs,
// whose signed ranks cancel exactly (W+ = W−, p = 1): indistinguishable.
// The intervals are stats.Bootstrap's of the same numbers, and the
// classes (two of 20 images) each show Saliency behind.
func TestStatisticsKnownTruth(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var recs []*evalRecord
	var gc []float64
	for i := range 40 {
		g := 0.4 + 0.2*rng.Float64()
		d := 0.01 * float64(i/2+1)
		if i%2 == 1 {
			d = -d
		}
		gc = append(gc, g)
		recs = append(recs, synthRecord(i, i/20, map[string]float64{"gradcam": g, "saliency": g - 0.1, "ig": g + d},
			map[string]float64{"gradcam": 0.5, "saliency": 0.5, "ig": 0.5}))
	}
	s, err := summarise(synthHeader("gradcam", "saliency", "ig"), recs, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := s.Comparison
	if p := c.pair("gradcam", "saliency"); p.Better != "gradcam" || *p.RankBiserial != 1 || math.Abs(*p.MedianD-0.1) > 1e-9 {
		t.Errorf("Grad-CAM vs Saliency: %+v", p)
	}
	if p := c.pair("ig", "gradcam"); p.Better != "" || *p.P != 1 || *p.RankBiserial != 0 {
		t.Errorf("IG vs Grad-CAM: %+v", p)
	}
	if p := c.pair("ig", "saliency"); p.Better != "ig" {
		t.Errorf("IG vs Saliency: %+v", p)
	}
	if len(c.Top) != 2 || c.Top[0] == "saliency" || c.Top[1] == "saliency" {
		t.Errorf("top group %v, want Grad-CAM and IG", c.Top)
	}
	other := map[string]string{"gradcam": "Integrated Gradients", "ig": "Grad-CAM"}[s.Ranking.Trusted]
	for _, want := range []string{"How sure: on these 40 images, " + xai.MethodLabel(s.Ranking.Trusted) + " is more faithful than Saliency",
		"but it cannot be told apart from " + other + " (Holm-adjusted p = 1.00): on these images, " + other + " is as good a choice."} {
		if !strings.Contains(s.Confidence, want) {
			t.Errorf("confidence %q lacks %q", s.Confidence, want)
		}
	}
	report := reportMarkdown(s, recs, nil)
	for _, want := range []string{"Grad-CAM is more faithful than Saliency on this data (Holm-adjusted p < 0.0001 over 40 images; rank-biserial r = +1.00, median difference +0.1)",
		"Grad-CAM and Integrated Gradients are statistically indistinguishable on this data (Holm-adjusted p = 1.00 over 40 images"} {
		if !strings.Contains(report, want) && !strings.Contains(report, strings.Replace(want, "Grad-CAM and Integrated Gradients", "Integrated Gradients and Grad-CAM", 1)) {
			t.Errorf("report lacks %q", want)
		}
	}
	// The interval is the bootstrap's of Grad-CAM's scores, seeded with
	// -seed, over the images resampled jointly with the other methods.
	ivs, err := stats.Bootstrap{Seed: 1}.Means([][]float64{gc})
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := scoreRows([]string{"gradcam", "saliency", "ig"}, recs, faithfulnessMetrics(nil, "black", "blur", "black")[0])
	joint, _ := stats.Bootstrap{Seed: 1}.Means(rows)
	got := s.Methods[0].Faithfulness
	if got.CI == nil || got.CI[0] != joint[0].Lo || got.CI[1] != joint[0].Hi || math.Abs(ivs[0].Lo-joint[0].Lo) > 1e-12 {
		t.Errorf("Grad-CAM's interval %v, bootstrap %v (alone %v)", got.CI, joint[0], ivs[0])
	}
	if !(got.CI[0] < got.Mean && got.Mean < got.CI[1]) {
		t.Errorf("interval %v does not contain the mean %v", got.CI, got.Mean)
	}
	if len(s.Classes) != 2 || s.Classes[0].Name != "goldfish" || s.Classes[1].Images != 20 {
		t.Fatalf("classes %+v", s.Classes)
	}
	for _, cl := range s.Classes {
		for _, m := range cl.Top {
			if m == "saliency" {
				t.Errorf("class %s: Saliency in the top group %v", cl.Name, cl.Top)
			}
		}
	}
}

// TestStatisticsTooFewImages: with too few images no test can succeed,
// and the report says so instead of ranking. For three methods (three
// pairs) Holm's first threshold is 0.05/3 = 0.0167 and the exact test's
// smallest p-value is 2/2^n: 2/64 = 0.031 at n = 6, 2/128 = 0.0156 at
// n = 7, so 7 images are needed.
func TestStatisticsTooFewImages(t *testing.T) {
	if got := minImages(3); got != 7 {
		t.Errorf("minImages(3) = %d, want 7", got)
	}
	if p := stats.Wilcoxon([]float64{1, 2, 3, 4, 5, 6, 7}, make([]float64, 7)).P; p != 2.0/128 {
		t.Errorf("exact p of 7 positive differences %v, want 2/128", p)
	}
	var recs []*evalRecord
	for i := range 6 {
		g := 0.5 + 0.01*float64(i)
		recs = append(recs, synthRecord(i, 0, map[string]float64{"gradcam": g, "saliency": g - 0.1 - 0.01*float64(i), "ig": g - 0.2},
			map[string]float64{}))
	}
	s, err := summarise(synthHeader("gradcam", "saliency", "ig"), recs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Comparison.significant() != 0 || !strings.Contains(s.Confidence, "With 6 images no difference between methods can be significant (at α = 0.05 after Holm's correction over 3 pairs, at least 7 images are needed)") {
		t.Errorf("significant pairs %d; confidence %q", s.Comparison.significant(), s.Confidence)
	}
	// Nor can a metric be said to separate the methods, or not.
	for _, c := range s.Checks {
		if c.Metric == "faithfulness (ins − del)" && (c.Separates || !c.TooFew || c.Warning != "") {
			t.Errorf("faithfulness check with 6 images: %+v", c)
		}
	}
	if r := reportMarkdown(s, recs, nil); !strings.Contains(r, "| goldfish | 6 |") || !strings.Contains(r, "| too few images to tell |") {
		t.Errorf("the per-class table does not say that 6 images are too few:\n%s", r)
	}
	if r := reportMarkdown(s, recs, nil); !strings.Contains(r, "With 6 images, the tests cannot tell whether faithfulness (ins − del) and insertion AUC separate the methods (7 images are needed") {
		t.Errorf("report.md does not say that 6 images cannot tell whether the metrics separate the methods:\n%s", r)
	}
}

// TestMetricChecks: a confidence drop of 100% for every method on every
// image cannot separate them; the model calls the black fill "scorpion"
// with p 0.97 on every image, the blurred one not, so the check warns
// and suggests the blurred fill. Faithfulness, which differs, passes.
func TestMetricChecks(t *testing.T) {
	var recs []*evalRecord
	for i := range 30 {
		g := 0.3 + 0.01*float64(i)
		recs = append(recs, synthRecord(i, i%5, map[string]float64{"gradcam": g, "saliency": g - 0.05, "ig": g - 0.1},
			map[string]float64{"gradcam": 1, "saliency": 1, "ig": 1}))
	}
	s, err := summarise(synthHeader("gradcam", "saliency", "ig"), recs, nil)
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]metricCheck{}
	for _, c := range s.Checks {
		checks[c.Metric] = c
	}
	if c := checks["faithfulness (ins − del)"]; !c.Separates || c.Significant != 3 || c.Warning != "" {
		t.Errorf("faithfulness: %+v", c)
	}
	drop := checks["average drop at the top 10%"]
	for _, want := range []string{"average drop at the top 10% cannot separate the methods on this data: every method scores the same on 100% of the images"} {
		if drop.Separates || !strings.Contains(drop.Warning, want) {
			t.Errorf("drop warning %q lacks %q", drop.Warning, want)
		}
	}
	for _, want := range []string{`the model calls the black image "scorpion" with p = 0.97 on 100% of the images`, "Try -eval-keep-fill blur: the model gives the blurred image the explained class with p = 0.20 on average"} {
		if !strings.Contains(drop.Suggestion, want) {
			t.Errorf("drop suggestion %q lacks %q", drop.Suggestion, want)
		}
	}
	// Deletion AUC is 0 for every method here: tied too, and its fill is
	// black; the suggestion is the curves' reference, with the evidence
	// of the insertion curve, which used the blurred image and separates.
	del := checks["deletion AUC"]
	if del.Separates || !strings.Contains(del.Suggestion, "Try -eval-reference blur") || !strings.Contains(del.Suggestion, "the insertion AUC, which fills with it, separates 3 of 3 pairs") {
		t.Errorf("deletion check %+v", del)
	}
	if r := s.References[0]; r.Name != "black" || !r.Dominant || r.TopName != "scorpion" || r.TopShare != 1 {
		t.Errorf("black reference %+v", r)
	}
	report := reportMarkdown(s, recs, nil)
	if !strings.Contains(report, "- **Warning:** average drop at the top 10%, increase at the top 10%, average drop at the top 25%, increase at the top 25%, average drop at the top 50% and increase at the top 50% cannot separate the methods on this data: every method scores the same on 100% of the images. On this data the model calls") || !strings.Contains(report, "| black | 0.001") {
		t.Error("report.md lacks the warning or the reference table")
	}
}

// synthShards writes n shard logs of per images each, 4 methods with
// 33-point curves, as -evaluate -shard K/n would.
func synthShards(t testing.TB, dir string, n, per int) []string {
	methods := []string{"gradcam", "gradcampp", "saliency", "ig"}
	rng := rand.New(rand.NewPCG(2, 2))
	var dirs []string
	for k := range n {
		d := filepath.Join(dir, fmt.Sprintf("shard-%d", k))
		os.MkdirAll(d, 0o755)
		h := synthHeader(methods...)
		h.Shard = shardSpec{k, n}
		var b strings.Builder
		line := func(l logLine) {
			data, err := json.Marshal(l)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(data)
			b.WriteByte('\n')
		}
		line(logLine{Header: &h})
		line(logLine{Run: &runInfo{Started: "2026-01-01T00:00:00Z", Selected: per, Jobs: 1}})
		for i := range per {
			faith, drop := map[string]float64{}, map[string]float64{}
			for j, m := range methods {
				faith[m], drop[m] = 0.1*float64(j)+0.3*rng.Float64(), rng.Float64()
			}
			r := synthRecord(k*per+i, rng.IntN(5), faith, drop)
			for _, e := range r.Methods {
				c := &e.Metrics
				c.Deletion, c.Insertion = xai.Curve{AUC: c.Deletion.AUC}, xai.Curve{AUC: c.Insertion.AUC}
				for p := range 33 {
					fr := float64(p) / 32
					c.Deletion.Fraction, c.Deletion.Score = append(c.Deletion.Fraction, fr), append(c.Deletion.Score, rng.Float64())
					c.Insertion.Fraction, c.Insertion.Score = append(c.Insertion.Fraction, fr), append(c.Insertion.Score, rng.Float64())
				}
			}
			line(logLine{Image: r})
		}
		if err := os.WriteFile(filepath.Join(d, logName), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	return dirs
}

// TestMergeSynthetic: merging synthetic shards gives every record once,
// sorted, whatever order the shards are given in.
func TestMergeSynthetic(t *testing.T) {
	dir := t.TempDir()
	dirs := synthShards(t, dir, 5, 7)
	var stdout, stderr strings.Builder
	if code := runMerge(filepath.Join(dir, "a"), dirs, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	rev := []string{dirs[4], dirs[2], dirs[0], dirs[3], dirs[1]}
	if code := runMerge(filepath.Join(dir, "b"), rev, io.Discard, io.Discard); code != 0 {
		t.Fatal("reversed merge failed")
	}
	a, b := readFile(t, filepath.Join(dir, "a", "metrics.json")), readFile(t, filepath.Join(dir, "b", "metrics.json"))
	if string(a) != string(b) {
		t.Error("the order of the shards changes metrics.json")
	}
	var got struct {
		Summary evalSummary   `json:"summary"`
		Images  []*evalRecord `json:"images"`
	}
	json.Unmarshal(a, &got)
	if len(got.Images) != 35 || got.Images[0].Image != "img00000.png" || got.Images[34].Image != "img00034.png" {
		t.Errorf("%d images, first %s", len(got.Images), got.Images[0].Image)
	}
}

// BenchmarkMerge100x100 merges 100 shards of 100 images each (4 methods,
// 33-point curves): issue 15 asks for under 10 s.
func BenchmarkMerge100x100(b *testing.B) {
	dir := b.TempDir()
	dirs := synthShards(b, dir, 100, 100)
	out := filepath.Join(dir, "merged")
	cpu := 0.0
	for b.Loop() {
		c0 := cputime.Seconds()
		if code := runMerge(out, dirs, io.Discard, io.Discard); code != 0 {
			b.Fatal("merge failed")
		}
		cpu += cputime.Seconds() - c0
	}
	b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
}

// TestPerImageVerdictSanity: the randomisation check ran on the first
// image only and Grad-CAM, the most faithful, failed it there. On the
// other images (no check) their own verdict trusts Grad-CAM; the report's
// row for them says it failed the check; the first image's row trusts
// another method and says nothing more.
func TestPerImageVerdictSanity(t *testing.T) {
	var recs []*evalRecord
	for i := range 3 {
		recs = append(recs, synthRecord(i, 0, map[string]float64{"gradcam": 0.6, "saliency": 0.4}, map[string]float64{"gradcam": 0.5, "saliency": 0.5}))
	}
	fail := &xai.SanityResult{Class: 0, Layers: []string{"dense"}, Spearman: []float64{0.9}, Mean: 0.9, Threshold: xai.SanityThreshold}
	pass := &xai.SanityResult{Class: 0, Layers: []string{"dense"}, Spearman: []float64{0}, Mean: 0, Threshold: xai.SanityThreshold, Pass: true}
	recs[0].Methods["gradcam"].Sanity, recs[0].Methods["saliency"].Sanity = fail, pass
	var scores []xai.MethodScore
	for _, m := range []string{"gradcam", "saliency"} {
		sc := xai.ScoreOf(m, recs[0].Methods[m].Metrics)
		sc.Sanity = recs[0].Methods[m].Sanity
		scores = append(scores, sc)
	}
	recs[0].Ranking = xai.Rank(scores)
	if recs[0].Ranking.Trusted != "saliency" || recs[1].Ranking.Trusted != "gradcam" {
		t.Fatalf("the images' own verdicts trust %s and %s", recs[0].Ranking.Trusted, recs[1].Ranking.Trusted)
	}
	s, err := summarise(synthHeader("gradcam", "saliency"), recs, nil)
	if err != nil {
		t.Fatal(err)
	}
	report := reportMarkdown(s, recs, nil)
	const note = "But Grad-CAM fails the randomisation check on the images it ran on (above): do not trust it here either."
	for i, r := range recs {
		var row string
		for _, line := range strings.Split(report, "\n") {
			if strings.HasPrefix(line, "| "+r.Image+" |") {
				row = line
			}
		}
		if strings.Contains(row, note) != (i > 0) {
			t.Errorf("%s's row (its verdict trusts %s):\n%s", r.Image, r.Ranking.Trusted, row)
		}
	}
}

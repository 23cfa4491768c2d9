package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

// evalModel looks only at the top-left quadrant of an 8x8 RGB input: a
// 3x3 convolution summing the centre pixel's channels (ReLU), then a
// dense layer with weights 1/255 on the top-left 4x4 positions for class
// 0 and a bias for class 1. Saved with nn.Save and loaded back.
func evalModel(t *testing.T, dir string) (string, *nn.Model) {
	t.Helper()
	m, err := nn.Build(nn.Spec{Name: "quadrant", Input: [3]int{8, 8, 3}, Layers: []nn.LayerSpec{
		{Class: "Conv2D", Name: "conv", Config: nn.LayerConfig{Filters: 1, KernelSize: []int{3, 3}, Padding: "same", Activation: "relu"}},
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 2, Activation: "softmax"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	k := m.Param("conv/kernel").Value
	for c := range 3 {
		k[(1*3+1)*3+c] = 1
	}
	d := m.Param("dense/kernel").Value
	for h := range 4 {
		for w := range 4 {
			d[2*(h*8+w)] = 1.0 / 255
		}
	}
	m.Param("dense/bias").Value[1] = 15 // the pictures below give z_0 ≈ 22
	m.Classes = []nn.Class{{ID: "n0", Name: "object"}, {ID: "n1", Name: "background"}}
	path := filepath.Join(dir, "quadrant.safetensors")
	if err := nn.Save(path, m); err != nil {
		t.Fatal(err)
	}
	if m, err = nn.Load(path); err != nil {
		t.Fatal(err)
	}
	return path, m
}

// evalPicture writes a 16x16 PNG: a bright object in the top-left
// quadrant on a darker, textured background.
func evalPicture(t *testing.T, path string, seed int) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for y := range 16 {
		for x := range 16 {
			v := uint8((x*37 + y*11 + seed*13) % 90)
			if x < 8 && y < 8 {
				v = 160 + uint8((x*7+y*5+seed)%90)
			}
			img.Set(x, y, color.RGBA{v, v / 2, 255 - v, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func evalTestConfig(model, out string) *config {
	return &config{model: model, methods: []string{"gradcam", "gradcampp", "saliency", "ig"}, target: "logit",
		options: map[string]xai.Options{"ig": {"steps": 16, "baseline": "black", "rule": "linspace"}}, batch: 5, seed: 1, out: out, topk: 2}
}

func TestEvaluateTinyImageNetFolder(t *testing.T) {
	dir := t.TempDir()
	model, m := evalModel(t, dir)
	val := filepath.Join(dir, "val")
	os.MkdirAll(filepath.Join(val, "images"), 0o755)
	ann := ""
	for i := range 3 {
		name := "val_" + string(rune('0'+i)) + ".png"
		evalPicture(t, filepath.Join(val, "images", name), i)
		ann += name + "\tn0\t0\t0\t7\t7\n" // the object: top-left 8x8 of 16x16
	}
	ann += "val_9.png\tn0\t0\t0\t3\t3\n" // missing file: skipped, reported
	os.WriteFile(filepath.Join(val, "val_annotations.txt"), []byte(ann), 0o644)
	out := filepath.Join(dir, "out")
	ev := &evalConfig{dir: val, steps: 8, patch: 1, reference: "rise", sanity: 1, batch: 4}
	var stdout, stderr bytes.Buffer
	code := runEvaluate(evalTestConfig(model, out), ev, m, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "val_9.png") || !strings.Contains(stderr.String(), "explain: 1 image failed (listed in report.md and metrics.json)") {
		t.Fatalf("exit %d (want 1: one missing image); stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "evaluated 3 of 4 images") {
		t.Errorf("stdout %q", stdout.String())
	}

	var got struct {
		Summary evalSummary   `json:"summary"`
		Images  []*evalRecord `json:"images"`
	}
	data, err := os.ReadFile(filepath.Join(out, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Images) != 3 || got.Summary.Images != 3 || len(got.Summary.Methods) != 4 {
		t.Fatalf("metrics.json: %d images, summary %d images %d methods", len(got.Images), got.Summary.Images, len(got.Summary.Methods))
	}
	if k := got.Summary.Skipped; len(k) != 1 || filepath.Base(k[0].Image) != "val_9.png" || k[0].Error == "" {
		t.Errorf("metrics.json: skipped %+v, want val_9.png with its error", k)
	}
	// The box (0,0)-(7,7) of the 16x16 image is (0,0)-(4,4) half-open on
	// the 8x8 input.
	if b := got.Images[0].Box; b == nil || *b != (xai.Box{X0: 0, Y0: 0, X1: 4, Y1: 4}) {
		t.Errorf("box on the input: %v, want (0,0)-(4,4)", b)
	}

	// The numbers equal the library's on the same map (saliency of image 0).
	img, err := readImage(filepath.Join(val, "images", "val_0.png"))
	if err != nil {
		t.Fatal(err)
	}
	x, err := nn.ImageInput(img, m.Preprocess)
	if err != nil {
		t.Fatal(err)
	}
	rec := got.Images[0]
	sal, err := xai.New(m).Saliency(x, xai.Target{Class: rec.Class})
	if err != nil {
		t.Fatal(err)
	}
	want, err := xai.NewEvaluator(m).Evaluate(context.Background(), x, sal.Map,
		xai.MetricsOptions{Class: rec.Class, Steps: 8, Box: rec.Box})
	if err != nil {
		t.Fatal(err)
	}
	gm := rec.Methods["saliency"].Metrics
	if math.Abs(gm.Faithfulness-want.Faithfulness) > 1e-12 || math.Abs(gm.Deletion.AUC-want.Deletion.AUC) > 1e-12 ||
		*gm.Pointing != *want.Pointing || math.Abs(*gm.Mass-*want.Mass) > 1e-12 {
		t.Errorf("saliency metrics in metrics.json %+v, library %+v", gm, want)
	}
	// Only the quadrant matters to this model, so a gradient map's
	// relevance is all in the box and its insertion beats its deletion.
	if *gm.Mass != 1 || !*gm.Pointing || !(gm.Faithfulness > 0) {
		t.Errorf("saliency of the quadrant model: mass %v pointing %v faithfulness %v", *gm.Mass, *gm.Pointing, gm.Faithfulness)
	}
	// IG reports its completeness gap; the first image had the sanity check.
	if rec.Methods["ig"].Gap == nil || rec.Methods["saliency"].Sanity == nil || got.Images[1].Methods["saliency"].Sanity != nil {
		t.Errorf("IG gap %v, sanity on image 0 %v and on image 1 %v", rec.Methods["ig"].Gap, rec.Methods["saliency"].Sanity, got.Images[1].Methods["saliency"].Sanity)
	}

	report, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	r := string(report)
	last := r[strings.LastIndex(strings.TrimRight(r, "\n"), "\n")+1:]
	if !strings.Contains(r, "## Recommendation") || !(strings.Contains(last, "Recommended method for this model on this data: ") || strings.Contains(last, "No method can be recommended")) {
		t.Errorf("report.md does not end with the recommendation: %q", last)
	}
	// The per-image table names the class, not only its index.
	if name := m.Classes[rec.Class].Name; !strings.Contains(r, "| "+name+" ("+strconv.Itoa(rec.Class)+") |") || rec.ClassName != name {
		t.Errorf("report.md's per-image table or metrics.json lacks the class name %q of image 0", name)
	}
	for _, s := range []string{"Pointing game", "pointing game", "Grad-CAM++", "randomisation check", "figures/curves_deletion.png",
		"3 images (1 more could not be read: see Skipped)", "## Skipped", "val_9.png: "} {
		if !strings.Contains(r, s) && !strings.Contains(strings.ToLower(r), strings.ToLower(s)) {
			t.Errorf("report.md lacks %q", s)
		}
	}
	for _, f := range []string{"curves_deletion.png", "curves_insertion.png", "auc_boxplot.png", "time.png"} {
		fh, err := os.Open(filepath.Join(out, "figures", f))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(fh)
		fh.Close()
		if err != nil || cfg.Width < 300 || cfg.Height < 200 {
			t.Errorf("%s: %v, %dx%d", f, err, cfg.Width, cfg.Height)
		}
	}
}

func TestEvaluateBadInputs(t *testing.T) {
	dir := t.TempDir()
	model, m := evalModel(t, dir)
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	badAnn := filepath.Join(dir, "badann")
	os.Mkdir(badAnn, 0o755)
	os.WriteFile(filepath.Join(badAnn, "val_annotations.txt"), []byte("a.png\tn0\t1\t2\t3\n"), 0o644)
	swapped := filepath.Join(dir, "swapped")
	os.Mkdir(swapped, 0o755)
	os.WriteFile(filepath.Join(swapped, "val_annotations.txt"), []byte("a.png\tn0\t5\t2\t3\t4\n"), 0o644)
	escape := filepath.Join(dir, "escape")
	os.Mkdir(escape, 0o755)
	os.WriteFile(filepath.Join(escape, "val_annotations.txt"), []byte("../x.png\tn0\t0\t0\t1\t1\n"), 0o644)
	outside := filepath.Join(dir, "outside")
	os.MkdirAll(filepath.Join(outside, "images"), 0o755)
	evalPicture(t, filepath.Join(outside, "images", "a.png"), 0)
	os.WriteFile(filepath.Join(outside, "val_annotations.txt"), []byte("a.png\tn0\t0\t0\t63\t63\n"), 0o644)
	for _, tt := range []struct {
		name string
		ev   evalConfig
		code int
		want string
	}{
		{"missing dir", evalConfig{dir: filepath.Join(dir, "nope")}, 1, "no such file"},
		{"no images", evalConfig{dir: empty}, 1, "no images"},
		{"short line", evalConfig{dir: badAnn}, 1, "val_annotations.txt:1: 5 fields, want 6"},
		{"swapped box", evalConfig{dir: swapped}, 1, "corners swapped"},
		{"path in annotations", evalConfig{dir: escape}, 1, `file "../x.png" is not a plain file name`},
		{"box outside the image", evalConfig{dir: outside}, 1, "box (0,0)-(63,63) is outside the 16x16 image"},
		{"steps", evalConfig{dir: empty, steps: 0}, 2, "-eval-steps 0"},
		{"reference", evalConfig{dir: empty, reference: "grey"}, 2, "unknown deletion reference"},
		{"patch", evalConfig{dir: empty, patch: 9}, 2, "-eval-patch 9 out of range 1..8"},
	} {
		ev := tt.ev
		if ev.steps == 0 && tt.name != "steps" {
			ev.steps = 4
		}
		if ev.patch == 0 {
			ev.patch = 1
		}
		if ev.batch == 0 {
			ev.batch = 4
		}
		var stdout, stderr bytes.Buffer
		code := runEvaluate(evalTestConfig(model, filepath.Join(dir, "out-"+strings.ReplaceAll(tt.name, " ", "-"))), &ev, m, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", tt.name, code, stderr.String(), tt.code, tt.want)
		}
	}
}

func TestInputBoxCentreCrop(t *testing.T) {
	p := nn.Preprocess{Height: 8, Width: 8, Crop: "center"}
	// 32x16 image: the crop keeps columns 8..23; a box at columns 12..19
	// (rows 0..15) covers the crop's columns 4..11 of 16: input 2..6.
	b, err := inputBox([4]int{12, 0, 19, 15}, image.Rect(0, 0, 32, 16), p)
	if err != nil || b == nil || *b != (xai.Box{X0: 2, Y0: 0, X1: 6, Y1: 8}) {
		t.Errorf("centre crop: %v, %v", b, err)
	}
	// Entirely in the cropped-away margin: no box.
	if b, err := inputBox([4]int{0, 0, 5, 5}, image.Rect(0, 0, 32, 16), p); b != nil || err != nil {
		t.Errorf("box in the margin: %v, %v", b, err)
	}
}

// TestEvaluateEveryMethod: -evaluate scores and ranks every method of the
// registry it is given (-methods all), each with the library's metrics
// of the library's map.
func TestEvaluateEveryMethod(t *testing.T) {
	dir := t.TempDir()
	model, m := evalModel(t, dir)
	imgs := filepath.Join(dir, "imgs")
	os.Mkdir(imgs, 0o755)
	evalPicture(t, filepath.Join(imgs, "a.png"), 1)
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-model", model, "-evaluate", imgs, "-out", out, "-methods", "all", "-eval-steps", "4", "-eval-sanity", "0"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
	var got struct {
		Summary evalSummary   `json:"summary"`
		Images  []*evalRecord `json:"images"`
	}
	data, err := os.ReadFile(filepath.Join(out, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	img, _ := readImage(filepath.Join(imgs, "a.png"))
	x, _ := nn.ImageInput(img, m.Preprocess)
	rec := got.Images[0]
	for _, meth := range xai.Methods() {
		ranked := false
		for _, s := range rec.Ranking.Scores {
			ranked = ranked || s.Method == meth.Name
		}
		if !ranked || rec.Methods[meth.Name] == nil {
			t.Errorf("%s is not scored and ranked", meth.Name)
			continue
		}
		r, err := xai.New(m).Explain(x, xai.Request{Method: meth.Name, Target: xai.Target{Class: rec.Class}, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		want, err := xai.NewEvaluator(m).Evaluate(context.Background(), x, r.Map, xai.MetricsOptions{Class: rec.Class, Steps: 4, Patch: 1})
		if err != nil {
			t.Fatal(err)
		}
		if g := rec.Methods[meth.Name].Metrics; math.Abs(g.Faithfulness-want.Faithfulness) > 1e-12 {
			t.Errorf("%s: faithfulness %v, library %v", meth.Name, g.Faithfulness, want.Faithfulness)
		}
	}
}

// TestEvaluateCommandLine runs explain -evaluate through the command's
// flag parsing, and checks -help documents it.
func TestEvaluateCommandLine(t *testing.T) {
	dir := t.TempDir()
	model, _ := evalModel(t, dir)
	imgs := filepath.Join(dir, "imgs")
	os.Mkdir(imgs, 0o755)
	evalPicture(t, filepath.Join(imgs, "a.png"), 1)
	evalPicture(t, filepath.Join(imgs, "b.png"), 2)
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	code := run([]string{"-model", model, "-evaluate", imgs, "-out", out, "-methods", "gradcam,saliency",
		"-eval-steps", "4", "-eval-patch", "2", "-eval-reference", "black", "-eval-sanity", "0", "-eval-limit", "1"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
	var got struct {
		Summary evalSummary   `json:"summary"`
		Images  []*evalRecord `json:"images"`
	}
	data, err := os.ReadFile(filepath.Join(out, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	// -eval-limit 1, two methods, 4 steps of 2x2 patches, black reference.
	if len(got.Images) != 1 || len(got.Summary.Methods) != 2 {
		t.Fatalf("%d images, %d methods; want 1, 2", len(got.Images), len(got.Summary.Methods))
	}
	m := got.Images[0].Methods["saliency"].Metrics
	if m.Steps != 4 || m.Patch != 2 || m.Reference != "black" || len(m.Deletion.Score) != 5 || got.Images[0].Methods["saliency"].Sanity != nil {
		t.Errorf("settings not applied: steps %d patch %d reference %s, %d points, sanity %v", m.Steps, m.Patch, m.Reference, len(m.Deletion.Score), got.Images[0].Methods["saliency"].Sanity)
	}
	if !strings.Contains(stdout.String(), "evaluated 1 of 1 images") {
		t.Errorf("stdout %q", stdout.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"-help"}, &stdout, &stderr); code != 0 {
		t.Fatalf("-help exit %d", code)
	}
	for _, s := range []string{"-evaluate DIR", "-eval-steps", "val_annotations.txt", "explain -model mavis.safetensors -evaluate"} {
		if !strings.Contains(stderr.String(), s) {
			t.Errorf("-help lacks %q", s)
		}
	}
}

// TestReportMedianGap: the recommendation quotes the pooled ranking's
// completeness gap, the median over the images, and says so when it
// quotes one.
func TestReportMedianGap(t *testing.T) {
	for _, g := range []float64{1.46, 0.01} {
		gap := g
		s := &evalSummary{Model: "m.safetensors", Dir: "imgs", Images: 3, Settings: map[string]any{},
			Methods: []methodSummary{{Method: "gradcam", Label: "Grad-CAM"}, {Method: "ig", Label: "Integrated Gradients", Gap: &gap}},
			Ranking: xai.Rank([]xai.MethodScore{{Method: "gradcam", Faithfulness: 0.2}, {Method: "ig", Faithfulness: 0.1, Gap: &gap}})}
		r := strings.TrimRight(reportMarkdown(s, nil, nil), "\n")
		last := r[strings.LastIndex(r, "\n")+1:]
		quoted := strings.Contains(last, "misses completeness by +146%")
		noted := strings.Contains(last, "The completeness gap quoted is the median over the images.")
		if quoted != (g > xai.GapThreshold) || noted != quoted {
			t.Errorf("gap %v: recommendation %q", g, last)
		}
	}
}

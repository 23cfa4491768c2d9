package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/nn/npy"
	"github.com/mavis-xai/mavis/xai"
)

// tinyModel is a small classifier on 8x8 RGB images, saved with nn.Save.
func tinyModel(t *testing.T, dir string) (string, *nn.Model) {
	t.Helper()
	return tinyModelSized(t, dir, "tiny", 8)
}

// tinyModelSized is tinyModel on side x side images, saved as
// dir/name.safetensors.
func tinyModelSized(t *testing.T, dir, name string, side int) (string, *nn.Model) {
	t.Helper()
	m, err := nn.Build(nn.Spec{Name: name, Input: [3]int{side, side, 3}, Layers: []nn.LayerSpec{
		{Class: "Conv2D", Name: "conv", Config: nn.LayerConfig{Filters: 4, KernelSize: []int{3, 3}, Padding: "same", Activation: "relu"}},
		{Class: "MaxPooling2D", Name: "pool"},
		{Class: "Conv2D", Name: "conv_1", Config: nn.LayerConfig{Filters: 3, KernelSize: []int{3, 3}, Padding: "same", Activation: "relu"}},
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 3, Activation: "softmax"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range m.Params() {
		for j := range p.Value {
			p.Value[j] = float32(math.Sin(float64(11*i+7*j+3))) * 0.05
		}
	}
	m.Classes = []nn.Class{{ID: "n1", Name: "cat"}, {ID: "n2", Name: "dog"}, {ID: "n3", Name: "goose"}}
	path := filepath.Join(dir, name+".safetensors")
	if err := nn.Save(path, m); err != nil {
		t.Fatal(err)
	}
	m, err = nn.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, m
}

func writeTestImage(t *testing.T, path string, w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(30 * x), uint8(20*y + 10), uint8(7 * (x + y)), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return img
}

func TestExplainWritesLibraryMaps(t *testing.T) {
	dir := t.TempDir()
	model, m := tinyModel(t, dir)
	imgs := filepath.Join(dir, "images")
	os.Mkdir(imgs, 0o755)
	img := writeTestImage(t, filepath.Join(imgs, "cat.png"), 8, 8)
	writeTestImage(t, filepath.Join(imgs, "big.png"), 20, 12) // resized by the preprocessing
	os.WriteFile(filepath.Join(imgs, "broken.png"), []byte("\x89PNG\r\n\x1a\nnot really"), 0o644)
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	// Flags after the positional argument, too.
	code := run([]string{"-model", model, imgs, "-out", out, "-ig-steps", "12", "-ig-batch", "5", "-target", "probability", "-smoothgrad", "3", "-topk", "2"}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit status %d, want 1 (one broken image); stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "broken.png") || !strings.Contains(stderr.String(), "skipped") {
		t.Errorf("stderr does not report the broken image:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "[3/3]") {
		t.Errorf("no progress on stderr:\n%s", stderr.String())
	}
	got := filepath.Join(out, "cat")
	for _, f := range []string{"probs.npy", "gradcam.npy", "gradcampp.npy", "saliency.npy", "saliency_grad.npy", "ig.npy",
		"smoothgrad.npy", "smoothgrad_grad.npy", "report.json", "input.png", "gradcam_panel.png", "gradcam_overlay.png",
		"ig_panel.png", "ig_overlay.png", "saliency_overlay.png"} {
		if _, err := os.Stat(filepath.Join(got, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "big", "ig.npy")); err != nil {
		t.Errorf("big.png not explained: %v", err)
	}
	// The written arrays equal the library's maps for the same input.
	x, err := nn.ImageInput(img, m.Preprocess)
	if err != nil {
		t.Fatal(err)
	}
	ex := xai.New(m)
	ex.Batch = 5 // as -ig-batch 5: batched GEMM sums in another order, so maps differ in the last bit
	tg := xai.Target{Class: -1, Kind: xai.Probability}
	cam, _ := ex.GradCAM(x, xai.CAMOptions{Target: tg})
	campp, _ := ex.GradCAMPlusPlus(x, xai.CAMOptions{Target: tg})
	sal, _ := ex.Saliency(x, tg)
	ig, _ := ex.IntegratedGradients(x, xai.IGOptions{Target: tg, Steps: 12})
	sg, _ := ex.SmoothGrad(x, xai.SmoothGradOptions{Target: tg, Samples: 3, Noise: 0.15, Seed: 1})
	for _, tt := range []struct {
		file  string
		shape []int
		want  []float32
	}{
		{"probs.npy", []int{3}, f32(sal.Probs)},
		{"gradcam.npy", []int{4, 4}, cam.Raw.Data}, // conv_1, after the pool
		{"gradcampp.npy", []int{4, 4}, campp.Raw.Data},
		{"saliency.npy", []int{8, 8}, sal.Map.Data},
		{"saliency_grad.npy", []int{8, 8, 3}, sal.Grad.Data},
		{"ig.npy", []int{8, 8, 3}, ig.Map.Data},
		{"smoothgrad_grad.npy", []int{8, 8, 3}, sg.Grad.Data},
	} {
		shape, data, err := npy.Read(filepath.Join(got, tt.file))
		if err != nil {
			t.Fatal(err)
		}
		if !equalInts(shape, tt.shape) {
			t.Errorf("%s: shape %v, want %v", tt.file, shape, tt.shape)
		}
		if len(data) != len(tt.want) {
			t.Errorf("%s: %d values, want %d", tt.file, len(data), len(tt.want))
			continue
		}
		for i := range data {
			if data[i] != tt.want[i] {
				t.Errorf("%s[%d]: %v, library %v", tt.file, i, data[i], tt.want[i])
				break
			}
		}
	}
	var rep struct {
		Top []struct {
			Index int     `json:"index"`
			Name  string  `json:"name"`
			Prob  float64 `json:"probability"`
		} `json:"top"`
		Target struct {
			Kind  string `json:"kind"`
			Class int    `json:"class"`
			Name  string `json:"class_name"`
		} `json:"target"`
		Methods map[string]map[string]any `json:"methods"`
	}
	data, err := os.ReadFile(filepath.Join(got, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Top) != 2 || rep.Top[0].Index != sal.Class || rep.Top[0].Name != m.Classes[sal.Class].Name || rep.Top[0].Prob != sal.Probs[sal.Class] {
		t.Errorf("top-k %+v, want class %d %s first", rep.Top, sal.Class, m.Classes[sal.Class].Name)
	}
	if rep.Target.Kind != "probability" || rep.Target.Class != sal.Class {
		t.Errorf("target %+v", rep.Target)
	}
	igr := rep.Methods["ig"]
	if igr["steps"] != 12.0 || igr["rule"] != "linspace" || igr["completeness_gap"] != ig.Gap || igr["sum_attributions"] != ig.Sum {
		t.Errorf("ig report %v, want steps 12, linspace, gap %v", igr, ig.Gap)
	}
	for _, meth := range []string{"gradcam", "gradcampp", "saliency", "ig", "smoothgrad"} {
		if _, ok := rep.Methods[meth]["seconds"]; !ok {
			t.Errorf("report has no time for %s", meth)
		}
	}
}

func TestExplainFlags(t *testing.T) {
	dir := t.TempDir()
	model, _ := tinyModel(t, dir)
	img := filepath.Join(dir, "a.png")
	writeTestImage(t, img, 8, 8)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-help"}, 0, "Examples:"},
		{[]string{img}, 2, "-model is required"},
		{[]string{"-model", model}, 2, "no IMAGE or DIR"},
		{[]string{"-model", model, "-methods", "gradcam,lime", img}, 2, `unknown method "lime"`},
		{[]string{"-model", model, "-target", "odds", img}, 2, `unknown target score "odds"`},
		{[]string{"-model", model, "-class", "zebra", img}, 2, `matches no class (have: 0 n1 cat`},
		{[]string{"-model", model, "-class", "7", img}, 2, "-class 7 out of range 0..2"},
		{[]string{"-model", model, "-layer", "dense", img}, 2, "no spatial output"},
		{[]string{"-model", model, "-ig-rule", "simpson", img}, 2, "-ig-rule must be one of linspace, trapezoid, gauss-legendre"},
		{[]string{"-model", model, "-ig-baseline", filepath.Join(dir, "nope.png"), img}, 2, "not a readable image"},
		{[]string{"-model", model, "-ig-steps", "0", img}, 2, "-ig-steps 0 out of range"},
		{[]string{"-model", model, "-scale", "97", img}, 2, `-scale: unknown colour scale "97" (want max, p99.5, p99 or p98)`},
		{[]string{"-model", model, "-colormap", "parula", img}, 2, `-colormap: unknown colormap "parula" (have viridis,`},
		{[]string{"-model", filepath.Join(dir, "missing.safetensors"), img}, 1, "missing.safetensors"},
		{[]string{"-model", model, filepath.Join(dir, "nothing.png")}, 1, "no images to explain"},
		{[]string{"-model", model, "-bogus", img}, 2, "explain: flag provided but not defined: -bogus\n(run explain -help for usage)\n"},
		{[]string{"-model", model, "-topk", "abc", img}, 2, `explain: invalid value "abc" for flag -topk`},
		{[]string{"-model", model, "-shard", "1/2", img}, 2, "-shard applies only with -evaluate DIR"},
		{[]string{"-model", model, "-eval-limit", "1", "-j", "3", img}, 2, "-eval-limit, -j apply only with -evaluate DIR"},
		{[]string{"-model", model, "-evaluate", dir, img}, 2, "-evaluate takes its images from " + dir + ", not from the arguments (" + img + ")"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(append(tt.args, "-out", filepath.Join(dir, "out")), &stdout, &stderr)
		if code != tt.code || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("explain %v: status %d, stderr %q; want %d and %q", tt.args, code, stderr.String(), tt.code, tt.want)
		}
		// An error is a line or two, not the whole help.
		if n := strings.Count(stderr.String(), "\n"); code == 2 && n > 3 {
			t.Errorf("explain %v: %d lines on stderr", tt.args, n)
		}
	}
	// -class by name, a white baseline and another rule work.
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-model", model, "-class", "goose", "-methods", "ig", "-ig-baseline", "white", "-ig-rule", "gauss-legendre", "-ig-steps", "4", "-out", filepath.Join(dir, "o2"), img}, &stdout, &stderr); code != 0 {
		t.Fatalf("status %d: %s", code, stderr.String())
	}
	data, _ := os.ReadFile(filepath.Join(dir, "o2", "a", "report.json"))
	if !strings.Contains(string(data), `"class_name": "goose"`) || !strings.Contains(string(data), `"baseline": "white"`) {
		t.Errorf("report.json:\n%s", data)
	}
}

// TestExplainEveryMethod: every method of the registry runs from the
// command line (-methods all) and writes its map at its native shape, as
// the library computes it, with its report entry; --help lists it.
func TestExplainEveryMethod(t *testing.T) {
	dir := t.TempDir()
	model, m := tinyModel(t, dir)
	img := filepath.Join(dir, "a.png")
	writeTestImage(t, img, 8, 8)
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-model", model, "-methods", "all", "-out", out, img}, &stdout, &stderr); code != 0 {
		t.Fatalf("status %d: %s", code, stderr.String())
	}
	data, err := os.ReadFile(filepath.Join(out, "a", "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Methods map[string]map[string]any `json:"methods"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	x := readInputFile(t, img, m)
	var help bytes.Buffer
	run([]string{"-help"}, &stdout, &help)
	for _, meth := range xai.Methods() {
		shape, got, err := npy.Read(filepath.Join(out, "a", meth.Name+".npy"))
		if err != nil {
			t.Errorf("%s: %v", meth.Name, err)
			continue
		}
		want, err := xai.New(m).Explain(x, xai.Request{Method: meth.Name, Target: xai.Predicted(), Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if !equalInts(shape, want.Map.Shape()) || !slices.Equal(got, want.Map.Data) {
			t.Errorf("%s.npy: shape %v, want %v, or values differ from the library's", meth.Name, shape, want.Map.Shape())
		}
		if want.Check != nil && len(want.Check.Layers) > 0 {
			if sums, _ := rep.Methods[meth.Name]["layer_sums"].([]any); len(sums) != len(want.Check.Layers) {
				t.Errorf("report.json: %s has %d layer sums, want %d", meth.Name, len(sums), len(want.Check.Layers))
			}
		}
		if rep.Methods[meth.Name]["label"] != meth.Label {
			t.Errorf("report.json: %s has label %v, want %q", meth.Name, rep.Methods[meth.Name]["label"], meth.Label)
		}
		// The panels use the page's scale and colormap for the map's kind.
		s := xai.DisplayScale(want.Display, meth.Display, xai.ScaleDefault)
		if got := rep.Methods[meth.Name]["scale"]; !slices.Equal(toFloats(got), []float64{float64(s.Lo), float64(s.Hi)}) || rep.Methods[meth.Name]["colormap"] != meth.Display.Colormap().Name {
			t.Errorf("report.json: %s has scale %v and colormap %v, want %v and %s", meth.Name, got, rep.Methods[meth.Name]["colormap"], s, meth.Display.Colormap().Name)
		}
		if !strings.Contains(help.String(), "  "+meth.Name+" ") || !strings.Contains(oneLine(help.String()), meth.Paper) {
			t.Errorf("-help does not list %s with its paper", meth.Name)
		}
	}
}

// oneLine joins wrapped text: every run of white space becomes one space.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// toFloats reads a JSON array of numbers.
func toFloats(v any) []float64 {
	a, _ := v.([]any)
	out := make([]float64, len(a))
	for i, x := range a {
		out[i], _ = x.(float64)
	}
	return out
}

func readInputFile(t *testing.T, path string, m *nn.Model) *nn.Tensor {
	t.Helper()
	img, err := readImage(path)
	if err != nil {
		t.Fatal(err)
	}
	x, err := nn.ImageInput(img, m.Preprocess)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestOutDirNames(t *testing.T) {
	seen := map[string]int{}
	var got []string
	var renamed []bool
	for _, p := range []string{"x/cat.png", "y/cat.jpg", "z/cat.png", "y/cat.png", "cat.png", "x/dog.png"} {
		d, r := outDir("o", p, seen)
		got, renamed = append(got, d), append(renamed, r)
	}
	want := []string{"cat", "y-cat", "z-cat", "y-cat_png", "cat-2", "dog"}
	for i := range got {
		if got[i] != filepath.Join("o", want[i]) || renamed[i] != (i > 0 && i < 5) {
			t.Errorf("outDir %d: got %s (renamed %v), want %s (renamed %v)", i, got[i], renamed[i], filepath.Join("o", want[i]), i > 0 && i < 5)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestHelpWidth: --help fits 80 columns, and wrapping loses no word of a
// method's documentation or of a flag's.
func TestHelpWidth(t *testing.T) {
	var stdout, help bytes.Buffer
	if code := run([]string{"-help"}, &stdout, &help); code != 0 {
		t.Fatalf("status %d", code)
	}
	for i, line := range strings.Split(help.String(), "\n") {
		if n := utf8.RuneCountInString(line); n > helpWidth {
			t.Errorf("--help line %d has %d columns, want at most %d: %q", i+1, n, helpWidth, line)
		}
	}
	all := oneLine(help.String())
	for _, m := range xai.Methods() {
		if !strings.Contains(all, oneLine(m.Label+". "+m.Doc)) {
			t.Errorf("--help lacks %s's documentation %q", m.Name, m.Doc)
		}
	}
	if !strings.Contains(all, "-scale string top of the colour scale: max, p99.5, p99 or p98") {
		t.Errorf("--help lacks -scale's documentation")
	}
	if got := wrap("aaa bbb cccc dd", 2, 4, 10); got != "  aaa bbb\n    cccc\n    dd" {
		t.Errorf("wrap: %q", got)
	}
}

// TestCompletenessAdvice: when IG misses completeness, report.json holds
// the sweep (each row the gap xai.IntegratedGradients gives with that
// rule, step count and baseline) and the advice; -completeness-sweep=false
// leaves them out.
func TestCompletenessAdvice(t *testing.T) {
	dir := t.TempDir()
	model, m := tinyModel(t, dir)
	img := filepath.Join(dir, "a.png")
	writeTestImage(t, img, 8, 8)
	for _, sweep := range []bool{true, false} {
		out := filepath.Join(dir, fmt.Sprint(sweep))
		var stdout, stderr bytes.Buffer
		if code := run([]string{"-model", model, "-methods", "ig", "-ig-steps", "2", "-completeness-sweep=" + fmt.Sprint(sweep), "-out", out, img}, &stdout, &stderr); code != 0 {
			t.Fatalf("status %d: %s", code, stderr.String())
		}
		data, err := os.ReadFile(filepath.Join(out, "a", "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		var rep struct {
			Methods map[string]struct {
				Rel    float64 `json:"relative_gap"`
				Advice string  `json:"advice"`
				Sweep  []struct {
					Rule     string  `json:"rule"`
					Steps    int     `json:"steps"`
					Baseline string  `json:"baseline"`
					Rel      float64 `json:"relative_gap"`
				} `json:"completeness_sweep"`
			} `json:"methods"`
		}
		if err := json.Unmarshal(data, &rep); err != nil {
			t.Fatal(err)
		}
		ig := rep.Methods["ig"]
		if math.Abs(ig.Rel) <= xai.GapThreshold {
			t.Fatalf("IG at 2 steps misses completeness by only %+.3g: the test needs a larger gap", ig.Rel)
		}
		if !sweep {
			if ig.Advice != "" || ig.Sweep != nil || strings.Contains(stderr.String(), "misses completeness") {
				t.Errorf("-completeness-sweep=false: advice %q, %d sweep rows, stderr %q", ig.Advice, len(ig.Sweep), stderr.String())
			}
			continue
		}
		// black (the default) and blur: linspace and trapezoid at 13, 25
		// and 49 steps, Gauss–Legendre at 16.
		if len(ig.Sweep) != 14 || !strings.HasPrefix(ig.Advice, "Measured on this image from the black baseline, the linspace rule misses by") {
			t.Fatalf("%d sweep rows, advice %q", len(ig.Sweep), ig.Advice)
		}
		if !strings.Contains(stderr.String(), img+": Integrated Gradients misses completeness by") || !strings.Contains(stderr.String(), ig.Advice) {
			t.Errorf("stderr lacks the advice: %q", stderr.String())
		}
		x := readInputFile(t, img, m)
		for _, row := range ig.Sweep {
			rule, _ := xai.ParseRule(row.Rule)
			bl := xai.Baseline{Kind: xai.Black}
			if row.Baseline != "black" {
				bl = xai.Baseline{Kind: xai.Blur}
			}
			a, err := xai.New(m).IntegratedGradients(x, xai.IGOptions{Target: xai.Predicted(), Rule: rule, Steps: row.Steps, Baseline: bl})
			if err != nil {
				t.Fatal(err)
			}
			if d := math.Abs(row.Rel - xai.IGGap(a)); d > 1e-4*math.Max(1, math.Abs(row.Rel)) {
				t.Errorf("%s %d steps from %s: relative gap %.6g, IntegratedGradients %.6g", row.Rule, row.Steps, row.Baseline, row.Rel, xai.IGGap(a))
			}
		}
	}
}

// TestExplainSameNames: two inputs with one name both get a folder, and
// explain says where the second one's maps went.
func TestExplainSameNames(t *testing.T) {
	dir := t.TempDir()
	model, _ := tinyModel(t, dir)
	a, b := filepath.Join(dir, "shots", "cat.png"), filepath.Join(dir, "photos", "cat.png")
	os.MkdirAll(filepath.Dir(a), 0o755)
	os.MkdirAll(filepath.Dir(b), 0o755)
	writeTestImage(t, a, 8, 8)
	writeTestImage(t, b, 8, 8)
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-model", model, "-methods", "gradcam", "-out", out, a, b}, &stdout, &stderr); code != 0 {
		t.Fatalf("status %d: %s", code, stderr.String())
	}
	for _, d := range []string{"cat", "photos-cat"} {
		if _, err := os.Stat(filepath.Join(out, d, "gradcam.npy")); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(stderr.String(), b+" has the same name as an earlier input; its maps go to "+filepath.Join(out, "photos-cat")) {
		t.Errorf("stderr does not say where the second cat.png went:\n%s", stderr.String())
	}
}

// TestExplainHEIC: a HEIC photo (its first bytes as an iPhone writes
// them) given by name says what it is and what to do; in a folder it is
// counted as left out, not skipped in silence.
func TestExplainHEIC(t *testing.T) {
	dir := t.TempDir()
	model, _ := tinyModel(t, dir)
	photos := filepath.Join(dir, "photos")
	os.MkdirAll(photos, 0o755)
	writeTestImage(t, filepath.Join(photos, "a.png"), 8, 8)
	heic := filepath.Join(photos, "IMG_0001.HEIC")
	if err := os.WriteFile(heic, append([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic\x00\x00\x00\x22meta"), make([]byte, 4096)...), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd("-model", model, "-methods", "gradcam", "-out", filepath.Join(dir, "out"), photos, heic)
	for _, want := range []string{
		photos + ": 1 picture in HEIC or AVIF left out, which explain cannot read: save it as JPEG or PNG",
		heic + ": a HEIF (HEIC) picture, the format iPhones take photos in, which explain cannot read: save it as a JPEG or PNG",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if code != 1 {
		t.Errorf("exit %d, want 1 (one input failed)", code)
	}
}

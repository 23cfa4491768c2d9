package browsertest

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/mavis-xai/mavis/internal/sharedtest"
	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/nn/npy"
	"github.com/mavis-xai/mavis/weightsconv/keras"
)

type manifest struct {
	Classes []struct {
		Index int    `json:"index"`
		Wnid  string `json:"wnid"`
		Name  string `json:"name"`
	} `json:"classes"`
	Images map[string]struct {
		ClassIndex int     `json:"class_index"`
		OneMinusPc float64 `json:"one_minus_p_c"`
		Saturated  bool    `json:"probability_target_saturated"`
	} `json:"images"`
}

// writeMAVIS converts the original Keras weights into the page's format,
// with the fixture classes, into the served folder.
func writeMAVIS(t *testing.T, shared string, man manifest, path string) {
	t.Helper()
	c, err := keras.ReadFile(filepath.Join(shared, "mavis", "tiny_imagenet_model.checkpoint.weights.h5"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.BuildBuiltin("mavis")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Load(m); err != nil {
		t.Fatal(err)
	}
	for _, k := range man.Classes {
		m.Classes = append(m.Classes, nn.Class{ID: k.Wnid, Name: k.Name})
	}
	if err := nn.Save(path, m); err != nil {
		t.Fatal(err)
	}
}

// pageResult is what the page's worker returns for one image.
type pageResult struct {
	Class int
	Probs []float64
	Maps  map[string]struct {
		Map     []float64
		FullMap []float64
		Shape   []int
	}
}

// TestMAVISFixtures runs the original MAVIS model in the page and checks
// that the worker's maps equal the float64 reference within the fixtures'
// tolerances: the class and probabilities, Grad-CAM and Grad-CAM++ (raw, 7x7)
// and Saliency for every image with target=logit, the same for
// target=probability on chelsea, and Integrated Gradients (50 steps) on
// chelsea. The images go through the browser's decoder, as a dropped file
// would.
func TestMAVISFixtures(t *testing.T) {
	shared := sharedtest.Dir(t, sharedtest.Manifest, sharedtest.Weights)
	base := site(t)
	var man manifest
	b, err := os.ReadFile(filepath.Join(shared, "fixtures", "mavis", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	www := filepath.Join(siteDir, "www")
	writeMAVIS(t, shared, man, filepath.Join(www, "models", "mavis.safetensors"))
	os.MkdirAll(filepath.Join(www, "fixtures"), 0o755)
	for name := range man.Images {
		if err := copyFile(filepath.Join(shared, "fixtures", "mavis", name, "input.png"), filepath.Join(www, "fixtures", name+".png")); err != nil {
			t.Fatal(err)
		}
	}

	ctx, cancel := browser(t, 5*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"?model=models/mavis.safetensors&autorun=0")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(ctx, `document.body.dataset.loaded !== undefined`); err != nil {
		t.Fatal(err)
	}
	if errs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`app.state.errors`)); len(errs) > 0 {
		t.Fatalf("loading the MAVIS model: %q", errs)
	}
	for _, name := range []string{"astronaut", "chelsea", "rocket", "immunohistochemistry", "grey128"} {
		img, ok := man.Images[name]
		if !ok {
			t.Fatalf("manifest has no image %s", name)
		}
		dir := filepath.Join(shared, "fixtures", "mavis", name)
		targets := []string{"logit"}
		if name == "chelsea" && !img.Saturated {
			targets = append(targets, "probability")
		}
		for _, target := range targets {
			methods := `['gradcam', 'gradcampp', 'saliency']`
			if name == "chelsea" && target == "logit" {
				methods = `['gradcam', 'gradcampp', 'saliency', 'ig']`
			}
			start := time.Now()
			r, err := chromedp.Run(ctx, chromedp.Evaluate[pageResult](fmt.Sprintf(`(async () => {
				const blob = await (await fetch('fixtures/%s.png')).blob();
				const p = await app.rpc('predict', [blob]);
				const out = {class: p.class, probs: p.probs, maps: {}};
				for (const m of %s) {
					const e = await app.rpc('explain', [{method: m, score: '%s', options: m === 'ig' ? {steps: 50} : {}}]);
					out.maps[m] = {map: Array.from(e.map), fullMap: e.fullMap ? Array.from(e.fullMap) : null, shape: e.shape};
				}
				return out;
			})()`, name, methods, target), chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			t.Logf("%s, target %s: %v in the page", name, target, time.Since(start).Round(time.Millisecond))
			scale := 1.0
			if target == "probability" {
				scale = math.Max(1, 1e-4/img.OneMinusPc)
			}
			compareMAVIS(t, name, target, dir, img.ClassIndex, r, scale)
		}
	}
}

func compareMAVIS(t *testing.T, name, target, dir string, class int, r pageResult, scale float64) {
	t.Helper()
	if r.Class != class {
		t.Errorf("%s: class %d, want %d", name, r.Class, class)
	}
	probs := readNpy(t, dir, "probs.npy")
	for i := range probs {
		if d := math.Abs(r.Probs[i] - probs[i]); d > 2e-5 {
			t.Errorf("%s: probs[%d] = %g, want %g (|diff| %.3g > 2e-5)", name, i, r.Probs[i], probs[i], d)
		}
	}
	check := func(method, file string, got []float64, metric string, limit float64) {
		want := readNpy(t, dir, file)
		if len(got) != len(want) {
			t.Errorf("%s %s: %d values, want %d (%s)", name, method, len(got), len(want), file)
			return
		}
		limit *= scale
		var v float64
		switch metric {
		case "max_abs_over_max_ref":
			v = maxAbsOverMaxRef(got, want)
		case "rel_l2":
			v = relL2(got, want)
			if f := fracOver(got, want); f > 0.01*scale {
				t.Errorf("%s %s (%s): frac_abs_over_1e-3_max_ref %.4g > %.4g", name, method, file, f, 0.01*scale)
			}
		}
		if v > limit || math.IsNaN(v) {
			t.Errorf("%s %s (%s): %s %.4g > %.4g", name, method, file, metric, v, limit)
		}
	}
	for m, res := range r.Maps {
		switch m {
		case "gradcam":
			check(m, "gradcam_"+target+"_raw.npy", res.Map, "max_abs_over_max_ref", 1e-4)
		case "gradcampp":
			check(m, "gradcampp_"+target+"_raw.npy", res.Map, "max_abs_over_max_ref", 1e-3)
		case "saliency":
			check(m, "saliency_"+target+".npy", res.Map, "rel_l2", 0.02)
		case "ig":
			check(m, "ig_"+target+".npy", res.FullMap, "rel_l2", 0.02)
		}
	}
}

func readNpy(t *testing.T, dir, file string) []float64 {
	t.Helper()
	_, data, err := npy.Read(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(data))
	for i, v := range data {
		out[i] = float64(v)
	}
	return out
}

func maxAbsOverMaxRef(got, want []float64) float64 {
	var d, m float64
	for i := range want {
		d = math.Max(d, math.Abs(got[i]-want[i]))
		m = math.Max(m, math.Abs(want[i]))
	}
	if m == 0 {
		return d
	}
	return d / m
}

func relL2(got, want []float64) float64 {
	var d, w float64
	for i := range want {
		d += (got[i] - want[i]) * (got[i] - want[i])
		w += want[i] * want[i]
	}
	if w == 0 {
		return math.Sqrt(d)
	}
	return math.Sqrt(d / w)
}

func fracOver(got, want []float64) float64 {
	var m float64
	for _, v := range want {
		m = math.Max(m, math.Abs(v))
	}
	n := 0
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-3*m {
			n++
		}
	}
	return float64(n) / float64(len(want))
}

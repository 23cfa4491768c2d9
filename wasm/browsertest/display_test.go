package browsertest

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

// hotSide is the side of hotModel's grey input.
const hotSide = 28

// writeHotModel saves a linear model of a 28x28 grey image whose
// Saliency map has one hot pixel: a 1x1 convolution with weight 1 (a
// layer for the CAM methods), then a Dense layer whose class-0 weights
// are small varied values, 1e-4 to 8e-4 with alternating signs, but for
// one pixel of 5 (10^4 times the rest), and whose class-1 weights are
// zero; biases 1 and 0. On a linear model Saliency is |w| (the gradient of
// the logit is w) and Integrated Gradients from a black baseline is x·w,
// so both maps are the weights: a few hundred small values and one hot
// pixel. It returns the weights.
func writeHotModel(t *testing.T, path string) []float32 {
	t.Helper()
	w := make([]float32, hotSide*hotSide)
	for i := range w {
		w[i] = 1e-4 * float32(1+(i*7)%8) * float32(1-2*(i%2))
	}
	w[hotSide*hotSide/2+5] = 5
	m, err := nn.Build(nn.Spec{Name: "hot", Input: [3]int{hotSide, hotSide, 1}, Layers: []nn.LayerSpec{
		{Class: "Conv2D", Name: "conv", Config: nn.LayerConfig{Filters: 1, KernelSize: []int{1, 1}}},
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 2}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		clear(p.Value)
		switch p.Name {
		case "conv/kernel":
			p.Value[0] = 1
		case "dense/kernel": // (28*28) x 2, row-major
			for i, v := range w {
				p.Value[2*i] = v
			}
		case "dense/bias":
			p.Value[0] = 1
		}
	}
	m.Classes = []nn.Class{{ID: "hot", Name: "hot"}, {ID: "cold", Name: "cold"}}
	m.Preprocess.Scale = "0..1"
	if err := nn.Save(path, m); err != nil {
		t.Fatal(err)
	}
	return w
}

// writeGrey saves a side x side PNG of one grey level.
func writeGrey(t *testing.T, path string, side int, v uint8) {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// choose picks a file with the image card's "Choose an image…" input, as a
// person does.
func choose(ctx context.Context, path string) error {
	return chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS(`#image-file`), []string{path}))
}

// panelPNG asks the viewer for panel i as the PNG download does.
func panelPNG(ctx context.Context, i int) (image.Image, error) {
	b64, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`new Promise((resolve) => {
		const f = document.getElementById('viewer').contentWindow;
		const on = (e) => {
			if (e.source !== f || e.data.type !== 'png' || e.data.slot !== %d) return;
			window.removeEventListener('message', on);
			let s = '';
			for (const b of e.data.png || []) s += String.fromCharCode(b);
			resolve(btoa(s));
		};
		window.addEventListener('message', on);
		f.postMessage({type: 'png', slot: %d}, location.origin);
	})`, i, i), chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, err
	}
	raw, _ := base64.StdEncoding.DecodeString(b64)
	return png.Decode(bytes.NewReader(raw))
}

// setControl sets a control of the page (a select or input) as a person
// would, with an input event.
func setControl(ctx context.Context, id, value string) error {
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
		const el = document.getElementById(%q);
		el.value = %q;
		el.dispatchEvent(new Event('input', {bubbles: true}));
		return el.value === %q;
	})()`, id, value, value)))
	return err
}

// awayFrom is the fraction of img's pixels that differ from c by more than
// 3 in some channel.
func awayFrom(img image.Image, c color.RGBA) float64 {
	b := img.Bounds()
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if absDiff(r>>8, uint32(c.R)) > 3 || absDiff(g>>8, uint32(c.G)) > 3 || absDiff(bl>>8, uint32(c.B)) > 3 {
				n++
			}
		}
	}
	return float64(n) / float64(b.Dx()*b.Dy())
}

// TestPercentileDisplay: a map with one hot pixel shows visible structure
// in the page. The model of writeHotModel explains a grey picture chosen
// with the file picker; at full opacity, the viewer's Saliency panel (a
// gradient map, Inferno) and Integrated Gradients panel (a signed map,
// RdBu) under the default scale have most pixels away from the bottom
// colour (zero's colour, the middle, for the signed map), and under the
// scale control's "max" nearly none (the hot pixel alone). The scale
// control offers the worker's rules; each map's colour bar reads the
// values its ends stand for (≥ where the rule clips); the JSON download's
// maps stay raw (the weights, hot pixel included).
func TestPercentileDisplay(t *testing.T) {
	base := site(t)
	dir := t.TempDir()
	w := writeHotModel(t, filepath.Join(siteDir, "www", "models", "hot-test.safetensors"))
	grey := filepath.Join(dir, "grey.png")
	writeGrey(t, grey, hotSide, 128)
	ctx, cancel := browser(t, 3*time.Minute)
	defer cancel()
	openLoaded(ctx, t, base+"?model=models/hot-test.safetensors&autorun=0")
	if err := choose(ctx, grey); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(ctx, `document.body.dataset.explained !== undefined || app.state.errors.length > 0`); err != nil {
		t.Fatal(err)
	}
	if errs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`app.state.errors`)); len(errs) > 0 {
		t.Fatalf("the page shows errors: %q", errs)
	}
	type page struct {
		Methods []string
		Rules   []string // the scale control's choices
		Worker  []string // the worker's rules
		Class   int
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[page](`({
		methods: app.state.methods.map((m) => m.name),
		rules: [...document.getElementById('scale').options].map((o) => o.value),
		worker: app.state.model.scaleRules.map((r) => r.name),
		class: app.state.prediction.class,
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Rules, ",") != ","+strings.Join(got.Worker, ",") || len(got.Worker) != len(xai.ScaleRules) {
		t.Errorf("the scale control offers %q, want Auto ('') and the worker's rules %q", got.Rules, got.Worker)
	}
	if got.Class != 0 {
		t.Fatalf("class %d, want 0 (logit 1 + Σ w·x against 0)", got.Class)
	}
	if err := setControl(ctx, "opacity", "1"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		method string
		bottom color.RGBA // the colour of the map's smallest values (zero for a signed map)
	}{
		{"saliency", xai.Inferno.At(0)},
		{"ig", xai.RdBuR.At(0.5)},
	} {
		slot := -1
		for i, m := range got.Methods {
			if m == tt.method {
				slot = i
			}
		}
		if slot < 0 {
			t.Fatalf("the page explained %v, not %s", got.Methods, tt.method)
		}
		for _, sc := range []struct {
			rule        string
			least, most float64 // the share of pixels away from the bottom colour
			top         string  // the colour bar's top label starts so
		}{
			{"", 0.9, 1, "≥ "},
			{"max", 0, 0.01, ""},
		} {
			if err := setControl(ctx, "scale", sc.rule); err != nil {
				t.Fatal(err)
			}
			img, err := panelPNG(ctx, slot)
			if err != nil {
				t.Fatalf("%s: %v", tt.method, err)
			}
			if b := img.Bounds(); b.Dx() != 8*hotSide || b.Dy() != 8*hotSide {
				t.Fatalf("%s: the panel is %v, want %dx%d", tt.method, b, 8*hotSide, 8*hotSide)
			}
			f := awayFrom(img, tt.bottom)
			t.Logf("%s, scale %q: %.1f%% of the pixels away from the bottom colour", tt.method, sc.rule, 100*f)
			if f < sc.least || f > sc.most {
				t.Errorf("%s, scale %q: %.1f%% of the pixels away from the bottom colour %v, want %.0f%% to %.0f%%",
					tt.method, sc.rule, 100*f, tt.bottom, 100*sc.least, 100*sc.most)
			}
			type bar struct {
				Hi, Want float64
				Top      string
			}
			b, err := chromedp.Run(ctx, chromedp.Evaluate[bar](fmt.Sprintf(`(() => {
				const r = app.state.results[%d];
				const rule = document.getElementById('scale').value || app.state.model.displays.find((d) => d.name === r.display).rule;
				const fig = document.querySelector('#method-%s .colorbar');
				return {hi: Number(fig.dataset.hi), want: r.scales.find((s) => s.rule === rule).hi, top: fig.querySelector('.hi').textContent};
			})()`, slot, tt.method)))
			if err != nil {
				t.Fatal(err)
			}
			if b.Hi != b.Want || !strings.HasPrefix(b.Top, sc.top) || (sc.top == "" && strings.HasPrefix(b.Top, "≥")) {
				t.Errorf("%s, scale %q: the colour bar's top reads %q (data-hi %g), want the worker's %g, marked %q", tt.method, sc.rule, b.Top, b.Hi, b.Want, sc.top)
			}
			if sc.rule == "max" && math.Abs(b.Hi-5*map[string]float64{"saliency": 1, "ig": 128.0 / 255}[tt.method]) > 1e-4 {
				t.Errorf("%s: the max scale's top %g, want the hot pixel's value", tt.method, b.Hi)
			}
		}
	}
	// The raw maps are kept: Saliency is |w| (hover and downloads read them).
	sal, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`Array.from(app.state.results[app.state.methods.findIndex((m) => m.name === 'saliency')].map)`))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range sal {
		if want := math.Abs(float64(w[i])); math.Abs(v-want) > 1e-6*max(want, 1e-3) {
			t.Fatalf("saliency[%d] = %g, want |w| = %g", i, v, want)
		}
	}
}

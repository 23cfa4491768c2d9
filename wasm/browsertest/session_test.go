package browsertest

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/nn/imagefile"
)

// explained returns the number of completed explanation rounds marker.
func explained(ctx context.Context) string {
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.explained || ''`))
	return s
}

// upload hands a file to one of the page's hidden file inputs, as the file
// picker would.
func upload(ctx context.Context, t *testing.T, input, name string, data []byte) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID(input), []string{p})); err != nil {
		t.Fatal(err)
	}
}

// errorShown waits for the error banner and returns its text.
func errorShown(ctx context.Context, t *testing.T, before int) string {
	t.Helper()
	if err := waitJS(ctx, `app.state.errors.length > `+strconv.Itoa(before)+` && !document.getElementById('error').hidden && !app.state.busy`); err != nil {
		t.Fatal(err)
	}
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('error-text').textContent`))
	return text
}

func errorCount(ctx context.Context) int {
	n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`app.state.errors.length`))
	return n
}

// stillWorks clicks the second sample and waits for a new full explanation.
func stillWorks(ctx context.Context, t *testing.T) {
	t.Helper()
	before := explained(ctx)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#gallery .thumb:nth-child(2)`))); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(ctx, `(document.body.dataset.explained || '') !== '`+before+`' && !app.state.busy`); err != nil {
		t.Fatal(err)
	}
	n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.method[data-state="done"]').length`))
	hidden, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('error').hidden`))
	if n != 4 || !hidden {
		t.Errorf("after the error: %d maps done and error banner hidden %v, want 4 and true", n, hidden)
	}
}

func brokenImage(ctx context.Context, t *testing.T) {
	n := errorCount(ctx)
	upload(ctx, t, "image-file", "broken.png", []byte("\x89PNG\r\n\x1a\nthis is not an image"))
	text := errorShown(ctx, t, n)
	if !strings.Contains(text, "broken.png") || !strings.Contains(text, "could not decode") {
		t.Errorf("error %q, want one naming broken.png and saying it could not be decoded", text)
	}
	stillWorks(ctx, t)
}

func brokenModel(ctx context.Context, t *testing.T) {
	n := errorCount(ctx)
	upload(ctx, t, "model-file", "broken.safetensors", []byte("\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":1}"))
	text := errorShown(ctx, t, n)
	if !strings.Contains(text, "broken.safetensors") || !strings.Contains(text, "nn: ") {
		t.Errorf("error %q, want one naming broken.safetensors with the reader's reason", text)
	}
	model, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`app.state.modelName`))
	if model != "models/fashion.safetensors" {
		t.Errorf("model %q after a broken one, want the default still loaded", model)
	}
	stillWorks(ctx, t)
}

// viewerDraws sends a known image and map to the viewer and reads the
// screen: a 28x28 grey (128) image with a map of 1 on its left half and 0
// on its right, shown alone at full opacity. jet(1) = (0.5, 0, 0) and
// jet(0) = (0, 0, 0.5); hot(1) = white and hot(0) = black; at opacity 0
// the image shows through.
func viewerDraws(ctx context.Context, t *testing.T) {
	setup := `(() => {
		const f = document.getElementById('viewer').contentWindow;
		const rgba = new Uint8Array(28*28*4).fill(128);
		const map = new Float32Array(28*28);
		for (let y = 0; y < 28; y++) for (let x = 0; x < 14; x++) map[y*28+x] = 1;
		f.postMessage({type: 'image', rgba, width: 28, height: 28}, location.origin);
		window.testMap = map;
		return true;
	})()`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](setup)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		colormap    string
		opacity     float64
		left, right [3]float64
	}{
		{"jet", 1, [3]float64{127.5, 0, 0}, [3]float64{0, 0, 127.5}},
		{"hot", 1, [3]float64{255, 255, 255}, [3]float64{0, 0, 0}},
		{"jet", 0, [3]float64{128, 128, 128}, [3]float64{128, 128, 128}},
		{"jet", 0.5, [3]float64{127.75, 64, 64}, [3]float64{64, 64, 127.75}},
	} {
		style := `(() => {
			const f = document.getElementById('viewer').contentWindow;
			f.postMessage({type: 'map', slot: 0, label: 'test map', map: window.testMap, width: 28, height: 28, lo: 0, hi: 1, colormap: '` + tt.colormap + `'}, location.origin);
			f.postMessage({type: 'style', style: {opacity: ` + strconv.FormatFloat(tt.opacity, 'g', -1, 64) + `, layout: 'single', selected: 0}}, location.origin);
			return true;
		})()`
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](style)); err != nil {
			t.Fatal(err)
		}
		var left, right [3]float64
		ok := false
		for range 40 { // the viewer applies messages at its next frame
			shot, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.ID("viewer")))
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(shot))
			if err != nil {
				t.Fatal(err)
			}
			left, right = probe(img, 0.25), probe(img, 0.75)
			if near(left, tt.left, 12) && near(right, tt.right, 12) {
				ok = true
				break
			}
			chromedp.Do(ctx, chromedp.Sleep(150e6))
		}
		if !ok {
			t.Errorf("%s at opacity %g: left half %v, right half %v, want %v and %v (±12)", tt.colormap, tt.opacity, left, right, tt.left, tt.right)
		}
	}
	// The PNG download is the overlay at composition resolution: 28x28
	// upscaled 8 times, in the last style (jet at opacity 0.5).
	b64, err := chromedp.Run(ctx, chromedp.Evaluate[string](`new Promise((resolve) => {
		const f = document.getElementById('viewer').contentWindow;
		const on = (e) => {
			if (e.source !== f || e.data.type !== 'png') return;
			window.removeEventListener('message', on);
			let s = '';
			for (const b of e.data.png) s += String.fromCharCode(b);
			resolve(btoa(s));
		};
		window.addEventListener('message', on);
		f.postMessage({type: 'png', slot: 0}, location.origin);
	})`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(b64)
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("PNG from the viewer: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 224 || b.Dy() != 224 {
		t.Errorf("PNG is %v, want 224x224", b)
	}
	for _, p := range []struct {
		x    int
		want [3]float64
	}{{56, [3]float64{127.75, 64, 64}}, {168, [3]float64{64, 64, 127.75}}} {
		r, g, bl, _ := img.At(p.x, 112).RGBA()
		if got := [3]float64{float64(r >> 8), float64(g >> 8), float64(bl >> 8)}; !near(got, p.want, 3) {
			t.Errorf("PNG pixel (%d, 112) = %v, want %v", p.x, got, p.want)
		}
	}

	// Hovering reads the raw value under the pointer: at the middle of cell
	// (7, 14), not on its edge, where rounding the pointer's position to
	// whole pixels gives the cell before (Chromium 148 placed the panel so
	// that side/2 fell on the edge of rows 13 and 14).
	pt, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => {
		const v = document.getElementById('viewer');
		v.scrollIntoView({block: 'center'});
		const r = v.getBoundingClientRect();
		const side = Math.min(r.width, r.height - 18);
		const x0 = (r.width - side) / 2, y0 = (r.height - side - 18) / 2 + 18;
		return [r.left + x0 + side * 7.5 / 28, r.top + y0 + side * 14.5 / 28];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.MouseEvent(chromedp.MouseMoved, pt[0], pt[1])); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(ctx, `document.getElementById('hover').textContent.includes('test map at (7, 14) of 28×28: 1')`); err != nil {
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('hover').textContent`))
		t.Errorf("hover text %q, want the value 1 at (7, 14): %v", text, err)
	}
}

// probe averages a 5x5 patch at fraction fx of the width of the single
// panel, half way down it, using the viewer's layout (an 18-pixel label
// strip above a square image centred in the frame).
func probe(img image.Image, fx float64) [3]float64 {
	b := img.Bounds()
	w, h := float64(b.Dx()), float64(b.Dy())
	side := math.Min(w, h-18)
	x0, y0 := (w-side)/2, (h-side-18)/2+18
	cx, cy := int(x0+side*fx), int(y0+side*0.5)
	var s [3]float64
	for y := cy - 2; y <= cy+2; y++ {
		for x := cx - 2; x <= cx+2; x++ {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			s[0] += float64(r>>8) / 25
			s[1] += float64(g>>8) / 25
			s[2] += float64(bl>>8) / 25
		}
	}
	return s
}

func near(a, b [3]float64, tol float64) bool {
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol {
			return false
		}
	}
	return true
}

// memoryFlat runs fifty explanations in a row (the four methods in turn,
// Integrated Gradients with 20 steps), sampling the worker's memory every
// ten after a garbage collection: the live Go heap must stay flat from the
// tenth explanation to the fiftieth (no leak), and the wasm memory, which
// never shrinks, may grow by at most the 4 MB of the GC's minimum headroom.
func memoryFlat(ctx context.Context, t *testing.T) {
	type mem struct {
		HeapAlloc, HeapSys, Sys, WasmBytes float64
		NumGC                              int
	}
	// The page's own metrics (split across the worker pool) must not be
	// running: these explanations would replace their maps.
	if err := waitJS(ctx, `!app.state.metricsBusy`); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]mem](`(async () => {
		const methods = ['gradcam', 'gradcampp', 'saliency', 'ig'];
		const out = [await app.memory(true)];
		for (let i = 0; i < 50; i++) {
			const m = methods[i % 4];
			await app.rpc('explain', [m === 'ig' ? {method: m, options: {steps: 20}} : {method: m}]);
			if (i % 10 === 9) out.push(await app.memory(true));
		}
		return out;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 {
		t.Fatalf("memory samples %v", got)
	}
	for i, m := range got {
		t.Logf("worker memory after %2d explanations: wasm %.1f MB, live Go heap %.2f MB of %.1f MB, Go sys %.1f MB, %d GCs",
			10*i, m.WasmBytes/1e6, m.HeapAlloc/1e6, m.HeapSys/1e6, m.Sys/1e6, m.NumGC)
	}
	a, b := got[1], got[5] // after 10 and after 50
	if b.HeapAlloc > a.HeapAlloc*1.05+64<<10 || b.WasmBytes > a.WasmBytes+4<<20 {
		t.Errorf("the worker's memory grew from explanation 10 to 50: live heap %.2f -> %.2f MB, wasm %.1f -> %.1f MB",
			a.HeapAlloc/1e6, b.HeapAlloc/1e6, a.WasmBytes/1e6, b.WasmBytes/1e6)
	}
}

// nativeInput loads the model file and decodes the image file at the
// given paths and makes the model's input from the image, as explain
// does: the native side of the tests that hold the page to xai.
func nativeInput(t *testing.T, model, path string) (*nn.Model, *nn.Tensor, image.Image) {
	t.Helper()
	m, err := nn.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	x, img := nativeImage(t, m, raw)
	return m, x, img
}

// nativeImage decodes an image file's bytes and makes m's input from the
// image, as explain does.
func nativeImage(t *testing.T, m *nn.Model, raw []byte) (*nn.Tensor, image.Image) {
	t.Helper()
	img, err := imagefile.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	x, err := nn.ImageInput(img, m.Preprocess)
	if err != nil {
		t.Fatal(err)
	}
	return x, img
}

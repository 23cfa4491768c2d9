package browsertest

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPersonsImageKept follows a person's own photo through what happens
// around it:
//   - a file that is not a usable image leaves the photo as the one
//     "Explain again" runs (it kept retrying the bad file);
//   - choosing a built-in model explains the photo with it, not the
//     model's first sample (which replaced it without a word), while a
//     sample shown gives way to the new model's first sample as before;
//   - a model file that does not load, and a Keras dialog cancelled,
//     leave the picker on the model loaded, with no command-line advice;
//   - one map shown alone gets a frame of one panel's height.
func TestPersonsImageKept(t *testing.T) {
	base := site(t)
	ctx, cancel := browser(t, 4*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(base)); err != nil {
		t.Fatal(err)
	}
	eval := func(expr string) string { return evalString(ctx, expr) }
	// explained waits for a new round of maps of image ("": any), with no
	// new error.
	explained := func(before, image string) {
		t.Helper()
		errs := len(errorTexts(ctx))
		if err := waitJS(ctx, fmt.Sprintf(`String(document.body.dataset.explained) !== %q && !app.state.busy || app.state.errors.length > %d`, before, errs)); err != nil {
			t.Fatalf("waiting for the maps of %s: %v (status %q)", image, err, eval(`document.getElementById('status').textContent`))
		}
		if e := errorTexts(ctx); len(e) > errs {
			t.Fatalf("waiting for the maps of %s: %q", image, e[errs:])
		}
		if got := eval(`app.state.image`); image != "" && got != image {
			t.Errorf("the maps are of %s, want %s", got, image)
		}
	}
	round := func() string { return eval(`String(document.body.dataset.explained)`) }
	explained("undefined", "") // the default page's first sample

	dir := t.TempDir()
	photo, err := os.ReadFile(filepath.Join(siteDir, "www", "samples", "mavis", "coffee.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	r := round()
	pick(ctx, t, "image-file", write("my-photo.jpg", photo))
	explained(r, "my-photo.jpg")

	// A JPEG cut after its headers: refused, the photo stays.
	errs := len(errorTexts(ctx))
	pick(ctx, t, "image-file", write("broken.jpg", photo[:300]))
	if err := waitJS(ctx, fmt.Sprintf(`app.state.errors.length > %d && !app.state.busy`, errs)); err != nil {
		t.Fatal(err)
	}
	if s := eval(`document.getElementById('status').textContent`); !strings.Contains(s, "Still showing my-photo.jpg") {
		t.Errorf("after a broken image the status says %q", s)
	}
	r = round()
	click(ctx, t, "#explain")
	explained(r, "my-photo.jpg")

	// The built-in MAVIS model: the photo is explained with it.
	mavis := eval(`'builtin:' + app.state.builtins.findIndex((b) => b.file.includes('mavis'))`)
	r = round()
	setValue(ctx, t, "#model-source", mavis)
	if err := waitJS(ctx, `app.state.builtin && app.state.builtin.file.includes('mavis')`); err != nil {
		t.Fatal(err)
	}
	explained(r, "my-photo.jpg")
	// A sample shown gives way to the next built-in's first sample.
	if err := waitJS(ctx, `document.querySelectorAll('#gallery .thumb').length > 1`); err != nil {
		t.Fatal(err)
	}
	r = round()
	click(ctx, t, "#gallery .thumb:nth-child(2)")
	if err := waitJS(ctx, `app.state.image !== 'my-photo.jpg'`); err != nil {
		t.Fatal(err)
	}
	explained(r, eval(`app.state.image`))
	fashion := eval(`'builtin:' + app.state.builtins.findIndex((b) => b.file.includes('fashion'))`)
	first, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(app.state.builtins.find((b) => b.file.includes('fashion')).samples).then((r) => r.json()).then((l) => typeof l[0] === 'string' ? l[0] : l[0].file)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	r = round()
	setValue(ctx, t, "#model-source", fashion)
	if err := waitJS(ctx, `app.state.builtin && app.state.builtin.file.includes('fashion')`); err != nil {
		t.Fatal(err)
	}
	explained(r, first)

	// A model file cut short: the picker goes back to the model loaded,
	// and the advice names nothing a person of the page cannot use.
	model, err := os.ReadFile(filepath.Join(siteDir, "www", "models", "fashion.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	errs = len(errorTexts(ctx))
	setValue(ctx, t, "#model-source", "file")
	pick(ctx, t, "model-file", write("cut.safetensors", model[:len(model)/2]))
	if err := waitJS(ctx, fmt.Sprintf(`app.state.errors.length > %d && !app.state.busy`, errs)); err != nil {
		t.Fatal(err)
	}
	msg := errorTexts(ctx)[errs]
	if !strings.Contains(msg, "so it was cut short") || strings.Contains(msg, "bin/") {
		t.Errorf("a model file cut short: %q", msg)
	}
	if got := eval(`document.getElementById('model-source').value`); got != fashion {
		t.Errorf("after a model that did not load the picker shows %s, want the model loaded, %s", got, fashion)
	}
	// A Keras file's dialog, cancelled.
	setValue(ctx, t, "#model-source", "file")
	pick(ctx, t, "model-file", filepath.Join(repoRoot(), "weightsconv", "keras", "testdata", "tiny.weights.h5"))
	if err := waitJS(ctx, `!!document.getElementById('convert-dialog') && document.getElementById('convert-dialog').open`); err != nil {
		t.Fatal(err)
	}
	click(ctx, t, "#convert-dialog .convert-cancel")
	wctx, wcancel := context.WithTimeout(ctx, 15*time.Second)
	defer wcancel()
	if err := waitJS(wctx, `!document.getElementById('convert-dialog').open && document.getElementById('model-source').value === `+fmt.Sprintf("%q", fashion)); err != nil {
		t.Errorf("after the Keras dialog was cancelled the picker shows %s, want %s", eval(`document.getElementById('model-source').value`), fashion)
	}

	// One map alone: the frame is one panel high (a square input), as
	// tall as the panel's width and its label strip.
	geom := func() []float64 {
		g, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[document.getElementById('viewer').getBoundingClientRect().height, document.getElementById('viewer-box').getBoundingClientRect().width]`))
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	setValue(ctx, t, "#view", "1")
	g := geom()
	if want := math.Ceil(math.Min(480, g[1]) + 18); math.Abs(g[0]-want) > 1 {
		t.Errorf("one map shown alone in a %.0f px box: frame %.0f px high, want %.0f", g[1], g[0], want)
	}
	setValue(ctx, t, "#view", "grid")
	if h := geom()[0]; h == g[0] {
		t.Errorf("the grid of every map has the frame of one map alone, %.0f px", h)
	}
}

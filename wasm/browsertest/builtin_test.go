package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/mavis-xai/mavis/xai"
)

// builtinEntry is an entry of www/models/index.json (api.d.ts BuiltinModel).
type builtinEntry struct {
	File, Name, Domain, Card, Licence, LicenceFile, Samples string
}

// builtins reads the served models index and each model's samples.
func builtins(t *testing.T) ([]builtinEntry, map[string][]struct{ File string }) {
	t.Helper()
	www := filepath.Join(siteDir, "www")
	var list []builtinEntry
	b, err := os.ReadFile(filepath.Join(www, "models", "index.json"))
	if err == nil {
		err = json.Unmarshal(b, &list)
	}
	if err != nil || len(list) < 2 {
		t.Fatalf("models/index.json: %v (%d models)", err, len(list))
	}
	samples := map[string][]struct{ File string }{}
	for _, m := range list {
		var s []struct{ File string }
		b, err := os.ReadFile(filepath.Join(www, filepath.FromSlash(m.Samples)))
		if err == nil {
			err = json.Unmarshal(b, &s)
		}
		if err != nil || len(s) < 2 {
			t.Fatalf("%s: %v (%d samples)", m.Samples, err, len(s))
		}
		samples[m.File] = s
	}
	return list, samples
}

// TestBuiltinMAVIS loads the built-in MAVIS model from the model picker and
// checks what a person sees: the gallery becomes MAVIS's samples (its
// photos, not clothing) and the first is explained with every default
// method, its prediction native xai's for the same file; the model card
// shows the model's domain, its card and licence (both served); a second
// sample explains too; back on the Fashion model, the gallery is clothing
// again. Opened with ?model=models/mavis.safetensors, the page starts with
// MAVIS's first sample, boot.js's own prediction, and MAVIS's gallery.
func TestBuiltinMAVIS(t *testing.T) {
	base := site(t)
	list, samples := builtins(t)
	mi, fi := -1, 0
	for i, m := range list {
		if m.File == "models/mavis.safetensors" {
			mi = i
		}
	}
	if mi < 0 {
		t.Fatal("models/index.json does not list models/mavis.safetensors")
	}
	mavis := list[mi]
	first := samples[mavis.File][0].File
	want := nativeTop(t, mavis.File, path.Join(path.Dir(mavis.Samples), first))

	ctx, cancel := browser(t, 5*time.Minute)
	defer cancel()
	openPage(ctx, t, base)
	gallery(ctx, t, list[fi], samples[list[fi].File])
	// Every default method but Integrated Gradients (50 passes of a
	// 224x224 model twice over: TestMAVISFixtures runs it on MAVIS in the
	// page; CI time is shared). The choice is kept across models.
	var methods []string
	for _, m := range xai.DefaultMethods() {
		if m != "ig" {
			methods = append(methods, m)
		}
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		const b = document.getElementById('use-ig');
		if (b) { b.checked = false; b.dispatchEvent(new Event('change', {bubbles: true})); }
		return true;
	})()`)); err != nil {
		t.Fatal(err)
	}
	before := explained(ctx)
	setValue(ctx, t, "#model-source", fmt.Sprintf("builtin:%d", mi))
	if err := waitJS(ctx, fmt.Sprintf(`(app.state.modelName === %q && app.state.image === %q && (document.body.dataset.explained || '') !== %q && !app.state.busy) || app.state.errors.length > 0`,
		mavis.File, first, before)); err != nil {
		t.Fatal(err)
	}
	if errs := errorTexts(ctx); len(errs) > 0 {
		t.Fatalf("the page shows errors: %q", errs)
	}
	gallery(ctx, t, mavis, samples[mavis.File])
	got, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
		Probs  []float64
		Top    string
		Done   int
		Select string
		About  string
		Links  []string
	}](`({
		probs: app.state.prediction.probs,
		top: document.querySelector('#topk li .label').textContent,
		done: document.querySelectorAll('#methods .method[data-state="done"]').length,
		select: document.getElementById('model-source').value,
		about: document.getElementById('model-about').textContent,
		links: [...document.querySelectorAll('#model-about a')].map((a) => a.getAttribute('href')),
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Top != want.name {
		t.Errorf("%s: top prediction %q, want %q (native xai)", first, got.Top, want.name)
	}
	// The browser's JPEG decoder is not Go's. imagefile converts the
	// colours as Chromium's libjpeg-turbo does, but their inverse DCTs round
	// differently (TestDecodeLikeChromium): on chelsea.jpg the probabilities
	// differ by up to 0.004 (0.6659 against 0.6620; 0.030 before imagefile
	// converted as libjpeg-turbo does).
	for i, p := range want.probs {
		if i >= len(got.Probs) || math.Abs(got.Probs[i]-p) > 0.01 {
			t.Errorf("%s: probabilities %v in the page, %v natively", first, got.Probs, want.probs)
			break
		}
	}
	if got.Done != len(methods) {
		t.Errorf("%d maps done, want %d (%v)", got.Done, len(methods), methods)
	}
	if got.Select != fmt.Sprintf("builtin:%d", mi) {
		t.Errorf("the model picker shows %q", got.Select)
	}
	if !strings.Contains(got.About, mavis.Domain) || !strings.Contains(got.About, mavis.Licence) ||
		len(got.Links) != 2 || got.Links[0] != mavis.Card || got.Links[1] != mavis.LicenceFile {
		t.Errorf("the model card says %q with links %v; want the domain, the licence and links to %s and %s", got.About, got.Links, mavis.Card, mavis.LicenceFile)
	}
	for _, l := range got.Links {
		status, _ := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`fetch(%q).then((r) => r.status)`, l), chromedp.EvalAwaitPromise))
		if status != 200 {
			t.Errorf("%s: HTTP %d", l, status)
		}
	}
	shot(ctx, t, "model-card-mavis", "#model-card")

	// A second sample.
	second := samples[mavis.File][1].File
	before = explained(ctx)
	click(ctx, t, `#gallery .thumb:nth-child(2)`)
	if err := waitJS(ctx, fmt.Sprintf(`(app.state.image === %q && (document.body.dataset.explained || '') !== %q && !app.state.busy) || app.state.errors.length > 0`, second, before)); err != nil {
		t.Fatal(err)
	}
	if errs := errorTexts(ctx); len(errs) > 0 {
		t.Fatalf("the page shows errors: %q", errs)
	}

	// Back to the default: clothing again.
	before = explained(ctx)
	setValue(ctx, t, "#model-source", fmt.Sprintf("builtin:%d", fi))
	if err := waitJS(ctx, fmt.Sprintf(`(app.state.modelName === %q && (document.body.dataset.explained || '') !== %q && !app.state.busy) || app.state.errors.length > 0`, list[fi].File, before)); err != nil {
		t.Fatal(err)
	}
	gallery(ctx, t, list[fi], samples[list[fi].File])

	// The model card opens as text in the browser (not as a download).
	if err := chromedp.Do(ctx, chromedp.Navigate(base+mavis.Card)); err != nil {
		t.Errorf("opening the model card %s: %v", mavis.Card, err)
	} else if text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`)); !strings.Contains(text, "Apache") {
		t.Errorf("the model card %s shows %.200q", mavis.Card, text)
	}

	t.Run("?model=", func(t *testing.T) {
		ctx, cancel := browser(t, 3*time.Minute)
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"?model="+mavis.File)); err != nil {
			t.Fatal(err)
		}
		// The first prediction is enough: the maps are the main test's.
		if err := waitJS(ctx, `(window.app && !!app.state.prediction && !!app.state.image) || (window.app && app.state.errors.length > 0)`); err != nil {
			t.Fatal(err)
		}
		if errs := errorTexts(ctx); len(errs) > 0 {
			t.Fatalf("the page shows errors: %q", errs)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`(async () => ({
			boot: (await mavisBoot.first).name, image: app.state.image,
			select: document.getElementById('model-source').value, model: app.state.modelName,
		}))()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if got["boot"] != first || got["image"] != first || got["select"] != fmt.Sprintf("builtin:%d", mi) || got["model"] != mavis.File {
			t.Errorf("?model=%s: %v; want %s predicted by boot.js and shown, the picker on builtin:%d", mavis.File, got, first, mi)
		}
		gallery(ctx, t, mavis, samples[mavis.File])
	})
}

// gallery checks that the gallery shows the samples of model m.
func gallery(ctx context.Context, t *testing.T, m builtinEntry, want []struct{ File string }) {
	t.Helper()
	srcs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#gallery .thumb img')].map((i) => new URL(i.src).pathname)`))
	if err != nil {
		t.Fatal(err)
	}
	dir := path.Dir(m.Samples)
	ok := len(srcs) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = strings.HasSuffix(srcs[i], "/"+path.Join(dir, want[i].File))
	}
	if !ok {
		t.Errorf("the gallery shows %v, want %s's samples (%s)", srcs, m.Name, m.Samples)
	}
}

type top struct {
	name  string
	probs []float64
}

// nativeTop classifies a served sample with a served model, natively.
func nativeTop(t *testing.T, model, sample string) top {
	t.Helper()
	www := filepath.Join(siteDir, "www")
	m, x, _ := nativeInput(t, filepath.Join(www, filepath.FromSlash(model)), filepath.Join(www, filepath.FromSlash(sample)))
	p, err := xai.New(m).Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	return top{m.Classes[p.Class].Name, p.Probs}
}

// shot saves a capture of the element sel to $MAVIS_SCREENSHOTS/name.png,
// for a person to look at (nothing without the variable).
func shot(ctx context.Context, t *testing.T, name, sel string) {
	t.Helper()
	if os.Getenv("MAVIS_SCREENSHOTS") == "" {
		return
	}
	b, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel)))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	saveShot(t, name, b)
}

// saveShot writes a capture to $MAVIS_SCREENSHOTS/name.png, making the
// folder if need be (nothing without the variable).
func saveShot(t *testing.T, name string, png []byte) {
	t.Helper()
	dir := os.Getenv("MAVIS_SCREENSHOTS")
	if dir == "" {
		return
	}
	err := os.MkdirAll(dir, 0o755)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	}
	if err != nil {
		t.Errorf("saving the screenshot %s: %v", name, err)
	}
}

// TestPickerAndDialogFit looks at the model picker and the converter's
// dialog on a desktop and on a 390-pixel phone: every built-in's name fits
// in the picker without being cut, and the dialog (opened for a
// weights-only file, with the spec box shown) fits the screen with nothing
// wider than it. With MAVIS_SCREENSHOTS set it saves both for a person to
// look at.
func TestPickerAndDialogFit(t *testing.T) {
	base := site(t)
	weights := filepath.Join(repoRoot(), "weightsconv", "keras", "testdata", "tiny.weights.h5")
	for _, s := range []struct {
		name string
		w, h int64
		opts []chromedp.EmulateViewportOption
	}{
		{"desktop", 1280, 900, nil},
		{"phone", 390, 844, phone},
	} {
		t.Run(s.name, func(t *testing.T) {
			ctx, cancel := browser(t, 3*time.Minute)
			defer cancel()
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(s.w, s.h, s.opts...), chromedp.Navigate(base+"?autorun=0")); err != nil {
				t.Fatal(err)
			}
			if err := waitJS(ctx, `document.body.dataset.loaded === 'true'`); err != nil {
				t.Fatal(err)
			}
			// The select's text box: its width less its padding and arrow.
			cut, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
				const sel = document.getElementById('model-source');
				const st = getComputedStyle(sel);
				const ctx = document.createElement('canvas').getContext('2d');
				ctx.font = st.font;
				const room = sel.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight) - 24;
				return [...sel.options].filter((o) => ctx.measureText(o.text).width > room)
					.map((o) => o.text + ' (' + Math.round(ctx.measureText(o.text).width) + ' px in ' + Math.round(room) + ')');
			})()`))
			if err != nil {
				t.Fatal(err)
			}
			if len(cut) > 0 {
				t.Errorf("the model picker cuts %q", cut)
			}
			shot(ctx, t, "picker-"+s.name, "#model-card")
			pick(ctx, t, "model-file", weights)
			if err := waitJS(ctx, `(() => { const d = document.getElementById('convert-dialog'); return !!d && d.open && !d.querySelector('.convert-body').hidden; })()`); err != nil {
				t.Fatal(err)
			}
			click(ctx, t, `#convert-dialog input[name="arch"][value="spec"]`)
			fit, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`(() => {
				const d = document.getElementById('convert-dialog');
				const r = d.getBoundingClientRect();
				let wide = 0;
				for (const e of d.querySelectorAll('*')) wide = Math.max(wide, e.getBoundingClientRect().right - r.right);
				return {left: r.left, right: r.right, screen: document.documentElement.clientWidth, inner: d.scrollWidth - d.clientWidth, wide};
			})()`))
			if err != nil {
				t.Fatal(err)
			}
			if fit["left"] < 0 || fit["right"] > fit["screen"] || fit["inner"] > 0 || fit["wide"] > 0 {
				t.Errorf("the dialog spans %v..%v of a %v-pixel screen, scrolls %v pixels sideways, and a part of it ends %v pixels past it",
					fit["left"], fit["right"], fit["screen"], fit["inner"], fit["wide"])
			}
			shot(ctx, t, "dialog-"+s.name, "#convert-dialog")
		})
	}
}

// TestModelURL: the model card's URL form loads a built-in's file as that
// built-in (its domain shown, its samples the gallery) and says what to do
// when the address does not fetch.
func TestModelURL(t *testing.T) {
	base := site(t)
	list, _ := builtins(t)
	ctx, cancel := browser(t, 3*time.Minute)
	defer cancel()
	openLoaded(ctx, t, base)
	submit := func(url string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
			const sel = document.getElementById('model-source');
			sel.value = 'url';
			sel.dispatchEvent(new Event('change'));
			document.getElementById('model-url').value = %q;
			document.getElementById('model-url-form').requestSubmit();
			return true;
		})()`, url))); err != nil {
			t.Fatal(err)
		}
	}
	mavis := list[1]
	submit(mavis.File)
	if err := waitJS(ctx, fmt.Sprintf(`(app.state.modelName === %q && !app.state.busy) || app.state.errors.length > 0`, mavis.File)); err != nil {
		t.Fatal(err)
	}
	about, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('model-about').textContent + ' | ' + app.state.errors.join('; ')`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(about, "Knows "+mavis.Domain+". ") || !strings.HasSuffix(about, " | ") {
		t.Errorf("after the URL %s: the card says %q, want the built-in's domain and no error", mavis.File, about)
	}

	submit("models/missing.safetensors")
	if err := waitJS(ctx, `app.state.errors.length > 0`); err != nil {
		t.Fatal(err)
	}
	errs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`app.state.errors`))
	if len(errs) != 1 || !strings.Contains(errs[0], "Could not load the model models/missing.safetensors") || !strings.Contains(errs[0], "Check the address") {
		t.Errorf("a URL that does not fetch: errors %q, want one that says to check the address", errs)
	}
}

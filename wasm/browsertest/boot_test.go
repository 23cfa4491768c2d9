package browsertest

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBoot holds the page's start-up (boot.js) to the ordinary path: the
// first prediction, which boot.js asks for before app.js runs, is bit for bit
// what a later predict of the same sample gives; the stages come in order;
// ?autorun=0 loads the model and predicts nothing; a missing ?model= file
// is reported with its HTTP status and no prediction is made; another site's
// ?model= is refused by the worker, which fetches it.
func TestBoot(t *testing.T) {
	base := site(t)

	t.Run("FirstPrediction", func(t *testing.T) {
		ctx, cancel := browser(t, 3*time.Minute)
		defer cancel()
		openPage(ctx, t, base)
		tm, at := stageTimes(ctx, t)
		order := []string{"boot", "worker ready", "model", "prediction"}
		for i, k := range order {
			if _, ok := at[k]; !ok {
				t.Fatalf("no %q stage in the timings %v", k, tm)
			}
			if i > 0 && at[k] < at[order[i-1]] {
				t.Errorf("stage %q at %v ms comes before %q at %v ms", k, at[k], order[i-1], at[order[i-1]])
			}
		}
		if at["boot"] > at["start"] {
			t.Errorf("boot.js ran at %v ms, after app.js (%v ms)", at["boot"], at["start"])
		}
		// The same sample through the ordinary path, in the same worker.
		got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`(async () => {
			const first = await mavisBoot.first;
			const again = await app.rpc('predict', [first.blob]);
			return {name: first.name, shown: app.state.image, boot: app.state.prediction.probs, again: again.probs};
		})()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if got["name"] != got["shown"] {
			t.Errorf("boot.js predicted %v, the page shows %v", got["name"], got["shown"])
		}
		bp, _ := got["boot"].([]any)
		ap, _ := got["again"].([]any)
		if len(bp) == 0 || len(bp) != len(ap) {
			t.Fatalf("probabilities: %d from boot.js, %d from predict", len(bp), len(ap))
		}
		for i := range bp {
			if bp[i] != ap[i] {
				t.Errorf("class %d: probability %v from boot.js's predict, %v from app.rpc('predict')", i, bp[i], ap[i])
			}
		}
	})

	t.Run("NoAutorun", func(t *testing.T) {
		ctx, cancel := browser(t, 3*time.Minute)
		defer cancel()
		openLoaded(ctx, t, base+"?autorun=0")
		got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`(async () => ({
			loaded: document.body.dataset.loaded,
			first: await mavisBoot.first,
			prediction: app.state.prediction,
			classes: app.state.model ? app.state.model.classes.length : 0,
		}))()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if got["loaded"] != "true" || got["first"] != nil || got["prediction"] != nil || got["classes"] != float64(len(fashionClasses)) {
			t.Errorf("?autorun=0: got %v, want the model loaded (%d classes), no first sample and no prediction", got, len(fashionClasses))
		}
	})

	// The worker fetches the ?model= file itself, where the page's
	// Content-Security-Policy does not reach when the site is served without
	// one: it refuses another site's file on its own.
	t.Run("OtherSiteModel", func(t *testing.T) {
		ctx, cancel := browser(t, 3*time.Minute)
		defer cancel()
		other := "http://localhost:9/model.safetensors"
		if strings.Contains(base, "//localhost:9/") {
			t.Fatalf("the test site is at %s, the address this test uses as another site", base)
		}
		got, errs := loadFailure(ctx, t, base+"?model="+other)
		if got["loaded"] != "false" || !strings.Contains(errs, other+" (another site)") || got["prediction"] != nil {
			t.Errorf("?model=%s: got %v, want loaded=false, an error naming the file as another site's, and no prediction", other, got)
		}
	})

	t.Run("MissingModel", func(t *testing.T) {
		ctx, cancel := browser(t, 3*time.Minute)
		defer cancel()
		got, errs := loadFailure(ctx, t, base+"?model=models/missing.safetensors")
		if got["loaded"] != "false" || !strings.Contains(errs, "models/missing.safetensors") || !strings.Contains(errs, "HTTP 404") || got["prediction"] != nil {
			t.Errorf("a missing ?model= file: got %v, want loaded=false, an error naming the file and HTTP 404, and no prediction", got)
		}
	})
}

// loadFailure opens url, whose ?model= must fail to load, and returns what
// the page shows: loaded, errors (joined by " | ") and prediction.
func loadFailure(ctx context.Context, t *testing.T, url string) (map[string]any, string) {
	t.Helper()
	openLoaded(ctx, t, url)
	got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`({
		loaded: document.body.dataset.loaded,
		errors: app.state.errors.join(' | '),
		prediction: app.state.prediction,
	})`))
	if err != nil {
		t.Fatal(err)
	}
	errs, _ := got["errors"].(string)
	return got, errs
}

// TestBootSlowSample: on a slow network the model's info is not held back
// by the first sample. The boot worker lets the sample's download and
// decode finish before it loads the model (they would otherwise wait
// behind it), but only for a bounded time: with the sample's response held
// for 3 s by a proxy in front of the site, the page has the model more
// than 1.5 s before its first prediction, which still comes.
func TestBootSlowSample(t *testing.T) {
	const hold = 3 * time.Second
	var held atomic.Int32
	front := frontOf(t, site(t), func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if strings.Contains(r.URL.Path, "/samples/") && !strings.HasSuffix(r.URL.Path, ".json") {
			held.Add(1)
			time.Sleep(hold)
		}
		next.ServeHTTP(w, r)
	})
	ctx, cancel := browser(t, 3*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(front+"?model=models/mavis.safetensors")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(ctx, `window.app !== undefined && (app.state.timings.some((m) => m[0].startsWith('prediction')) || app.state.errors.length > 0)`); err != nil {
		t.Fatal(err)
	}
	tm, at := stageTimes(ctx, t)
	model, okM := at["model"]
	pred, okP := at["prediction"]
	if !okM || !okP {
		t.Fatalf("no model or prediction stage in the timings %v", tm)
	}
	if held.Load() == 0 {
		t.Fatalf("no sample went through the proxy (timings %v)", tm)
	}
	if pred-model < 1500 {
		t.Errorf("the model came %.0f ms after navigation and the first prediction %.0f ms: the model waited for the sample held %v", model, pred, hold)
	}
}

// stageTimes returns the page's timings (app.state.timings) and the first
// time of each stage, named by its first word ("model", "prediction"),
// "worker ready" whole.
func stageTimes(ctx context.Context, t *testing.T) ([][]any, map[string]float64) {
	t.Helper()
	tm, err := chromedp.Run(ctx, chromedp.Evaluate[[][]any](`app.state.timings`))
	if err != nil {
		t.Fatal(err)
	}
	at := map[string]float64{}
	for _, m := range tm {
		s, _ := m[0].(string)
		v, _ := m[1].(float64)
		k, _, _ := strings.Cut(s, " models/")
		k, _, _ = strings.Cut(k, " ")
		if k == "worker" {
			k = s
		}
		if _, ok := at[k]; !ok {
			at[k] = v
		}
	}
	return tm, at
}

// TestFileMissing: a copy of the site served without one of its files
// (www/ not built, or a deploy that lost one) says so, names the file and
// the command, instead of staying on "loading…". Without the page's bundle
// its Dismiss button works too (app.js wires it otherwise); without a
// compute worker's script or its wasm the worker's calls answer that error,
// not hang, and the page says the engine did not start (no advice to choose
// another model: none can load); without the models index the engine runs
// and the page says which model did not load. With no model loaded, the
// model card says so and the gallery offers nothing.
func TestFileMissing(t *testing.T) {
	site(t)
	engine := []string{"The compute engine did not start: "}
	for _, c := range []struct {
		file     string
		want     []string
		not      string // what the error must not say
		noEngine bool   // the engine cannot start: the status says so
	}{
		{"bundle", []string{"bundle/app.js did not load", "build the page first with ./build.sh"}, "", false},
		{"wasm_exec.js", append(engine, "could not load the worker's scripts", "wasm_exec.js", "run ./build.sh first"), "Choose a built-in model", true},
		{"goexit.js", append(engine, "could not load the worker's scripts", "goexit.js"), "Choose a built-in model", true},
		{"worker.wasm", append(engine, "could not load worker.wasm (HTTP 404); run ./build.sh first"), "Choose a built-in model", true},
		{"models/index.json", []string{"Could not load the model named first in models/index.json: could not fetch models/index.json: HTTP 404", "Choose a built-in model"}, "compute engine", false},
	} {
		t.Run(c.file, func(t *testing.T) {
			dir := siteCopy(t, "worker.wasm", "kernels.wasm", "forwarder.wasm", "viewer.wasm", "viewer-2d.wasm")
			if err := os.RemoveAll(filepath.Join(dir, c.file)); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := browser(t, time.Minute)
			defer cancel()
			if err := chromedp.Do(ctx, chromedp.Navigate(serveDir(t, dir))); err != nil {
				t.Fatal(err)
			}
			if err := waitJS(ctx, `!document.getElementById('error').hidden`); err != nil {
				t.Fatalf("no error shown: %v", err)
			}
			text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('error-text').textContent`))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range c.want {
				if !strings.Contains(text, want) {
					t.Errorf("the error says %q, want it to contain %q", text, want)
				}
			}
			if c.not != "" && strings.Contains(text, c.not) {
				t.Errorf("the error says %q, want it without %q", text, c.not)
			}
			if c.file != "bundle" {
				// The page settles after its error: the gallery's list waited for the model.
				if err := waitJS(ctx, `document.body.dataset.loaded === 'false'`); err != nil {
					t.Fatalf("the page did not finish its start: %v", err)
				}
				got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`({
					model: document.getElementById('model-summary').textContent,
					status: document.getElementById('status').textContent,
					galleryNone: !document.getElementById('gallery-none').hidden,
					samples: document.getElementById('gallery').children.length,
				})`))
				if err != nil {
					t.Fatal(err)
				}
				status := "No model loaded."
				if c.noEngine {
					status = "No compute engine."
				}
				if got["model"] != "none loaded" || got["status"] != status || got["galleryNone"] != false || got["samples"] != 0.0 {
					t.Errorf("after the error the page shows %v; want the model card's \"none loaded\", the status %q and no gallery", got, status)
				}
				return
			}
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("error-close"))); err != nil {
				t.Fatal(err)
			}
			if err := waitJS(ctx, `document.getElementById('error').hidden`); err != nil {
				t.Errorf("Dismiss left the error shown: %v", err)
			}
		})
	}
}

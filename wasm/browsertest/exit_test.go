package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// fillHook is added to the end of a copy of worker.js: on the message
// {fillMemory: true} it grows Go's wasm memory to the most the browser
// gives, so that the next time Go's heap needs more memory the Go program
// ends, as it does when a phone runs out of memory ("fatal error: out of
// memory", exit code 2). It answers {filled: bytes}. (Go's JS glue keeps a
// view of the memory, which the growth detaches: the hook renews it, as
// Go's own growth does.)
const fillHook = `
const TestGo = Go;
let testGo = null;
globalThis.Go = class extends TestGo { constructor() { super(); testGo = this; } };
self.addEventListener('message', (e) => {
  if (!e.data || !e.data.fillMemory) return;
  for (let step = 16384; step >= 1;) {
    try { wasmMemory.grow(step); } catch (err) { step >>= 1; }
  }
  testGo.mem = new DataView(wasmMemory.buffer);
  self.postMessage({ filled: wasmMemory.buffer.byteLength });
});
`

// TestWorkerExit ends the compute worker's Go program the way running out of
// memory does, and checks that the page says so, with what to do, and stays
// usable: it is not left busy, and what the person does next gets the same
// answer at once instead of waiting for a worker that is gone.
func TestWorkerExit(t *testing.T) {
	site(t)
	dir := siteCopy(t, "worker.wasm", "viewer.wasm", "kernels.wasm", "forwarder.wasm")
	js, err := os.ReadFile(filepath.Join(dir, "worker.js"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "worker.js"), append(js, fillHook...), 0o644); err != nil {
		t.Fatal(err)
	}
	base := serveDir(t, dir)
	ctx, cancel := browser(t, 3*time.Minute)
	defer cancel()
	// fill loads the page and fills its worker's memory.
	fill := func(t *testing.T, query string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(base+query)); err != nil {
			t.Fatal(err)
		}
		idle := `document.body.dataset.loaded === 'true' && !app.state.busy && !app.state.metricsBusy`
		if err := waitJS(ctx, idle); err != nil {
			t.Fatal(err)
		}
		filled, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`new Promise((resolve) => {
			const w = mavisBoot.worker;
			w.addEventListener('message', (e) => { if (e.data && e.data.filled) resolve(e.data.filled); });
			w.postMessage({ fillMemory: true });
		})`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("Go's wasm memory grown to %.0f MB", filled/(1<<20))
	}
	// A 3000x3000 image: Go copies its 36 MB of pixels, more than its heap
	// has free.
	path := filepath.Join(t.TempDir(), "big.png")
	writeGrey(t, path, 3000, 128)
	stopped := func(t *testing.T, what string) {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		err := waitJS(wctx, `!app.state.busy && !app.state.metricsBusy && document.getElementById('error-text').textContent.includes('stopped')`)
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('error-text').textContent + ' | status: ' + document.getElementById('status').textContent + ' | metrics: ' + document.getElementById('metrics-status').textContent + ' | busy: ' + app.state.busy + ' ' + app.state.metricsBusy`))
		if err != nil {
			t.Fatalf("%s: the page did not say that the worker stopped within 60 s: %v; it shows %q", what, err, text)
		}
		t.Logf("%s: %s", what, text)
		for _, want := range []string{"out of memory", "Reload the page"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: the page says %q; want it to say %q", what, text, want)
			}
		}
	}
	t.Run("image", func(t *testing.T) {
		fill(t, "")
		if err := choose(ctx, path); err != nil {
			t.Fatal(err)
		}
		stopped(t, "the image that ended the worker")
		shot(ctx, t, "worker-exit", "#error")
		// On a phone the message wraps in its banner.
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, phone...)); err != nil {
			t.Fatal(err)
		}
		fit, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[document.getElementById('error').getBoundingClientRect().right, document.documentElement.scrollWidth, innerWidth]`))
		if err != nil {
			t.Fatal(err)
		}
		if fit[0] > fit[2] || fit[1] > fit[2] {
			t.Errorf("at 390 px the error banner ends at %.0f and the page is %.0f px wide, in %.0f", fit[0], fit[1], fit[2])
		}
		shot(ctx, t, "worker-exit-phone", "#error")
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1200, 900)); err != nil {
			t.Fatal(err)
		}
		// The next image goes nowhere: the page says so at once.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('error-text').textContent = '', document.querySelectorAll('#gallery .thumb img')[1].closest('button').click(), true`)); err != nil {
			t.Fatal(err)
		}
		stopped(t, "a sample clicked after")
	})
	// The metrics of MAVIS's maps, run again: the worker's evaluate runs in
	// a goroutine that reports progress through JavaScript (before the fix
	// the page said "Cannot read properties of undefined (reading
	// 'exports')").
	t.Run("metrics", func(t *testing.T) {
		fill(t, "?model=models/mavis.safetensors")
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('metrics-run').click(), true`)); err != nil {
			t.Fatal(err)
		}
		stopped(t, "Run metrics clicked")
	})
}

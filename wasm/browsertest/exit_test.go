package browsertest

import (
	"context"
	"fmt"
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
// Go's own growth does.) On {endGo: true} it ends the program at once, as
// Go does then (its fatal error on stderr, then go.exit).
const fillHook = `
let testGo = null;
scripts.then(() => { // worker.js's scripts, which define Go; before ready's new Go()
  const TestGo = Go;
  globalThis.Go = class extends TestGo { constructor() { super(); testGo = this; } };
});
self.addEventListener('message', (e) => {
  if (e.data && e.data.endGo) { // Go's end as it reports running out of memory, without the wait
    globalThis.fs.writeSync(2, new TextEncoder().encode('fatal error: out of memory\n'));
    testGo.exit(2);
    return;
  }
  if (!e.data || !e.data.fillMemory) return;
  for (let step = 16384; step >= 1;) {
    try { wasmMemory.grow(step); } catch (err) { step >>= 1; }
  }
  testGo.mem = new DataView(wasmMemory.buffer);
  self.postMessage({ filled: wasmMemory.buffer.byteLength });
});
`

// TestWorkerExit ends the compute worker's Go program the way running out of
// memory does, and checks that the page says so, with what to do, and goes
// on: it is not left busy, it starts a new worker with the model, and the
// next sample is explained there. A page whose engine keeps stopping asks
// for a reload after three restarts.
func TestWorkerExit(t *testing.T) {
	site(t)
	dir := siteCopy(t, "worker.wasm", "viewer.wasm", "viewer-2d.wasm", "kernels.wasm", "forwarder.wasm")
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
	// A 3000x3000 image: Go reads its pixels 4 MB at a time, more than its
	// heap has free (Go's runtime then says "out of memory" or "runtime:
	// cannot allocate memory"; the page says out of memory either way).
	path := filepath.Join(t.TempDir(), "big.png")
	writeGrey(t, path, 3000, 128)
	stopped := func(t *testing.T, what string) {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		err := waitJS(wctx, `!app.state.busy && !app.state.metricsBusy && document.getElementById('error-text').textContent.includes('stopped') && document.getElementById('status').textContent.includes('started again')`)
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('error-text').textContent + ' | status: ' + document.getElementById('status').textContent + ' | metrics: ' + document.getElementById('metrics-status').textContent + ' | busy: ' + app.state.busy + ' ' + app.state.metricsBusy`))
		if err != nil {
			t.Fatalf("%s: the page did not say that the worker stopped and was started again within 60 s: %v; it shows %q", what, err, text)
		}
		t.Logf("%s: %s", what, text)
		// What the old worker held is gone, and the page shows none of it.
		if gone, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`app.state.prediction === null && app.state.results.length === 0 && document.getElementById('topk').textContent.includes('No image')`)); !gone {
			t.Errorf("%s: after the restart the page still shows a prediction or maps that the stopped worker held", what)
		}
		for _, want := range []string{"out of memory", "smaller image", "started again, with "} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: the page says %q; want it to say %q", what, text, want)
			}
		}
	}
	// next clicks the gallery's second sample and waits for the maps of
	// its explanation, by a new worker.
	next := func(t *testing.T, what string) {
		t.Helper()
		if err := explainAgain(ctx, `app.state.errors.length = 0; document.querySelectorAll('#gallery .thumb img')[1].closest('button').click()`); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`app.state.errors.concat([String(app.state.results.filter(Boolean).length), String(app.state.prediction && app.state.prediction.top.length)])`))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0] == "0" || got[1] == "0" {
			t.Errorf("%s: the page's errors, then its maps and top classes: %q; want no error, maps and classes", what, got)
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
		// The next image is explained by the new worker.
		next(t, "a sample clicked after")
		// Three more ends: the third restart is the last.
		for i := 2; i <= 4; i++ {
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('error-text').textContent = '', document.getElementById('status').textContent = '', mavisBoot.worker.postMessage({ endGo: true }), true`)); err != nil {
				t.Fatal(err)
			}
			if i <= 3 {
				stopped(t, fmt.Sprintf("end %d", i))
				continue
			}
			if err := waitJS(ctx, `document.getElementById('error-text').textContent.includes('reload the page')`); err != nil {
				text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('error-text').textContent`))
				t.Fatalf("after a fourth end the page says %q; want it to ask for a reload (%v)", text, err)
			}
		}
	})
	// The metrics of MAVIS's maps, run again: the worker's evaluate runs in
	// a goroutine that reports progress through JavaScript (before the fix
	// the page said "Cannot read properties of undefined (reading
	// 'exports')"). The run adds the randomisation check, in one worker, so
	// that it must grow Go's heap: run again, the metrics alone reuse what
	// their first run kept (the heap Go holds grew by 1.5 MB in a probe,
	// the check by 25 MB), and in a run of the whole suite beside the other
	// packages' tests they fitted in what the heap had free: no worker
	// stopped.
	t.Run("metrics", func(t *testing.T) {
		fill(t, "?model=models/mavis.safetensors&workers=1")
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('metrics-sanity').checked = true, document.getElementById('metrics-run').click(), true`)); err != nil {
			t.Fatal(err)
		}
		stopped(t, "Run metrics clicked")
		next(t, "a sample clicked after")
	})
}

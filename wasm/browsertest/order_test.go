package browsertest

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestLatestChoiceWins holds a file's bytes back in the network while the
// person makes another choice, then lets them through, and checks that the
// page ends with the person's latest choice everywhere: the model in the
// worker, the model card, the gallery (the model's samples) and the
// prediction shown, with no error.
//   - A built-in model (MAVIS) is chosen, then, while it downloads, the
//     other one: the page ends with the other one.
//   - MAVIS is chosen, and a sample of the model shown is clicked while it
//     downloads: the page ends with MAVIS, its gallery, and the clicked
//     image classified by MAVIS.
//   - A sample is clicked, and while it downloads an image is picked: the
//     picked image stays the one shown.
//
// And an image that cannot be decoded, given while the maps' metrics run,
// leaves the metrics panel usable (cancelled, not stuck busy).
func TestLatestChoiceWins(t *testing.T) {
	base := site(t)
	ctx, cancel := browser(t, 4*time.Minute)
	defer cancel()
	paused := make(chan *fetch.EventRequestPaused, 8)
	chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok {
			paused <- e
		}
	})
	if err := chromedp.Do(ctx, chromedp.Navigate(base)); err != nil {
		t.Fatal(err)
	}
	idle := `document.body.dataset.loaded === 'true' && !app.state.busy && !app.state.metricsBusy`
	if err := waitJS(ctx, idle); err != nil {
		t.Fatal(err)
	}
	// Every fetch goes to the network, so that each held file is held.
	if _, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
		t.Fatal(err)
	}
	list, samples := builtins(t)
	// hold pauses the next response whose URL ends with suffix, once the
	// page's action act asked for it, and returns its request.
	hold := func(t *testing.T, suffix string, act func(*testing.T)) fetch.RequestID {
		t.Helper()
		if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*" + suffix, RequestStage: fetch.RequestStageResponse}}}); err != nil {
			t.Fatal(err)
		}
		act(t)
		select {
		case e := <-paused:
			if !strings.HasSuffix(e.Request.URL, suffix) {
				t.Fatalf("held %s, want a URL ending with %s", e.Request.URL, suffix)
			}
			return e.RequestID
		case <-time.After(30 * time.Second):
			t.Fatalf("the page did not fetch %s", suffix)
		}
		return ""
	}
	release := func(t *testing.T, id fetch.RequestID) {
		t.Helper()
		if _, err := chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id}); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(ctx, fetch.Disable, cdp.Empty{}); err != nil {
			t.Fatal(err)
		}
	}
	choose := func(i int) func(*testing.T) {
		return func(t *testing.T) {
			setValue(ctx, t, "#model-source", fmt.Sprintf("builtin:%d", i))
		}
	}
	thumb := func(i int) func(*testing.T) {
		return func(t *testing.T) {
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelectorAll('#gallery .thumb img')[%d].closest('button').click(), true`, i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	// settled waits until the page is idle and no call is left in the
	// worker, then checks that the page shows builtin list[want] and the
	// image image, as the worker has it.
	settled := func(t *testing.T, want int, image string) {
		t.Helper()
		time.Sleep(300 * time.Millisecond) // let a late load or image start
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := waitJS(wctx, `!app.state.busy && !app.state.metricsBusy`); err != nil {
			t.Fatal(err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](fmt.Sprintf(`(async () => {
			const samples = JSON.parse(await (await fetch(%q)).text()).map((s) => new URL(typeof s === 'string' ? s : s.file, new URL(%q, location.href)).href);
			const probe = await (await fetch('samples/bag.png')).blob();
			const worker = await app.rpc('predict', [probe]);
			return {
				model: app.state.modelName, classes: app.state.model.classes.length, worker: worker.probs.length,
				shown: app.state.prediction ? app.state.prediction.probs.length : 'none', image: app.state.image,
				picker: document.getElementById('model-source').value,
				gallery: [...document.querySelectorAll('#gallery .thumb img')].map((i) => i.src).join(' ') === samples.join(' '),
				errors: app.state.errors.length,
			};
		})()`, list[want].Samples, list[want].Samples), chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if got["model"] != list[want].File || got["picker"] != fmt.Sprintf("builtin:%d", want) || got["gallery"] != true ||
			got["worker"] != got["classes"] || got["shown"] != got["classes"] || got["image"] != image || got["errors"] != 0.0 {
			t.Errorf("the page ends with %v; want %s in the state, the picker, the worker and the prediction shown, its own samples in the gallery, image %s, and no error", got, list[want].File, image)
		}
	}
	mavis := -1
	for i, b := range list {
		if strings.HasSuffix(b.File, "mavis.safetensors") {
			mavis = i
		}
	}
	if mavis <= 0 {
		t.Fatalf("models/index.json: want MAVIS after the default model, got %v", list)
	}

	t.Run("model then model", func(t *testing.T) {
		id := hold(t, "mavis.safetensors", choose(mavis))
		choose(0)(t)
		if err := waitJS(ctx, fmt.Sprintf(`app.state.modelName === %q && !!app.state.prediction && !app.state.busy`, list[0].File)); err != nil {
			t.Fatal(err)
		}
		release(t, id)
		settled(t, 0, path.Base(samples[list[0].File][0].File))
	})
	t.Run("model then image", func(t *testing.T) {
		id := hold(t, "mavis.safetensors", choose(mavis))
		thumb(2)(t)
		// The click's sample is fetched before the model arrives.
		if err := waitJS(ctx, `document.getElementById('status').textContent.length > 0`); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		release(t, id)
		settled(t, mavis, path.Base(samples[list[0].File][2].File))
	})
	t.Run("sample then picked image", func(t *testing.T) {
		// From MAVIS with its gallery, whatever the subtests before left.
		choose(mavis)(t)
		if err := waitJS(ctx, fmt.Sprintf(`app.state.modelName === %q && !app.state.busy && !app.state.metricsBusy && document.querySelectorAll('#gallery .thumb img')[1].src.endsWith(%q)`, list[mavis].File, "/"+path.Base(samples[list[mavis].File][1].File))); err != nil {
			t.Fatal(err)
		}
		id := hold(t, path.Base(samples[list[mavis].File][1].File), thumb(1))
		pick(ctx, t, "image-file", filepath.Join(siteDir, "www", "samples", "bag.png"))
		if err := waitJS(ctx, `app.state.image === 'bag.png' && !app.state.busy`); err != nil {
			t.Fatal(err)
		}
		release(t, id)
		settled(t, mavis, "bag.png")
	})
	// newRound explains MAVIS's sample i and scores its maps: settled's own
	// predict call has replaced the worker's maps.
	newRound := func(t *testing.T, i int) {
		t.Helper()
		evaluated, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.evaluated || ''`))
		thumb(i)(t)
		if err := waitJS(ctx, fmt.Sprintf(`app.state.image === %q && (document.body.dataset.evaluated || '') !== %q && !app.state.busy && !app.state.metricsBusy`, path.Base(samples[list[mavis].File][i].File), evaluated)); err != nil {
			t.Fatal(err)
		}
	}
	// poolCalls runs call (a JS expression of the page's worker pool, pool)
	// and returns how it ended (res: "done" or its error's message) and the
	// pool's calls to the main worker (calls), each seen by onCall (JS run
	// with the method m, after the call is sent).
	poolCalls := func(t *testing.T, call, onCall string) map[string]any {
		t.Helper()
		got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`(async () => {
			const pool = app.pool;
			if (!pool || pool.size < 2) return {skip: 'no pool of two'};
			const calls = [];
			const rpc = pool.rpc;
			pool.rpc = (m, ...a) => {
				calls.push(m);
				const r = rpc(m, ...a);
				`+onCall+`
				return r;
			};
			let res;
			try {
				await `+call+`;
				res = 'done';
			} catch (e) {
				res = e.message;
			} finally {
				pool.rpc = rpc;
			}
			return {res, calls};
		})()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if got["skip"] != nil {
			t.Fatalf("%v: the test browser has two cores", got["skip"])
		}
		return got
	}
	t.Run("stale metrics run", func(t *testing.T) {
		// Metrics cancelled while the main worker plans their split post
		// nothing more.
		newRound(t, 1)
		got := poolCalls(t, `pool.evaluate(app.metricsOptions())`, `if (m === 'evalPlan') pool.cancel();`)
		if res, _ := got["res"].(string); !strings.Contains(res, "cancelled") || fmt.Sprint(got["calls"]) != "[evalPlan]" {
			t.Errorf("metrics cancelled during their plan: %v; want them cancelled after evalPlan, with no other call to the main worker", got)
		}
	})
	t.Run("stale split run", func(t *testing.T) {
		// A split method whose image changed before it started runs
		// nothing: neither its share nor the whole method in the main
		// worker.
		got := poolCalls(t, `pool.explain({ ...app.explainOptions('ig'), method: 'ig' }, null, () => true)`, ``)
		if res, _ := got["res"].(string); !strings.Contains(res, "cancelled") || len(got["calls"].([]any)) != 0 {
			t.Errorf("a stale split run: %v; want it cancelled, with no call to the main worker", got)
		}
	})
	t.Run("broken image during the metrics", func(t *testing.T) {
		// The metrics of the maps shown run (with the randomisation check,
		// the longest), and an image that cannot be decoded comes: the
		// panel is left usable, saying it was cancelled.
		newRound(t, 0)
		before, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
			document.getElementById('metrics-sanity').checked = true;
			document.getElementById('metrics-run').click();
			return document.body.dataset.evaluated || '';
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		mctx, mcancel := context.WithTimeout(ctx, time.Minute)
		defer mcancel()
		if err := waitJS(mctx, `app.state.metricsBusy && / of \d+ images scored/.test(document.getElementById('metrics-status').textContent)`); err != nil {
			t.Fatal(err)
		}
		n := errorCount(ctx)
		upload(ctx, t, "image-file", "broken.png", []byte("\x89PNG\r\n\x1a\nthis is not an image"))
		if text := errorShown(ctx, t, n); !strings.Contains(text, "broken.png") {
			t.Errorf("error %q, want one naming broken.png", text)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`({
			busy: app.state.metricsBusy, run: !document.getElementById('metrics-run').disabled,
			cancel: !document.getElementById('metrics-cancel').disabled,
			status: document.getElementById('metrics-status').textContent, evaluated: document.body.dataset.evaluated || '',
		})`))
		if err != nil {
			t.Fatal(err)
		}
		if got["evaluated"] != before {
			t.Fatalf("the metrics finished before the broken image came (%v): nothing was cancelled", got)
		}
		if got["busy"] != false || got["run"] != true || got["cancel"] != false || got["status"] != "Cancelled." {
			t.Errorf("the metrics panel after a broken image cancelled its run: %v; want it idle, Run metrics enabled, Cancel disabled, saying Cancelled.", got)
		}
	})
}

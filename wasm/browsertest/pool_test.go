package browsertest

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// poolIG is what the pool test reads back: the pooled and the one-worker
// Integrated Gradients of the current image, and the pool's state.
type poolIG struct {
	Pooled, One struct {
		FullMap []float64
		Map     []float64
		Class   int
		Value   float64
		IG      struct {
			Sum, Gap, RelGap, BaselineScore float64
			Evaluations                     int
		}
	}
	Helpers  int
	Broken   string
	Progress [][2]int
	Gap      string // the completeness line shown on the IG card
}

// TestPoolIG runs the page with a pool of two workers (?workers=2) on the
// default model and checks that Integrated Gradients split across the main
// worker and a helper equals the one-worker result: the full map within
// float32 rounding, the same class, scores and completeness gap, and the gap
// line shown on the card. Then a helper dies (an uncaught error in its
// worker), and IG falls back to the main worker alone with the same result;
// loading a model again brings the pool back, with the helper reloaded; a
// helper that dies in the middle of a run leaves the main worker to compute
// IG alone, with the same result.
func TestPoolIG(t *testing.T) {
	base := site(t)
	ctx, cancel := browser(t, 5*time.Minute)
	defer cancel()
	openPage(ctx, t, base+"?workers=2") // the page explains the first sample by itself, IG through the pool
	const run = `(async () => {
		const o = {method: 'ig', class: -1, score: 'logit', options: {steps: 40, baseline: 'black', rule: 'linspace'}};
		const progress = [];
		const pooled = await app.explain(o, (d, n) => {
			progress.push([d, n]);
			if (window.killHelper && d > 0) { // a helper dies in the middle of the run, as its onerror would end it
				window.killHelper = false;
				app.pool.helpers[0].kill(new Error('killed by the test'));
			}
		});
		const one = await app.rpc('explain', [o]);
		const pick = (r) => ({fullMap: Array.from(r.fullMap), map: Array.from(r.map), class: r.class, value: r.value,
			ig: {sum: r.check.sum, gap: r.check.gap, relGap: r.check.rel, baselineScore: r.check.scoreRef, evaluations: r.passes}});
		const gap = document.querySelector('#method-ig .gap');
		return {pooled: pick(pooled), one: pick(one), helpers: app.pool.helpers.filter((h) => !h.dead).length,
		        broken: app.pool.broken, progress, gap: gap ? gap.textContent : ''};
	})()`
	check := func(what string, wantHelpers int, wantBroken bool) poolIG {
		t.Helper()
		// The page's own metrics run after its maps, split across the
		// pool; the explanations below would replace their maps.
		if err := waitJS(ctx, `!app.state.metricsBusy`); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if errs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`app.state.errors`)); len(errs) > 0 {
			t.Fatalf("%s: page errors %q", what, errs)
		}
		r, err := chromedp.Run(ctx, chromedp.Evaluate[poolIG](run, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		p, o := r.Pooled, r.One
		if r.Helpers != wantHelpers || (r.Broken != "") != wantBroken {
			t.Errorf("%s: %d live helpers, broken %q; want %d helpers, broken %v", what, r.Helpers, r.Broken, wantHelpers, wantBroken)
		}
		if len(p.FullMap) == 0 || len(p.FullMap) != len(o.FullMap) || len(p.Map) != len(o.Map) {
			t.Fatalf("%s: pooled map of %d values, one worker %d", what, len(p.FullMap), len(o.FullMap))
		}
		// A float64 sum in another order, rounded once to float32.
		for i := range o.FullMap {
			if d := math.Abs(p.FullMap[i] - o.FullMap[i]); d > 2.4e-7*math.Abs(o.FullMap[i])+1e-30 {
				t.Fatalf("%s: pooled map[%d] = %v, one worker %v", what, i, p.FullMap[i], o.FullMap[i])
			}
		}
		if p.Class != o.Class || p.Value != o.Value || p.IG.BaselineScore != o.IG.BaselineScore || p.IG.Evaluations != 40 || o.IG.Evaluations != 40 {
			t.Errorf("%s: pooled class %d score %v baseline %v (%d evaluations), one worker %d %v %v (%d)", what,
				p.Class, p.Value, p.IG.BaselineScore, p.IG.Evaluations, o.Class, o.Value, o.IG.BaselineScore, o.IG.Evaluations)
		}
		if d := math.Abs(p.IG.Gap - o.IG.Gap); d > 1e-6*(math.Abs(o.IG.Sum)+math.Abs(o.Value)) || o.IG.Sum == 0 {
			t.Errorf("%s: pooled gap %v, one worker %v (sum %v)", what, p.IG.Gap, o.IG.Gap, o.IG.Sum)
		}
		if n := len(r.Progress); n == 0 || r.Progress[n-1][1] != 40 || r.Progress[n-1][0] < 40 {
			t.Errorf("%s: progress %v, want it to end at 40 of 40", what, r.Progress)
		}
		t.Logf("%s: %d helpers, sum %.6g gap %.6g (one worker %.6g, %.6g); %d progress reports", what, r.Helpers, p.IG.Sum, p.IG.Gap, o.IG.Sum, o.IG.Gap, len(r.Progress))
		return r
	}
	first := check("pool of 2", 1, false)

	// The card the page drew from its own (pooled) run shows the gap of
	// the one-worker result.
	if !strings.Contains(first.Gap, "gap ") {
		t.Fatalf("IG card: no completeness line (%q)", first.Gap)
	}
	card, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(async () => {
		const r = app.state.results.find((r) => r.method === 'ig');
		const one = await app.rpc('explain', [app.explainOptions('ig')]);
		return [r.check.gap, one.check.gap, r.check.rel, one.check.rel];
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(card[0]-card[1]) > 1e-6*math.Max(1, math.Abs(card[1])) || math.Abs(card[2]-card[3]) > 1e-6*math.Max(1e-3, math.Abs(card[3])) {
		t.Errorf("the page's pooled IG: gap %v (relative %v), one worker %v (%v)", card[0], card[2], card[1], card[3])
	}

	// A helper dies: an uncaught error in its worker.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`app.pool.helpers[0].worker.postMessage(null), true`)); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(ctx, `!!app.pool.helpers[0].dead`); err != nil {
		t.Fatal(err)
	}
	check("after a helper died", 0, true)

	// A new model (the same file, loaded again) brings the pool back.
	if err := explainAgain(ctx, `
		document.getElementById('model-url').value = 'models/fashion.safetensors';
		document.getElementById('model-url-form').requestSubmit()`); err != nil {
		t.Fatal(err)
	}
	check("after the model was loaded again", 1, false)

	// A helper dies while it computes: the main worker computes IG alone.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.killHelper = true`)); err != nil {
		t.Fatal(err)
	}
	check("a helper died during the run", 0, true)
}

// TestPoolMetrics: with a pool of two workers the page's faithfulness
// panel is computed split by method (the main worker and the helper take
// the four maps' methods in turns, each once) and equals the main worker's
// own evaluation of the same maps: every method's metrics, the ranking and
// the verdict. With the helper made slow (each of its methods held 3 s) it
// takes fewer methods than the main worker, the methods are taken costliest
// first by the panel's times, and the result is the same. When the main
// worker fails, the helper takes no more methods. With the sanity check, a
// box and a cancel in the middle, the next run still equals the one-worker
// one.
func TestPoolMetrics(t *testing.T) {
	base := site(t)
	ctx, cancel := browser(t, 5*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"?workers=2")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(ctx, `document.body.dataset.evaluated !== undefined || (window.app && app.state.errors.length > 0)`); err != nil {
		t.Fatal(err)
	}
	// compare checks the pooled evaluation (the panel's, or with slow set a
	// run of the pool's with the helper slowed) against the main worker's
	// own, and who took which method.
	compare := func(what string, slow bool) {
		t.Helper()
		if errs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`app.state.errors`)); len(errs) > 0 {
			t.Fatalf("%s: page errors %q", what, errs)
		}
		r, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](holdCalls+`(async (slow) => {
			const strip = (e) => JSON.stringify({...e, ms: 0, methods: e.methods.map((m) => ({...m, ms: 0}))});
			let pooled = app.state.metrics, costliest = [];
			if (slow) {
				costliest = [...pooled.methods].sort((a, b) => b.ms - a.ms).map((m) => m.method);
				pooled = await app.pool.evaluate(app.metricsOptions()).finally(hold(app.pool.helpers[0], 'evaluate', 3000));
			}
			const one = await app.rpc('evaluate', [app.metricsOptions()]);
			return [strip(pooled), strip(one), JSON.stringify(app.pool.lastSplit), JSON.stringify(costliest)];
		})(`+strconv.FormatBool(slow)+`)`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		var split struct {
			Methods       []string
			Main, Helpers []int
		}
		var costliest []string
		if err := json.Unmarshal([]byte(r[2]), &split); err != nil {
			t.Fatalf("%s: the pool's split %s: %v", what, r[2], err)
		}
		if err := json.Unmarshal([]byte(r[3]), &costliest); err != nil {
			t.Fatal(err)
		}
		if slow && !slices.Equal(split.Methods, costliest) {
			t.Errorf("%s: the methods were taken in the order %q, want the costliest first by the last run's times, %q", what, split.Methods, costliest)
		}
		taken := slices.Sorted(slices.Values(append(slices.Clone(split.Main), split.Helpers...)))
		if !slices.Equal(taken, []int{0, 1, 2, 3}) || len(split.Main) == 0 || split.Main[0] != 0 || len(split.Helpers) == 0 ||
			(slow && len(split.Helpers) >= len(split.Main)) {
			t.Errorf("%s: the main worker evaluated methods %v and the helper %v; want each of the four once, the first by the main worker, "+
				"some by the helper (when slow, fewer than the main worker)", what, split.Main, split.Helpers)
		}
		// Key order follows Go's maps: compare the decoded values.
		var pooled, one map[string]any
		if err := json.Unmarshal([]byte(r[0]), &pooled); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(r[1]), &one); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(pooled, one) || one["ranking"].(map[string]any)["verdict"] == "" {
			for k := range one {
				if !reflect.DeepEqual(pooled[k], one[k]) {
					t.Errorf("%s: pooled %s\n%v\none worker\n%v", what, k, pooled[k], one[k])
				}
			}
		}
	}
	compare("default panel", false)
	compare("a slow helper", true)

	// The main worker fails on its second method while the helper (held
	// 1.5 s a method) is on its first, the methods taken in the order of
	// times set beforehand: the run fails with the main
	// worker's error, and the helper takes no method after the one in
	// hand; it is not dropped.
	type failed struct {
		Err           string
		Methods       []string
		Main, Helpers []int
		Broken        string
	}
	f, err := chromedp.Run(ctx, chromedp.Evaluate[failed](holdCalls+`(async () => {
		const p = app.pool, release = hold(p.helpers[0], 'evaluate', 1500), mrpc = p.rpc;
		p.evalMS = {gradcam: 1, gradcampp: 4, saliency: 3, ig: 2}; // the last run's times, as set here: the order does not depend on the machine
		let calls = 0;
		// The main worker's first method is held 0.3 s, so that the helper surely holds one when the second fails.
		p.rpc = (m, ...a) => m !== 'evaluate' ? mrpc(m, ...a) : ++calls === 2 ? Promise.reject(new Error('boom')) :
			new Promise((ok) => setTimeout(ok, calls === 1 ? 300 : 0)).then(() => mrpc(m, ...a));
		let err = '';
		try {
			await p.evaluate(app.metricsOptions());
		} catch (e) {
			err = e.message;
		}
		await new Promise((ok) => setTimeout(ok, 3000)); // the helper's method in hand ends
		release();
		p.rpc = mrpc;
		return {err, methods: p.lastSplit.methods, main: p.lastSplit.main, helpers: p.lastSplit.helpers, broken: p.broken};
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"gradcampp", "saliency", "ig", "gradcam"}; !slices.Equal(f.Methods, want) {
		t.Errorf("with the last run's times set costliest Grad-CAM++, saliency, IG, Grad-CAM, the methods were taken in the order %q, want %q", f.Methods, want)
	}
	if f.Err != "boom" || !slices.Equal(f.Main, []int{0, 2}) || !slices.Equal(f.Helpers, []int{1}) || f.Broken != "" {
		t.Errorf("the main worker failing on its second method: error %q, the main worker took %v and the helper %v (want [0 2] and [1]), broken %q",
			f.Err, f.Main, f.Helpers, f.Broken)
	}

	// A cancel in the middle of a run (the box form resubmitted at once),
	// then the sanity check and a box.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		document.getElementById('metrics-sanity').checked = true;
		for (const [k, v] of [['x0', 2], ['y0', 3], ['x1', 20], ['y1', 25]]) document.getElementById('box-' + k).value = v;
		document.body.dataset.evaluated = '';
		document.getElementById('metrics-run').click();
		window.resubmitted = false;
		setTimeout(() => { document.getElementById('box-form').requestSubmit(); window.resubmitted = true; }, 50);
		return true;
	})()`)); err != nil {
		t.Fatal(err)
	}
	// The resubmitted run starts at once (metricsBusy) and sets evaluated
	// when it ends, even if the first run ended before it.
	if err := waitJS(ctx, `(window.resubmitted && document.body.dataset.evaluated !== '' && !app.state.metricsBusy) || app.state.errors.length > 0`); err != nil {
		t.Fatal(err)
	}
	compare("sanity check and a box, after a cancel", false)
}

// TestPoolSize: the pool's default size is min(hardwareConcurrency, 4),
// and at most one worker per 2 GB where the browser reports the device's
// memory; a page on a device reporting 2 GB explains with the main worker
// alone.
func TestPoolSize(t *testing.T) {
	base := site(t)
	ctx, cancel := browser(t, 3*time.Minute)
	defer cancel()
	// Chromium's navigator.deviceMemory, as a 2 GB phone would report it.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `Object.defineProperty(Navigator.prototype, 'deviceMemory', {get: () => 2})`,
	}); err != nil {
		t.Fatal(err)
	}
	openPage(ctx, t, base)
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`(async () => {
		const { defaultWorkers } = await import('./pool.js');
		return [
			{hardwareConcurrency: 8, deviceMemory: 8}, {hardwareConcurrency: 8, deviceMemory: 4},
			{hardwareConcurrency: 8, deviceMemory: 2}, {hardwareConcurrency: 8, deviceMemory: 0.5},
			{hardwareConcurrency: 2}, {hardwareConcurrency: 16}, {hardwareConcurrency: 3, deviceMemory: 8}, {},
		].map((nav) => defaultWorkers(nav)).concat([app.pool.size, app.pool.helpers.length, app.state.results.filter(Boolean).length]);
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	want := []int{4, 2, 1, 1, 2, 4, 3, 1, 1, 0, 4}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaultWorkers for 8 cores with 8, 4, 2 and 0.5 GB, 2 and 16 cores without a figure, 3 cores with 8 GB, nothing; "+
			"then the 2 GB page's pool size, helpers and maps: %v, want %v", got, want)
	}
}

// slowHelperHook is added to the end of a copy of worker.js: a helper (a
// worker.js without ?boot=1) holds its loadModel call for helperDelay ms,
// as a helper still compiling its engine on a slow device would.
const slowHelperHook = `
if (!new URLSearchParams(self.location.search).has('boot')) {
  const handle = self.onmessage;
  self.onmessage = (e) => {
    if (e.data && e.data.method === 'loadModel') setTimeout(() => handle(e), %d);
    else handle(e);
  };
}
`

// holdCalls defines, in a page script that starts with it, hold(w, method,
// ms): w's calls of method (a pool helper's, or the pool's for the main
// worker) are held ms before they go out, as on a slower core. It returns
// a function that puts w's calls back.
const holdCalls = `var hold = (w, method, ms) => {
	const rpc = w.rpc;
	w.rpc = (m, ...a) => m === method ? new Promise((ok) => setTimeout(ok, ms)).then(() => rpc.call(w, m, ...a)) : rpc.call(w, m, ...a);
	return () => { w.rpc = rpc; };
};
`

// TestPoolHelperStarting: the first split method after a load does not wait
// for a helper that is still starting. With the helper's model held back
// 15 s, the page's first Integrated Gradients (through the pool) is on
// screen before the helper is ready: the main worker took every range; and
// so are the panel's metrics, the main worker's alone. Once the helper is
// ready, the same explanation split across both workers is bitwise the
// page's, and the helper computed some of the ranges; with the helper made
// slow (each of its ranges held 1.5 s), it takes fewer ranges than the
// main worker, and the map is the same again.
func TestPoolHelperStarting(t *testing.T) {
	site(t)
	const delay = 15000
	dir := siteCopy(t, "worker.wasm", "kernels.wasm", "forwarder.wasm", "viewer.wasm", "viewer-2d.wasm")
	js, err := os.ReadFile(filepath.Join(dir, "worker.js"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "worker.js"), append(js, fmt.Sprintf(slowHelperHook, delay)...), 0o644); err != nil {
		t.Fatal(err)
	}
	base := serveDir(t, dir)
	ctx, cancel := browser(t, 3*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"?workers=2")); err != nil {
		t.Fatal(err)
	}
	// The helper's load is watched from the moment the pool exists.
	if err := waitJS(ctx, `(window.app && app.pool && app.pool.helpers.length > 0 && (app.pool.helpers[0].loaded.then(() => { window.helperReady = performance.now(); }), true)) || (window.app && app.state.errors.length > 0)`); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(ctx, `document.body.dataset.explained !== undefined || app.state.errors.length > 0`); err != nil {
		t.Fatal(err)
	}
	type seen struct {
		Errors      []string
		HelperReady bool
		IG          bool
	}
	s, err := chromedp.Run(ctx, chromedp.Evaluate[seen](`({errors: app.state.errors, helperReady: window.helperReady !== undefined,
		ig: app.state.results.some((r) => r && r.method === 'ig')})`))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Errors) > 0 || !s.IG {
		t.Fatalf("the page's first maps: errors %q, Integrated Gradients shown %v", s.Errors, s.IG)
	}
	if s.HelperReady {
		t.Fatalf("the page's first maps were done only after the helper's model, held back %d ms, had loaded: the split run waited for a helper still starting", delay)
	}
	// Nor do the panel's metrics, next: the main worker evaluates every method.
	if err := waitJS(ctx, scored); err != nil {
		t.Fatal(err)
	}
	type panel struct {
		Errors        []string
		HelperReady   bool
		Main, Helpers []int
	}
	p, err := chromedp.Run(ctx, chromedp.Evaluate[panel](`({errors: app.state.errors, helperReady: window.helperReady !== undefined,
		main: app.pool.lastSplit && app.pool.lastSplit.main, helpers: app.pool.lastSplit && app.pool.lastSplit.helpers})`))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Errors) > 0 || p.HelperReady || len(p.Main) != 4 || len(p.Helpers) > 0 {
		t.Fatalf("the page's metrics: errors %q, helper ready %v; the main worker evaluated methods %v and the helper %v, "+
			"want all four by the main worker before the helper was ready", p.Errors, p.HelperReady, p.Main, p.Helpers)
	}
	if err := waitJS(ctx, `window.helperReady !== undefined`); err != nil {
		t.Fatal(err)
	}
	type ranges struct {
		Bounds        []int
		Main, Helpers []int
	}
	type both struct {
		Page, Pooled, Slow []float64
		Ranges             []ranges // the even run's, the slow helper's
		Helpers            int
		Broken             string
	}
	r, err := chromedp.Run(ctx, chromedp.Evaluate[both](holdCalls+`(async () => {
		const page = app.state.results.find((r) => r && r.method === 'ig');
		const pooled = await app.explain(app.explainOptions('ig'));
		const even = app.pool.lastRanges;
		const release = hold(app.pool.helpers[0], 'splitPart', 1500);
		const slow = await app.explain(app.explainOptions('ig'));
		release();
		return {page: Array.from(page.fullMap), pooled: Array.from(pooled.fullMap), slow: Array.from(slow.fullMap),
		        ranges: [even, app.pool.lastRanges], helpers: app.pool.helpers.filter((h) => !h.dead).length, broken: app.pool.broken};
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if r.Helpers != 1 || r.Broken != "" || len(r.Ranges) != 2 {
		t.Fatalf("%d live helpers, broken %q, %d runs' ranges", r.Helpers, r.Broken, len(r.Ranges))
	}
	for run, g := range r.Ranges {
		k := len(g.Bounds) - 1
		took := append(append([]int(nil), g.Main...), g.Helpers...)
		slices.Sort(took)
		if k < 3 || len(g.Main) == 0 || g.Main[0] != 0 || !slices.Equal(took, seq(k)) {
			t.Fatalf("run %d: ranges %v: the main worker took %v, the helper %v; want range 0 first by the main worker and each of the %d ranges once", run, g.Bounds, g.Main, g.Helpers, k)
		}
	}
	if even, slow := r.Ranges[0], r.Ranges[1]; len(even.Helpers) == 0 || len(slow.Helpers) == 0 || len(slow.Helpers) >= len(slow.Main) {
		t.Errorf("the helper took ranges %v of %v once ready, and %v (the main worker %v) when slow: want some both times, and fewer than the main worker when slow",
			even.Helpers, even.Bounds, slow.Helpers, slow.Main)
	}
	if len(r.Page) == 0 || len(r.Page) != len(r.Pooled) || len(r.Page) != len(r.Slow) {
		t.Fatalf("the page's map has %d values, the pooled runs' %d and %d", len(r.Page), len(r.Pooled), len(r.Slow))
	}
	for i := range r.Page {
		p := math.Float32bits(float32(r.Page[i]))
		if p != math.Float32bits(float32(r.Pooled[i])) || p != math.Float32bits(float32(r.Slow[i])) {
			t.Fatalf("map[%d]: %v with every range computed by the main worker, %v and %v split across the workers: want bitwise equal", i, r.Page[i], r.Pooled[i], r.Slow[i])
		}
	}
}

// seq returns 0, 1, ..., n-1.
func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mavis-xai/mavis/internal/sharedtest"
	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

// TestMAVISMetrics holds the faithfulness panel to native xai on the real
// MAVIS model (issue 7): the page loads the converted MAVIS weights, the
// chelsea fixture image is picked as a person would (Integrated Gradients
// with 8 steps, the metrics with 4 deletion steps, the default patch and no
// randomisation check, to keep it fast), and the AUCs, insertion −
// deletion, Gini and entropy the panel shows equal to 1e-4 relative those
// xai computes natively from the page's own maps with the same options;
// the verdict is the same sentence (xai's headline: the panel gives each
// flagged method's problems under its line).
func TestMAVISMetrics(t *testing.T) {
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
	fixture, ok := man.Images["chelsea"]
	if !ok {
		t.Fatal("the MAVIS manifest has no image chelsea")
	}
	png, err := os.ReadFile(filepath.Join(shared, "fixtures", "mavis", "chelsea", "input.png"))
	if err != nil {
		t.Fatal(err)
	}
	// Served under its own name, so TestMAVISFixtures' copy is not touched.
	modelPath := filepath.Join(siteDir, "www", "models", "mavis-metrics.safetensors")
	writeMAVIS(t, shared, man, modelPath)

	ctx, cancel := browser(t, 6*time.Minute)
	defer cancel()
	openLoaded(ctx, t, base+"?model=models/mavis-metrics.safetensors&autorun=0")
	if errs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`app.state.errors`)); len(errs) > 0 {
		t.Fatalf("loading the MAVIS model: %q", errs)
	}
	const igSteps, steps = 8, 4
	set := fmt.Sprintf(`(() => {
		const v = {'opt-ig-steps': %d, 'metrics-steps': %d};
		for (const k in v) { const e = document.getElementById(k); e.value = v[k]; e.dispatchEvent(new Event('input')); }
		document.getElementById('metrics-sanity').checked = false;
		return true;
	})()`, igSteps, steps)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](set)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	upload(ctx, t, "image-file", "chelsea.png", png)
	if err := waitJS(ctx, `document.body.dataset.evaluated !== undefined || app.state.errors.length > 0`); err != nil {
		t.Fatal(err)
	}
	if errs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`app.state.errors`)); len(errs) > 0 {
		t.Fatalf("the page shows errors: %q", errs)
	}
	t.Logf("chelsea: four maps and their metrics in %v in the page", time.Since(start).Round(time.Millisecond))
	type run struct {
		Steps, Patch int
		MS           float64
		IGSteps      int
		Verdict      string
		Class        int
		Probs        []float64
	}
	r, err := chromedp.Run(ctx, chromedp.Evaluate[run](`({
		steps: app.state.metrics.steps, patch: app.state.metrics.patch, ms: app.state.metrics.ms,
		igSteps: (app.state.results.find(r => r.method === 'ig') || {values: {}}).values.steps || 0,
		verdict: document.getElementById('verdict').textContent,
		class: app.state.prediction.class, probs: app.state.prediction.probs,
	})`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("metrics: %.0f ms in the worker, %d steps, %d-pixel patches; IG with %d steps", r.MS, r.Steps, r.Patch, r.IGSteps)
	t.Logf("verdict: %s", r.Verdict)
	if r.Steps != steps || r.IGSteps != igSteps {
		t.Fatalf("the page ran %d metric steps and IG with %d steps, want %d and %d", r.Steps, r.IGSteps, steps, igSteps)
	}
	if r.Class != fixture.ClassIndex {
		t.Errorf("chelsea: class %d in the page, the fixture says %d", r.Class, fixture.ClassIndex)
	}

	// The same input natively: the fixture image through Go's decoder.
	m, err := nn.Load(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := nativeImage(t, m, png)
	pred, err := xai.New(m).Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Probs) != len(pred.Probs) {
		t.Fatalf("%d probabilities in the page, %d natively", len(r.Probs), len(pred.Probs))
	}
	for i, q := range r.Probs {
		if math.Abs(q-pred.Probs[i]) > 2e-5 {
			t.Fatalf("class %d: probability %g in the page, %g natively: not the same input", i, q, pred.Probs[i])
		}
	}
	in := m.InputShape()
	opts := xai.MetricsOptions{Steps: steps, Patch: max(1, min(in[0], in[1])/28)}
	if r.Patch != opts.Patch {
		t.Errorf("the page used %d-pixel patches, the default is %d", r.Patch, opts.Patch)
	}
	maps, _ := pageMaps(ctx, t)
	rows := pageRows(ctx, t)
	ev := xai.NewEvaluator(m)
	var scores []xai.MethodScore
	for _, pm := range maps {
		o := opts
		o.Class = pm.Class
		t0 := time.Now()
		got, err := ev.Evaluate(context.Background(), x, pm.xaiMap(t), o)
		if err != nil {
			t.Fatalf("%s: %v", pm.Method, err)
		}
		t.Logf("%-9s native metrics in %v", pm.Method, time.Since(t0).Round(time.Millisecond))
		scores = append(scores, comparePageRow(t, rows, pm.Method, got))
	}
	if want := xai.Rank(scores).Headline; want != r.Verdict {
		t.Errorf("verdict in the page:\n%s\nnatively:\n%s", r.Verdict, want)
	}

	// The randomisation check randomises each worker's model in place and
	// collects its garbage: no worker's wasm memory grows by more than
	// 60 MB (with a copy of the model per method it grew by about 225 MB
	// on one worker, to 390 MB).
	const memoryJS = `Promise.all([app.memory(true)].concat(app.pool ? app.pool.helpers.filter((h) => !h.dead).map((h) => h.rpc('memory', [true])) : []))`
	// The page's IG may have run whole on the main worker (a helper still
	// starting does not hold a split run back: pool.js), leaving the helper
	// without any gradient pass yet; an IG split across both gives each
	// worker the gradients' memory first, so that what is measured below is
	// the check's own growth.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`app.explain(app.explainOptions('ig')).then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
	type mem struct{ WasmBytes, HeapAlloc float64 }
	before, err := chromedp.Run(ctx, chromedp.Evaluate[[]mem](memoryJS, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		document.getElementById('metrics-sanity').checked = true;
		document.body.dataset.evaluated = '';
		document.getElementById('metrics-run').click();
		return true;
	})()`)); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(ctx, `(document.body.dataset.evaluated !== '' && !app.state.metricsBusy) || app.state.errors.length > 0`); err != nil {
		t.Fatal(err)
	}
	if errs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`app.state.errors`)); len(errs) > 0 {
		t.Fatalf("the randomisation check: page errors %q", errs)
	}
	after, err := chromedp.Run(ctx, chromedp.Evaluate[[]mem](memoryJS, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the randomisation check of the four maps in %v; workers' wasm memory before %v, after %v", time.Since(start).Round(time.Millisecond), before, after)
	if len(after) != len(before) || len(after) == 0 {
		t.Fatalf("memory of %d workers before, %d after", len(before), len(after))
	}
	for i := range after {
		if grew := after[i].WasmBytes - before[i].WasmBytes; grew > 60e6 {
			t.Errorf("worker %d: the randomisation check grew its wasm memory by %.0f MB (from %.0f MB)", i, grew/1e6, before[i].WasmBytes/1e6)
		}
	}
	for method, row := range pageRows(ctx, t) {
		if text := row.Texts["sanity"]; !strings.HasPrefix(text, "passes") && !strings.HasPrefix(text, "fails") {
			t.Errorf("%s: sanity %q after the check", method, text)
		}
	}
}

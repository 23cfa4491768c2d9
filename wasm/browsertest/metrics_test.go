package browsertest

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mavis-xai/mavis/xai"
)

// pageMap is one explanation as the page holds it.
type pageMap struct {
	Method    string
	Class     int
	Shape     []int
	Map       []float64
	FullShape []int
	FullMap   []float64
}

// pageMetrics is one row of the faithfulness table: the numbers the page
// shows (data-value, at full precision) and the text.
type pageMetrics struct {
	Method string
	Values map[string]string
	Texts  map[string]string
}

// TestMetrics checks the faithfulness panel (issue 7): after the page
// explains the first sample with the default model, the panel shows a
// verdict and a ranking of the four methods; the AUCs, Gini and entropy it
// shows equal those native xai computes for the same model, image, maps
// and options; a box typed into the four number inputs gives pointing
// game and relevance mass values in [0, 1], equal to native xai's; and the
// metrics can be cancelled and rerun with the randomisation check.
func TestMetrics(t *testing.T) {
	base := site(t)
	ctx, cancel := browser(t, 4*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(base)); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(ctx, `document.body.dataset.evaluated !== undefined || (window.app && app.state.errors.length > 0)`); err != nil {
		t.Fatal(err)
	}
	errs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`app.state.errors`))
	if len(errs) > 0 {
		t.Fatalf("the page shows errors: %q", errs)
	}
	timings, _ := chromedp.Run(ctx, chromedp.Evaluate[[][]any](`app.state.timings`))
	t.Logf("timings (ms since navigation): %v", timings)

	// The verdict and the ranking.
	type panel struct {
		Verdict string
		Ranking []string
		Flagged []bool // the ranking entries marked "(flagged)"
		// Problems are the lines under each entry saying why it is flagged.
		Problems [][]string
		Hidden   bool
		Rows     int
	}
	p, err := chromedp.Run(ctx, chromedp.Evaluate[panel](`({
		verdict: document.getElementById('verdict').textContent,
		ranking: [...document.querySelectorAll('#ranking > li')].map(e => e.dataset.method),
		flagged: [...document.querySelectorAll('#ranking > li')].map(e => e.firstChild.textContent.endsWith(' (flagged)')),
		problems: [...document.querySelectorAll('#ranking > li')].map(e => [...e.querySelectorAll('.problems li')].map(x => x.textContent)),
		hidden: document.getElementById('metrics').hidden,
		rows: document.querySelectorAll('#metrics-table tbody tr').length,
	})`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("verdict: %s", p.Verdict)
	t.Logf("ranking: %v", p.Ranking)
	if p.Hidden || !strings.HasPrefix(p.Verdict, "Trust ") || !strings.HasSuffix(p.Verdict, ".") {
		t.Errorf("panel hidden %v, verdict %q: want a visible panel with a one-sentence verdict", p.Hidden, p.Verdict)
	}
	if got := strings.Join(slices.Sorted(slices.Values(p.Ranking)), ","); got != "gradcam,gradcampp,ig,saliency" || p.Rows != 4 {
		t.Errorf("ranking %v and %d table rows, want the four methods", p.Ranking, p.Rows)
	}

	// The same numbers natively, from the page's own maps.
	maps, image := pageMaps(ctx, t)
	m, x, _ := nativeInput(t, filepath.Join(siteDir, "www", "models", "fashion.safetensors"), filepath.Join(siteDir, "www", "samples", image))
	// The input is the page's: the same probabilities.
	probs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`app.state.prediction.probs`))
	pred, err := xai.New(m).Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	for i, q := range probs {
		if math.Abs(q-pred.Probs[i]) > 1e-5 {
			t.Fatalf("class %d: probability %g in the page, %g natively: not the same input", i, q, pred.Probs[i])
		}
	}
	// The page's own step count (its default is in index.html); the patch
	// size is the worker's rule for its default.
	steps, err := chromedp.Run(ctx, chromedp.Evaluate[int](`app.metricsOptions().steps`))
	if err != nil {
		t.Fatal(err)
	}
	in := m.InputShape()
	opts := xai.MetricsOptions{Steps: steps, Patch: max(1, min(in[0], in[1])/28)}
	ev := xai.NewEvaluator(m)
	native := map[string]xai.MapMetrics{}
	rows := pageRows(ctx, t)
	var scores []xai.MethodScore
	for _, pm := range maps {
		o := opts
		o.Class = pm.Class
		got, err := ev.Evaluate(context.Background(), x, pm.xaiMap(t), o)
		if err != nil {
			t.Fatalf("%s: %v", pm.Method, err)
		}
		native[pm.Method] = got
		scores = append(scores, comparePageRow(t, rows, pm.Method, got))
	}
	want := xai.Rank(scores)
	for i, s := range want.Scores {
		if i >= len(p.Ranking) || p.Ranking[i] != s.Method || p.Flagged[i] != s.Flagged {
			t.Errorf("ranking %v flagged %v in the page; natively %d. %s flagged %v", p.Ranking, p.Flagged, i+1, s.Method, s.Flagged)
		} else if !slices.Equal(p.Problems[i], s.Problems) {
			t.Errorf("%s: the page says why it is flagged: %q; natively %q", s.Method, p.Problems[i], s.Problems)
		}
	}
	if want := want.Headline; want != p.Verdict {
		t.Errorf("verdict in the page:\n%s\nnatively:\n%s", p.Verdict, want)
	}

	// A box typed into the four inputs: the pointing game and relevance mass.
	box := xai.Box{X0: in[1] / 4, Y0: in[0] / 4, X1: 3 * in[1] / 4, Y1: 3 * in[0] / 4}
	before, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.evaluated`))
	set := fmt.Sprintf(`(() => {
		const v = {x0: %d, y0: %d, x1: %d, y1: %d};
		for (const k in v) { const e = document.getElementById('box-' + k); e.value = v[k]; e.dispatchEvent(new Event('input')); }
		document.getElementById('box-apply').click();
		return true;
	})()`, box.X0, box.Y0, box.X1, box.Y1)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](set)); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(ctx, `document.body.dataset.evaluated !== '`+before+`' || app.state.errors.length > 0`); err != nil {
		t.Fatal(err)
	}
	rows = pageRows(ctx, t)
	for _, pm := range maps {
		row := rows[pm.Method]
		hit, mass := row.value(t, "pointing"), row.value(t, "mass")
		t.Logf("%-9s box %v: pointing %g (%s), mass %.4f", pm.Method, box, hit, row.Texts["pointing"], mass)
		if !(hit >= 0 && hit <= 1) || !(mass >= 0 && mass <= 1) {
			t.Errorf("%s: pointing %g, mass %g, want both in [0, 1]", pm.Method, hit, mass)
		}
		wantHit, err := xai.PointingGame(pm.xaiMap(t), in[0], in[1], box, 0)
		if err != nil {
			t.Fatal(err)
		}
		wantMass, err := xai.RelevanceMass(pm.xaiMap(t), in[0], in[1], box)
		if err != nil {
			t.Fatal(err)
		}
		if (hit == 1) != wantHit || !closeRel(mass, wantMass, 1e-4) {
			t.Errorf("%s: pointing %g and mass %.6g in the page, natively %v and %.6g", pm.Method, hit, mass, wantHit, wantMass)
		}
	}
	t.Run("DragBox", func(t *testing.T) { dragBox(ctx, t, in) })
	t.Run("CancelAndSanity", func(t *testing.T) { cancelAndSanity(ctx, t) })
}

// dragBox drags the pointer over the image preview from a quarter to three
// quarters of its side: the four inputs then hold that box on the input
// grid and the metrics are scored again with it.
// TestExplainAgainKeepsImage: "Explain again" with other methods checked
// gives a new round of maps of the image the worker holds, without
// predicting it again (no second read of a photo's rows): the worker only
// forgets its kept maps (clearMaps), the prediction stays, and the metrics
// score only the new round's methods. Another image is predicted.
func TestExplainAgainKeepsImage(t *testing.T) {
	base := site(t)
	ctx, cancel := browser(t, 4*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(base)); err != nil {
		t.Fatal(err)
	}
	evaluated := func(before string) {
		t.Helper()
		if err := waitJS(ctx, `String(document.body.dataset.evaluated) !== `+strconv.Quote(before)+` && !app.state.metricsBusy || (window.app && app.state.errors.length > 0)`); err != nil {
			t.Fatal(err)
		}
		if errs := errorTexts(ctx); len(errs) > 0 {
			t.Fatalf("the page shows errors: %q", errs)
		}
	}
	evaluated("undefined")
	type round struct {
		Calls   []string
		Top     string
		Image   string
		Methods []string
		Ranking []string
		Run     string
	}
	// again does what it is given, after recording the compute worker's
	// calls, and returns the round once its metrics are in.
	again := func(do string) round {
		t.Helper()
		run, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
			window.workerCalls = [];
			if (!window.rpcBefore) {
				window.rpcBefore = mavisBoot.rpc;
				mavisBoot.rpc = (method, ...a) => { workerCalls.push(method); return rpcBefore(method, ...a); };
			}
			`+do+`;
			return document.body.dataset.evaluated;
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		evaluated(run)
		r, err := chromedp.Run(ctx, chromedp.Evaluate[round](`({
			calls: workerCalls,
			top: JSON.stringify(app.state.prediction.top),
			image: app.state.image,
			methods: app.state.methods.map((m) => m.name),
			ranking: [...document.querySelectorAll('#ranking > li')].map((e) => e.dataset.method).sort(),
		})`))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	first, err := chromedp.Run(ctx, chromedp.Evaluate[round](`({top: JSON.stringify(app.state.prediction.top), image: app.state.image})`))
	if err != nil {
		t.Fatal(err)
	}
	r := again(`document.getElementById('use-saliency').checked = false;
		document.getElementById('use-inputxgrad').checked = true;
		document.getElementById('use-inputxgrad').dispatchEvent(new Event('change'));
		document.getElementById('explain').click()`)
	if !slices.Contains(r.Calls, "clearMaps") || slices.Contains(r.Calls, "predict") {
		t.Errorf("explain again called the worker's %v: want clearMaps and no predict", r.Calls)
	}
	if r.Top != first.Top || r.Image != first.Image {
		t.Errorf("explain again shows %s %s, want the image's prediction as it was, %s %s", r.Image, r.Top, first.Image, first.Top)
	}
	if got := strings.Join(r.Methods, ","); got != "gradcam,gradcampp,inputxgrad,ig" {
		t.Errorf("the new round's maps: %s", got)
	}
	if got := strings.Join(r.Ranking, ","); got != "gradcam,gradcampp,ig,inputxgrad" {
		t.Errorf("the metrics rank %s, want the new round's methods only", got)
	}
	r = again(`document.querySelectorAll('#gallery .thumb img')[1].closest('button').click()`)
	if !slices.Contains(r.Calls, "predict") || slices.Contains(r.Calls, "clearMaps") || r.Image == first.Image {
		t.Errorf("another image (%s after %s) called the worker's %v: want a predict", r.Image, first.Image, r.Calls)
	}
}

func dragBox(ctx context.Context, t *testing.T, in [3]int) {
	before, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.evaluated`))
	r, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => {
		const c = document.getElementById('box-canvas');
		c.scrollIntoView({block: 'center'});
		const r = c.getBoundingClientRect();
		return [r.left, r.top, r.width, r.height];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	at := func(f float64) (float64, float64) { return r[0] + f*r[2], r[1] + f*r[3] }
	x0, y0 := at(0.25)
	xm, ym := at(0.5)
	x1, y1 := at(0.75)
	if err := chromedp.Do(ctx,
		chromedp.MouseEvent(chromedp.MouseMoved, x0, y0),
		chromedp.MouseEvent(chromedp.MousePressed, x0, y0, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseMoved, xm, ym, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseMoved, x1, y1, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseReleased, x1, y1, chromedp.ButtonLeft),
	); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(ctx, `document.body.dataset.evaluated !== '`+before+`' || app.state.errors.length > 0`); err != nil {
		t.Fatal(err)
	}
	box, _ := chromedp.Run(ctx, chromedp.Evaluate[[]int](`['x0', 'y0', 'x1', 'y1'].map(k => Number(document.getElementById('box-' + k).value))`))
	want := []int{in[1] / 4, in[0] / 4, 3 * in[1] / 4, 3 * in[0] / 4}
	for i := range want {
		if len(box) != 4 || box[i] < want[i]-1 || box[i] > want[i]+1 {
			t.Fatalf("dragged box %v, want %v (±1 pixel)", box, want)
		}
	}
	for method, row := range pageRows(ctx, t) {
		if hit, mass := row.value(t, "pointing"), row.value(t, "mass"); !(hit >= 0 && hit <= 1) || !(mass >= 0 && mass <= 1) {
			t.Errorf("%s after dragging: pointing %g, mass %g, want both in [0, 1]", method, hit, mass)
		}
	}
}

// cancelAndSanity turns the randomisation check on, starts the metrics,
// cancels them part way (the panel says so, without an error) and runs
// them again to the end: each method then shows its check's result.
func cancelAndSanity(ctx context.Context, t *testing.T) {
	before, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.evaluated`))
	start := `(() => {
		document.getElementById('metrics-sanity').checked = true;
		document.getElementById('metrics-run').click();
		return true;
	})()`
	// The Cancel button is pressed in the same page task that sees the run
	// scoring images. The run lasts 160-430 ms on the default page; pressed
	// from here after a check (a poll, then chromedp's click, several round
	// trips), it can come after the run has ended, on a disabled button: the
	// likely cause of a CI run that waited for "Cancelled." until its
	// deadline. A run that ends before it is seen scoring is started again.
	// The expression notes what it saw in window.cancelOutcome.
	cancelWhileScoring := func(before string) string {
		return `(window.cancelOutcome = (() => {
		const scoring = app.state.metricsBusy && / of \d+ images scored/.test(document.getElementById('metrics-status').textContent);
		if (scoring) {
			document.getElementById('metrics-cancel').click();
			return 'cancelled';
		}
		if (app.state.errors.length > 0) return 'error';
		return !app.state.metricsBusy && document.body.dataset.evaluated !== ` + strconv.Quote(before) + ` ? 'ended' : '';
	})()) !== ''`
	}
	for attempt := 1; ; attempt++ {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](start)); err != nil {
			t.Fatal(err)
		}
		if err := waitJS(ctx, cancelWhileScoring(before)); err != nil {
			t.Fatal(err)
		}
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`window.cancelOutcome`))
		if got == "cancelled" {
			break
		}
		if got == "error" {
			errs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`app.state.errors`))
			t.Fatalf("the metrics failed: %q", errs)
		}
		if attempt == 3 {
			t.Fatal("the metrics ended three times before they were seen scoring images, so nothing was cancelled")
		}
		t.Logf("attempt %d: the metrics ended before they were seen scoring; starting them again", attempt)
		before, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.evaluated`))
	}
	if err := waitJS(ctx, `document.getElementById('metrics-status').textContent === 'Cancelled.' && !app.state.metricsBusy`); err != nil {
		t.Fatal(err)
	}
	// The worker really stopped: a memory call queued behind it answers soon.
	t0 := time.Now()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`app.memory()`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
	t.Logf("the worker answered %v after the cancel", time.Since(t0))
	if now, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.evaluated`)); now != before {
		t.Errorf("a cancelled run marked the panel evaluated (%q -> %q)", before, now)
	}
	if n := errorCount(ctx); n > 0 {
		errs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`app.state.errors`))
		t.Fatalf("cancelling shows errors: %q", errs)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("metrics-run"))); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(ctx, `document.body.dataset.evaluated !== '`+before+`' || app.state.errors.length > 0`); err != nil {
		t.Fatal(err)
	}
	ms, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`app.state.metrics.ms`))
	t.Logf("metrics with the randomisation check: %.0f ms in the worker", ms)
	for method, row := range pageRows(ctx, t) {
		v := row.value(t, "sanity")
		text := row.Texts["sanity"]
		t.Logf("%-9s sanity: %s", method, text)
		if !(v >= -1 && v <= 1) || !(strings.HasPrefix(text, "passes") || strings.HasPrefix(text, "fails")) {
			t.Errorf("%s: sanity %g %q, want a mean Spearman in [-1, 1] and passes or fails", method, v, text)
		}
	}
	verdict, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('verdict').textContent`))
	t.Logf("verdict with the check: %s", verdict)
}

// pageMaps returns the page's current maps and image name.
func pageMaps(ctx context.Context, t *testing.T) ([]pageMap, string) {
	t.Helper()
	type res struct {
		Image string
		Maps  []pageMap
	}
	r, err := chromedp.Run(ctx, chromedp.Evaluate[res](`({
		image: app.state.image,
		maps: app.state.results.map(r => ({method: r.method, class: r.class, shape: r.shape, map: Array.from(r.map),
			fullShape: r.fullShape || null, fullMap: r.fullMap ? Array.from(r.fullMap) : null})),
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Maps) != 4 {
		t.Fatalf("%d maps in the page, want 4", len(r.Maps))
	}
	return r.Maps, r.Image
}

// xaiMap is the map the worker evaluates: the full attribution for
// Integrated Gradients, the display map otherwise.
func (pm pageMap) xaiMap(t *testing.T) xai.Map {
	t.Helper()
	sh, data := pm.Shape, pm.Map
	if pm.FullMap != nil {
		sh, data = pm.FullShape, pm.FullMap
	}
	m := xai.Map{H: sh[0], W: sh[1], C: 1}
	if len(sh) == 3 {
		m.C = sh[2]
	}
	if len(data) != m.H*m.W*m.C {
		t.Fatalf("%s: %d values for shape %v", pm.Method, len(data), sh)
	}
	m.Data = make([]float32, len(data))
	for i, v := range data {
		m.Data[i] = float32(v)
	}
	return m
}

// pageRows reads the faithfulness table.
func pageRows(ctx context.Context, t *testing.T) map[string]pageMetrics {
	t.Helper()
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]pageMetrics](`[...document.querySelectorAll('#metrics-table tbody tr')].map(tr => {
		const values = {}, texts = {};
		for (const td of tr.querySelectorAll('td[data-metric]')) {
			texts[td.dataset.metric] = td.textContent;
			if (td.dataset.value !== undefined) values[td.dataset.metric] = td.dataset.value;
		}
		return {method: tr.dataset.method, values, texts};
	})`))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]pageMetrics{}
	for _, r := range rows {
		out[r.Method] = r
	}
	return out
}

func (r pageMetrics) value(t *testing.T, name string) float64 {
	t.Helper()
	s, ok := r.Values[name]
	if !ok {
		t.Fatalf("%s: the page shows no %s value (text %q)", r.Method, name, r.Texts[name])
	}
	var v float64
	if _, err := fmt.Sscan(s, &v); err != nil {
		t.Fatalf("%s %s: %q is not a number", r.Method, name, s)
	}
	return v
}

// closeRel reports whether a and b agree to rel relative to the larger
// magnitude (with an absolute floor of rel for values near zero).
func closeRel(a, b, rel float64) bool {
	return math.Abs(a-b) <= rel*max(math.Abs(a), math.Abs(b), 1e-3)
}

// comparePageRow holds the page's table row for method to the native
// metrics got (AUCs, their difference, Gini and entropy to 1e-4 relative)
// and returns the method's score for the ranking, with IG's completeness
// gap as the page shows it.
func comparePageRow(t *testing.T, rows map[string]pageMetrics, method string, got xai.MapMetrics) xai.MethodScore {
	t.Helper()
	row, ok := rows[method]
	if !ok {
		t.Fatalf("no table row for %s", method)
	}
	for _, c := range []struct {
		name string
		want float64
	}{
		{"insertion", got.Insertion.AUC}, {"deletion", got.Deletion.AUC}, {"faithfulness", got.Faithfulness},
		{"gini", got.Gini}, {"entropy", got.Entropy},
	} {
		v := row.value(t, c.name)
		t.Logf("%-9s %-12s page %.6g, native %.6g", method, c.name, v, c.want)
		if !closeRel(v, c.want, 1e-4) {
			t.Errorf("%s %s: page %.8g, native %.8g (want equal to 1e-4 relative)", method, c.name, v, c.want)
		}
	}
	sc := xai.ScoreOf(method, got)
	if method == "ig" {
		g := row.value(t, "gap")
		sc.Gap = &g
	}
	return sc
}

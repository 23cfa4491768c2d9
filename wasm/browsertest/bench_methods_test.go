package browsertest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mavis-xai/mavis/internal/sharedtest"
)

// TestBenchmarkMethods times every method of the registry in the page on
// MAVIS 224x224 (chelsea, the real weights), against issue 14's speed
// targets in the page:
//
//	MAVIS_BENCH=1 go test ./wasm/browsertest -run BenchmarkMethods -v -timeout 30m
//
// Each method runs in the main worker (app.rpc('explain'), no pool: every
// ratio compares one worker with one worker) with its default options, a
// round trip timed from the page; "forward" is a predict of the same image
// (decoding and preprocessing included, so the ratios to it are a little
// flattering to the methods). Each method starts as the first map of a
// round does in the page: from the image's kept forward pass (clearMaps
// before it, not timed), which the methods of one sample reuse, so that
// the CAM variants compare with Grad-CAM like for like, whatever ran before
// them. A round runs every method once; one round
// warms up, then MAVIS_BENCH_RUNS rounds (default 3) give the medians.
// MAVIS_BENCH_METHODS=gradcam,xgradcam,... times only those (each ratio
// needs its reference method in the list). A method the pool can split
// (MethodInfo.split) is also timed as the page runs it, split across the
// default pool (app.explain), in a column of its own.
func TestBenchmarkMethods(t *testing.T) {
	if os.Getenv("MAVIS_BENCH") == "" {
		t.Skip("set MAVIS_BENCH=1 to time every method in the page")
	}
	runs := benchRuns(t, 3)
	base := benchSite(t)

	ctx, cancel := browser(t, 30*time.Minute)
	defer cancel()
	openLoaded(ctx, t, base+"?model=models/mavis.safetensors&autorun=0")
	names, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(async () => {
		window.benchBlob = await (await fetch('fixtures/chelsea.png')).blob();
		await app.rpc('predict', [benchBlob]);
		return app.state.model.methods.map((m) => m.name);
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	split, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`app.state.model.methods.filter((m) => m.split).map((m) => m.name)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 20 {
		t.Fatalf("the page lists %d methods: %v", len(names), names)
	}
	if only := os.Getenv("MAVIS_BENCH_METHODS"); only != "" {
		var keep []string
		for _, n := range strings.Split(only, ",") {
			if !slices.Contains(names, n) {
				t.Fatalf("MAVIS_BENCH_METHODS: %q is not one of the page's methods %v", n, names)
			}
			keep = append(keep, n)
		}
		names = keep
	}
	timeCall := func(call string) float64 {
		ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`(async () => {
			const t = performance.now();
			await `+call+`;
			return performance.now() - t;
		})()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", call, err)
		}
		return ms
	}
	start := loadavg()
	times := map[string][]float64{}
	for r := -1; r < runs; r++ {
		times["forward"] = appendRun(times["forward"], r, timeCall(`app.rpc('predict', [benchBlob])`))
		for _, n := range names {
			timeCall(`app.rpc('clearMaps')`)
			ms := timeCall(fmt.Sprintf(`app.rpc('explain', [{method: %q}])`, n))
			t.Logf("round %d, %s: %.0f ms (load average %s)", r, n, ms, loadavg())
			times[n] = appendRun(times[n], r, ms)
			if slices.Contains(split, n) {
				ms := timeCall(fmt.Sprintf(`app.explain({method: %q})`, n))
				t.Logf("round %d, %s split across the pool: %.0f ms", r, n, ms)
				times[n+" pool"] = appendRun(times[n+" pool"], r, ms)
			}
		}
	}

	med := map[string]float64{}
	for k, v := range times {
		med[k] = median(v)
	}
	var out strings.Builder
	pool, err := chromedp.Run(ctx, chromedp.Evaluate[int](`app.pool ? app.pool.size : 1`))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&out, "Measured %s on %s/%s, %d CPUs (load average %s at the start, %s at the end), headless Chromium, MAVIS 224x224 (chelsea), one worker (the split methods also in the default pool of %d), medians of %d rounds after a warm-up.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), start, loadavg(), pool, runs)
	out.WriteString("| method | median | against | ratio | target | every run (ms) | split across the pool: median, / one worker | every run (ms) |\n|---|---:|---|---:|---:|---|---:|---|\n")
	every := func(name string) string {
		var s []string
		for _, x := range times[name] {
			s = append(s, fmt.Sprintf("%.0f", x))
		}
		return strings.Join(s, ", ")
	}
	row := func(name string, against string, ref float64, target string) {
		ratio := ""
		if ref > 0 {
			ratio = fmt.Sprintf("%.2fx", med[name]/ref)
		}
		pooled, pooledRuns := "", ""
		if p, ok := med[name+" pool"]; ok {
			pooled, pooledRuns = fmt.Sprintf("%.0f ms, %.2fx", p, p/med[name]), every(name+" pool")
		}
		fmt.Fprintf(&out, "| %s | %.0f ms | %s | %s | %s | %s | %s | %s |\n", name, med[name], against, ratio, target, every(name), pooled, pooledRuns)
	}
	row("forward", "", 0, "")
	for _, n := range names {
		switch n {
		case "hirescam", "xgradcam", "layercam", "eigencam", "eigengradcam", "gradcampp":
			row(n, "gradcam", med["gradcam"], "<= 1.2x")
		case "scorecam", "ablationcam":
			// MAVIS's default layer has 8 channels: the limit is 9 forward passes.
			row(n, "forward", med["forward"], "<= 9x")
		case "occlusion":
			row(n, "169 x forward", 169*med["forward"], "<= 0.3x")
		case "guidedbackprop", "deconvnet":
			// Their rules' backward passes need a forward pass of their own
			// (nn keeps one pass, under the rule it ran with): saliency's
			// backward pass and a forward pass are their like for like.
			row(n, "saliency + forward", med["saliency"]+med["forward"], "<= 1.2x")
		case "inputxgrad":
			row(n, "saliency", med["saliency"], "<= 1.2x")
		default:
			row(n, "forward", med["forward"], "")
		}
	}
	t.Log("\n" + out.String())
}

// appendRun appends ms to v unless r is the warm-up round (-1).
func appendRun(v []float64, r int, ms float64) []float64 {
	if r < 0 {
		return v
	}
	return append(v, ms)
}

// benchSite is the test site with the real MAVIS weights as
// www/models/mavis.safetensors and the chelsea fixture as
// www/fixtures/chelsea.png, for the benchmarks; it returns the site's URL.
func benchSite(t *testing.T) string {
	t.Helper()
	shared := sharedtest.Dir(t, sharedtest.Manifest, sharedtest.Weights)
	base := site(t)
	man := readManifest(t, shared)
	www := filepath.Join(siteDir, "www")
	writeMAVIS(t, shared, *man, filepath.Join(www, "models", "mavis.safetensors"))
	os.MkdirAll(filepath.Join(www, "fixtures"), 0o755)
	if err := copyFile(filepath.Join(shared, "fixtures", "mavis", "chelsea", "input.png"), filepath.Join(www, "fixtures", "chelsea.png")); err != nil {
		t.Fatal(err)
	}
	return base
}

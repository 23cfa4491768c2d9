package browsertest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mavis-xai/mavis/internal/sharedtest"
)

// TestBenchmarks measures the page in headless Chromium and prints a
// Markdown report (the source of www/BENCHMARKS.md):
//
//		MAVIS_BENCH=1 go test ./wasm/browsertest -run Benchmarks -v -timeout 30m
//
//	  - navigation to the first prediction with the default model, from a cold
//	    start (a new browser profile: nothing cached; navigated once the
//	    browser's own start is over, coldBrowser), three runs;
//	  - the time of each method on MAVIS 224x224 in the page (chelsea), as the
//	    page sees it (round trip through the worker) and inside the worker,
//	    and of the faithfulness metrics of the four maps with the page's
//	    default options (app.metricsOptions), against the four maps' time;
//	  - the size of the wasm, raw and gzip -9.
func TestBenchmarks(t *testing.T) {
	if os.Getenv("MAVIS_BENCH") == "" {
		t.Skip("set MAVIS_BENCH=1 to measure the page")
	}
	base := site(t)
	var out strings.Builder
	fmt.Fprintf(&out, "Measured %s on %s/%s, %d CPUs (load average %s), headless Chromium with SwiftShader.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), loadavg())

	out.WriteString("| wasm | raw | gzip -9 |\n|---|---:|---:|\n")
	for _, f := range []string{"worker.wasm", "viewer-2d.wasm", "viewer.wasm"} {
		b, err := os.ReadFile(filepath.Join(siteDir, "www", f))
		if err != nil {
			t.Fatal(err)
		}
		var z bytes.Buffer
		w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		w.Write(b)
		w.Close()
		fmt.Fprintf(&out, "| %s | %.2f MB | %.2f MB |\n", f, float64(len(b))/1e6, float64(z.Len())/1e6)
	}

	out.WriteString("\n| cold load, default model (ms since navigation) | worker created | worker.wasm compiled | Go ready | first call answered | model loaded | first prediction | viewer ready | four maps |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	var firsts []float64
	for i := range 3 {
		ctx, cancel, _ := coldBrowser(t)
		err := chromedp.Do(ctx, chromedp.Navigate(base))
		if err == nil {
			err = waitJS(ctx, `document.body.dataset.explained !== undefined || (window.app && app.state.errors.length > 0)`)
		}
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		tm, err := chromedp.Run(ctx, chromedp.Evaluate[[][]any](`app.state.timings`))
		ws, _ := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`mavisBoot.workerStartup || {}`))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		at := func(prefix string) float64 { return timingAt(tm, prefix) }
		firsts = append(firsts, at("prediction"))
		fmt.Fprintf(&out, "| run %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |\n", i+1, ws["created"], ws["compiled"], ws["ready"],
			at("worker ready"), at("model"), at("prediction"), at("viewer ready"), at("ig"))
	}
	sort.Float64s(firsts)
	fmt.Fprintf(&out, "\nFirst prediction, median of 3 cold loads: %.0f ms (target 1500 ms).\n", firsts[1])

	shared, _ := sharedtest.Root()
	if _, err := os.Stat(filepath.Join(shared, "fixtures", "mavis", "manifest.json")); err == nil && os.Getenv("MAVIS_BENCH") != "cold" {
		var man manifest
		b, _ := os.ReadFile(filepath.Join(shared, "fixtures", "mavis", "manifest.json"))
		json.Unmarshal(b, &man)
		www := filepath.Join(siteDir, "www")
		writeMAVIS(t, shared, man, filepath.Join(www, "models", "mavis.safetensors"))
		os.MkdirAll(filepath.Join(www, "fixtures"), 0o755)
		copyFile(filepath.Join(shared, "fixtures", "mavis", "chelsea", "input.png"), filepath.Join(www, "fixtures", "chelsea.png"))
		ctx, cancel := browser(t, 20*time.Minute)
		defer cancel()
		openLoaded(ctx, t, base+"?model=models/mavis.safetensors&autorun=0")
		// The viewer starts once the page is loaded (its wasm compiles on the
		// page's thread): let it finish, so that it does not share the CPU with
		// the first calls measured here.
		vctx, vcancel := context.WithTimeout(ctx, 2*time.Minute)
		if err := waitJS(vctx, `app.state.timings.some((m) => m[0] === 'viewer ready')`); err != nil {
			t.Logf("the viewer did not become ready (%v): measuring anyway", err)
		}
		vcancel()
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(async () => {
			window.benchBlob = await (await fetch('fixtures/chelsea.png')).blob();
			return true;
		})()`, chromedp.EvalAwaitPromise)); err != nil {
			t.Fatal(err)
		}
		out.WriteString("\n| MAVIS 224x224 (chelsea) | in the page (round trip) | inside the worker | CPU time of the worker thread |\n|---|---:|---:|---:|\n")
		// The four maps are the page's (Grad-CAM, Grad-CAM++, Saliency, IG-50);
		// evaluate scores them as the faithfulness panel does by default, before
		// SmoothGrad replaces the saliency map.
		var maps, metrics, steps float64
		for _, r := range []struct {
			name, call    string
			map4, metrics bool
		}{
			{"predict, first call (decode, preprocess, forward, buffers)", `app.rpc('predict', [benchBlob])`, false, false},
			{"predict again", `app.rpc('predict', [benchBlob])`, false, false},
			{"Grad-CAM", `app.rpc('explain', [{method: 'gradcam'}])`, true, false},
			{"Grad-CAM++", `app.rpc('explain', [{method: 'gradcampp'}])`, true, false},
			{"Saliency", `app.rpc('explain', [{method: 'saliency'}])`, true, false},
			{"Integrated Gradients, 50 steps", `app.rpc('explain', [{method: 'ig', options: {steps: 50}}])`, true, false},
			{"faithfulness metrics of the four maps (evaluate, the page's default options)", `app.rpc('evaluate', [app.metricsOptions()])`, false, true},
			{"SmoothGrad, 25 samples", `app.rpc('explain', [{method: 'smoothgrad', options: {samples: 25}}])`, false, false},
			// A second image in the same worker: the buffers the first calls
			// allocated (about 40 MB of gradients for MAVIS, whose first touch
			// is part of the first Saliency) are reused.
			{"Grad-CAM again", `app.rpc('explain', [{method: 'gradcam'}])`, false, false},
			{"Grad-CAM++ again", `app.rpc('explain', [{method: 'gradcampp'}])`, false, false},
			{"Saliency again", `app.rpc('explain', [{method: 'saliency'}])`, false, false},
		} {
			cpu := workerCPU()
			res, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(async () => {
				const t = performance.now();
				const r = await `+r.call+`;
				return [performance.now() - t, r.ms, r.steps || 0];
			})()`, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatal(err)
			}
			if r.map4 {
				maps += res[0]
			}
			if r.metrics {
				metrics, steps = res[0], res[2]
			}
			fmt.Fprintf(&out, "| %s | %.0f ms | %.0f ms | %.0f ms |\n", r.name, res[0], res[1], float64((workerCPU() - cpu).Milliseconds()))
		}
		fmt.Fprintf(&out, "\nMetrics / four maps (in the page): %.0f ms / %.0f ms = %.2fx at %.0f deletion/insertion steps (target <= 2x at 32 steps).\n",
			metrics, maps, metrics/maps, steps)
	}
	fmt.Fprintf(&out, "\nLoad average after the run: %s.\n", loadavg())
	t.Log("\n" + out.String())
}

// coldBrowser starts a browser with a new profile (nothing cached) for a
// cold load, and returns once the browser's own start is over (settle),
// with how long that took after it came up. A new headless Chromium keeps
// this project's 2-core machine 60-94% busy for about a second after it
// comes up (its profile, network service and top-chrome WebUI renderer
// starting; 250 ms steps, 12 starts), then idles. A page navigated
// meanwhile shares the CPU with that start, which a link opened in a
// running browser does not.
func coldBrowser(t *testing.T) (context.Context, context.CancelFunc, time.Duration) {
	ctx, cancel := browser(t, 3*time.Minute)
	return ctx, cancel, settle()
}

// What settle waits for: the machine's CPU under quietCPU for quietFor,
// at most settleCap.
const (
	quietCPU  = 0.10
	quietFor  = time.Second
	settleCap = 15 * time.Second
)

// settle waits until the machine's CPU use (/proc/stat) stays under
// quietCPU for quietFor, at most settleCap, and returns how long it waited.
// Without /proc/stat it waits settleCap.
func settle() time.Duration {
	start := time.Now()
	const step = 250 * time.Millisecond
	b0, t0, ok := cpuTicks()
	if !ok {
		time.Sleep(settleCap)
		return settleCap
	}
	quiet := time.Duration(0)
	for quiet < quietFor && time.Since(start) < settleCap {
		time.Sleep(step)
		b1, t1, _ := cpuTicks()
		if t1 > t0 && (b1-b0)/(t1-t0) < quietCPU {
			quiet += step
		} else {
			quiet = 0
		}
		b0, t0 = b1, t1
	}
	return time.Since(start)
}

// cpuTicks reads the machine's busy and total CPU ticks from /proc/stat.
func cpuTicks() (busy, total float64, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, false
	}
	for i, x := range f[1:] {
		v, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return 0, 0, false
		}
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy, total, true
}

func countUnder(d []time.Duration, max time.Duration) int {
	n := 0
	for _, x := range d {
		if x < max {
			n++
		}
	}
	return n
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// TestBenchmarkStartAB measures the start-up of this tree's page against the
// page of another commit under the same load: cold loads (coldBrowser)
// alternate between the two, and the report gives every run's stages and
// the median first prediction of each. Both pages use this tree's worker.wasm, SIMD128
// kernels, model and samples (only index.html and the page's scripts come
// from the commit, bundled as that commit's page is), so the difference is
// the page's start-up alone:
//
//	MAVIS_BENCH_REF=d1c260c go test ./wasm/browsertest -run BenchmarkStartAB -v -timeout 30m
//
// MAVIS_BENCH_RUNS sets the number of cold loads of each page (default 5);
// MAVIS_BENCH_QUERY a query for both pages, such as
// "?model=models/mavis.safetensors" for the first MAVIS prediction;
// MAVIS_BENCH_REF_WORKER the path of a worker.wasm for the other commit's
// page (built from that commit), to compare the Go side's start-up too:
//
//	git worktree add /tmp/ref d1c260c && (cd /tmp/ref && GOEXPERIMENT=simd GOOS=js GOARCH=wasm \
//	  go build -trimpath -ldflags='-s -w' -o /tmp/ref-worker.wasm ./wasm/worker)
//	MAVIS_BENCH_REF=d1c260c MAVIS_BENCH_REF_WORKER=/tmp/ref-worker.wasm go test ./wasm/browsertest -run BenchmarkStartAB -v
func TestBenchmarkStartAB(t *testing.T) {
	ref := os.Getenv("MAVIS_BENCH_REF")
	if ref == "" {
		t.Skip("set MAVIS_BENCH_REF to a commit to compare the page's start-up with it")
	}
	runs := benchRuns(t, 5)
	query := os.Getenv("MAVIS_BENCH_QUERY")
	if query != "" && !strings.HasPrefix(query, "?") {
		t.Fatalf("MAVIS_BENCH_QUERY=%q: want a query starting with ?", query)
	}
	base := site(t)
	www := filepath.Join(siteDir, "www")
	dir := "ref-" + strings.NewReplacer("/", "-", ".", "-").Replace(ref)
	refDir := filepath.Join(www, dir)
	tmp := filepath.Join(siteDir, dir)         // beside www/, then moved in: a copy into itself would not end
	if err := copyTree(www, tmp); err != nil { // .wasm files are skipped: copied below
		t.Fatal(err)
	}
	if err := os.Rename(tmp, refDir); err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(refDir)
	// copyTree skips .wasm files: the other page gets this tree's, the
	// SIMD128 kernel modules included (without them it would run nn's
	// portable kernels and lose by that alone), or, with
	// MAVIS_BENCH_REF_WORKER, that worker.wasm and its commit's kernels.
	for _, f := range []string{"worker.wasm", "viewer.wasm", "viewer-2d.wasm", "kernels.wasm", "forwarder.wasm"} {
		if err := copyFile(filepath.Join(www, f), filepath.Join(refDir, f)); err != nil {
			t.Fatal(err)
		}
	}
	refWorker := os.Getenv("MAVIS_BENCH_REF_WORKER")
	workers := "both with this tree's worker.wasm and kernels"
	if refWorker != "" {
		if err := copyFile(refWorker, filepath.Join(refDir, "worker.wasm")); err != nil {
			t.Fatalf("MAVIS_BENCH_REF_WORKER: %v", err)
		}
		missing := false
		for _, f := range []string{"kernels.wasm", "forwarder.wasm"} {
			out, err := runErr(repoRoot(), nil, "git", "show", ref+":wasm/simd/"+f)
			if err != nil {
				os.Remove(filepath.Join(refDir, f)) // a commit before the kernels
				missing = true
				continue
			}
			if err := os.WriteFile(filepath.Join(refDir, f), []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		workers = "the other page with " + refWorker + " and its commit's kernels"
		if missing {
			workers = "the other page with " + refWorker + " (its commit has no SIMD128 kernels)"
		}
	}
	// index.html and every page script of that commit (www/*.js), and its
	// bundle of them when its index.html loads one (./build.sh bundle).
	names, err := runErr(repoRoot(), nil, "git", "ls-tree", "--name-only", ref, "www/")
	if err != nil {
		t.Fatalf("git ls-tree %s www/: %v\n%s", ref, err, names)
	}
	for _, name := range strings.Fields(names) {
		f := strings.TrimPrefix(name, "www/")
		if f != "index.html" && !strings.HasSuffix(f, ".js") {
			continue
		}
		out, err := runErr(repoRoot(), nil, "git", "show", ref+":"+name)
		if err != nil {
			t.Fatalf("git show %s:%s: %v\n%s", ref, name, err, out)
		}
		if err := os.WriteFile(filepath.Join(refDir, f), []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	index, err := os.ReadFile(filepath.Join(refDir, "index.html"))
	if err != nil {
		t.Fatalf("%s has no www/index.html: %v", ref, err)
	}
	os.RemoveAll(filepath.Join(refDir, "bundle")) // this tree's
	if strings.Contains(string(index), `src="bundle/app.js"`) {
		if out, err := runErr(repoRoot(), nil, "bash", "build.sh", "bundle", refDir); err != nil {
			t.Fatalf("bundling the page of %s: %v\n%s", ref, err, out)
		}
	}

	var out strings.Builder
	fmt.Fprintf(&out, "Start-up A/B, %s (load average %s): cold loads of %s alternating between the page of %s and this tree's, %s.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), loadavg(), "index.html"+query, ref, workers)
	out.WriteString("| cold load (ms since navigation) | page | worker created | scripts loaded (worker) | kernels compiled (worker) | worker.wasm compiled | instantiated (worker) | Go ready | model fetched (worker) | first sample fetched (worker) | first sample decoded (worker) | worker ready (first call answered) | model loaded (worker) | model loaded | predicted (worker) | first prediction |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	firsts, inWorker := map[string][]float64{}, map[string][]float64{}
	pages := []struct{ name, path string }{{ref, dir + "/"}, {"this tree", ""}}
	for i := range runs {
		for _, p := range pages {
			ctx, cancel, _ := coldBrowser(t)
			err := chromedp.Do(ctx, chromedp.Navigate(base+p.path+query))
			if err == nil {
				err = waitJS(ctx, `window.app !== undefined && (app.state.timings.some((m) => m[0].startsWith('prediction')) || app.state.errors.length > 0)`)
			}
			var tm [][]any
			var ws map[string]float64
			if err == nil {
				tm, err = chromedp.Run(ctx, chromedp.Evaluate[[][]any](`app.state.timings`))
			}
			if err == nil {
				ws, err = chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`(window.mavisBoot && mavisBoot.workerStartup) || {}`))
			}
			cancel()
			if err != nil {
				t.Fatalf("%s, run %d: %v", p.name, i+1, err)
			}
			at := func(prefix string) float64 { return timingAt(tm, prefix) }
			firsts[p.name] = append(firsts[p.name], at("prediction"))
			inWorker[p.name] = append(inWorker[p.name], ws["predicted"]-ws["ready"])
			stage := func(k string) string { // the worker's stages: pages before f6d72e3 report fewer
				if v, ok := ws[k]; ok {
					return strconv.FormatFloat(v, 'f', 0, 64)
				}
				return "–"
			}
			fmt.Fprintf(&out, "| run %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.0f | %s | %.0f | %s | %.0f |\n", i+1, p.name,
				stage("created"), stage("scripts"), stage("kernelsCompiled"), stage("compiled"), stage("instantiated"), stage("ready"), stage("modelFetched"), stage("sampleFetched"), stage("sampleDecoded"),
				at("worker ready"), stage("modelLoaded"), at("model"), stage("predicted"), at("prediction"))
		}
	}
	out.WriteString("\n")
	for _, p := range pages {
		f := firsts[p.name]
		sort.Float64s(f)
		fmt.Fprintf(&out, "First prediction, %s: median %.0f ms of %d cold loads (fastest %.0f, slowest %.0f).\n", p.name, f[len(f)/2], len(f), f[0], f[len(f)-1])
	}
	for _, p := range pages {
		f := inWorker[p.name]
		sort.Float64s(f)
		fmt.Fprintf(&out, "Go ready to predicted (worker), %s: median %.0f ms (fastest %.0f, slowest %.0f).\n", p.name, f[len(f)/2], f[0], f[len(f)-1])
	}
	fmt.Fprintf(&out, "\nLoad average after the run: %s.\n", loadavg())
	t.Log("\n" + out.String())
}

// timingAt returns the time of the first of the page's timings (app.state.
// timings: [label, ms since navigation] pairs) whose label starts with
// prefix, or -1.
func timingAt(tm [][]any, prefix string) float64 {
	for _, m := range tm {
		if s, _ := m[0].(string); strings.HasPrefix(s, prefix) {
			v, _ := m[1].(float64)
			return v
		}
	}
	return -1
}

package browsertest

import (
	"bufio"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestKernels checks the loading of nn's SIMD128 kernels (www/kernels.js)
// in the page's worker: on the site as built, the worker reports them in
// use; on a copy of the site without kernels.wasm and forwarder.wasm (what
// a browser without SIMD128 sees: the kernels cannot be used), the page
// still makes its first prediction, on the portable kernels, says why,
// and predicts what the SIMD128 kernels predict to float32 rounding.
func TestKernels(t *testing.T) {
	base := site(t)
	first := func(t *testing.T, url string) (kernels string, probs []float64) {
		t.Helper()
		ctx, cancel := browser(t, 3*time.Minute)
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
			t.Fatal(err)
		}
		if err := waitJS(ctx, `!!(window.app && (app.state.prediction || app.state.errors.length > 0))`); err != nil {
			t.Fatal(err)
		}
		errs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`app.state.errors`))
		if len(errs) > 0 {
			t.Fatalf("the page shows errors: %v", errs)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`(async () => {
			const m = await app.rpc('memory', []);
			return {kernels: m.kernels, probs: app.state.prediction.probs};
		})()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		kernels, _ = got["kernels"].(string)
		ps, _ := got["probs"].([]any)
		for _, p := range ps {
			v, _ := p.(float64)
			probs = append(probs, v)
		}
		if len(probs) == 0 {
			t.Fatalf("no probabilities in the first prediction: %v", got)
		}
		return kernels, probs
	}

	simd, want := first(t, base)
	if !strings.HasPrefix(simd, "simd128") {
		t.Errorf("the worker reports kernels %q, want simd128 (the site is built with GOEXPERIMENT=simd and serves kernels.wasm)", simd)
	}

	// The site without the kernel modules, on a server of its own.
	url := serveDir(t, siteCopy(t, "worker.wasm", "viewer.wasm", "viewer-2d.wasm"))
	portable, got := first(t, url)
	if !strings.HasPrefix(portable, "portable: ") || !strings.Contains(portable, "could not be loaded") {
		t.Errorf("without kernels.wasm the worker reports kernels %q, want 'portable: ' and that they could not be loaded", portable)
	}
	if len(got) != len(want) {
		t.Fatalf("%d probabilities without the kernels, %d with", len(got), len(want))
	}
	for i := range want {
		if d := math.Abs(got[i] - want[i]); d > 1e-5 {
			t.Errorf("class %d: probability %v on the portable kernels, %v on the SIMD128 kernels", i, got[i], want[i])
		}
	}
}

// serveDir serves dir with the site's serve.go binary on a free port until
// the test ends, and returns its URL.
func serveDir(t *testing.T, dir string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(siteDir, "serve"), "-addr", "127.0.0.1:0", "-dir", dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	startCmd(t, cmd)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("serve.go printed nothing: %v", err)
	}
	go io.Copy(io.Discard, stdout)
	i := strings.Index(line, "http://")
	if i < 0 {
		t.Fatalf("serve.go printed %q, want a URL", line)
	}
	return strings.Fields(line[i:])[0]
}

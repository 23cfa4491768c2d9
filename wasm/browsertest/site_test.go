package browsertest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/mavis-xai/mavis/nn"
)

// chromium is the browser the tests drive.
const chromium = "/usr/bin/chromium"

// The site is built once per test binary: the wasm is compiled into a
// temporary copy of www/, which the real serve.go serves on 127.0.0.1.
var (
	siteOnce sync.Once
	siteURL  string
	siteDir  string
	siteErr  error
	siteNote string
	server   *exec.Cmd
)

// repoRoot is two folders up from this package.
func repoRoot() string {
	wd, _ := os.Getwd()
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}

// site returns the URL of the served page, skipping (or failing under
// CI=true) when Chromium is missing.
func site(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (CI=true): install it with apt-get install chromium", chromium)
		}
		t.Skipf("%s is missing: install it with apt-get install chromium to run the browser tests", chromium)
	}
	if testing.Short() {
		t.Skip("browser tests are skipped with -short")
	}
	siteOnce.Do(func() { siteErr = buildSite() })
	if siteErr != nil {
		t.Fatal(siteErr)
	}
	if siteNote != "" {
		t.Log(siteNote)
	}
	return siteURL
}

func TestMain(m *testing.M) {
	code := m.Run()
	if server != nil && server.Process != nil {
		server.Process.Kill()
		server.Wait()
	}
	if siteDir != "" {
		os.RemoveAll(siteDir)
	}
	os.Exit(code)
}

// buildSite copies www/ into a temporary folder, builds the wasm programs
// and the page's bundle into it as ./build.sh does, adds a test model and
// samples when the real ones are not there yet, and starts serve.go on a
// free port.
func buildSite() error {
	root := repoRoot()
	dir, err := os.MkdirTemp("", "mavis-www-")
	if err != nil {
		return err
	}
	siteDir = dir
	www := filepath.Join(dir, "www")
	if err := copyTree(filepath.Join(root, "www"), www); err != nil {
		return err
	}
	goroot := strings.TrimSpace(run(root, nil, "go", "env", "GOROOT"))
	if err := copyFile(filepath.Join(goroot, "lib", "wasm", "wasm_exec.js"), filepath.Join(www, "wasm_exec.js")); err != nil {
		return err
	}
	env := append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if err := trackSources(root, env); err != nil {
		return err
	}
	for _, p := range []string{"worker", "viewer", "viewer-2d", "convert"} {
		e, tags, pkg := env, "", strings.TrimSuffix(p, "-2d")
		switch p {
		case "worker":
			e = append(e, "GOEXPERIMENT=simd") // nn's SIMD128 kernels, as build.sh builds it
		case "viewer-2d":
			tags = "canvas2d" // the 2D canvas only, as build.sh builds it
		}
		if out, err := runErr(root, e, "go", "build", "-tags", tags, "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(www, p+".wasm"), "./wasm/"+pkg); err != nil {
			return fmt.Errorf("building %s.wasm: %v\n%s", p, err, out)
		}
	}
	for _, f := range []string{"kernels.wasm", "forwarder.wasm"} {
		if err := copyFile(filepath.Join(root, "wasm", "simd", f), filepath.Join(www, f)); err != nil {
			return err
		}
	}
	if out, err := runErr(root, nil, "bash", "build.sh", "bundle", www); err != nil {
		return fmt.Errorf("bundling the page's modules (./build.sh bundle): %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(www, "models", "fashion.safetensors")); err != nil {
		siteNote = "www/models/fashion.safetensors is not there yet: testing with a randomly initialised fashion model"
		if err := writeTestModel(filepath.Join(www, "models", "fashion.safetensors")); err != nil {
			return err
		}
	}
	if _, err := os.Stat(filepath.Join(www, "samples", "index.json")); err != nil {
		if err := writeTestSamples(filepath.Join(www, "samples")); err != nil {
			return err
		}
	}
	bin := filepath.Join(dir, "serve")
	if out, err := runErr(root, nil, "go", "build", "-o", bin, "serve.go"); err != nil {
		return fmt.Errorf("building serve.go: %v\n%s", err, out)
	}
	server = exec.Command(bin, "-addr", "127.0.0.1:0", "-dir", www)
	stdout, err := server.StdoutPipe()
	if err != nil {
		return err
	}
	server.Stderr = os.Stderr
	if err := server.Start(); err != nil {
		return err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return fmt.Errorf("serve.go printed nothing: %v", err)
	}
	go io.Copy(io.Discard, stdout)
	i := strings.Index(line, "http://")
	if i < 0 {
		return fmt.Errorf("serve.go printed %q, want a URL", line)
	}
	siteURL = strings.Fields(line[i:])[0]
	return nil
}

// trackSources stats every Go file of the module that the site's programs
// (the three wasm programs and serve.go) are built from, go.mod and go.sum
// (esbuild's version too), and build.sh (how the page's modules are
// bundled). The go command and build.sh run in subprocesses, which the
// test cache does not see: only the files this process opens or stats
// count, so without this a change to wasm/worker or xai alone left these
// tests cached, passing on the old code.
func trackSources(root string, env []string) error {
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", "./wasm/worker", "./wasm/viewer", "./wasm/convert")
	cmd.Dir, cmd.Env, cmd.Stderr = root, append(env, "GOEXPERIMENT=simd"), os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("listing the wasm programs' packages: %v", err)
	}
	dirs := []string{root} // serve.go, go.mod, go.sum, build.sh
	for _, d := range strings.Fields(string(out)) {
		if rel, err := filepath.Rel(root, d); err == nil && !strings.HasPrefix(rel, "..") && rel != "." {
			dirs = append(dirs, d)
		}
	}
	for _, d := range dirs {
		es, err := os.ReadDir(d)
		if err != nil {
			return err
		}
		for _, e := range es {
			if n := e.Name(); strings.HasSuffix(n, ".go") || strings.HasSuffix(n, ".s") || n == "go.mod" || n == "go.sum" || n == "build.sh" {
				if _, err := os.Stat(filepath.Join(d, n)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

var fashionClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// writeTestModel saves a fashion-architecture model with seeded random
// weights.
func writeTestModel(path string) error {
	m, err := nn.BuildBuiltin("fashion")
	if err != nil {
		return err
	}
	nn.Init(m, 7)
	for i, n := range fashionClasses {
		m.Classes = append(m.Classes, nn.Class{ID: fmt.Sprint(i), Name: n})
	}
	m.Preprocess.Scale = "0..1"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return nn.Save(path, m)
}

// writeTestSamples draws three 28x28 grey pictures and their index.
func writeTestSamples(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	shapes := map[string]func(x, y int) bool{
		"square.png":   func(x, y int) bool { return x > 7 && x < 20 && y > 7 && y < 20 },
		"bar.png":      func(x, y int) bool { return x > 11 && x < 16 },
		"diagonal.png": func(x, y int) bool { return x-y < 3 && y-x < 3 },
	}
	for name, in := range shapes {
		img := image.NewGray(image.Rect(0, 0, 28, 28))
		for y := range 28 {
			for x := range 28 {
				if in(x, y) {
					img.SetGray(x, y, color.Gray{220})
				}
			}
		}
		var b bytes.Buffer
		png.Encode(&b, img)
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "index.json"),
		[]byte(`[{"file":"square.png","label":"square"},{"file":"bar.png","label":"bar"},{"file":"diagonal.png","label":"diagonal"}]`), 0o644)
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if strings.HasSuffix(p, ".wasm") || strings.HasSuffix(p, "_test.go") {
			return nil // stale build outputs are rebuilt
		}
		return copyFile(p, filepath.Join(dst, rel))
	})
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

func run(dir string, env []string, name string, args ...string) string {
	out, _ := runErr(dir, env, name, args...)
	return out
}

// siteCopy copies the built site into a temporary folder of t without its
// .wasm files (copyTree skips them), puts back the wasm files named, and
// returns the folder: a variant of the site to serve with serveDir.
func siteCopy(t *testing.T, wasm ...string) string {
	t.Helper()
	dir := t.TempDir()
	www := filepath.Join(siteDir, "www")
	if err := copyTree(www, dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range wasm {
		if err := copyFile(filepath.Join(www, f), filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runErr(dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// openPage navigates to url and waits for the page's first maps, failing
// the test when they do not come or the page shows an error instead.
func openPage(ctx context.Context, t *testing.T, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(ctx, `document.body.dataset.explained !== undefined || (window.app && app.state.errors.length > 0)`); err != nil {
		t.Fatal(err)
	}
	if errs := errorTexts(ctx); len(errs) > 0 {
		t.Fatalf("the page shows errors: %q", errs)
	}
}

// openLoaded navigates to url and waits for the page's model to be
// loaded (or to fail to), not for a prediction: most such pages are
// opened with ?autorun=0.
func openLoaded(ctx context.Context, t *testing.T, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(ctx, `document.body.dataset.loaded !== undefined`); err != nil {
		t.Fatal(err)
	}
}

// phone is the viewport options of the phone the page is checked on, with
// chromedp.EmulateViewport(390, 844, phone...): a 390 px wide touch screen
// at twice the pixel density.
var phone = []chromedp.EmulateViewportOption{chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch}

// frontOf serves site (a URL) through a proxy of the test's: h sees each
// request and hands it on with next, or answers it itself. It returns
// the proxy's URL; the proxy closes when the test ends.
func frontOf(t *testing.T, site string, h func(w http.ResponseWriter, r *http.Request, next http.Handler)) string {
	t.Helper()
	u, err := url.Parse(site)
	if err != nil {
		t.Fatal(err)
	}
	next := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(w, r, next) }))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// fetchWhole answers a proxy's request r from url: it fetches url whole
// (with r's conditional headers) and copies the answer's headers but
// Content-Length to w. On a failure it answers 502 itself and ok is false.
func fetchWhole(w http.ResponseWriter, r *http.Request, url string) (status int, body []byte, ok bool) {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, url, nil)
	if err == nil {
		for _, h := range []string{"If-None-Match", "If-Modified-Since"} {
			if v := r.Header.Get(h); v != "" {
				req.Header.Set(h, v)
			}
		}
		var res *http.Response
		if res, err = http.DefaultClient.Do(req); err == nil {
			defer res.Body.Close()
			if body, err = io.ReadAll(res.Body); err == nil {
				for k, v := range res.Header {
					if k != "Content-Length" {
						w.Header()[k] = v
					}
				}
				return res.StatusCode, body, true
			}
		}
	}
	http.Error(w, err.Error(), http.StatusBadGateway)
	return 0, nil, false
}

// browser starts a headless Chromium with a fresh profile and returns a
// tab context; cancel closes it.
func browser(t *testing.T, timeout time.Duration) (context.Context, context.CancelFunc) {
	t.Helper()
	return browserWith(t, timeout)
}

// browserWith is browser with more of Chromium's options (flags).
func browserWith(t *testing.T, timeout time.Duration, extra ...chromedp.ExecAllocatorOption) (context.Context, context.CancelFunc) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Quiet the browser's own calls home, which would reach the proxy.
		chromedp.Flag("disable-features", "AutofillServerCommunication,OptimizationHints,OptimizationHintsFetching,OptimizationGuideModelDownloading,MediaRouter,Translate"),
		chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("use-angle", "swiftshader"),
		chromedp.Flag("enable-unsafe-swiftshader", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		// Every request for another host goes to a proxy that refuses and
		// records it (loopback bypasses proxies): this covers the worker and
		// the iframe too, whose requests the page's Network domain does not see.
		chromedp.ProxyServer(outsideProxy()),
		chromedp.WindowSize(1200, 900),
	}
	opts = append(opts, extra...)
	// A start can fail for a passing reason the test does not own: CI saw
	// Chromium's zygote fail to fork its GPU process once while other test
	// binaries ran beside it. So a failed start is tried again, twice, each
	// time with a fresh profile.
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		if attempt > 1 {
			t.Logf("starting %s (attempt %d of 3): %v", chromium, attempt-1, err)
			time.Sleep(time.Duration(attempt) * time.Second)
			opts = append(opts, chromedp.UserDataDir(t.TempDir()))
		}
		actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
		ctx, tcancel := context.WithTimeout(ctx, timeout)
		if err = chromedp.Do(ctx); err == nil {
			return ctx, func() { tcancel(); cancel(); acancel() }
		}
		tcancel()
		cancel()
		acancel()
	}
	t.Fatalf("starting %s, three times: %v", chromium, err)
	return nil, nil
}

// scored is true once the page has explained its image and scored the maps
// (the faithfulness metrics done), or has shown an error.
const scored = `(document.body.dataset.evaluated !== undefined && !app.state.metricsBusy) || (window.app && app.state.errors.length > 0)`

// explainAgain clears the page's mark of an explanation, runs action (JS
// statements that make the page explain: a click, a form sent) and waits
// until the page has explained again or shown an error.
func explainAgain(ctx context.Context, action string) error {
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { document.body.dataset.explained = ''; `+action+`; return true; })()`)); err != nil {
		return err
	}
	return waitJS(ctx, `document.body.dataset.explained !== '' || app.state.errors.length > 0`)
}

// waitJS polls a JS expression until it is true.
func waitJS(ctx context.Context, expr string) error {
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err != nil {
			return fmt.Errorf("evaluating %s: %v", expr, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %v", expr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

var (
	proxyOnce sync.Once
	proxyURL  string
	proxyMu   sync.Mutex
	outside   []string // requests that tried to leave the machine
)

// outsideProxy starts, once, an HTTP proxy that answers 403 to everything
// and keeps what was asked.
func outsideProxy() string {
	proxyOnce.Do(func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		proxyURL = "http://" + ln.Addr().String()
		go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			proxyMu.Lock()
			outside = append(outside, r.Method+" "+r.Host+r.URL.Path)
			proxyMu.Unlock()
			http.Error(w, "the page must not leave its origin", http.StatusForbidden)
		}))
	})
	return proxyURL
}

// outsideRequests returns the requests the proxy has refused so far,
// without the browser's own calls to its vendor's services (sign-in,
// autofill, optimisation hints), which no page can make: its CSP allows
// only its own origin.
func outsideRequests() []string {
	proxyMu.Lock()
	defer proxyMu.Unlock()
	var out []string
	for _, r := range outside {
		if browserService.MatchString(r) {
			continue
		}
		out = append(out, r)
	}
	return out
}

var browserService = regexp.MustCompile(`^(CONNECT|GET|POST) ([a-z0-9-]+\.)*(google\.com|googleapis\.com|gvt1\.com|gstatic\.com)(:443$|/)`)

func init() {
	// Two cores are shared by the whole team: keep the test binary itself small.
	runtime.GOMAXPROCS(min(runtime.GOMAXPROCS(0), 2))
}

// startCmd starts cmd in a process group of its own, its output kept
// unless it has somewhere to go, and returns a function that stops it and
// returns that output (for a failure's message); the test's cleanup stops
// it too. Stopping kills the whole group (WebKitWebDriver's browser and
// its web processes with it), and Wait gives up on pipes that a process
// outside the group still holds after a second, so that a cleanup never
// hangs.
func startCmd(t *testing.T, cmd *exec.Cmd) (stop func() string) {
	t.Helper()
	var out bytes.Buffer
	if cmd.Stdout == nil && cmd.Stderr == nil {
		cmd.Stdout, cmd.Stderr = &out, &out
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() string {
		once.Do(func() {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cmd.Wait()
		})
		return out.String()
	}
	t.Cleanup(func() { stop() })
	return stop
}

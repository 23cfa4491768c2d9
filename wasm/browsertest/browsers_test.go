package browsertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// sameBits is what TestBrowsers compares between the browsers, as JSON: the
// kernels the worker runs, the errors the page shows, and a SHA-256 prefix
// of the MAVIS model's probabilities for a photo and of every registry
// method's map of it (in the page's worker, each method at its defaults;
// the page, opened with ?autorun=0, runs nothing of its own meanwhile).
const sameBits = `(async () => {
	const hex = async (a) => {
		const d = new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(a.buffer, a.byteOffset, a.byteLength)));
		return Array.from(d.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
	};
	const p = await app.rpc('predict', [await (await fetch('samples/mavis/chelsea.jpg')).blob()]);
	const m = await app.rpc('memory', []);
	const out = { kernels: m.kernels, errors: app.state.errors, probs: await hex(new Float32Array(p.probs)), maps: {} };
	for (const { name } of app.state.model.methods) {
		out.maps[name] = await app.rpc('explain', [{ method: name }]).then((r) => hex(new Float32Array(r.map)), (e) => 'error: ' + e.message);
	}
	return JSON.stringify(out);
})()`

// pageBits is sameBits's answer.
type pageBits struct {
	Kernels string            `json:"kernels"`
	Errors  []string          `json:"errors"`
	Probs   string            `json:"probs"`
	Maps    map[string]string `json:"maps"`
}

// remotePage is a page in a browser, driven through that browser's
// automation protocol: Chromium's through chromedp (cdpPage), Firefox's
// Marionette (marionette), WebKit's WebDriver (webDriver).
type remotePage interface {
	navigate(url string) error
	// script runs a function body in the page (a promise it returns is
	// awaited) and returns its value.
	script(body string) (any, error)
}

// cdpPage is a Chromium tab (chromedp's context) as a remotePage.
type cdpPage struct{ ctx context.Context }

func (p cdpPage) navigate(url string) error { return chromedp.Do(p.ctx, chromedp.Navigate(url)) }

func (p cdpPage) script(body string) (any, error) {
	return chromedp.Run(p.ctx, chromedp.Evaluate[any]("(async () => {"+body+"\n})()", chromedp.EvalAwaitPromise))
}

// waitFor polls cond (an expression) in p until it is true.
func waitFor(p remotePage, cond string, limit time.Duration) error {
	for deadline := time.Now().Add(limit); ; time.Sleep(100 * time.Millisecond) {
		v, err := p.script("return " + cond)
		if err != nil {
			return err
		}
		if v == true {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waited %v for %s", limit, cond)
		}
	}
}

// TestBrowsers runs the page with the MAVIS model in Firefox (SpiderMonkey)
// and in WebKit (JavaScriptCore, the engine of every browser on an iPhone;
// WebKitGTK's MiniBrowser): the worker must run nn's SIMD128 kernels there
// too (each browser validates the generated kernels.wasm itself), and its
// prediction and every method's map must equal Chromium's bit for bit (the
// kernels use no relaxed SIMD, and Go's math is its own). Then the page
// explains its first sample as a person sees it, with the page's viewer
// (the 2D canvas) in both, and in WebKit, which runs on a virtual X
// display (Xvfb) with WebGL 2, with the Ebitengine viewer (?viewer=gpu)
// too. Each time the viewer must draw the maps ("maps shown", from the
// viewer's first map drawn), with no error.
func TestBrowsers(t *testing.T) {
	base := site(t)
	url := base + "?model=models/mavis.safetensors&autorun=0"
	bits := func(t *testing.T, p remotePage) pageBits {
		t.Helper()
		if err := p.navigate(url); err != nil {
			t.Fatal(err)
		}
		if err := waitFor(p, `document.body.dataset.loaded !== undefined`, 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		v, err := p.script("return " + sameBits)
		if err != nil {
			t.Fatal(err)
		}
		var b pageBits
		if s, _ := v.(string); json.Unmarshal([]byte(s), &b) != nil {
			t.Fatalf("the page answered %v", v)
		}
		return b
	}

	ctx, cancel := browser(t, 5*time.Minute)
	defer cancel()
	want := bits(t, cdpPage{ctx})
	cancel() // Chromium is done: the other browsers get the cores
	if !strings.HasPrefix(want.Kernels, "simd128") {
		t.Errorf("Chromium's worker runs kernels %q, want simd128", want.Kernels)
	}
	if len(want.Errors) > 0 {
		t.Errorf("Chromium shows errors: %q", want.Errors)
	}
	if len(want.Maps) < 20 {
		t.Errorf("Chromium explained %d methods, want the registry's (over 20)", len(want.Maps))
	}

	// The page's viewers: the 2D canvas, and Ebitengine's on the GPU.
	type viewer struct{ query, html string }
	flat, gpu := viewer{"", "viewer-2d.html"}, viewer{"&viewer=gpu", "viewer.html"}
	for _, b := range []struct {
		name    string
		start   func(t *testing.T) remotePage
		viewers []viewer
		webgl   bool // it offers WebGL 2, which Ebitengine's needs
	}{
		{"Firefox", startFirefox, []viewer{flat}, false}, // headless, it has no WebGL 2
		{"WebKit", startWebKit, []viewer{flat, gpu}, true},
	} {
		t.Run(b.name, func(t *testing.T) {
			p := b.start(t)
			got := bits(t, p)
			if got.Kernels != want.Kernels {
				t.Errorf("kernels %q, Chromium's %q", got.Kernels, want.Kernels)
			}
			for _, e := range got.Errors {
				t.Errorf("the page shows an error: %q", e)
			}
			if got.Probs != want.Probs {
				t.Errorf("the probabilities differ: %s, Chromium %s", got.Probs, want.Probs)
			}
			for name, w := range want.Maps {
				if strings.HasPrefix(w, "error") || got.Maps[name] != w {
					t.Errorf("%s: %s, Chromium %s", name, got.Maps[name], w)
				}
			}
			t.Logf("kernels %s, the same probabilities and the same %d maps as Chromium, bit for bit", got.Kernels, len(got.Maps))

			// The person looks at the maps, with each viewer the browser
			// runs: a browser may not run the frames of an iframe out of
			// view.
			for _, vw := range b.viewers {
				what := "the page with " + vw.html // for the messages
				if err := p.navigate(base + "?model=models/mavis.safetensors" + vw.query); err != nil {
					t.Fatal(err)
				}
				if err := waitFor(p, `document.body.dataset.explained !== undefined || (window.app !== undefined && app.state.errors.length > 0)`, 2*time.Minute); err != nil {
					t.Fatal(err)
				}
				if _, err := p.script(`document.getElementById('viewer').scrollIntoView({block: 'center'}); return true`); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if err := waitFor(p, `app.state.timings.some((m) => m[0] === 'maps shown') || app.state.errors.length > 0`, 2*time.Minute); err != nil {
					v, _ := p.script(`return window.app ? {errors: app.state.errors, timings: app.state.timings} : 'no app'`)
					t.Fatalf("%s: %v; the page has %v", what, err, v)
				}
				v, err := p.script(`return {shown: app.state.timings.some((m) => m[0] === 'maps shown'), errors: app.state.errors,
					webgl: !!document.getElementById('viewer').contentDocument.createElement('canvas').getContext('webgl2'),
					viewer: document.getElementById('viewer').getAttribute('src')}`)
				if err != nil {
					t.Fatal(err)
				}
				res, _ := v.(map[string]any)
				if errs, _ := res["errors"].([]any); res["shown"] != true || len(errs) > 0 {
					t.Errorf("%s: the first sample's maps: drawn %v, errors %q; want them drawn, with no error", what, res["shown"], errs)
				}
				if res["webgl"] != b.webgl || res["viewer"] != vw.html {
					t.Errorf("%s: WebGL 2 offered: %v, the viewer %v; want %v and %s", what, res["webgl"], res["viewer"], b.webgl, vw.html)
				}
			}
		})
	}
}

// findTool is the first of names on the PATH (pkg, the Debian package
// that installs it, for the message).
func findTool(t *testing.T, pkg string, names ...string) string {
	t.Helper()
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missing(t, names[0], pkg)
	return ""
}

// missing skips the test for want of what (installed by the Debian package
// pkg), and fails it instead when CI=true.
func missing(t *testing.T, what, pkg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing (CI=true): install it with apt-get install %s", what, pkg)
	}
	t.Skipf("%s is missing: install it with apt-get install %s to run this test", what, pkg)
}

// marionette is a connection to Firefox's Marionette server, the protocol
// geckodriver speaks (WebDriver commands as JSON, each message preceded by
// its length and a colon): enough of it to navigate and run scripts.
type marionette struct {
	conn net.Conn
	r    *bufio.Reader
	id   int
}

// startFirefox starts a headless Firefox with a fresh profile and connects
// to its Marionette server; the test's cleanup stops it.
func startFirefox(t *testing.T) remotePage {
	t.Helper()
	path := findTool(t, "firefox-esr", "firefox-esr", "firefox")
	profile := t.TempDir()
	// Port 0: Firefox picks one and writes it to MarionetteActivePort.
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(`user_pref("marionette.port", 0);`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stop := startCmd(t, exec.Command(path, "--headless", "--marionette", "--no-remote", "--profile", profile, "about:blank"))
	var port int
	for deadline := time.Now().Add(time.Minute); port == 0; time.Sleep(50 * time.Millisecond) {
		if b, err := os.ReadFile(filepath.Join(profile, "MarionetteActivePort")); err == nil {
			port, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		if time.Now().After(deadline) {
			t.Fatalf("Firefox did not start its Marionette server in a minute; it printed:\n%s", stop())
		}
	}
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	m := &marionette{conn: conn, r: bufio.NewReader(conn)}
	if _, err := m.read(); err != nil { // the server's hello
		t.Fatal(err)
	}
	if _, err := m.call("WebDriver:NewSession", map[string]any{"capabilities": map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.call("WebDriver:SetTimeouts", map[string]any{"script": 5 * 60 * 1000}); err != nil {
		t.Fatal(err)
	}
	return m
}

// read reads one message.
func (m *marionette) read() (json.RawMessage, error) {
	n, err := m.r.ReadString(':')
	if err != nil {
		return nil, fmt.Errorf("marionette: %v", err)
	}
	size, err := strconv.Atoi(strings.TrimSuffix(n, ":"))
	if err != nil || size < 0 || size > 64<<20 {
		return nil, fmt.Errorf("marionette: a message of length %q", n)
	}
	msg := make([]byte, size)
	if _, err := io.ReadFull(m.r, msg); err != nil {
		return nil, fmt.Errorf("marionette: %v", err)
	}
	return msg, nil
}

// call sends a command and returns its result: [0, id, name, params] is
// answered with [1, id, error, result]. A Firefox that stops answering
// fails the call after 6 minutes (a script's own limit is 5).
func (m *marionette) call(name string, params any) (json.RawMessage, error) {
	m.id++
	m.conn.SetDeadline(time.Now().Add(6 * time.Minute))
	b, err := json.Marshal([]any{0, m.id, name, params})
	if err != nil {
		return nil, err
	}
	if _, err := fmt.Fprintf(m.conn, "%d:%s", len(b), b); err != nil {
		return nil, fmt.Errorf("marionette: %v", err)
	}
	for {
		msg, err := m.read()
		if err != nil {
			return nil, err
		}
		var reply []json.RawMessage
		if err := json.Unmarshal(msg, &reply); err != nil || len(reply) != 4 {
			return nil, fmt.Errorf("marionette: a reply %q", msg)
		}
		if id, _ := strconv.Atoi(string(reply[1])); id != m.id {
			continue
		}
		if string(reply[2]) != "null" {
			return nil, fmt.Errorf("%s: %s", name, reply[2])
		}
		return reply[3], nil
	}
}

func (m *marionette) navigate(url string) error {
	_, err := m.call("WebDriver:Navigate", map[string]any{"url": url})
	return err
}

func (m *marionette) script(body string) (any, error) {
	res, err := m.call("WebDriver:ExecuteScript", map[string]any{"script": body, "args": []any{}})
	if err != nil {
		return nil, err
	}
	var v struct{ Value any }
	err = json.Unmarshal(res, &v)
	return v.Value, err
}

// webDriver is a W3C WebDriver session (here WebKitWebDriver's), over
// HTTP: enough of it to navigate and run scripts.
type webDriver struct {
	session string // http://127.0.0.1:PORT/session/ID
	client  *http.Client
}

// startWebKit starts WebKitGTK's MiniBrowser through WebKitWebDriver, on a
// virtual X display of its own (Xvfb); the test's cleanup closes both.
func startWebKit(t *testing.T) remotePage {
	t.Helper()
	driver := findTool(t, "webkit2gtk-driver", "WebKitWebDriver")
	xvfb := findTool(t, "xvfb", "Xvfb")
	minis, _ := filepath.Glob("/usr/lib/*/webkit2gtk-4.*/MiniBrowser")
	if len(minis) == 0 {
		missing(t, "WebKitGTK's MiniBrowser", "webkit2gtk-driver")
	}
	display := startXvfb(t, xvfb)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(driver, "--port="+addr[strings.LastIndex(addr, ":")+1:])
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	stop := startCmd(t, cmd)
	d := &webDriver{session: "http://" + addr, client: &http.Client{Timeout: 6 * time.Minute}}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if _, err := d.do("GET", "/status", nil); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("WebKitWebDriver did not answer in a minute; it printed:\n%s", stop())
		}
	}
	res, err := d.do("POST", "/session", map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"webkitgtk:browserOptions": map[string]any{"binary": minis[0], "args": []string{"--automation"}},
	}}})
	if err != nil {
		t.Fatalf("%v; WebKitWebDriver printed:\n%s", err, stop())
	}
	var s struct{ SessionID string }
	if err := json.Unmarshal(res, &s); err != nil || s.SessionID == "" {
		t.Fatalf("WebKitWebDriver's new session: %s", res)
	}
	d.session += "/session/" + s.SessionID
	t.Cleanup(func() { d.do("DELETE", "", nil) })
	if _, err := d.do("POST", "/timeouts", map[string]any{"script": 5 * 60 * 1000}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.do("POST", "/window/rect", map[string]any{"width": 1280, "height": 900}); err != nil {
		t.Fatal(err)
	}
	return d
}

// startXvfb starts a virtual X server on a free display and returns its
// name (":N"); the test's cleanup stops it.
func startXvfb(t *testing.T, path string) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(path, "-displayfd", "3", "-screen", "0", "1280x1024x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w} // fd 3: Xvfb writes the display's number there once it listens
	stop := startCmd(t, cmd)
	w.Close()
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("Xvfb did not start: %v; it printed:\n%s", err, stop())
	}
	return ":" + strings.TrimSpace(line)
}

// do sends a command (path under the session) and returns its value; an
// error answer becomes an error.
func (d *webDriver) do(method, path string, body any) (json.RawMessage, error) {
	var in io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		in = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, d.session+path, in)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct{ Value json.RawMessage }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("webdriver %s %s: HTTP %d, %v", method, path, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("webdriver %s %s: HTTP %d: %s", method, path, resp.StatusCode, out.Value)
	}
	return out.Value, nil
}

func (d *webDriver) navigate(url string) error {
	_, err := d.do("POST", "/url", map[string]any{"url": url})
	return err
}

func (d *webDriver) script(body string) (any, error) {
	res, err := d.do("POST", "/execute/sync", map[string]any{"script": body, "args": []any{}})
	if err != nil {
		return nil, err
	}
	var v any
	err = json.Unmarshal(res, &v)
	return v, err
}

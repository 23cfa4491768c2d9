package browsertest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// sameBits is what TestFirefox compares between the browsers, as JSON: the
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

// TestFirefox runs the page with the MAVIS model in Firefox (SpiderMonkey,
// not V8): the worker must run nn's SIMD128 kernels there too (Firefox
// validates the generated kernels.wasm itself), and its prediction and
// every method's map must equal Chromium's bit for bit (the kernels use no
// relaxed SIMD, and Go's math is its own). Headless Firefox has no WebGL 2,
// so the only error the page may show there is the viewer's, which says so.
func TestFirefox(t *testing.T) {
	base := site(t)
	ff := firefoxPath(t)
	url := base + "?model=models/mavis.safetensors&autorun=0"

	ctx, cancel := browser(t, 5*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(ctx, `document.body.dataset.loaded !== undefined`); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](sameBits, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	var want, got pageBits
	if err := json.Unmarshal([]byte(text), &want); err != nil {
		t.Fatal(err)
	}

	m := startFirefox(t, ff)
	if _, err := m.call("WebDriver:Navigate", map[string]any{"url": url}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		v, err := m.script(`return document.body.dataset.loaded !== undefined`)
		if err != nil {
			t.Fatal(err)
		}
		if v == true {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Firefox: the page did not finish its start in 2 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
	v, err := m.script("return " + sameBits)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := v.(string)
	if err := json.Unmarshal([]byte(s), &got); err != nil {
		t.Fatalf("Firefox answered %v: %v", v, err)
	}

	if !strings.HasPrefix(want.Kernels, "simd128") || got.Kernels != want.Kernels {
		t.Errorf("kernels: Firefox %q, Chromium %q; want the SIMD128 kernels in both", got.Kernels, want.Kernels)
	}
	if len(want.Errors) > 0 {
		t.Errorf("Chromium shows errors: %q", want.Errors)
	}
	for _, e := range got.Errors {
		if !strings.HasPrefix(e, "Viewer: the maps need WebGL 2") {
			t.Errorf("Firefox shows an error: %q", e)
		}
	}
	if got.Probs != want.Probs {
		t.Errorf("the probabilities differ: Firefox %s, Chromium %s", got.Probs, want.Probs)
	}
	if len(want.Maps) < 20 {
		t.Errorf("Chromium explained %d methods, want the registry's (over 20)", len(want.Maps))
	}
	for name, w := range want.Maps {
		if strings.HasPrefix(w, "error") || got.Maps[name] != w {
			t.Errorf("%s: Firefox %s, Chromium %s", name, got.Maps[name], w)
		}
	}
	t.Logf("Firefox and Chromium: kernels %s, the same probabilities and the same %d maps, bit for bit", got.Kernels, len(got.Maps))
}

// pageBits is sameBits's answer.
type pageBits struct {
	Kernels string            `json:"kernels"`
	Errors  []string          `json:"errors"`
	Probs   string            `json:"probs"`
	Maps    map[string]string `json:"maps"`
}

// firefoxPath is Debian's firefox-esr (or a firefox) on the PATH; the test
// skips without one, and fails instead when CI=true.
func firefoxPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"firefox-esr", "firefox"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Firefox is missing (CI=true): install it with apt-get install firefox-esr")
	}
	t.Skip("Firefox is missing: install it with apt-get install firefox-esr to run TestFirefox")
	return ""
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
// to its Marionette server; the test's cleanup quits it.
func startFirefox(t *testing.T, path string) *marionette {
	t.Helper()
	profile := t.TempDir()
	// Port 0: Firefox picks one and writes it to MarionetteActivePort.
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(`user_pref("marionette.port", 0);`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, "--headless", "--marionette", "--no-remote", "--profile", profile, "about:blank")
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	var port int
	for deadline := time.Now().Add(time.Minute); port == 0; time.Sleep(50 * time.Millisecond) {
		if b, err := os.ReadFile(filepath.Join(profile, "MarionetteActivePort")); err == nil {
			port, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		if time.Now().After(deadline) {
			t.Fatalf("Firefox did not start its Marionette server in a minute; it printed:\n%s", log.String())
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
// answered with [1, id, error, result].
func (m *marionette) call(name string, params any) (json.RawMessage, error) {
	m.id++
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

// script runs a function body in the page (a promise it returns is
// awaited) and returns its value.
func (m *marionette) script(body string) (any, error) {
	res, err := m.call("WebDriver:ExecuteScript", map[string]any{"script": body, "args": []any{}})
	if err != nil {
		return nil, err
	}
	var v struct{ Value any }
	err = json.Unmarshal(res, &v)
	return v.Value, err
}

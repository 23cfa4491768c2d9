package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// site builds a small folder to serve, with a secret beside it that no
// request may reach.
func site(t *testing.T) (dir, secret string) {
	t.Helper()
	base := t.TempDir()
	secret = "top secret " + t.Name()
	dir = filepath.Join(base, "www")
	files := map[string]string{
		"index.html":           "<!doctype html><title>page</title>",
		"app.js":               "export {}",
		"style.css":            "body{}",
		"worker.wasm":          "\x00asm\x01\x00\x00\x00",
		"models/m.safetensors": "model bytes",
		"samples/index.json":   `["a.png"]`,
		"empty/keep.txt":       "x",
		".hidden":              "hidden",
		"blob.xyz":             "<script>alert(1)</script>",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(base, "secret.txt"), []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(base, "secret.txt"), filepath.Join(dir, "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(base, filepath.Join(dir, "up")); err != nil {
		t.Fatal(err)
	}
	return dir, secret
}

func get(t *testing.T, srv *httptest.Server, rawPath string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Opaque = rawPath // sent as is: no client-side cleaning of ".." or %2e
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestServeFiles(t *testing.T) {
	dir, _ := site(t)
	h, err := newHandler(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, tt := range []struct {
		path, ctype, body string
	}{
		{"/", "text/html; charset=utf-8", "<!doctype html><title>page</title>"},
		{"/index.html", "text/html; charset=utf-8", "<!doctype html><title>page</title>"},
		{"/app.js", "text/javascript; charset=utf-8", "export {}"},
		{"/style.css", "text/css; charset=utf-8", "body{}"},
		{"/worker.wasm", "application/wasm", "\x00asm\x01\x00\x00\x00"},
		{"/models/m.safetensors", "application/octet-stream", "model bytes"},
		{"/samples/index.json", "application/json", `["a.png"]`},
		{"/blob.xyz", "application/octet-stream", "<script>alert(1)</script>"},
		{"/samples//index.json", "application/json", `["a.png"]`},
	} {
		resp, body := get(t, srv, tt.path)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: status %d, want 200", tt.path, resp.StatusCode)
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != tt.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", tt.path, got, tt.ctype)
		}
		if body != tt.body {
			t.Errorf("GET %s: body %q, want %q", tt.path, body, tt.body)
		}
	}
}

func TestServeRefuses(t *testing.T) {
	dir, secret := site(t)
	h, err := newHandler(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, tt := range []struct {
		path string
		code int
	}{
		{"/../secret.txt", 400},
		{"/samples/../../secret.txt", 400},
		{"/%2e%2e/secret.txt", 400},
		{"/%2E%2E%2Fsecret.txt", 400},
		{"/..%2fsecret.txt", 400},
		{"/..%5csecret.txt", 400},
		{"/samples/..\\..\\secret.txt", 400},
		{"/index.html%00.png", 400},
		{"/.hidden", 400},
		{"/link.txt", 404},      // symbolic link out of the folder
		{"/up/secret.txt", 404}, // through a linked directory
		{"/empty/", 404},        // a folder without index.html: no listing
		{"/models/", 404},
		{"/missing.js", 404},
	} {
		resp, body := get(t, srv, tt.path)
		if resp.StatusCode != tt.code {
			t.Errorf("GET %s: status %d, want %d", tt.path, resp.StatusCode, tt.code)
		}
		if strings.Contains(body, secret) || strings.Contains(body, "m.safetensors") {
			t.Errorf("GET %s: leaked %q", tt.path, body)
		}
	}
	req, _ := http.NewRequest("POST", srv.URL+"/index.html", strings.NewReader("x"))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", resp.StatusCode)
	}
}

func TestServeHeaders(t *testing.T) {
	dir, _ := site(t)
	h, err := newHandler(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, p := range []string{"/", "/worker.wasm", "/missing", "/../x"} {
		resp, _ := get(t, srv, p)
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q, want nosniff", p, got)
		}
		pol := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "worker-src 'self'", "connect-src 'self'"} {
			if !strings.Contains(pol, want+";") {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %q", p, pol, want)
			}
		}
		if strings.Contains(pol, "unsafe-inline") || strings.Contains(pol, "'unsafe-eval'") || strings.Contains(pol, "*") {
			t.Errorf("GET %s: Content-Security-Policy %q is too permissive", p, pol)
		}
	}
}

func TestServeBadFolder(t *testing.T) {
	if _, err := newHandler(filepath.Join(t.TempDir(), "nope")); err == nil || !strings.Contains(err.Error(), "build the page first") {
		t.Errorf("missing folder: error %v, want one that says to build the page", err)
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := newHandler(f); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("file as folder: error %v, want \"not a folder\"", err)
	}
}

func TestCleanName(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"/", ".", true},
		{"/a/b.js", "a/b.js", true},
		{"/a//b.js", "a/b.js", true},
		{"/a/./b.js", "a/b.js", true},
		{"/a/../b.js", "", false},
		{"/.git/config", "", false},
		{"a.js", "", false},
		{"/a\\b", "", false},
	} {
		got, ok := cleanName(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("cleanName(%q) = %q, %v, want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestServeAddressInUse: a port that is taken is named, with the flag that
// picks another.
func TestServeAddressInUse(t *testing.T) {
	dir, _ := site(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	err = run(addr, dir, io.Discard)
	for _, want := range []string{"serve: " + addr + " is already in use", "-addr 127.0.0.1:8081", "-addr 127.0.0.1:0", "./build.sh serve -addr"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want it to contain %q", err, want)
		}
	}
}

// TestServeWarnsUnbuilt: a page folder without what ./build.sh writes
// gets a warning that names the missing files and the command; a built one
// and a folder that is no page get none.
func TestServeWarnsUnbuilt(t *testing.T) {
	dir, _ := site(t) // worker.wasm, no wasm_exec.js, no bundle/app.js
	want := "serve: warning: " + dir + " has no wasm_exec.js, bundle/app.js: the page will not start; build it first with ./build.sh"
	if got := unbuiltWarning(dir); !strings.Contains(got, want) {
		t.Errorf("got %q, want it to contain %q", got, want)
	}
	if got := unbuiltWarning(filepath.Join(dir, "models")); got != "" {
		t.Errorf("a folder with no index.html: got %q", got)
	}
	for _, f := range []string{"wasm_exec.js", "bundle/app.js"} {
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := unbuiltWarning(dir); got != "" {
		t.Errorf("a built folder: got %q", got)
	}
}

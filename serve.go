// Command serve serves the MAVIS-XAI page (the www folder) on the loopback
// interface, the way a static host such as GitHub Pages would, with the
// headers the page needs and nothing more:
//
//	go run serve.go                       # http://127.0.0.1:8080/ serving ./www
//	go run serve.go -addr 127.0.0.1:0     # any free port (the URL is printed)
//	go run serve.go -dir /tmp/site        # another folder
//
// It serves regular files under its folder only: paths with "..", hidden
// names (".git"), symbolic links that leave the folder and directory
// listings are refused (a directory serves its index.html or nothing).
// Every response carries X-Content-Type-Options: nosniff and a
// Content-Security-Policy that allows scripts, workers, frames and
// connections from the page's own origin only, plus 'wasm-unsafe-eval' so
// that WebAssembly may compile. .wasm files are served as application/wasm.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// csp is the Content-Security-Policy of every response: everything from the
// page's own origin only. Images may also come from blob: and data: URLs
// (the picked image and downloaded maps are shown through object URLs).
const csp = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; " +
	"connect-src 'self'; img-src 'self' blob: data:; style-src 'self'; frame-src 'self'; " +
	"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"

// contentTypes maps the extensions the page uses to their media types. Any
// other file is sent as application/octet-stream (with nosniff, a browser
// will neither run nor render it).
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".json":        "application/json",
	".wasm":        "application/wasm",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".gif":         "image/gif",
	".webp":        "image/webp",
	".svg":         "image/svg+xml",
	".ico":         "image/x-icon",
	".txt":         "text/plain; charset=utf-8",
	".md":          "text/markdown; charset=utf-8",
	".ts":          "text/plain; charset=utf-8",
	".safetensors": "application/octet-stream",
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "`host:port` to listen on (port 0 picks a free port)")
	dir := flag.String("dir", "www", "`folder` to serve")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), `serve serves the MAVIS-XAI page on the loopback interface.

usage: go run serve.go [-addr 127.0.0.1:8080] [-dir www]

Build the page first (./build.sh), or use ./build.sh serve, which builds
and then runs this command. Only regular files under the folder are served,
with X-Content-Type-Options: nosniff and a same-origin Content-Security-Policy.

examples:
  go run serve.go
  go run serve.go -addr 127.0.0.1:9000
  go run serve.go -addr 127.0.0.1:0 -dir /tmp/www-copy

flags:
`)
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "serve: unexpected argument %q (see -help)\n", flag.Arg(0))
		os.Exit(2)
	}
	if w := unbuiltWarning(*dir); w != "" {
		fmt.Fprintln(os.Stderr, w)
	}
	if err := run(*addr, *dir, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run serves dir on addr until interrupted.
func run(addr, dir string, out io.Writer) error {
	h, err := newHandler(dir)
	if err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("serve: address %q: %v", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(out, "serve: warning: %s is not a loopback address; other machines can reach this server\n", host)
	}
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("serve: %s is already in use (is the page already being served?): stop that server, "+
			"or pick another port with -addr, e.g. -addr %s (-addr %s picks a free one; with ./build.sh: ./build.sh serve -addr %s)",
			addr, net.JoinHostPort(host, "8081"), net.JoinHostPort(host, "0"), net.JoinHostPort(host, "8081"))
	}
	if err != nil {
		return fmt.Errorf("serve: %v", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(out, "serving %s at http://%s/ (Ctrl-C to stop)\n", dir, ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %v", err)
	}
	return nil
}

// built is what ./build.sh writes into www/ and the page cannot start
// without (the sources are in the repository).
var built = []string{"worker.wasm", "wasm_exec.js", "bundle/app.js"}

// unbuiltWarning names the files of built that a page folder (one with an
// index.html) lacks, and what to do; "" when it has them all, or for any
// other folder.
func unbuiltWarning(dir string) string {
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
		return ""
	}
	var missing []string
	for _, f := range built {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f))); err != nil {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("serve: warning: %s has no %s: the page will not start; build it first with ./build.sh (or use ./build.sh serve)",
		dir, strings.Join(missing, ", "))
}

// handler serves the regular files of one folder through an os.Root, which
// refuses any path (symbolic links included) that would leave it.
type handler struct {
	root *os.Root
}

func newHandler(dir string) (*handler, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("serve: folder %q: %v (build the page first with ./build.sh)", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("serve: %q is not a folder", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("serve: %v", err)
	}
	return &handler{root: root}, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", csp)
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, ok := cleanName(r.URL.Path)
	if !ok {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	f, st, err := h.open(name)
	if err != nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	defer f.Close()
	if st.IsDir() {
		if !strings.HasSuffix(r.URL.Path, "/") {
			// Redirect relative to the request so the page works under any prefix.
			http.Redirect(w, r, path.Base(r.URL.Path)+"/", http.StatusMovedPermanently)
			return
		}
		f.Close()
		name = path.Join(name, "index.html")
		if f, st, err = h.open(name); err != nil || st.IsDir() {
			http.Error(w, "not found", http.StatusNotFound) // no listings
			return
		}
		defer f.Close()
	}
	ct, ok := contentTypes[strings.ToLower(path.Ext(name))]
	if !ok {
		ct = "application/octet-stream"
	}
	hd.Set("Content-Type", ct)
	hd.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, st.ModTime(), f)
}

// open opens name inside the root and returns it with its file information;
// anything that is not a regular file or a directory is refused.
func (h *handler) open(name string) (*os.File, fs.FileInfo, error) {
	f, err := h.root.Open(name)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() && !st.IsDir() {
		err = fmt.Errorf("serve: %s is not a regular file", name)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// cleanName turns a URL path into a name relative to the root. It refuses
// rather than repairs: "..", hidden names, backslashes and NUL bytes are
// reported as bad paths.
func cleanName(p string) (string, bool) {
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\x00") {
		return "", false
	}
	var parts []string
	for _, s := range strings.Split(p[1:], "/") {
		switch {
		case s == "" || s == ".":
			continue
		case strings.HasPrefix(s, "."): // "..", ".git", ".env"
			return "", false
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return ".", true
	}
	return strings.Join(parts, "/"), true
}

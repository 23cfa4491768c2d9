package browsertest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A link between the browser and a site, as a person meets the page: a
// bandwidth shared by every answer and a delay before each (the round
// trip). benchLink's proxy plays it.
type link struct {
	mbit float64       // megabits a second
	rtt  time.Duration // before each answer
}

func (l link) String() string {
	return fmt.Sprintf("%g Mbit/s, %v round trip", l.mbit, l.rtt)
}

// The links benchLink measures: a fast line, a far host, a slow line.
var benchLinks = []link{{50, 20 * time.Millisecond}, {50, 100 * time.Millisecond}, {10, 60 * time.Millisecond}}

// linkProxy serves upstream over l, as a static host does: each answer
// after l.rtt, every body through one bandwidth in 16 KB chunks, text,
// wasm and the model gzipped (level 6, once per file; images as they are),
// and Cache-Control: max-age=600, as GitHub Pages sends. It logs when each
// answer began (since begin was last called) and its size on the wire.
type linkProxy struct {
	l        link
	upstream string
	mu       sync.Mutex
	next     time.Time // when the link is free
	t0       time.Time
	answers  []linkAnswer
	gzMu     sync.Mutex // apart from mu: a first gzip (0.2 s for worker.wasm) must not hold the link
	gz       map[string][]byte
}

type linkAnswer struct {
	path  string
	at    time.Duration // since begin
	bytes int
}

func newLinkProxy(t *testing.T, upstream string, l link) (*linkProxy, string) {
	p := &linkProxy{l: l, upstream: strings.TrimSuffix(upstream, "/"), gz: map[string][]byte{}}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL + "/"
}

// begin starts a new log, at the navigation it precedes.
func (p *linkProxy) begin() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answers, p.t0 = nil, time.Now()
}

// bytesBefore sums the sizes of the answers begun before ms since begin.
func (p *linkProxy) bytesBefore(ms float64) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, a := range p.answers {
		if a.at < time.Duration(ms*float64(time.Millisecond)) {
			n += a.bytes
		}
	}
	return n
}

func (p *linkProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	time.Sleep(p.l.rtt)
	status, body, ok := fetchWhole(w, r, p.upstream+r.URL.RequestURI())
	if !ok {
		return
	}
	w.Header().Set("Cache-Control", "max-age=600") // in place of the upstream's
	if status == http.StatusOK && !strings.HasPrefix(w.Header().Get("Content-Type"), "image/") && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		body = p.gzipped(r.URL.Path, body)
		w.Header().Set("Content-Encoding", "gzip")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	p.mu.Lock()
	p.answers = append(p.answers, linkAnswer{r.URL.Path, time.Since(p.t0), len(body)})
	p.mu.Unlock()
	w.WriteHeader(status)
	for len(body) > 0 {
		n := min(len(body), 16<<10)
		p.mu.Lock()
		if now := time.Now(); p.next.Before(now) {
			p.next = now
		}
		p.next = p.next.Add(time.Duration(float64(n) * 8 / (p.l.mbit * 1e6) * float64(time.Second)))
		until := p.next
		p.mu.Unlock()
		time.Sleep(time.Until(until))
		if _, err := w.Write(body[:n]); err != nil {
			return
		}
		w.(http.Flusher).Flush()
		body = body[n:]
	}
}

// gzipped is path's body gzipped, made once.
func (p *linkProxy) gzipped(path string, body []byte) []byte {
	p.gzMu.Lock()
	defer p.gzMu.Unlock()
	if z, ok := p.gz[path]; ok {
		return z
	}
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, 6)
	zw.Write(body)
	zw.Close()
	p.gz[path] = b.Bytes()
	return p.gz[path]
}

// benchLink times cold MAVIS loads over each of benchLinks, the page
// (?model=) and TF.js's page alternating, each in a new browser settled as
// benchCold's: the first prediction of each, when the page's viewer was
// ready to show the maps, and the bytes each fetched before its first
// prediction. From this machine's own server the bytes cost nothing; over
// a link they decide the first prediction (BENCHMARKS.md, session 32).
func benchLink(t *testing.T, base, tfBase string, runs int, out *strings.Builder) {
	out.WriteString("\n| cold MAVIS load over a link (a proxy: gzip, one shared bandwidth, a delay before each answer), medians | first prediction: TF.js / the page (ms) | ratio | the page's maps (the first drawn, ms) | kB before the first prediction: TF.js / the page | every run: TF.js / the page (ms) |\n|---|---:|---:|---:|---:|---|\n")
	for _, l := range benchLinks {
		page, pageURL := newLinkProxy(t, base, l)
		tf, tfURL := newLinkProxy(t, tfBase, l)
		var pv, tv, maps, pb, tb []float64
		// Round -1 is not timed: the proxies gzip each file once, on its
		// first request (worker.wasm's took about 0.2 s).
		for r := -1; r < runs; r++ {
			for i := range 2 {
				if (i+r)%2 == 0 {
					ms, shown := linkPage(t, page, pageURL+"?model=models/mavis.safetensors")
					n := page.bytesBefore(ms)
					t.Logf("%v, round %d: the page, first prediction %.0f ms, maps shown %.0f ms, %d bytes before the prediction", l, r, ms, shown, n)
					if r >= 0 {
						pv, maps, pb = append(pv, ms), append(maps, shown), append(pb, float64(n))
					}
				} else {
					ctx, cancel, _ := coldBrowser(t)
					tf.begin()
					ms := tfjsOpen(t, ctx, tfURL, "index.html")
					cancel()
					n := tf.bytesBefore(ms)
					t.Logf("%v, round %d: TF.js, first prediction %.0f ms, %d bytes before it", l, r, ms, n)
					if r >= 0 {
						tv, tb = append(tv, ms), append(tb, float64(n))
					}
				}
			}
		}
		var every []string
		for i := range pv {
			every = append(every, fmt.Sprintf("%.0f / %.0f", tv[i], pv[i]))
		}
		fmt.Fprintf(out, "| %v | %.0f / %.0f | %.2fx | %.0f | %.0f / %.0f | %s |\n", l, median(tv), median(pv), median(pv)/median(tv), median(maps), median(tb)/1000, median(pb)/1000, strings.Join(every, ", "))
	}
}

// linkPage loads the page at url through p in a new settled browser and
// returns its first prediction and when its viewer drew the first map
// ("maps shown"), ms since navigation.
func linkPage(t *testing.T, p *linkProxy, url string) (float64, float64) {
	ctx, cancel, _ := coldBrowser(t)
	defer cancel()
	p.begin()
	err := chromedp.Do(ctx, chromedp.Navigate(url))
	if err == nil {
		err = waitJS(ctx, `window.app !== undefined && ((app.state.timings.some((m) => m[0].startsWith('prediction')) && app.state.timings.some((m) => m[0] === 'maps shown')) || app.state.errors.length > 0)`)
	}
	var tm [][]any
	if err == nil {
		tm, err = chromedp.Run(ctx, chromedp.Evaluate[[][]any](`app.state.timings`))
	}
	if err == nil {
		if errs := errorTexts(ctx); len(errs) > 0 {
			err = fmt.Errorf("the page shows errors: %q", errs)
		}
	}
	if err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return timingAt(tm, "prediction"), timingAt(tm, "maps shown")
}

// TestFirstPredictionBytes loads the page with MAVIS cold through a link
// proxy and checks what it fetched before its first prediction. Over a
// network those bytes decide how soon it comes (BENCHMARKS.md, sessions
// 32 and 33), so besides worker.wasm (whose size TestWorkerSize bounds)
// and the model, the page's own files stay small, and the viewer (10 MB of
// wasm) is not among them: it loads once the prediction is shown.
func TestFirstPredictionBytes(t *testing.T) {
	const rest = 150_000 // bytes on the wire, gzipped; 75 kB in session 33, 129 kB with the gallery's thumbnails begun in the prediction's millisecond
	p, u := newLinkProxy(t, site(t), link{200, 5 * time.Millisecond})
	ms, _ := linkPage(t, p, u+"?model=models/mavis.safetensors")
	p.mu.Lock()
	defer p.mu.Unlock()
	n, seen := 0, map[string]bool{}
	for _, a := range p.answers {
		if a.at >= time.Duration(ms*float64(time.Millisecond)) {
			continue
		}
		seen[a.path] = true
		if a.path != "/worker.wasm" && a.path != "/models/mavis.safetensors" {
			n += a.bytes
		}
	}
	if !seen["/worker.wasm"] || !seen["/models/mavis.safetensors"] {
		t.Fatalf("before the first prediction (%.0f ms) the page fetched %v: no worker.wasm or no model through the proxy", ms, seen)
	}
	if n > rest {
		t.Errorf("before the first prediction the page fetched %d bytes besides worker.wasm and the model (%v), over the %d-byte budget: each byte delays the prediction over a network", n, seen, rest)
	}
	for _, f := range []string{"/viewer-2d.html", "/viewer-2d.wasm", "/viewer.html", "/viewer.wasm"} {
		if seen[f] {
			t.Errorf("%s was fetched before the first prediction: it competes with worker.wasm and the model for the network and the CPU", f)
		}
	}
}

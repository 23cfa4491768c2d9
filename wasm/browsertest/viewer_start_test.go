package browsertest

import (
	"bytes"
	"context"
	"image"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestViewerStart: the page's messages reach the viewer from the
// iframe's load on, not from Go's "ready", so the first maps need no
// round trip through the page's thread, which the viewer's own start
// keeps busy. A page that never hears "ready" still shows its maps. The
// iframe says "Starting the viewer…" until the viewer's canvas covers
// it. The page marks when the viewer drew the first map. When the viewer
// cannot run (its wasm missing), the page says why in its place.
func TestViewerStart(t *testing.T) {
	base := site(t)

	t.Run("maps without ready", func(t *testing.T) {
		ctx, cancel := browser(t, 3*time.Minute)
		defer cancel()
		if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `if (window === top) addEventListener('message', (e) => { if (e.data && e.data.type === 'ready') e.stopImmediatePropagation(); }, true)`,
		}); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 1600)); err != nil {
			t.Fatal(err)
		}
		openPage(ctx, t, base)
		if err := waitJS(ctx, `document.getElementById('viewer').contentWindow.viewer !== undefined || app.state.errors.length > 0`); err != nil {
			t.Fatal(err)
		}
		if errs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`app.state.errors`)); len(errs) > 0 {
			t.Fatalf("the page showed errors: %v", errs)
		}
		time.Sleep(1500 * time.Millisecond)
		heard, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`app.state.timings.some((m) => m[0] === 'viewer ready')`))
		if err != nil || heard {
			t.Fatalf("the page heard the viewer's ready (%v): the test's filter did not hold", err)
		}
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('viewer').scrollIntoView({block: 'center'}), true`)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		shot := viewerShot(ctx, t)
		// The frame is dark grey and its text grey until maps are drawn
		// on their colormaps.
		if c := colourful(shot); c < 0.05 {
			t.Errorf("without the page hearing ready, %.1f%% of the viewer's pixels are coloured: no maps drawn", 100*c)
		}
		top, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
			const d = document.getElementById('viewer').contentDocument;
			return d.elementFromPoint(d.documentElement.clientWidth / 2, d.documentElement.clientHeight / 2).tagName;
		})()`))
		if err != nil || top != "CANVAS" {
			t.Errorf("on top at the viewer's centre: %q (%v), want the canvas over the waiting text", top, err)
		}
	})

	// The viewer reports when it drew the first map, at its own time (the
	// message may reach the page's thread much later): the page's "maps
	// shown" mark falls after the first map came from the worker and
	// before the page could read it.
	t.Run("maps shown", func(t *testing.T) {
		ctx, cancel := browser(t, 3*time.Minute)
		defer cancel()
		openPage(ctx, t, base)
		if err := waitJS(ctx, `app.state.timings.some((m) => m[0] === 'maps shown')`); err != nil {
			t.Fatal(err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`(() => {
			const at = (p) => (app.state.timings.find((m) => m[0].startsWith(p)) || ['', -1])[1];
			return {firstMap: at(app.state.methods[0].name + ' '), shown: at('maps shown'), now: performance.now()};
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if f, s, now := got["firstMap"], got["shown"], got["now"]; f < 0 || s < f || s > now+1 {
			t.Errorf("the first map came from the worker at %.0f ms, the viewer drew it at %.0f ms, read at %.0f ms: want them in that order", f, s, now)
		}
	})

	// Its fetch fails at once, before the parser has reached
	// viewer-2d.html's body (the server holds the body back for a second
	// here): viewer.js must still report the failure and say so in the
	// iframe.
	t.Run("viewer-2d.wasm missing", func(t *testing.T) {
		dir := siteCopy(t, "worker.wasm", "kernels.wasm", "forwarder.wasm")
		if err := os.Remove(filepath.Join(dir, "viewer-2d.wasm")); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		url := stallBody(t, serveDir(t, dir), "/viewer-2d.html", time.Second)
		ctx, cancel := browser(t, 3*time.Minute)
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
			t.Fatal(err)
		}
		wctx, wcancel := context.WithTimeout(ctx, time.Minute)
		defer wcancel()
		if err := waitJS(wctx, `window.app !== undefined && app.state.errors.some((e) => e.startsWith('Viewer:'))`); err != nil {
			s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({errors: window.app && app.state.errors, timings: window.app && app.state.timings, src: document.getElementById('viewer').getAttribute('src'), wait: document.getElementById('viewer-wait').textContent, frame: (() => { const d = document.getElementById('viewer').contentDocument; return d && d.readyState + ' ' + d.URL + ' ' + d.body.innerHTML.slice(0, 300); })(), status: document.getElementById('status').textContent})`))
			t.Fatalf("%v; the page: %s", err, s)
		}
		checkStopped(ctx, t, "viewer-2d.wasm: ")
	})
}

// checkStopped checks what a person sees once the viewer has said it
// cannot run: the page's text with the reason (starting with why) in
// place of the frame, which is hidden and says it could not start.
func checkStopped(ctx context.Context, t *testing.T, why string) {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
		const f = document.getElementById('viewer'), w = document.getElementById('viewer-wait');
		return [String(f.checkVisibility()), String(w.checkVisibility()), w.textContent, f.contentDocument.querySelector('.wait').textContent];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != "false" || got[1] != "true" || !strings.HasPrefix(got[2], "The viewer cannot run: "+why) || !strings.Contains(got[3], "could not start") {
		t.Errorf("the viewer stopped: frame shown %s, the page's text shown %s: %q, the frame's text %q; want the frame hidden and the page saying the viewer cannot run: %s…", got[0], got[1], got[2], got[3], why)
	}
}

// stallBody serves site (a URL) through a proxy that sends the file at
// path up to its <body> at once and the rest after d: a page whose
// scripts in <head> run, and whose fetches may end, before its body is
// parsed.
func stallBody(t *testing.T, site, path string, d time.Duration) string {
	t.Helper()
	return frontOf(t, site, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if r.URL.Path != path {
			next.ServeHTTP(w, r)
			return
		}
		_, b, ok := fetchWhole(w, r, site+path[1:])
		if !ok {
			return
		}
		i := bytes.Index(b, []byte("<body"))
		if i < 0 {
			i = len(b)
		}
		w.Write(b[:i])
		w.(http.Flusher).Flush()
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
		w.Write(b[i:])
	})
}

// colourful returns the fraction of img's pixels whose channels spread
// over more than 60 of 255 (not grey).
func colourful(img image.Image) float64 {
	r := img.Bounds()
	if r.Empty() {
		return 0
	}
	n, hit := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			n++
			if max(pr, pg, pb)>>8-min(pr, pg, pb)>>8 > 60 {
				hit++
			}
		}
	}
	return float64(hit) / float64(n)
}

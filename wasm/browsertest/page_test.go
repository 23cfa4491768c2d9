package browsertest

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// recorder keeps every request URL and every console error of a tab.
type recorder struct {
	mu       sync.Mutex
	requests []string
	problems []string
}

func record(ctx context.Context) *recorder {
	r := &recorder{}
	chromedp.Listen(ctx, func(ev any) {
		r.mu.Lock()
		defer r.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			r.requests = append(r.requests, ev.Request.URL)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				r.problems = append(r.problems, "log: "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		case *runtime.EventExceptionThrown:
			r.problems = append(r.problems, "exception: "+ev.ExceptionDetails.Text+" "+describe(ev.ExceptionDetails.Exception))
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, describe(a))
				}
				r.problems = append(r.problems, string(ev.Type)+": "+strings.Join(parts, " "))
			}
		}
	})
	return r
}

// TestSession is one person's session in one tab: the page loads the
// default model and explains the first sample; a broken image and a broken
// model each show a readable error and the page keeps working; the viewer
// draws a known map where it should; fifty explanations keep the worker's
// memory flat; and no request leaves the page's origin throughout.
func TestSession(t *testing.T) {
	base := site(t)
	ctx, cancel := browser(t, 4*time.Minute)
	defer cancel()
	// The proxy that catches requests for other hosts works: a page of
	// another host, in another tab, reaches it (and is refused).
	other, cancelOther := chromedp.NewContext(ctx)
	chromedp.Do(other, chromedp.Navigate("http://proxy-check.invalid/"), chromedp.Sleep(500*time.Millisecond))
	cancelOther()
	if out := outsideRequests(); len(out) == 0 {
		t.Fatalf("a request for another host did not reach the recording proxy")
	}
	before := len(outsideRequests())
	rec := record(ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate(base)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := waitJS(ctx, `document.body.dataset.explained !== undefined || (window.app && app.state.errors.length > 0)`); err != nil {
		t.Fatal(err)
	}
	t.Logf("navigation to four maps: %v", time.Since(start))
	timings, _ := chromedp.Run(ctx, chromedp.Evaluate[[][]any](`app.state.timings`))
	t.Logf("timings (ms since navigation): %v", timings)
	errs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`app.state.errors`))
	if len(errs) > 0 {
		t.Fatalf("the page shows errors: %q", errs)
	}
	type result struct {
		Top     []int
		Methods []string
		Shapes  [][]int
		Lengths []int
		Done    int
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[result](`({
		top: app.state.prediction.top,
		methods: app.state.results.map(r => r.method),
		shapes: app.state.results.map(r => r.shape),
		lengths: app.state.results.map(r => r.map.length),
		done: document.querySelectorAll('.method[data-state="done"]').length,
	})`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"gradcam", "gradcampp", "saliency", "ig"}
	if strings.Join(got.Methods, ",") != strings.Join(want, ",") || got.Done != 4 {
		t.Fatalf("methods %v with %d cards done, want %v and 4", got.Methods, got.Done, want)
	}
	for i, s := range got.Shapes {
		if len(s) != 2 || s[0]*s[1] != got.Lengths[i] || s[0] < 2 {
			t.Errorf("%s: shape %v for %d values", want[i], s, got.Lengths[i])
		}
	}
	if len(got.Top) == 0 {
		t.Errorf("no top-k prediction")
	}
	bars, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#topk .bar').length`))
	if bars != len(got.Top) {
		t.Errorf("%d prediction bars, want %d", bars, len(got.Top))
	}
	t.Run("Downloads", func(t *testing.T) { downloads(ctx, t) })
	t.Run("BrokenImage", func(t *testing.T) { brokenImage(ctx, t) })
	t.Run("BrokenModel", func(t *testing.T) { brokenModel(ctx, t) })
	t.Run("Viewer", func(t *testing.T) { viewerDraws(ctx, t) })
	t.Run("Colormaps", func(t *testing.T) { viewerColours(ctx, t) })
	t.Run("Memory", func(t *testing.T) { memoryFlat(ctx, t) })
	t.Run("OptionsApply", func(t *testing.T) { optionsApply(ctx, t) })
	rec.check(t, base, before)
}

// check fails on requests to another origin and on console errors.
func (r *recorder) check(t *testing.T, base string, before int) {
	t.Helper()
	u, _ := url.Parse(base)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, q := range r.requests {
		p, err := url.Parse(q)
		if err != nil || (p.Scheme != "blob" && p.Scheme != "data" && p.Host != u.Host) {
			t.Errorf("request left the page's origin: %s", q)
		}
	}
	for _, p := range r.problems {
		if strings.Contains(p, "GL Driver Message") {
			continue // SwiftShader's performance notes
		}
		t.Errorf("console: %s", p)
	}
	seen := map[string]bool{}
	var paths []string
	for _, q := range r.requests {
		if p, err := url.Parse(q); err == nil && !seen[p.Path] {
			seen[p.Path] = true
			paths = append(paths, p.Path)
		}
	}
	t.Logf("%d requests, all to %s: %s", len(r.requests), u.Host, strings.Join(paths, " "))
	var out []string
	for _, q := range outsideRequests()[before:] {
		if !strings.Contains(q, "proxy-check.invalid") { // the check's own favicon, late
			out = append(out, q)
		}
	}
	if len(out) > 0 {
		t.Errorf("requests for other hosts reached the proxy: %q", out)
	}
}

func describe(o *runtime.RemoteObject) string {
	if o == nil {
		return ""
	}
	if o.Description != "" {
		return o.Description
	}
	return string(o.Value)
}

// optionsApply: an option that applies only with some values of a choice
// (xai.Param.With: the blur baseline's sigma) is greyed out with the other
// values and left out of the map's description; with a blur baseline it
// can be set and is described.
func optionsApply(ctx context.Context, t *testing.T) {
	type seen struct {
		Disabled bool
		Opacity  []float64 // sigma's label and input, as drawn
		Card     string
		Errors   []string
	}
	explain := func(baseline string) seen {
		t.Helper()
		if err := explainAgain(ctx, `
			const b = document.getElementById('opt-ig-baseline');
			b.value = '`+baseline+`';
			b.dispatchEvent(new Event('change', { bubbles: true }));
			app.state.errors.length = 0; // the broken files' above
			document.getElementById('explain').click()`); err != nil {
			t.Fatal(err)
		}
		s, err := chromedp.Run(ctx, chromedp.Evaluate[seen](`(() => {
			const input = document.getElementById('opt-ig-sigma');
			const label = document.querySelector('label[for="opt-ig-sigma"]');
			return {disabled: input.disabled, opacity: [label, input].map((e) => Number(getComputedStyle(e).opacity)),
			        card: document.querySelector('#method-ig p').textContent, errors: app.state.errors};
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Errors) > 0 {
			t.Fatalf("baseline %s: page errors %q", baseline, s.Errors)
		}
		return s
	}
	if s := explain("blur"); s.Disabled || s.Opacity[0] != 1 || s.Opacity[1] != 1 || !strings.Contains(s.Card, "baseline blur, sigma 5") {
		t.Errorf("IG with a blur baseline: sigma's control disabled %v, drawn at opacity %v, card %q; want it enabled at full opacity and the card to say baseline blur, sigma 5", s.Disabled, s.Opacity, s.Card)
	}
	if s := explain("black"); !s.Disabled || s.Opacity[0] >= 0.6 || s.Opacity[1] >= 0.6 || !strings.Contains(s.Card, "baseline black") || strings.Contains(s.Card, "sigma") {
		t.Errorf("IG with a black baseline: sigma's control disabled %v, drawn at opacity %v, card %q; want it disabled and greyed out, and no sigma on the card", s.Disabled, s.Opacity, s.Card)
	}
}

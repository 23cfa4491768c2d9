package browsertest

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDesktopPanelFollowsMaps: on desktop screens, where the methods panel
// opens beside the maps, the list of methods scrolls in its own box, so
// that the faithfulness panel (below both columns) starts within half a
// screen of the maps' end rather than below the whole list (at 1280 x 900
// it started about 3260 px after them, at y = 4956, before the list had a
// box).
// Every method's checkbox stays in the list, reachable by scrolling it,
// and the Explain again button shows under it.
func TestDesktopPanelFollowsMaps(t *testing.T) {
	base := site(t)
	for _, v := range [][2]int64{{1280, 900}, {1024, 700}} {
		ctx, cancel := browser(t, 2*time.Minute)
		err := chromedp.Do(ctx, chromedp.EmulateViewport(v[0], v[1]), chromedp.Navigate(base))
		if err == nil {
			err = waitJS(ctx, scored)
		}
		type layout struct {
			Errors                          []string
			Open                            bool
			ResultsEnd, PanelTop, Screen    float64
			ListClient, ListScroll, Methods int
			ExplainVisible                  bool
		}
		var l layout
		if err == nil {
			l, err = chromedp.Run(ctx, chromedp.Evaluate[layout](`(() => {
				const top = (e) => e.getBoundingClientRect().top + scrollY;
				const list = document.getElementById('method-list');
				const explain = document.getElementById('explain').getBoundingClientRect();
				const l = list.getBoundingClientRect();
				return {errors: app.state.errors, open: document.getElementById('methods-panel').open,
					resultsEnd: document.querySelector('.results').getBoundingClientRect().bottom + scrollY,
					panelTop: top(document.getElementById('metrics')), screen: innerHeight,
					listClient: list.clientHeight, listScroll: list.scrollHeight,
					methods: list.querySelectorAll('input[type=checkbox]').length,
					explainVisible: explain.height > 0 && explain.top >= l.bottom};
			})()`))
		}
		cancel()
		if err != nil {
			t.Fatalf("%dx%d: %v", v[0], v[1], err)
		}
		if len(l.Errors) > 0 || !l.Open {
			t.Fatalf("%dx%d: errors %q, methods panel open %v", v[0], v[1], l.Errors, l.Open)
		}
		if gap := l.PanelTop - l.ResultsEnd; gap > l.Screen/2 {
			t.Errorf("%dx%d: the faithfulness panel starts at y = %.0f, %.0f px after the maps end (%.0f): more than half a screen (%.0f px)",
				v[0], v[1], l.PanelTop, gap, l.ResultsEnd, l.Screen)
		}
		if l.ListScroll <= l.ListClient || l.Methods < 20 || !l.ExplainVisible {
			t.Errorf("%dx%d: the method list shows %d of %d px, with %d checkboxes; Explain again under it %v",
				v[0], v[1], l.ListClient, l.ListScroll, l.Methods, l.ExplainVisible)
		}
	}
}

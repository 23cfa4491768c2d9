package browsertest

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPhone uses the page on a phone's screen (390 x 844 CSS pixels,
// touch, device scale 2) as a person does. Once the first sample is
// explained and scored: the document is no wider than the screen; the
// faithfulness panel shows one card per method whose every score and
// warning (the conservation gap and sanity check cells among them) lies
// inside the screen, with nothing in it that scrolls sideways; no select
// cuts its text. Then a picture chosen with the file picker (the page at
// its top, as after a visit) brings the prediction and the maps on
// screen: the viewer's top edge is inside the screen once the prediction
// is shown. In the middle of the method list, "Explain again" stays on
// screen, the method boxes are large enough for a finger, and Explain
// again brings the maps on screen.
func TestPhone(t *testing.T) {
	base := site(t)
	ctx, cancel := browser(t, 3*time.Minute)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, phone...),
		chromedp.Navigate(base))
	if err == nil {
		err = waitJS(ctx, scored)
	}
	if err != nil {
		t.Fatal(err)
	}
	if errs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`app.state.errors`)); len(errs) > 0 {
		t.Fatalf("the page shows errors: %q", errs)
	}
	type seen struct {
		Width, Overflow int
		Cells           []string // metric cells (method/metric) outside the screen
		Warn            int      // the gap and sanity cells found
		Rows            int      // methods in the table
		Scrolls         []string // elements that scroll sideways
		Clipped         []string // selects whose text is wider than their box
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[seen](`(() => {
		const clippedSelects = `+clippedSelectsJS+`;
		const out = {width: innerWidth, overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
			cells: [], warn: 0, rows: document.querySelectorAll('#metrics-table tbody tr').length, scrolls: [], clipped: clippedSelects()};
		for (const td of document.querySelectorAll('#metrics-table tbody td')) {
			const r = td.getBoundingClientRect();
			const name = td.closest('tr').dataset.method + '/' + td.dataset.metric;
			if (td.dataset.metric === 'gap' || td.dataset.metric === 'sanity') out.warn++;
			if (r.width === 0 || r.left < 0 || r.right > innerWidth) out.cells.push(name + ' at ' + Math.round(r.left) + '..' + Math.round(r.right));
		}
		for (const el of document.querySelectorAll('body *')) {
			const s = getComputedStyle(el);
			if ((s.overflowX === 'auto' || s.overflowX === 'scroll') && el.scrollWidth > el.clientWidth + 1) {
				out.scrolls.push((el.id || el.className) + ': ' + el.scrollWidth + ' in ' + el.clientWidth);
			}
		}
		return out;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Overflow > 0 {
		t.Errorf("the page is %d CSS pixels wider than the %d-pixel screen", got.Overflow, got.Width)
	}
	if got.Rows < 4 || got.Warn != 2*got.Rows {
		t.Errorf("the metrics table has %d methods and %d gap and sanity cells, want at least 4 and two each", got.Rows, got.Warn)
	}
	if len(got.Cells) > 0 {
		t.Errorf("metric cells outside the %d-pixel screen: %q", got.Width, got.Cells)
	}
	if len(got.Scrolls) > 0 {
		t.Errorf("parts of the page scroll sideways: %q", got.Scrolls)
	}
	if len(got.Clipped) > 0 {
		t.Errorf("selects cut their text: %q", got.Clipped)
	}

	// A picture from the file picker, chosen at the top of the page.
	pic := filepath.Join(t.TempDir(), "grey.png")
	writeGrey(t, pic, 28, 90)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(scrollTo(0, 0), document.getElementById('viewer').getBoundingClientRect().top > innerHeight)`)); err != nil {
		t.Fatal(err)
	}
	if err := choose(ctx, pic); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(ctx, `app.state.image === 'grey.png' && app.state.prediction !== null`); err != nil {
		t.Fatal(err)
	}
	var top []float64
	for range 40 { // a smooth scroll takes a few frames
		top, err = chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[document.getElementById('viewer').getBoundingClientRect().top,
			document.getElementById('topk').getBoundingClientRect().top, innerHeight]`))
		if err != nil {
			t.Fatal(err)
		}
		if top[0] >= 0 && top[0] < top[2]/2 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("after choosing a picture: the viewer's top at %.0f, the prediction's at %.0f of %.0f CSS pixels", top[0], top[1], top[2])
	if !(top[0] >= 0 && top[0] < top[2]/2) {
		t.Errorf("the viewer's top edge is at %.0f after a picture was chosen, want on the upper half of the %.0f-pixel screen", top[0], top[2])
	}
	if !(top[1] >= 0 && top[1] < top[2]) {
		t.Logf("the prediction is off screen (%.0f)", top[1])
	}

	// In the middle of the method list, "Explain again" is on screen, and
	// each method's box is large enough for a finger. (The button waits,
	// disabled, while the picture's maps are computed.)
	if err := waitJS(ctx, `!app.state.busy`); err != nil {
		t.Fatal(err)
	}
	m, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => {
		document.getElementById('methods-panel').open = true;
		document.getElementById('use-scorecam').scrollIntoView({block: 'center'});
		const b = document.getElementById('explain').getBoundingClientRect();
		const c = document.getElementById('use-scorecam').getBoundingClientRect();
		return [b.top, b.bottom, innerHeight, c.width, c.height];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if !(m[0] >= 0 && m[1] <= m[2]) {
		t.Errorf("with Score-CAM's box in the middle of the screen, Explain again is at %.0f..%.0f of %.0f CSS pixels", m[0], m[1], m[2])
	}
	if m[3] < 22 || m[4] < 22 {
		t.Errorf("a method's box is %.0fx%.0f CSS pixels on a touch screen, want at least 22x22", m[3], m[4])
	}
	// Explain again from there brings the maps on screen.
	click(ctx, t, "#explain")
	for range 40 { // a smooth scroll takes a few frames
		top, err = chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[document.getElementById('viewer').getBoundingClientRect().top, 0, innerHeight]`))
		if err != nil {
			t.Fatal(err)
		}
		if top[0] >= 0 && top[0] < top[2]/2 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !(top[0] >= 0 && top[0] < top[2]/2) {
		t.Errorf("after Explain again in the method list the viewer's top edge is at %.0f, want on the upper half of the %.0f-pixel screen", top[0], top[2])
	}
}

// clippedSelectsJS is a JS function expression listing the shown selects
// whose chosen option's text is wider than the room inside them (the box
// less its padding and 20 pixels for the arrow): text cut off.
const clippedSelectsJS = `(() => [...document.querySelectorAll('select')].filter((s) => s.getClientRects().length > 0).flatMap((s) => {
	const cs = getComputedStyle(s);
	const c = document.createElement('canvas').getContext('2d');
	c.font = cs.fontStyle + ' ' + cs.fontWeight + ' ' + cs.fontSize + ' ' + cs.fontFamily;
	const text = s.selectedOptions.length ? s.selectedOptions[0].text : '';
	const room = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 20;
	const w = c.measureText(text).width;
	return w > room ? [s.id + ': "' + text + '" ' + Math.round(w) + ' px in ' + Math.round(room)] : [];
}))`

package browsertest

import (
	"context"
	"image"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestViewerCanvas2D: the page's viewer draws the maps on a 2D canvas, by
// the CPU (viewer-2d.wasm); the Ebitengine build (the page with
// ?viewer=gpu) draws them on the GPU with its shader, and on the same 2D
// canvas in a browser that offers no WebGL 2 (switched off, blocked for
// its graphics driver, or a hardened browser's default). Each of the
// default page's four maps, as its PNG, must equal the GPU's within
// rounding on both 2D paths; on the page's, the screen must show xai's
// colours (viewerDraws, viewerColours), the pointer must leave no trace,
// pointing at a map reads its value and a click shows that map alone; no
// page shows an error.
func TestViewerCanvas2D(t *testing.T) {
	base := site(t)
	// open loads url in ctx and checks which viewer the page started and
	// whether the browser offers WebGL 2.
	open := func(ctx context.Context, t *testing.T, url, viewer string, webgl bool) {
		t.Helper()
		openPage(ctx, t, url)
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]any](`[document.getElementById('viewer').getAttribute('src'),
			!!document.getElementById('viewer').contentDocument.createElement('canvas').getContext('webgl2')]`))
		if err != nil || len(got) != 2 || got[0] != viewer || got[1] != webgl {
			t.Fatalf("the page's viewer and WebGL 2: %v (%v), want %s and %v", got, err, viewer, webgl)
		}
	}
	pngs := func(ctx context.Context, t *testing.T) []image.Image {
		t.Helper()
		var imgs []image.Image
		for i := range 4 {
			img, err := panelPNG(ctx, i)
			if err != nil {
				t.Fatalf("map %d's PNG: %v", i, err)
			}
			imgs = append(imgs, img)
		}
		return imgs
	}
	var gpu []image.Image
	func() {
		ctx, cancel := browser(t, 3*time.Minute)
		defer cancel()
		open(ctx, t, base+"?viewer=gpu", "viewer.html", true)
		gpu = pngs(ctx, t)
	}()
	// samePictures holds the 2D canvas's PNGs to the GPU's.
	samePictures := func(t *testing.T, what string, got []image.Image) {
		t.Helper()
		for i, want := range gpu {
			if got[i].Bounds() != want.Bounds() {
				t.Errorf("%s: map %d's PNG is %v, the GPU's %v", what, i, got[i].Bounds(), want.Bounds())
				continue
			}
			worst, off := 0, 0
			b := want.Bounds()
			for y := b.Min.Y; y < b.Max.Y; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					d := int(channelDiff(got[i], want, x, y))
					worst = max(worst, d)
					if d > 2 {
						off++
					}
				}
			}
			t.Logf("%s: map %d: %v, the CPU's pixels against the GPU's: %d of %d differ by more than 2 of 255, at most %d", what, i, b, off, b.Dx()*b.Dy(), worst)
			if off*1000 > b.Dx()*b.Dy() || worst > 4 {
				t.Errorf("%s: map %d: %d of %d pixels differ from the GPU's by more than 2 of 255, at most by %d; want under 0.1%% and at most 4", what, i, off, b.Dx()*b.Dy(), worst)
			}
		}
	}
	func() {
		ctx, cancel := browserWith(t, 3*time.Minute, chromedp.Flag("disable-3d-apis", true))
		defer cancel()
		open(ctx, t, base+"?viewer=gpu", "viewer.html", false)
		samePictures(t, "the Ebitengine build without WebGL 2", pngs(ctx, t))
		if errs := errorTexts(ctx); len(errs) > 0 {
			t.Errorf("the page with ?viewer=gpu shows errors without WebGL 2: %q", errs)
		}
	}()

	ctx, cancel := browser(t, 3*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 1600)); err != nil {
		t.Fatal(err)
	}
	open(ctx, t, base, "viewer-2d.html", true)
	samePictures(t, "the page", pngs(ctx, t))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('viewer').scrollIntoView({block: 'center'}), true`)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	before := viewerShot(ctx, t)
	if c := colourful(before); c < 0.05 {
		t.Errorf("%.1f%% of the viewer's pixels are coloured: no maps on screen", 100*c)
	}
	// The pointer across every panel and off the viewer: a move paints
	// again only the panels it left and entered, and must leave the screen
	// as it was, with no marker or value behind.
	box, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => {
		const r = document.getElementById('viewer').getBoundingClientRect();
		return [r.left, r.top, r.width, r.height];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 9 {
		x, y := box[0]+box[2]*float64(i%3*2+1)/6, box[1]+box[3]*float64(i/3*2+1)/6
		if err := chromedp.Do(ctx, chromedp.MouseEvent(chromedp.MouseMoved, x, y)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := chromedp.Do(ctx, chromedp.MouseEvent(chromedp.MouseMoved, box[0]+box[2]/2, box[1]+box[3]+40)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	after, changed := viewerShot(ctx, t), 0
	if after.Bounds() != before.Bounds() {
		t.Fatalf("the viewer's shot is %v, then %v", before.Bounds(), after.Bounds())
	}
	for y := after.Bounds().Min.Y; y < after.Bounds().Max.Y; y++ {
		for x := after.Bounds().Min.X; x < after.Bounds().Max.X; x++ {
			if channelDiff(before, after, x, y) > 2 {
				changed++
			}
		}
	}
	if changed > 0 {
		t.Errorf("after the pointer crossed the maps and left, %d of the viewer's pixels differ from before", changed)
	}

	// The first map alone; the pointer at its centre reads its value, and
	// a click there brings every map back.
	if err := setControl(ctx, "view", "0"); err != nil {
		t.Fatal(err)
	}
	at, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => {
		const r = document.getElementById('viewer').getBoundingClientRect();
		return [r.left + r.width / 2, r.top + r.height / 2];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if err := chromedp.Do(ctx, chromedp.MouseEvent(chromedp.MouseMoved, at[0], at[1])); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := waitJS(wctx, `/ at \(\d+, \d+\) of \d+×\d+: /.test(document.getElementById('hover').textContent)`); err != nil {
		t.Errorf("the pointer on a map: %q, want its value there", evalString(ctx, `document.getElementById('hover').textContent`))
	}
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(at[0], at[1])); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(wctx, `document.getElementById('view').value === 'grid'`); err != nil {
		t.Errorf("a click on the map shown alone: the view is %q, want every map (grid)", evalString(ctx, `document.getElementById('view').value`))
	}
	t.Run("Viewer", func(t *testing.T) { viewerDraws(ctx, t) })
	t.Run("Colormaps", func(t *testing.T) { viewerColours(ctx, t) })
	if errs := errorTexts(ctx); len(errs) > 0 {
		t.Errorf("the page shows errors: %q", errs)
	}
}

package browsertest

import (
	"context"
	"image"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestViewerWithoutWebGL: a browser that offers no WebGL 2 (switched off,
// blocked for its graphics driver, or a hardened browser's default) gets
// the maps all the same, drawn by the CPU on a 2D canvas. Each of the
// default page's four maps, as its PNG, must equal the GPU's (Ebitengine
// with the shader, in a browser with WebGL 2) within rounding; the screen
// must show xai's colours (viewerDraws, viewerColours); pointing at a map
// reads its value, a click shows that map alone; the page shows no error.
func TestViewerWithoutWebGL(t *testing.T) {
	base := site(t)
	gpu := make([]image.Image, 4)
	func() {
		ctx, cancel := browser(t, 3*time.Minute)
		defer cancel()
		openPage(ctx, t, base)
		for i := range gpu {
			img, err := panelPNG(ctx, i)
			if err != nil {
				t.Fatalf("map %d's PNG with WebGL 2: %v", i, err)
			}
			gpu[i] = img
		}
	}()

	ctx, cancel := browserWith(t, 3*time.Minute, chromedp.Flag("disable-3d-apis", true))
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 1600)); err != nil {
		t.Fatal(err)
	}
	openPage(ctx, t, base)
	gl, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.getElementById('viewer').contentDocument.createElement('canvas').getContext('webgl2')`))
	if err != nil || gl {
		t.Fatalf("the browser started with --disable-3d-apis gives WebGL 2 (%v): the test cannot run", err)
	}
	for i, want := range gpu {
		got, err := panelPNG(ctx, i)
		if err != nil {
			t.Fatalf("map %d's PNG without WebGL: %v", i, err)
		}
		if got.Bounds() != want.Bounds() {
			t.Errorf("map %d's PNG is %v without WebGL, %v with it", i, got.Bounds(), want.Bounds())
			continue
		}
		worst, off := 0, 0
		b := got.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				d := int(channelDiff(got, want, x, y))
				worst = max(worst, d)
				if d > 2 {
					off++
				}
			}
		}
		t.Logf("map %d: %v, the CPU's pixels against the GPU's: %d of %d differ by more than 2 of 255, at most %d", i, b, off, b.Dx()*b.Dy(), worst)
		if off*1000 > b.Dx()*b.Dy() || worst > 4 {
			t.Errorf("map %d without WebGL: %d of %d pixels differ from the GPU's by more than 2 of 255, at most by %d; want under 0.1%% and at most 4", i, off, b.Dx()*b.Dy(), worst)
		}
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('viewer').scrollIntoView({block: 'center'}), true`)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	before := viewerShot(ctx, t)
	if c := colourful(before); c < 0.05 {
		t.Errorf("without WebGL, %.1f%% of the viewer's pixels are coloured: no maps on screen", 100*c)
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
		t.Errorf("the pointer on a map without WebGL: %q, want its value there", evalString(ctx, `document.getElementById('hover').textContent`))
	}
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(at[0], at[1])); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(wctx, `document.getElementById('view').value === 'grid'`); err != nil {
		t.Errorf("a click on the map shown alone without WebGL: the view is %q, want every map (grid)", evalString(ctx, `document.getElementById('view').value`))
	}
	t.Run("Viewer", func(t *testing.T) { viewerDraws(ctx, t) })
	t.Run("Colormaps", func(t *testing.T) { viewerColours(ctx, t) })
	if errs := errorTexts(ctx); len(errs) > 0 {
		t.Errorf("the page shows errors without WebGL: %q", errs)
	}
}

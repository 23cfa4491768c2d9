package browsertest

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestIdleViewer: once the maps are shown and scored, the page costs its own
// thread almost nothing, and the viewer still draws after a resize and
// answers a click; with the page's viewer (the 2D canvas, which draws on
// a timer after a change) and with Ebitengine's (?viewer=gpu).
//
// Ebitengine runs in its minimum-FPS mode: Update and Draw run
// on input, on resizing and when a message schedules a frame, and its frame
// loop waits in www/viewer.js instead of ticking on every animation frame.
// While it ticked, an idle page took 130-150 ms of its thread per second
// in this headless Chromium (a trace: the animation-frame callbacks, the
// layouts they forced and a compositor commit per frame), and more while
// the workers computed, whose cores it shared. The waiting loop must not
// keep the viewer from answering: a click on a map shows that map alone,
// and the page's "Show" select follows.
func TestIdleViewer(t *testing.T) {
	base := site(t)
	for _, v := range []struct{ name, query string }{{"2D canvas", ""}, {"Ebitengine", "&viewer=gpu"}} {
		t.Run(v.name, func(t *testing.T) {
			ctx, cancel := browser(t, 4*time.Minute)
			defer cancel()
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 2400), chromedp.Navigate(base+"?model=models/mavis.safetensors"+v.query)); err != nil {
				t.Fatal(err)
			}
			if err := waitJS(ctx, scored); err != nil {
				t.Fatal(err)
			}
			if errs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`app.state.errors`)); len(errs) > 0 {
				t.Fatalf("the page showed errors: %v", errs)
			}
			if err := waitJS(ctx, `app.state.timings.some((m) => m[0] === 'viewer ready')`); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second)
			const window = 3 * time.Second
			c0 := pageThreadCPU()
			time.Sleep(window)
			idle := pageThreadCPU() - c0
			t.Logf("the idle page's thread: %v of CPU in %v", idle, window)
			if idle > window/20 {
				t.Errorf("the idle page's thread used %v of CPU in %v, want at most %v (5%% of a core): something ticks while nothing changes", idle, window, window/20)
			}

			// Resized (a window, a phone turned), the viewer draws the maps at the
			// new size without waiting for a message: the frame it shows then is
			// the one the next message's frame draws again.
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(1000, 760)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1500 * time.Millisecond)
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('viewer').scrollIntoView({block: 'center'}), true`)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			resized := viewerShot(ctx, t)
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('opacity').dispatchEvent(new Event('input'))`)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1500 * time.Millisecond)
			again := viewerShot(ctx, t)
			if d := differ(resized, again); d > 0.02 {
				t.Errorf("after a resize the viewer showed a frame that differs from its next one in %.0f%% of the pixels: it did not draw at the new size", 100*d)
			}
			// The first panel's label (white text, rendered by the frame's 2D
			// canvas) is in the strip above it, the frame's top 18 pixels.
			b := again.Bounds()
			text := 0
			for y := b.Min.Y; y < b.Min.Y+18; y++ {
				for x := b.Min.X; x < b.Min.X+b.Dx()/2; x++ {
					if r, g, bl, _ := again.At(x, y).RGBA(); r>>8 > 180 && g>>8 > 180 && bl>>8 > 180 {
						text++
					}
				}
			}
			if text < 20 {
				t.Errorf("the first panel's label strip has %d white pixels, want the label's text", text)
			}

			// A click on the first map (the grid's top left) shows it alone.
			pt, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => {
					const v = document.getElementById('viewer');
					v.scrollIntoView({block: 'center'});
					const r = v.getBoundingClientRect();
					return [r.left + r.width * 0.25, r.top + r.height * 0.3];
				})()`))
			if err != nil {
				t.Fatal(err)
			}
			if view, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('view').value`)); view != "grid" {
				t.Fatalf("the Show select says %q before the click, want grid", view)
			}
			if err := chromedp.Do(ctx, chromedp.MouseClickXY(pt[0], pt[1])); err != nil {
				t.Fatal(err)
			}
			if err := waitJS(ctx, `document.getElementById('view').value === '0'`); err != nil {
				view, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('view').value`))
				t.Errorf("after a click on the first map the Show select says %q, want 0 (that map alone): %v", view, err)
			}
		})
	}
}

// viewerShot is the viewer's frame, cut from a screenshot of the page's
// viewport (an element screenshot changes the page's layout while it
// captures, and so the viewer's size).
func viewerShot(ctx context.Context, t *testing.T) image.Image {
	t.Helper()
	r, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => {
		const r = document.getElementById('viewer').getBoundingClientRect();
		return [r.left, r.top, r.right, r.bottom, devicePixelRatio];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	k := r[4]
	cut := image.Rect(int(r[0]*k)+1, int(r[1]*k)+1, int(r[2]*k)-1, int(r[3]*k)-1).Intersect(img.Bounds())
	return img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(cut)
}

// channelDiff is the largest difference between the red, green and blue
// of a and b at (x, y), of 255.
func channelDiff(a, b image.Image, x, y int) uint32 {
	r1, g1, b1, _ := a.At(x, y).RGBA()
	r2, g2, b2, _ := b.At(x, y).RGBA()
	return max(absDiff(r1, r2), absDiff(g1, g2), absDiff(b1, b2)) >> 8
}

// differ returns the fraction of pixels of a and b (the same size, else 1)
// whose red, green or blue differ by more than 40.
func differ(a, b image.Image) float64 {
	if a.Bounds() != b.Bounds() || a.Bounds().Empty() {
		return 1
	}
	n, bad := 0, 0
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			n++
			if channelDiff(a, b, x, y) > 40 {
				bad++
			}
		}
	}
	return float64(bad) / float64(n)
}

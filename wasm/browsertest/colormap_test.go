package browsertest

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/mavis-xai/mavis/xai"
)

// viewerColours draws, for every colormap the worker sent with the model
// info (xai's, as lookup tables), a 16x16 map whose column j holds j/15
// (an ordinary map on the colormap, scale [0, 1]) or 2j/15 − 1 (a signed
// map on a diverging colormap, scale [−1, 1]: display level 0.5 + 0.5 v =
// j/15 too), alone at full opacity, and reads the screen: column j must
// show xai's colour at the display level the viewer stores, 17j/255 (an
// 8-bit level), within 3 of 255 per channel.
func viewerColours(ctx context.Context, t *testing.T) {
	type cm struct {
		Name      string
		Diverging bool
	}
	cms, err := chromedp.Run(ctx, chromedp.Evaluate[[]cm](`app.state.model.colormaps.map((c) => ({name: c.name, diverging: c.diverging}))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(cms) < 2 {
		t.Fatalf("the model info has %d colormaps", len(cms))
	}
	// The pointer on the viewer, above the panel (on its label strip): the
	// hover marker would cover a column.
	corner, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => {
		const v = document.getElementById('viewer');
		v.scrollIntoView({block: 'start'});
		const r = v.getBoundingClientRect();
		return [r.left + r.width / 2, r.top + 3];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.MouseEvent(chromedp.MouseMoved, corner[0], corner[1])); err != nil {
		t.Fatal(err)
	}
	for _, c := range cms {
		want, err := xai.ColormapByName(c.Name)
		if err != nil {
			t.Fatalf("the page offers %s: %v", c.Name, err)
		}
		style := `{opacity: 1, layout: 'single', selected: 0}`
		value, lo := `x / 15`, `0`
		if c.Diverging {
			value, lo = `2 * x / 15 - 1`, `-1`
		}
		setup := `(() => {
			const f = document.getElementById('viewer').contentWindow;
			const rgba = new Uint8Array(16*16*4).fill(128);
			const map = new Float32Array(16*16);
			for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) map[y*16+x] = ` + value + `;
			f.postMessage({type: 'image', rgba, width: 16, height: 16}, location.origin);
			f.postMessage({type: 'map', slot: 0, label: 'colours', map, width: 16, height: 16, lo: ` + lo + `, hi: 1,
				colormap: '` + c.Name + `', signed: ` + strconv.FormatBool(c.Diverging) + `}, location.origin);
			f.postMessage({type: 'style', style: ` + style + `}, location.origin);
			return true;
		})()`
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](setup)); err != nil {
			t.Fatal(err)
		}
		var bad []string
		for range 15 { // the viewer applies messages at its next frame
			shot, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.ID("viewer")))
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(shot))
			if err != nil {
				t.Fatal(err)
			}
			bad = bad[:0]
			for j := range 16 {
				w := want.At(float64(17*j) / 255)
				exp := [3]float64{float64(w.R), float64(w.G), float64(w.B)}
				if got := probe(img, (float64(j)+0.5)/16); !near(got, exp, 3) {
					bad = append(bad, "column "+strconv.Itoa(j)+": "+rgbText(got)+", xai "+rgbText(exp))
				}
			}
			if len(bad) == 0 {
				break
			}
			chromedp.Do(ctx, chromedp.Sleep(150e6))
		}
		if len(bad) > 0 {
			t.Errorf("%s: the viewer's colours differ from xai's: %q", c.Name, bad)
		}
	}
}

func rgbText(c [3]float64) string {
	return "(" + strconv.FormatFloat(c[0], 'f', 1, 64) + ", " + strconv.FormatFloat(c[1], 'f', 1, 64) + ", " + strconv.FormatFloat(c[2], 'f', 1, 64) + ")"
}

// blank reports whether img is nearly one colour: fewer than 1% of its
// pixels differ from the first by more than 8 in a channel.
func blank(img image.Image) bool {
	b := img.Bounds()
	r0, g0, b0, _ := img.At(b.Min.X, b.Min.Y).RGBA()
	differ := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if absDiff(r, r0) > 8<<8 || absDiff(g, g0) > 8<<8 || absDiff(bl, b0) > 8<<8 {
				differ++
			}
		}
	}
	return differ*100 < b.Dx()*b.Dy()
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

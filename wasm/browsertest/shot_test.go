package browsertest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mavis-xai/mavis/xai"
)

// TestScreenshots loads the page on a desktop and on a phone-sized screen
// and checks what a person sees once the first sample is explained and
// scored: no error; the top prediction reads the class and probability
// native xai gives for the same model and image; one finished card per
// default method of the registry; every map panel of the viewer shows its
// map over the image; the viewer, as captured, is not blank; nothing is
// wider than the screen; every row of map cards is as full as the first
// (four maps: 2x2 or 4 in a row, never a lone card); and no select cuts
// its text. With MAVIS_SCREENSHOTS set to a folder it saves
// the captures there, for a person to look at:
//
//	MAVIS_SCREENSHOTS=/tmp/shots go test ./wasm/browsertest -run Screenshots
func TestScreenshots(t *testing.T) {
	base := site(t)
	want := nativeFirst(t)
	for _, s := range []struct {
		name string
		w, h int64
		opts []chromedp.EmulateViewportOption
	}{
		// Tall viewports, so that the whole page is drawn as it stands
		// (a full-page capture resizes the viewport, and the viewer has not
		// repainted at the new size when the capture is taken).
		{"desktop", 1280, 2400, nil},
		{"phone", 390, 4200, phone},
	} {
		t.Run(s.name, func(t *testing.T) {
			ctx, cancel := browser(t, 3*time.Minute)
			defer cancel()
			err := chromedp.Do(ctx, chromedp.EmulateViewport(s.w, s.h, s.opts...), chromedp.Navigate(base))
			if err == nil {
				err = waitJS(ctx, scored)
			}
			if err != nil {
				t.Fatal(err)
			}
			if errs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`app.state.errors`)); len(errs) > 0 {
				t.Fatalf("the page shows errors: %q", errs)
			}
			// The viewer repaints at its next frame after the last map.
			time.Sleep(500 * time.Millisecond)
			shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatal(err)
			}
			saveShot(t, s.name, shot)
			type seen struct {
				Top, Pct   string
				Cards      []string
				Done       int
				Overflow   int // document width beyond the screen, in CSS pixels
				Viewer     []float64
				Scale      float64
				Background string
				CardRows   []int // cards per row, top to bottom
				Clipped    []string
			}
			got, err := chromedp.Run(ctx, chromedp.Evaluate[seen](`(() => {
				const clippedSelects = `+clippedSelectsJS+`;
				const rows = new Map();
				for (const c of document.querySelectorAll('#methods .method')) {
					const top = Math.round(c.getBoundingClientRect().top);
					rows.set(top, (rows.get(top) || 0) + 1);
				}
				const first = document.querySelector('#topk li');
				const r = document.getElementById('viewer').getBoundingClientRect();
				return {
					top: first.querySelector('.label').textContent, pct: first.querySelector('.pct').textContent,
					cards: [...document.querySelectorAll('#methods .method')].map((c) => c.id),
					done: document.querySelectorAll('#methods .method[data-state="done"]').length,
					overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
					viewer: [r.left + scrollX, r.top + scrollY, r.width, r.height], scale: devicePixelRatio,
					cardRows: [...rows.keys()].sort((a, b) => a - b).map((k) => rows.get(k)), clipped: clippedSelects(),
				};
			})()`))
			if err != nil {
				t.Fatal(err)
			}
			if got.Top != want.name || got.Pct != want.pct {
				t.Errorf("top prediction %q %s, want %q %s (native xai)", got.Top, got.Pct, want.name, want.pct)
			}
			var cards []string
			for _, m := range xai.DefaultMethods() {
				cards = append(cards, "method-"+m)
			}
			if strings.Join(got.Cards, ",") != strings.Join(cards, ",") || got.Done != len(cards) {
				t.Errorf("cards %v, %d done; want %v, all done", got.Cards, got.Done, cards)
			}
			if got.Overflow > 0 {
				t.Errorf("the page is %d CSS pixels wider than the %d-pixel screen", got.Overflow, s.w)
			}
			for _, n := range got.CardRows {
				if n != got.CardRows[0] {
					t.Errorf("map cards per row %v: a row less full than the first", got.CardRows)
					break
				}
			}
			if len(got.Clipped) > 0 {
				t.Errorf("selects cut their text: %q", got.Clipped)
			}
			full, err := png.Decode(bytes.NewReader(shot))
			if err != nil {
				t.Fatal(err)
			}
			k := got.Scale
			v := image.Rect(int(got.Viewer[0]*k), int(got.Viewer[1]*k), int((got.Viewer[0]+got.Viewer[2])*k), int((got.Viewer[1]+got.Viewer[3])*k))
			frame := full.(interface {
				SubImage(image.Rectangle) image.Image
			}).SubImage(v)
			if v.Dx() < 100 || blank(frame) {
				t.Errorf("the viewer (%v of the capture) is blank", v)
			}
			if f := backgroundShare(frame); f > 0.5 {
				t.Errorf("%.0f%% of the viewer is its background: the maps fill too little of it", 100*f)
			}
			mapsShown(ctx, t, len(cards))
		})
	}
}

// first is the page's first sample as native xai classifies it.
type first struct{ name, pct string }

// nativeFirst classifies the site's first sample with its default model,
// natively.
func nativeFirst(t *testing.T) first {
	t.Helper()
	www := filepath.Join(siteDir, "www")
	var samples []struct{ File string }
	b, err := os.ReadFile(filepath.Join(www, "samples", "index.json"))
	if err == nil {
		err = json.Unmarshal(b, &samples)
	}
	if err != nil || len(samples) == 0 {
		t.Fatalf("samples/index.json: %v (%d samples)", err, len(samples))
	}
	m, x, _ := nativeInput(t, filepath.Join(www, "models", "fashion.safetensors"), filepath.Join(www, "samples", samples[0].File))
	p, err := xai.New(m).Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	return first{m.Classes[p.Class].Name, fmt.Sprintf("%.1f%%", 100*p.Probs[p.Class])}
}

// mapsShown asks the viewer for each of its n panels (as the PNG download
// does) and checks that each shows a map over the image: at least a tenth
// of its pixels differ from the bare image (the model's view of the input,
// upscaled) by more than 8 in a channel.
func mapsShown(ctx context.Context, t *testing.T, n int) {
	t.Helper()
	type view struct {
		W, H int
		View string // base64 RGBA
	}
	v, err := chromedp.Run(ctx, chromedp.Evaluate[view](`(() => {
		const p = app.state.prediction;
		let s = '';
		for (const b of p.view) s += String.fromCharCode(b);
		return {w: p.input[1], h: p.input[0], view: btoa(s)};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	rgba, _ := base64.StdEncoding.DecodeString(v.View)
	for i := range n {
		b64, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`new Promise((resolve) => {
			const f = document.getElementById('viewer').contentWindow;
			const on = (e) => {
				if (e.source !== f || e.data.type !== 'png' || e.data.slot !== %d) return;
				window.removeEventListener('message', on);
				let s = '';
				for (const b of e.data.png || []) s += String.fromCharCode(b);
				resolve(btoa(s));
			};
			window.addEventListener('message', on);
			f.postMessage({type: 'png', slot: %d}, location.origin);
		})`, i, i), chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := base64.StdEncoding.DecodeString(b64)
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("panel %d: %v", i, err)
		}
		bd := img.Bounds()
		k := bd.Dx() / v.W
		if k < 1 || bd.Dy() != k*v.H {
			t.Fatalf("panel %d is %v for a %dx%d image", i, bd, v.W, v.H)
		}
		differ := 0
		for y := range bd.Dy() {
			for x := range bd.Dx() {
				r, g, bl, _ := img.At(bd.Min.X+x, bd.Min.Y+y).RGBA()
				o := 4 * ((y/k)*v.W + x/k)
				if absDiff(r>>8, uint32(rgba[o])) > 8 || absDiff(g>>8, uint32(rgba[o+1])) > 8 || absDiff(bl>>8, uint32(rgba[o+2])) > 8 {
					differ++
				}
			}
		}
		if differ*10 < bd.Dx()*bd.Dy() {
			t.Errorf("panel %d shows no map: %d of %d pixels differ from the bare image", i, differ, bd.Dx()*bd.Dy())
		}
	}
}

// backgroundShare is the fraction of img's pixels in the viewer's
// background colour (#161b22, wasm/viewer/game.go).
func backgroundShare(img image.Image) float64 {
	b := img.Bounds()
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if absDiff(r>>8, 0x16) <= 2 && absDiff(g>>8, 0x1b) <= 2 && absDiff(bl>>8, 0x22) <= 2 {
				n++
			}
		}
	}
	return float64(n) / float64(b.Dx()*b.Dy())
}

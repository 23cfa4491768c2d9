package browsertest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mavis-xai/mavis/nn"
)

// TestResizeLikeNative: the page's worker resizes a picture to the model's
// input on the SIMD128 kernels (nn/image_resize.go), the commands with
// nfnt/resize; the model sees the same bytes either way. MAVIS in the
// page, PNGs made here (a PNG decodes to the same pixels in both): a photo
// of the samples' size shrunk, a small one enlarged, a wide strip, one
// with transparent pixels (alpha 0 or 255, which a canvas keeps exactly),
// and two over a megapixel, which the worker reads a band of rows at a
// time (the second transparent in part, in five bands).
// The worker's view of its input (Prediction.view: MAVIS takes 0..255
// values, so it is the input itself) must equal nn.ImageInput's natively.
func TestResizeLikeNative(t *testing.T) {
	base := site(t)
	m, err := nn.Load(filepath.Join(siteDir, "www", "models", "mavis.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := browser(t, 3*time.Minute)
	defer cancel()
	openLoaded(ctx, t, base+"?model=models/mavis.safetensors&autorun=0")
	kernels, err := chromedp.Run(ctx, chromedp.Evaluate[string](`app.rpc('memory', []).then((m) => m.kernels)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if kernels != "simd128 (interface 3)" {
		t.Fatalf("the page's kernels are %q, want the SIMD128 ones", kernels)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		w, h        int
		transparent bool
	}{{451, 300, false}, {150, 97, false}, {1000, 30, false}, {97, 61, true}, {1600, 900, false}, {2500, 1700, true}} {
		img := image.NewNRGBA(image.Rect(0, 0, c.w, c.h))
		for y := range c.h {
			for x := range c.w {
				p := img.Pix[img.PixOffset(x, y):]
				// a smooth picture with noise, as a photo
				p[0], p[1], p[2], p[3] = uint8(x*255/c.w+r.IntN(40)), uint8(y*255/c.h+r.IntN(40)), uint8(r.IntN(256)), 255
				if c.transparent && (x+y)%5 == 0 {
					p[3] = 0
				}
			}
		}
		var file bytes.Buffer
		if err := png.Encode(&file, img); err != nil {
			t.Fatal(err)
		}
		x, _ := nativeImage(t, m, file.Bytes())
		view, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(async () => {
			const b = Uint8Array.from(atob(%q), (c) => c.charCodeAt(0));
			const v = (await app.rpc('predict', [new Blob([b])])).view;
			let s = '';
			for (let i = 0; i < v.length; i += 0x8000) s += String.fromCharCode.apply(null, v.subarray(i, i + 0x8000));
			return btoa(s);
		})()`, base64.StdEncoding.EncodeToString(file.Bytes())), chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		got, err := base64.StdEncoding.DecodeString(view)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(x.Data)/3*4 {
			t.Fatalf("%dx%d: a view of %d bytes, want %d", c.w, c.h, len(got), len(x.Data)/3*4)
		}
		diff := 0
		for p := range len(got) / 4 {
			for ch := range 3 {
				if float32(got[4*p+ch]) != x.Data[3*p+ch] {
					diff++
				}
			}
		}
		if diff > 0 {
			t.Errorf("%dx%d (transparent pixels: %v): %d of %d input values differ from the native resize's", c.w, c.h, c.transparent, diff, len(x.Data))
		}
	}
}

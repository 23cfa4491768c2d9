package browsertest

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mavis-xai/mavis/internal/exiftest"
	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/nn/imagefile"
	"github.com/mavis-xai/mavis/xai"
)

// TestExifOrientation: a picture whose EXIF orientation says how to turn it
// (as phones store most photos) is classified the same in the page, where
// Chromium turns it as it decodes, and natively, where imagefile.Decode
// does: all eight orientations, in a PNG (an eXIf chunk) and a colour JPEG
// (an APP1 Exif segment). The PNG's probabilities agree to 1e-4; the
// JPEG's to 0.01 (0.0045 at most when written), as Chromium's and Go's
// inverse DCTs round differently (TestDecodeLikeChromium). Every
// orientation moves some probability by 0.05 or more from orientation 1's,
// so a picture turned wrong, or not at all, fails.
func TestExifOrientation(t *testing.T) {
	base := site(t)
	www := filepath.Join(siteDir, "www")
	f, err := os.Open(filepath.Join(www, "samples", "sneaker.png"))
	if err != nil {
		t.Fatal(err)
	}
	stored, err := png.Decode(f) // as stored: image/png knows no orientation
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	colour := image.NewRGBA(stored.Bounds())
	draw.Draw(colour, colour.Rect, stored, image.Point{}, draw.Src)
	var pngBuf, jpegBuf bytes.Buffer
	if err := png.Encode(&pngBuf, stored); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&jpegBuf, colour, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	m, err := nn.Load(filepath.Join(www, "models", "fashion.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	native := func(file []byte) []float64 {
		x, _ := nativeImage(t, m, file)
		p, err := xai.New(m).Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		return p.Probs
	}

	ctx, cancel := browser(t, 3*time.Minute)
	defer cancel()
	openPage(ctx, t, base)
	page := func(file []byte) []float64 {
		p, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](fmt.Sprintf(`(async () => {
			const b = Uint8Array.from(atob(%q), (c) => c.charCodeAt(0));
			return (await app.rpc('predict', [new Blob([b])])).probs;
		})()`, base64.StdEncoding.EncodeToString(file)), chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	var nativeJPEG, pageJPEG [9][]float64
	for o := 1; o <= 8; o++ {
		tiff := exiftest.TIFF(binary.LittleEndian, 3, 1, uint16(o))
		file := exiftest.PNG(pngBuf.Bytes(), tiff, false)
		want, got := native(file), page(file)
		if d := maxDiff(got, want); d > 1e-4 {
			t.Errorf("PNG, orientation %d: the page's probabilities %.4f, natively %.4f (max difference %.2g)", o, got, want, d)
		}
		file = exiftest.JPEG(jpegBuf.Bytes(), append([]byte("Exif\x00\x00"), tiff...))
		nativeJPEG[o], pageJPEG[o] = native(file), page(file)
	}
	for o := 1; o <= 8; o++ {
		if d := maxDiff(pageJPEG[o], nativeJPEG[o]); d > 0.01 {
			t.Errorf("JPEG, orientation %d: the page's probabilities %.4f, natively %.4f (max difference %.2g)", o, pageJPEG[o], nativeJPEG[o], d)
		}
	}
	// The checks mean something only if the orientations are told apart.
	for o := 2; o <= 8; o++ {
		if d := maxDiff(nativeJPEG[o], nativeJPEG[1]); d < 0.05 {
			t.Errorf("orientation %d classifies the sneaker as orientation 1 does (max difference %.3f): pick a less symmetric picture", o, d)
		}
	}
}

func maxDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

// TestDecodeLikeChromium: the commands decode a photo to the pixels the
// page decodes it to. The page's worker decodes with createImageBitmap (its
// options: no colour management, straight alpha), that is with Chromium's
// libjpeg-turbo and libwebp, and draws the picture on a canvas to read it;
// imagefile converts a JPEG's and a lossy WebP's YCbCr as those decoders do
// (nn/imagefile/ycc.go, webp.go). Compared as the model sees a pixel, over
// white:
//   - JPEGs (the MAVIS samples, 4:2:0 photos, and nn/imagefile's test files
//     of every chroma ratio): at most 0.1 levels apart on average and 4 in
//     all, the two inverse DCTs' rounding;
//   - lossy WebPs (nn/imagefile's, one with alpha, and chelsea.jpg as
//     Chromium's encoder writes it): the same, to the level but for the
//     canvas's premultiplied storage of translucent pixels (at most 1).
func TestDecodeLikeChromium(t *testing.T) {
	site(t)
	files := map[string][]byte{}
	for _, glob := range []string{
		filepath.Join(siteDir, "www", "samples", "mavis", "*.jpg"),
		filepath.Join("..", "..", "nn", "imagefile", "testdata", "*.jpg"),
		filepath.Join("..", "..", "nn", "imagefile", "testdata", "*.webp"),
	} {
		names, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				t.Fatal(err)
			}
			files[filepath.Base(n)] = b
		}
	}
	if len(files) < 13 {
		t.Fatalf("%d files found, want the MAVIS samples and nn/imagefile's test files", len(files))
	}
	ctx, cancel := browser(t, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	const b64 = `(u) => { let s = ''; for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode.apply(null, u.subarray(i, i + 0x8000)); return btoa(s); }`
	webp, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(async () => {
		const b = Uint8Array.from(atob(%q), (c) => c.charCodeAt(0));
		const bmp = await createImageBitmap(new Blob([b]));
		const c = new OffscreenCanvas(bmp.width, bmp.height);
		c.getContext('2d').drawImage(bmp, 0, 0);
		return (%s)(new Uint8Array(await (await c.convertToBlob({type: 'image/webp', quality: 0.9})).arrayBuffer()));
	})()`, base64.StdEncoding.EncodeToString(files["chelsea.jpg"]), b64), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if files["chelsea.webp"], err = base64.StdEncoding.DecodeString(webp); err != nil {
		t.Fatal(err)
	}
	for name, raw := range files {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(async () => {
			const b = Uint8Array.from(atob(%q), (c) => c.charCodeAt(0));
			const bmp = await createImageBitmap(new Blob([b]), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
			const c = new OffscreenCanvas(bmp.width, bmp.height);
			const g = c.getContext('2d', { willReadFrequently: true });
			g.drawImage(bmp, 0, 0);
			return (%s)(g.getImageData(0, 0, bmp.width, bmp.height).data);
		})()`, base64.StdEncoding.EncodeToString(raw), b64), chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		chromium, err := base64.StdEncoding.DecodeString(got)
		if err != nil {
			t.Fatal(err)
		}
		img, err := imagefile.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		b := img.Bounds()
		if len(chromium) != 4*b.Dx()*b.Dy() {
			t.Fatalf("%s: Chromium decoded %d bytes, imagefile %v", name, len(chromium), b)
		}
		straight := image.NewNRGBA(b)
		draw.Draw(straight, b, img, b.Min, draw.Src)
		overWhite := func(c, a byte) int { return (int(c)*int(a) + 255*(255-int(a)) + 127) / 255 }
		sum, most := 0, 0
		for i := 0; i < len(chromium); i += 4 {
			for c := range 3 {
				d := overWhite(straight.Pix[i+c], straight.Pix[i+3]) - overWhite(chromium[i+c], chromium[i+3])
				d = max(d, -d)
				sum += d
				most = max(most, d)
			}
		}
		mean := float64(sum) / float64(3*b.Dx()*b.Dy())
		t.Logf("%s: %.3f levels from Chromium's decode on average, %d at most", name, mean, most)
		limit := 4
		if strings.HasSuffix(name, ".webp") {
			limit = 1
		}
		if mean > 0.1 || most > limit {
			t.Errorf("%s: %.3f levels from Chromium's decode on average, %d at most; want at most 0.1 and %d", name, mean, most, limit)
		}
	}
}

// TestImageSizeLimits: the page takes a phone's panorama (12000x3000, 36
// megapixels) and its largest photo (50 megapixels) and refuses, with a
// message that gives its limits, a picture over 50 megapixels and one
// wider than a canvas can be (32767 pixels), as a person chooses them.
func TestImageSizeLimits(t *testing.T) {
	base := site(t)
	dir := t.TempDir()
	write := func(name string, w, h int, orientation uint16) string {
		img := image.NewGray(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				img.Pix[y*img.Stride+x] = uint8((x*7 + y*3) % 256)
			}
		}
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 50}); err != nil {
			t.Fatal(err)
		}
		file := b.Bytes()
		if orientation != 0 {
			file = exiftest.JPEG(file, append([]byte("Exif\x00\x00"), exiftest.TIFF(binary.LittleEndian, 3, 1, orientation)...))
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, file, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ctx, cancel := browser(t, 3*time.Minute)
	defer cancel()
	openPage(ctx, t, base)
	// predicted chooses a picture and waits for its prediction, failing on
	// an error the page shows.
	predicted := func(path string) {
		t.Helper()
		if err := choose(ctx, path); err != nil {
			t.Fatal(err)
		}
		if err := waitJS(ctx, fmt.Sprintf(`app.state.timings.some((m) => m[0] === 'prediction %s') || app.state.errors.length > 0`, filepath.Base(path))); err != nil {
			t.Fatal(err)
		}
		if errs := errorTexts(ctx); len(errs) > 0 {
			t.Fatalf("%s: %q", filepath.Base(path), errs)
		}
	}
	predicted(write("panorama.jpg", 12000, 3000, 0))
	// A 50-megapixel phone photo (Samsung's 50 MP mode) taken upright (EXIF
	// orientation 6): predicted, turned, with the worker's memory far under
	// the 200 MB its pixels would take.
	predicted(write("phone50.jpg", 8160, 6120, 6))
	if src, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`app.state.prediction.source`)); err != nil || len(src) != 2 || src[0] != 6120 || src[1] != 8160 {
		t.Errorf("the 50-megapixel photo was read as %v (%v), want 6120x8160, turned by its EXIF orientation", src, err)
	}
	wasm, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`app.rpc('memory', []).then((m) => m.wasmBytes)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the worker's WebAssembly memory after the 50-megapixel photo: %.1f MB", wasm/1e6)
	if wasm > 128<<20 {
		t.Errorf("the worker's WebAssembly memory is %.1f MB after a 50-megapixel photo, want at most 134.2 (128 MiB)", wasm/1e6)
	}
	for _, c := range []struct {
		name string
		w, h int
		want string
	}{
		{"wide.jpg", 32768, 8, "the image is 32768x8 pixels; at most 50 megapixels, 32767 pixels a side, are supported"},
		{"large.jpg", 8000, 6251, "the image is 8000x6251 pixels; at most 50 megapixels, 32767 pixels a side, are supported"},
	} {
		n := len(errorTexts(ctx))
		if err := choose(ctx, write(c.name, c.w, c.h, 0)); err != nil {
			t.Fatal(err)
		}
		if err := waitJS(ctx, fmt.Sprintf(`app.state.errors.length > %d`, n)); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := errorTexts(ctx)[n]; !strings.Contains(got, c.want) {
			t.Errorf("%s: the page says %q, want it to say %q", c.name, got, c.want)
		}
	}
}

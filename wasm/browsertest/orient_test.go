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
// (an APP1 Exif segment). The PNG's probabilities agree to 1e-4. JPEG
// decoders differ in their last bits, so the page's JPEG probabilities must
// be nearer the native ones of the same orientation than of any other.
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
		img, err := imagefile.Decode(bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		x, err := nn.ImageInput(img, m.Preprocess)
		if err != nil {
			t.Fatal(err)
		}
		p, err := xai.New(m).Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		return p.Probs
	}

	ctx, cancel := browser(t, 3*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(base)); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(ctx, `document.body.dataset.explained !== undefined || (window.app && app.state.errors.length > 0)`); err != nil {
		t.Fatal(err)
	}
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
		nearest := 0
		for k := 1; k <= 8; k++ {
			if nearest == 0 || maxDiff(pageJPEG[o], nativeJPEG[k]) < maxDiff(pageJPEG[o], nativeJPEG[nearest]) {
				nearest = k
			}
		}
		if nearest != o {
			t.Errorf("JPEG, orientation %d: the page's probabilities %.4f are nearest the native ones of orientation %d (%.4f), not %.4f",
				o, pageJPEG[o], nearest, nativeJPEG[nearest], nativeJPEG[o])
		}
	}
	// The check means something only if the orientations are told apart.
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

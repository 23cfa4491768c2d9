package imagefile

import (
	"bytes"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"
)

// TestLibwebpReference decodes lossy WebPs, one opaque of odd size and one
// with alpha of even size (testdata/README.md), and holds them to
// libwebp's own decode (dwebp): the same bytes, since VP8's decoding is
// exact and libwebpRGBA upsamples and converts as libwebp does. The
// WebP's samples read as image.YCbCr would be far off.
func TestLibwebpReference(t *testing.T) {
	for _, tt := range []struct {
		name  string
		alpha bool
	}{{"libwebp-q80", false}, {"libwebp-q80-alpha", true}} {
		raw, err := os.ReadFile(filepath.Join("testdata", tt.name+".webp"))
		if err != nil {
			t.Fatal(err)
		}
		ext := ".ppm"
		if tt.alpha {
			ext = ".pam"
		}
		ref, w, h := readRef(t, filepath.Join("testdata", tt.name+ext))
		img, err := Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
			t.Fatalf("%s: %v, want %dx%d", tt.name, b, w, h)
		}
		bad := 0
		for y := range h {
			for x := range w {
				c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
				want := ref[4*(y*w+x):][:4]
				if !bytes.Equal([]byte{c.R, c.G, c.B, c.A}, want) {
					if bad++; bad <= 3 {
						t.Errorf("%s (%d,%d): %v, libwebp %v", tt.name, x, y, c, want)
					}
				}
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d pixels differ from libwebp's", tt.name, bad, w*h)
		}
		if _, ok := img.(*image.NRGBA); ok != tt.alpha {
			t.Errorf("%s: decoded as a %T", tt.name, img)
		}
	}
}

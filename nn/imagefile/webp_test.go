package imagefile

import (
	"bufio"
	"bytes"
	"image"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// readPAM reads an 8-bit RGB_ALPHA PAM (P7), as dwebp -pam writes it:
// straight (not premultiplied) alpha.
func readPAM(t *testing.T, path string) (pix []byte, w, h int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	head := map[string]string{}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		line = strings.TrimSpace(line)
		if line == "ENDHDR" {
			break
		}
		k, v, _ := strings.Cut(line, " ")
		head[k] = v
	}
	w, _ = strconv.Atoi(head["WIDTH"])
	h, _ = strconv.Atoi(head["HEIGHT"])
	if head["DEPTH"] != "4" || head["MAXVAL"] != "255" || w <= 0 || h <= 0 {
		t.Fatalf("%s: not an 8-bit 4-channel PAM: %v", path, head)
	}
	pix = make([]byte, 4*w*h)
	if _, err := io.ReadFull(r, pix); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return pix, w, h
}

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
		var ref []byte
		var w, h int
		if tt.alpha {
			ref, w, h = readPAM(t, filepath.Join("testdata", tt.name+".pam"))
		} else {
			var rgb []byte
			rgb, w, h = readPPM(t, filepath.Join("testdata", tt.name+".ppm"))
			ref = make([]byte, 4*w*h)
			for i := range w * h {
				copy(ref[4*i:], rgb[3*i:3*i+3])
				ref[4*i+3] = 255
			}
		}
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

package imagefile

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// readRef reads a reference decode as RGBA with straight alpha: an 8-bit
// PPM (P6, as djpeg and dwebp -ppm write it; alpha 255) or RGB_ALPHA PAM
// (P7, as dwebp -pam writes it).
func readRef(t *testing.T, path string) (rgba []byte, w, h int) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(bytes.NewReader(raw))
	var magic string
	fmt.Fscan(r, &magic)
	depth, maxval := 3, 0
	switch magic {
	case "P6":
		fmt.Fscan(r, &w, &h, &maxval)
		r.ReadByte() // the one whitespace after maxval
	case "P7":
		for {
			var k string
			if _, err := fmt.Fscan(r, &k); err != nil || k == "ENDHDR" {
				break
			}
			var v string
			fmt.Fscan(r, &v)
			switch k {
			case "WIDTH":
				w, _ = strconv.Atoi(v)
			case "HEIGHT":
				h, _ = strconv.Atoi(v)
			case "DEPTH":
				depth, _ = strconv.Atoi(v)
			case "MAXVAL":
				maxval, _ = strconv.Atoi(v)
			}
		}
		r.ReadByte() // the newline after ENDHDR
	}
	if maxval != 255 || (depth != 3 && depth != 4) || w <= 0 || h <= 0 {
		t.Fatalf("%s: not an 8-bit RGB PPM or RGBA PAM", path)
	}
	pix := make([]byte, depth*w*h)
	if _, err := io.ReadFull(r, pix); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	rgba = make([]byte, 4*w*h)
	for i := range w * h {
		copy(rgba[4*i:4*i+depth], pix[depth*i:])
		if depth == 3 {
			rgba[4*i+3] = 255
		}
	}
	return rgba, w, h
}

// gap returns the mean and largest difference of img's RGB from ref's
// (RGBA), in levels.
func gap(img image.Image, ref []byte) (mean float64, most int) {
	rgba := image.NewRGBA(img.Bounds())
	draw.Draw(rgba, rgba.Rect, img, img.Bounds().Min, draw.Src)
	sum := 0
	for i := range len(ref) / 4 {
		for c := range 3 {
			d := int(rgba.Pix[4*i+c]) - int(ref[4*i+c])
			d = max(d, -d)
			sum += d
			most = max(most, d)
		}
	}
	return float64(sum) / float64(len(ref)/4*3), most
}

// TestLibjpegReference decodes JPEGs of every chroma ratio libjpeg-turbo
// writes (testdata/README.md) and holds each to libjpeg-turbo's own
// decode of it (djpeg, what Chromium's decoder gives). What is left is the
// two inverse DCTs' rounding: at most 0.1 levels on average and 3 in all.
// image/draw's conversion of the same pictures is logged for comparison
// (15.3 levels on average, 154 at most for 4:2:0).
func TestLibjpegReference(t *testing.T) {
	for _, name := range []string{"2x2", "2x1", "1x2", "1x1", "4x1", "4x2", "2x2-narrow"} {
		raw, err := os.ReadFile(filepath.Join("testdata", "libjpeg-"+name+".jpg"))
		if err != nil {
			t.Fatal(err)
		}
		ref, w, h := readRef(t, filepath.Join("testdata", "libjpeg-"+name+".ppm"))
		img, err := Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
			t.Fatalf("%s: %v, want %dx%d", name, b, w, h)
		}
		std, _, err := image.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		mean, most := gap(img, ref)
		stdMean, stdMost := gap(std, ref)
		t.Logf("%s (%v): mean %.3f, most %d levels; image/draw's: %.3f, %d", name, std.(*image.YCbCr).SubsampleRatio, mean, most, stdMean, stdMost)
		if mean > 0.1 || most > 3 {
			t.Errorf("%s: %.3f levels from libjpeg-turbo's decode on average, %d at most; want at most 0.1 and 3", name, mean, most)
		}
	}
}

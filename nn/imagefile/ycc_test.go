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
	"testing"
)

// readPPM reads a binary 8-bit PPM (P6), as djpeg writes it.
func readPPM(t *testing.T, path string) (pix []byte, w, h int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var magic string
	var maxval int
	if _, err := fmt.Fscan(r, &magic, &w, &h, &maxval); err != nil || magic != "P6" || maxval != 255 {
		t.Fatalf("%s: not an 8-bit P6 PPM (%v)", path, err)
	}
	r.ReadByte() // the one whitespace after maxval
	pix = make([]byte, 3*w*h)
	if _, err := io.ReadFull(r, pix); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return pix, w, h
}

// gap returns the mean and largest difference of img's RGB from ref's, in
// levels.
func gap(img image.Image, ref []byte) (mean float64, most int) {
	rgba := image.NewRGBA(img.Bounds())
	draw.Draw(rgba, rgba.Rect, img, img.Bounds().Min, draw.Src)
	sum := 0
	for i := range len(ref) / 3 {
		for c := range 3 {
			d := int(rgba.Pix[4*i+c]) - int(ref[3*i+c])
			d = max(d, -d)
			sum += d
			most = max(most, d)
		}
	}
	return float64(sum) / float64(len(ref)), most
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
		ref, w, h := readPPM(t, filepath.Join("testdata", "libjpeg-"+name+".ppm"))
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

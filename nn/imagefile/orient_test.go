package imagefile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/mavis-xai/mavis/internal/exiftest"
)

// shown returns where the stored pixel (sx, sy) of a w x h image is shown
// under EXIF orientation o, and the shown size, worked from the EXIF
// specification's table (CIPA DC-008, tag 274) rather than from orient:
// the edge of the shown picture along which the stored 0th row runs, and
// the edge along which the stored 0th column runs.
func shown(o, w, h, sx, sy int) (x, y, dw, dh int) {
	edges := [9][2]string{
		1: {"top", "left"}, 2: {"top", "right"}, 3: {"bottom", "right"}, 4: {"bottom", "left"},
		5: {"left", "top"}, 6: {"right", "top"}, 7: {"right", "bottom"}, 8: {"left", "bottom"},
	}
	row, col := edges[o][0], edges[o][1]
	dw, dh = w, h
	if row == "left" || row == "right" {
		dw, dh = h, w
	}
	switch row { // sy is the distance from the 0th row's edge
	case "top":
		y = sy
	case "bottom":
		y = dh - 1 - sy
	case "left":
		x = sy
	case "right":
		x = dw - 1 - sy
	}
	switch col { // sx is the distance from the 0th column's edge
	case "left":
		x = sx
	case "right":
		x = dw - 1 - sx
	case "top":
		y = sx
	case "bottom":
		y = dh - 1 - sx
	}
	return x, y, dw, dh
}

// distinct is a w x h picture whose every pixel differs from the others.
func distinct(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{uint8(40 * x), uint8(80 * y), 7, 255})
		}
	}
	return img
}

// checkShown holds got to src shown under orientation o, every pixel
// within tol (of 255) in each channel, or with a JPEG's blocks (tol > 0)
// the pixels 2 or more from a block's edge: a JPEG's chroma is filtered
// across the edges (ycc.go).
func checkShown(t *testing.T, name string, got, src image.Image, o, tol int) {
	t.Helper()
	w, h := src.Bounds().Dx(), src.Bounds().Dy()
	_, _, dw, dh := shown(o, w, h, 0, 0)
	if b := got.Bounds(); b.Dx() != dw || b.Dy() != dh {
		t.Fatalf("%s: %dx%d, want %dx%d", name, b.Dx(), b.Dy(), dw, dh)
	}
	for sy := range h {
		for sx := range w {
			if tol > 0 && (sx%8 < 2 || sx%8 > 5 || sy%8 < 2 || sy%8 > 5) {
				continue
			}
			x, y, _, _ := shown(o, w, h, sx, sy)
			g := color.NRGBAModel.Convert(got.At(got.Bounds().Min.X+x, got.Bounds().Min.Y+y)).(color.NRGBA)
			s := color.NRGBAModel.Convert(src.At(sx, sy)).(color.NRGBA)
			if d := max(diff(g.R, s.R), diff(g.G, s.G), diff(g.B, s.B), diff(g.A, s.A)); d > tol {
				t.Fatalf("%s: stored (%d,%d) %v shown at (%d,%d) as %v", name, sx, sy, s, x, y, g)
			}
		}
	}
}

func diff(a, b uint8) int { return max(int(a)-int(b), int(b)-int(a)) }

func encode(t *testing.T, img image.Image, format string) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&b, img)
	} else {
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 100})
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestOrientation reads PNGs (eXIf) and JPEGs (APP1 Exif) in both TIFF byte
// orders under all eight orientations and holds each decoded picture to the
// specification's table. PNG is exact; JPEG is lossy, so its picture is 8x8
// blocks of one colour each, compared within 6 levels.
func TestOrientation(t *testing.T) {
	src := distinct(5, 3)
	blocks := image.NewNRGBA(image.Rect(0, 0, 24, 16))
	for y := range 16 {
		for x := range 24 {
			blocks.SetNRGBA(x, y, color.NRGBA{uint8(80 * (x / 8)), uint8(200 * (y / 8)), 90, 255})
		}
	}
	grey := image.NewGray(image.Rect(0, 0, 24, 16))
	for i := range grey.Pix {
		grey.Pix[i] = uint8(60*((i%24)/8) + 100*(i/24/8))
	}
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		for o := 1; o <= 8; o++ {
			tiff := exiftest.TIFF(bo, 3, 1, uint16(o))
			for _, tt := range []struct {
				format string
				src    image.Image
				file   []byte
				tol    int
			}{
				{"png", src, exiftest.PNG(encode(t, src, "png"), tiff, false), 0},
				{"jpeg", blocks, exiftest.JPEG(encode(t, blocks, "jpeg"), append([]byte("Exif\x00\x00"), tiff...)), 6},
				{"grey jpeg", grey, exiftest.JPEG(encode(t, grey, "jpeg"), append([]byte("Exif\x00\x00"), tiff...)), 6},
			} {
				got, err := Decode(bytes.NewReader(tt.file))
				if err != nil {
					t.Fatal(err)
				}
				checkShown(t, fmt.Sprintf("%s, %v, orientation %d", tt.format, bo, o), got, tt.src, o, tt.tol)
			}
		}
	}
}

// TestOrientationIgnored: files whose orientation a browser does not apply
// (Chromium, checked by hand and by the browser test TestExifOrientation)
// are read as stored.
func TestOrientationIgnored(t *testing.T) {
	src := distinct(5, 3)
	p := encode(t, src, "png")
	j := encode(t, distinct(16, 8), "jpeg")
	le := binary.LittleEndian
	exif := func(tiff []byte) []byte { return append([]byte("Exif\x00\x00"), tiff...) }
	for name, file := range map[string][]byte{
		"eXIf after the image data":    exiftest.PNG(p, exiftest.TIFF(le, 3, 1, 6), true),
		"orientation 0":                exiftest.PNG(p, exiftest.TIFF(le, 3, 1, 0), false),
		"orientation 9":                exiftest.PNG(p, exiftest.TIFF(le, 3, 1, 9), false),
		"a LONG, not a SHORT":          exiftest.PNG(p, exiftest.TIFF(le, 4, 1, 6), false),
		"two values":                   exiftest.PNG(p, exiftest.TIFF(le, 3, 2, 6), false),
		"TIFF cut short":               exiftest.PNG(p, exiftest.TIFF(le, 3, 1, 6)[:17], false),
		"no TIFF byte order":           exiftest.PNG(p, append([]byte("XX"), exiftest.TIFF(le, 3, 1, 6)[2:]...), false),
		"directory past the end":       exiftest.PNG(p, append(exiftest.TIFF(le, 3, 1, 6)[:4], 0xF0, 0xFF, 0xFF, 0xFF), false),
		"JPEG APP1 that is not Exif":   exiftest.JPEG(j, append([]byte("http://ns.adobe.com/xap/1.0/\x00"), exiftest.TIFF(le, 3, 1, 6)...)),
		"JPEG Exif with orientation 1": exiftest.JPEG(j, exif(exiftest.TIFF(le, 3, 1, 1))),
	} {
		got, err := Decode(bytes.NewReader(file))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if b := got.Bounds(); b.Dx() < b.Dy() {
			t.Errorf("%s: %dx%d, turned", name, b.Dx(), b.Dy())
		}
		if name[0] != 'J' {
			checkShown(t, name, got, src, 1, 0)
		}
	}
	// An Exif segment after another APP1 still counts, as in Chromium.
	file := exiftest.JPEG(exiftest.JPEG(j, exif(exiftest.TIFF(le, 3, 1, 6))), []byte("http://ns.adobe.com/xap/1.0/\x00<x/>"))
	if got, err := Decode(bytes.NewReader(file)); err != nil || got.Bounds().Dx() != 8 {
		t.Errorf("Exif after XMP: %v, %v", got.Bounds(), err)
	}
}

// TestOrientTypes turns pictures of every type imagefile's decoders give,
// and two others (Alpha, and a sub-image), and holds each to the table. The
// decoders' types come back as their own type, with their values.
func TestOrientTypes(t *testing.T) {
	src := distinct(5, 3)
	for _, img := range []image.Image{
		convert(image.NewRGBA(src.Rect), src), convert(image.NewRGBA64(src.Rect), src),
		convert(image.NewNRGBA64(src.Rect), src), convert(image.NewGray(src.Rect), src),
		convert(image.NewGray16(src.Rect), src), convert(image.NewCMYK(src.Rect), src),
		convert(image.NewPaletted(src.Rect, color.Palette{color.Black, color.White, color.NRGBA{200, 0, 0, 255}}), src),
		convert(image.NewAlpha(src.Rect), src), src.SubImage(image.Rect(1, 1, 4, 3)),
	} {
		for o := 1; o <= 8; o++ {
			got := orient(img, o)
			name := fmt.Sprintf("%T, orientation %d", img, o)
			if _, alpha := img.(*image.Alpha); !alpha && fmt.Sprintf("%T", got) != fmt.Sprintf("%T", img) {
				t.Errorf("%s: got a %T", name, got)
			}
			checkShown(t, name, got, moved(img), o, 0)
		}
	}
}

// convert draws src into dst (a blank picture of a type) and returns it.
func convert[I interface {
	image.Image
	Set(x, y int, c color.Color)
}](dst I, src image.Image) I {
	b := src.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			dst.Set(x, y, src.At(x, y))
		}
	}
	return dst
}

// moved is img with its origin at (0, 0), as checkShown reads the source.
func moved(img image.Image) image.Image {
	b := img.Bounds()
	return convert(image.NewNRGBA64(image.Rect(0, 0, b.Dx(), b.Dy())), offset{img, b.Min})
}

type offset struct {
	image.Image
	min image.Point
}

func (o offset) Bounds() image.Rectangle {
	b := o.Image.Bounds()
	return b.Sub(o.min)
}
func (o offset) At(x, y int) color.Color { return o.Image.At(x+o.min.X, y+o.min.Y) }

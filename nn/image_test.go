package nn

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/internal/exiftest"
	"github.com/mavis-xai/mavis/internal/sharedtest"
	"github.com/mavis-xai/mavis/nn/imagefile"
	"golang.org/x/image/bmp"
)

// TestImageInputFixtures: the fixture model input is x[h][w][c] = the PNG's
// byte at row h, column w, channel c (fixtures README, "File format").
func TestImageInputFixtures(t *testing.T) {
	dir := sharedtest.Fixtures(t)
	p := DefaultPreprocess([3]int{224, 224, 3})
	for _, name := range []string{"astronaut", "chelsea", "rocket", "immunohistochemistry", "grey128"} {
		f, err := os.Open(filepath.Join(dir, name, "input.png"))
		if err != nil {
			t.Fatal(err)
		}
		img, err := imagefile.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		x, err := ImageInput(img, p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if x.Shape != [4]int{1, 224, 224, 3} {
			t.Fatalf("%s: shape %v", name, x)
		}
		if name == "grey128" {
			for i, v := range x.Data {
				if v != 128 {
					t.Fatalf("grey128: value %d is %v, want 128", i, v)
				}
			}
			continue
		}
		rgba, ok := img.(*image.RGBA)
		if !ok {
			t.Fatalf("%s: decoded as %T, want *image.RGBA for an 8-bit RGB PNG", name, img)
		}
		for h := 0; h < 224; h++ {
			for w := 0; w < 224; w++ {
				for c := 0; c < 3; c++ {
					want := float32(rgba.Pix[rgba.PixOffset(w, h)+c])
					if got := x.Data[x.Offset(0, h, w, c)]; got != want {
						t.Fatalf("%s: x[%d][%d][%d] = %v, want %v", name, h, w, c, got, want)
					}
				}
			}
		}
	}
}

// pngIHDR returns a PNG signature and a valid IHDR chunk claiming w x h
// 8-bit RGB, and nothing else.
func pngIHDR(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	chunk := binary.BigEndian.AppendUint32([]byte("IHDR"), w)
	chunk = binary.BigEndian.AppendUint32(chunk, h)
	chunk = append(chunk, 8, 2, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, 13)
	b = append(b, chunk...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(chunk))
}

func encodePNG(t testing.TB, img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeImageBroken(t *testing.T) {
	small := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := range small.Pix {
		small.Pix[i] = byte(i * 7)
	}
	good := encodePNG(t, small)
	for _, tt := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"empty", nil, "empty file"},
		{"broken bytes", []byte("this is not an image at all"), "unknown format"},
		{"truncated PNG", good[:len(good)/2], "decoding png"},
		{"header only", pngIHDR(16, 16), "decoding png"},
		{"30000x30000", pngIHDR(30000, 30000), "30000x30000 is 900 MP, over the 50 MP limit"},
		{"zero width", pngIHDR(0, 16), "png"},
		{"truncated JPEG", []byte("\xff\xd8\xff\xe0\x00\x10JFIF"), "jpeg"},
	} {
		var img image.Image
		var err error
		n := allocated(func() { img, err = imagefile.Decode(bytes.NewReader(tt.raw)) })
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "imagefile: ") {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
		if img != nil {
			t.Errorf("%s: got an image with the error", tt.name)
		}
		// Refusing a header must not allocate the pixels it claims.
		if n > 1<<20 {
			t.Errorf("%s: allocated %d bytes", tt.name, n)
		}
	}
	if _, err := imagefile.DecodeLimit(bytes.NewReader(good), int64(len(good)-1)); err == nil || !strings.Contains(err.Error(), "over the") {
		t.Errorf("byte limit: got %v", err)
	}
	if img, err := imagefile.Decode(bytes.NewReader(good)); err != nil || img.Bounds().Dx() != 16 {
		t.Errorf("good PNG: %v", err)
	}
}

// pix returns the first pixel of x as a slice.
func pix(x *Tensor, h, w int) []float32 {
	o := x.Offset(0, h, w, 0)
	return x.Data[o : o+x.Shape[3]]
}

func near(a, b []float32, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > tol {
			return false
		}
	}
	return true
}

// TestImageInputColorModels converts one pixel of every image type, with
// values worked out by hand from the package comment's rules.
func TestImageInputColorModels(t *testing.T) {
	gray := image.NewGray(image.Rect(0, 0, 1, 1))
	gray.Pix[0] = 77
	gray16 := image.NewGray16(image.Rect(0, 0, 1, 1))
	gray16.SetGray16(0, 0, color.Gray16{Y: 0x1234})
	rgba64 := image.NewRGBA64(image.Rect(0, 0, 1, 1))
	rgba64.SetRGBA64(0, 0, color.RGBA64{R: 0xffff, G: 0x8000, B: 0x0101, A: 0xffff})
	pal := image.NewPaletted(image.Rect(0, 0, 1, 1), color.Palette{color.RGBA{1, 2, 3, 255}, color.RGBA{200, 100, 50, 255}})
	pal.Pix[0] = 1
	halfRed := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	halfRed.Pix = []byte{255, 0, 0, 128}
	clear := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	cmyk := image.NewCMYK(image.Rect(0, 0, 1, 1))
	cmyk.Pix = []byte{0, 255, 255, 0} // red
	cmykGrey := image.NewCMYK(image.Rect(0, 0, 1, 1))
	cmykGrey.Pix = []byte{0, 0, 0, 128} // K = 128: (255-128) * 255/255 = 127
	ycc := image.NewYCbCr(image.Rect(0, 0, 2, 2), image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = 128
	}
	ycc.Cb[0], ycc.Cr[0] = 128, 128
	alpha := image.NewAlpha(image.Rect(0, 0, 1, 1))
	alpha.Pix[0] = 255 // opaque white in the Alpha model

	for _, tt := range []struct {
		name      string
		img       image.Image
		rgb, grey []float32
	}{
		{"gray", gray, []float32{77, 77, 77}, []float32{77}},
		// 0x1234/257 = 18.1323...; GrayModel: 0x1234 >> 8 = 18.
		{"gray16", gray16, []float32{0x1234 / 257.0, 0x1234 / 257.0, 0x1234 / 257.0}, []float32{18}},
		// grey: (19595*65535 + 38470*32768 + 7471*257 + 32768) >> 24 = 151.
		{"rgba64", rgba64, []float32{255, 0x8000 / 257.0, 1}, []float32{151}},
		{"paletted", pal, []float32{200, 100, 50}, []float32{(19595*200*257 + 38470*100*257 + 7471*50*257 + 1<<15) >> 24}},
		// Half-transparent red over white is pink: premultiplied R = A =
		// 0x8080, so R = 0x8080 + 0xffff - 0x8080 and G = B = 0x7f7f = 127*257.
		{"nrgba half red", halfRed, []float32{255, 127, 127}, []float32{(19595*0xffff + 38470*0x7f7f + 7471*0x7f7f + 1<<15) >> 24}},
		{"transparent", clear, []float32{255, 255, 255}, []float32{255}},
		{"cmyk red", cmyk, []float32{255, 0, 0}, []float32{(19595*0xffff + 1<<15) >> 24}},
		{"cmyk grey", cmykGrey, []float32{127, 127, 127}, []float32{127}},
		{"ycbcr neutral", ycc, []float32{128, 128, 128}, []float32{128}},
		{"alpha", alpha, []float32{255, 255, 255}, []float32{255}},
	} {
		for _, color := range []string{"rgb", "grey"} {
			b := tt.img.Bounds()
			p := Preprocess{Height: b.Dy(), Width: b.Dx(), Channels: 3, Color: color, Scale: "0..255"}
			want := tt.rgb
			if color == "grey" {
				p.Channels, want = 1, tt.grey
			}
			x, err := ImageInput(tt.img, p)
			if err != nil {
				t.Fatalf("%s %s: %v", tt.name, color, err)
			}
			if got := pix(x, 0, 0); !near(got, want, 1e-4) {
				t.Errorf("%s %s: got %v, want %v", tt.name, color, got, want)
			}
			p.Scale = "0..1"
			x, _ = ImageInput(tt.img, p)
			for i, v := range want {
				if got := pix(x, 0, 0)[i]; math.Abs(float64(got-v/255)) > 1e-6 {
					t.Errorf("%s %s 0..1: channel %d got %v, want %v", tt.name, color, i, got, v/255)
				}
			}
		}
	}
}

// TestDecodeImageFormats round-trips small images through each registered
// format and checks the pixels.
func TestDecodeImageFormats(t *testing.T) {
	src := image.NewPaletted(image.Rect(0, 0, 4, 3), color.Palette{color.RGBA{0, 0, 0, 255}, color.RGBA{250, 20, 90, 255}, color.RGBA{10, 200, 30, 255}})
	for i := range src.Pix {
		src.Pix[i] = byte(i % 3)
	}
	want := func(x, y int) []float32 {
		c := src.Palette[src.Pix[src.PixOffset(x, y)]].(color.RGBA)
		return []float32{float32(c.R), float32(c.G), float32(c.B)}
	}
	var gifBuf, bmpBuf bytes.Buffer
	if err := gif.Encode(&gifBuf, src, nil); err != nil {
		t.Fatal(err)
	}
	if err := bmp.Encode(&bmpBuf, src); err != nil {
		t.Fatal(err)
	}
	p := Preprocess{Height: 3, Width: 4, Channels: 3, Color: "rgb", Scale: "0..255"}
	for name, raw := range map[string][]byte{"png": encodePNG(t, src), "gif": gifBuf.Bytes(), "bmp": bmpBuf.Bytes()} {
		img, err := imagefile.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		x, err := ImageInput(img, p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for y := 0; y < 3; y++ {
			for xx := 0; xx < 4; xx++ {
				if got := pix(x, y, xx); !near(got, want(xx, y), 0) {
					t.Errorf("%s (%d,%d): got %v, want %v", name, xx, y, got, want(xx, y))
				}
			}
		}
	}

	// JPEG is lossy: a flat colour comes back within a few levels.
	flat := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := 0; i < len(flat.Pix); i += 4 {
		copy(flat.Pix[i:], []byte{100, 150, 200, 255})
	}
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, flat, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	img, err := imagefile.Decode(&jpg)
	if err != nil {
		t.Fatal(err)
	}
	x, err := ImageInput(img, Preprocess{Height: 16, Width: 16, Channels: 3, Color: "rgb", Scale: "0..255"})
	if err != nil {
		t.Fatal(err)
	}
	if got := pix(x, 7, 9); !near(got, []float32{100, 150, 200}, 2) {
		t.Errorf("jpeg: got %v, want about [100 150 200]", got)
	}
}

// TestDecodeImageWebP decodes a lossless WebP and compares it with the PNG
// of the same picture (testdata/README.md).
func TestDecodeImageWebP(t *testing.T) {
	read := func(name string) *Tensor {
		f, err := os.Open(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := imagefile.Decode(f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b := img.Bounds()
		x, err := ImageInput(img, Preprocess{Height: b.Dy(), Width: b.Dx(), Channels: 3, Color: "rgb", Scale: "0..255"})
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	w, p := read("gopher-doc.1bpp.lossless.webp"), read("gopher-doc.1bpp.png")
	if w.Shape != p.Shape {
		t.Fatalf("webp %v, png %v", w, p)
	}
	for i := range w.Data {
		if w.Data[i] != p.Data[i] {
			t.Fatalf("value %d: webp %v, png %v", i, w.Data[i], p.Data[i])
		}
	}
}

// TestImageInputCropResize checks the centre crop and resizing.
func TestImageInputCropResize(t *testing.T) {
	// A 6x4 image whose pixel (x, y) is (10x, 10y, 0): the centre square
	// is columns 1..4, and no resize is needed for a 4x4 input.
	wide := image.NewRGBA(image.Rect(0, 0, 6, 4))
	for y := 0; y < 4; y++ {
		for x := 0; x < 6; x++ {
			copy(wide.Pix[wide.PixOffset(x, y):], []byte{byte(10 * x), byte(10 * y), 0, 255})
		}
	}
	p := Preprocess{Height: 4, Width: 4, Channels: 3, Color: "rgb", Scale: "0..255", Crop: "center"}
	x, err := ImageInput(wide, p)
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < 4; y++ {
		for c := 0; c < 4; c++ {
			if got, want := pix(x, y, c), []float32{float32(10 * (c + 1)), float32(10 * y), 0}; !near(got, want, 0) {
				t.Errorf("crop (%d,%d): got %v, want %v", c, y, got, want)
			}
		}
	}
	// A tall image with an odd margin: 3x6 -> rows 1..3 (offset (6-3)/2 = 1).
	tall := image.NewGray(image.Rect(0, 0, 3, 6))
	for i := range tall.Pix {
		tall.Pix[i] = byte(i / 3) // row index
	}
	x, err = ImageInput(tall, Preprocess{Height: 3, Width: 3, Channels: 1, Color: "grey", Scale: "0..255", Crop: "center"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{1, 1, 1, 2, 2, 2, 3, 3, 3}; !near(x.Data, want, 0) {
		t.Errorf("tall crop: got %v, want %v", x.Data, want)
	}

	// Resizing a flat image keeps it flat, for every filter and for
	// cropped, 16-bit and generic sources.
	flat := image.NewNRGBA(image.Rect(0, 0, 13, 9))
	for i := 0; i < len(flat.Pix); i += 4 {
		copy(flat.Pix[i:], []byte{30, 60, 90, 255})
	}
	flat16 := image.NewRGBA64(image.Rect(0, 0, 13, 9))
	pal := image.NewPaletted(image.Rect(0, 0, 13, 9), color.Palette{color.RGBA{30, 60, 90, 255}})
	for y := 0; y < 9; y++ {
		for xx := 0; xx < 13; xx++ {
			flat16.SetRGBA64(xx, y, color.RGBA64{30 * 257, 60 * 257, 90 * 257, 0xffff})
		}
	}
	for _, resize := range []string{"", "bilinear", "nearest", "bicubic", "lanczos3"} {
		for _, crop := range []string{"none", "center"} {
			for _, src := range []image.Image{flat, flat16, pal} {
				x, err := ImageInput(src, Preprocess{Height: 5, Width: 7, Channels: 3, Color: "rgb", Scale: "0..255", Resize: resize, Crop: crop})
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < len(x.Data); i += 3 {
					if !near(x.Data[i:i+3], []float32{30, 60, 90}, 0) {
						t.Fatalf("resize %q crop %s %T: pixel %d is %v, want [30 60 90]", resize, crop, src, i/3, x.Data[i:i+3])
					}
				}
			}
		}
	}

	// Nearest-neighbour halving of 2x2 blocks picks each block's value.
	blocks := image.NewGray(image.Rect(0, 0, 4, 4))
	for y := 0; y < 4; y++ {
		for xx := 0; xx < 4; xx++ {
			blocks.Pix[y*4+xx] = byte(50*(y/2) + 100*(xx/2))
		}
	}
	x, err = ImageInput(blocks, Preprocess{Height: 2, Width: 2, Channels: 1, Color: "grey", Scale: "0..255", Resize: "nearest"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{0, 100, 50, 150}; !near(x.Data, want, 0) {
		t.Errorf("nearest halving: got %v, want %v", x.Data, want)
	}
}

func TestImageInputToBatch(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 2, 2))
	img.Pix = []byte{1, 2, 3, 4}
	p := Preprocess{Height: 2, Width: 2, Channels: 1, Color: "grey", Scale: "0..255"}
	dst := NewTensor(3, 2, 2, 1)
	if err := ImageInputTo(dst, 1, img, p); err != nil {
		t.Fatal(err)
	}
	if want := []float32{0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0}; !near(dst.Data, want, 0) {
		t.Errorf("got %v, want %v", dst.Data, want)
	}
	allocs := testing.AllocsPerRun(10, func() { ImageInputTo(dst, 2, img, p) })
	if allocs != 0 {
		t.Errorf("ImageInputTo without resizing allocates %v times", allocs)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Errorf("sample 3 of 3: no panic")
			}
		}()
		ImageInputTo(dst, 3, img, p)
	}()
}

func TestImageInputBadPreprocess(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 2, 2))
	good := Preprocess{Height: 2, Width: 2, Channels: 3, Color: "rgb", Scale: "0..255", Resize: "bilinear", Crop: "none"}
	for _, tt := range []struct {
		edit func(p *Preprocess)
		want string
	}{
		{func(p *Preprocess) { p.Color = "hsv" }, `unknown color "hsv"`},
		{func(p *Preprocess) { p.Channels = 1 }, `color "rgb" with 1 channels`},
		{func(p *Preprocess) { p.Scale = "-1..1" }, `unknown scale "-1..1"`},
		{func(p *Preprocess) { p.Resize = "area" }, `unknown resize "area"`},
		{func(p *Preprocess) { p.Crop = "top" }, `unknown crop "top"`},
		{func(p *Preprocess) { p.Height = 0 }, "size 0x2"},
		{func(p *Preprocess) { p.Width = 1 << 20 }, "size 2x1048576"},
	} {
		p := good
		tt.edit(&p)
		if _, err := ImageInput(img, p); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: got %v, want %q", p, err, tt.want)
		}
	}
	if _, err := ImageInput(image.NewGray(image.Rect(0, 0, 0, 5)), good); err == nil || !strings.Contains(err.Error(), "empty image") {
		t.Errorf("empty image: got %v", err)
	}
}

func FuzzDecodeImage(f *testing.F) {
	src := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for i := range src.Pix {
		src.Pix[i] = byte(i * 20)
	}
	f.Add(encodePNG(f, src))
	f.Add(pngIHDR(30000, 30000))
	var g bytes.Buffer
	gif.Encode(&g, src, nil)
	f.Add(g.Bytes())
	f.Add(cmykJPEG(40, 100, 200, 30))
	// EXIF orientations (imagefile turns such images as browsers do).
	var j bytes.Buffer
	jpeg.Encode(&j, src, nil)
	f.Add(exiftest.JPEG(j.Bytes(), append([]byte("Exif\x00\x00"), exiftest.TIFF(binary.BigEndian, 3, 1, 6)...)))
	f.Add(exiftest.PNG(encodePNG(f, src), exiftest.TIFF(binary.LittleEndian, 3, 1, 7), false))
	// Lossy WebPs, with and without alpha, and JPEGs of other chroma ratios.
	for _, name := range []string{"libwebp-q80.webp", "libwebp-q80-alpha.webp", "libjpeg-2x1.jpg", "libjpeg-1x2.jpg"} {
		b, err := os.ReadFile(filepath.Join("imagefile", "testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	p := Preprocess{Height: 4, Width: 4, Channels: 3, Color: "rgb", Scale: "0..1", Crop: "center"}
	f.Fuzz(func(t *testing.T, raw []byte) {
		img, err := imagefile.DecodeLimit(bytes.NewReader(raw), 1<<16)
		if err != nil {
			return
		}
		b := img.Bounds()
		if b.Dx()*b.Dy() > imagefile.MaxPixels {
			t.Fatalf("decoded %v", b)
		}
		if b.Dx()*b.Dy() > 1<<22 {
			return // valid but slow to resize under the fuzzer
		}
		x, err := ImageInput(img, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range x.Data {
			if v < 0 || v > 1 || v != v {
				t.Fatalf("value %v outside 0..1", v)
			}
		}
	})
}

// cmykJPEG hand-assembles an 8x8 baseline JPEG with four components and an
// Adobe APP14 marker (transform 0: CMYK), every pixel (c, m, y, k). Go's
// encoder only writes YCbCr and grey, hence this. Adobe CMYK files store
// inverted samples (255 means no ink), and a flat block is all DC: the
// coefficient is 8*(sample-128) with a quantiser of 1.
func cmykJPEG(c, m, y, k byte) []byte {
	seg := func(b []byte, marker byte, payload ...byte) []byte {
		b = append(b, 0xff, marker)
		b = binary.BigEndian.AppendUint16(b, uint16(len(payload)+2))
		return append(b, payload...)
	}
	b := []byte{0xff, 0xd8}
	b = seg(b, 0xee, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0)
	dqt := make([]byte, 65)
	for i := 1; i < 65; i++ {
		dqt[i] = 1
	}
	b = seg(b, 0xdb, dqt...)
	b = seg(b, 0xc0, 8, 0, 8, 0, 8, 4, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0)
	// DC table: symbols 0..11 (the size categories) with 4-bit codes, so
	// category s has code s. AC table: only end-of-block, code "0".
	dc := append([]byte{0x00, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
	b = seg(b, 0xc4, dc...)
	b = seg(b, 0xc4, 0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00)
	b = seg(b, 0xda, 4, 1, 0x00, 2, 0x00, 3, 0x00, 4, 0x00, 0, 63, 0)

	var bits []bool
	put := func(v, n int) {
		for i := n - 1; i >= 0; i-- {
			bits = append(bits, v>>i&1 == 1)
		}
	}
	for _, v := range []byte{c, m, y, k} {
		diff := 8 * (int(255-v) - 128)
		cat := 0
		for a := max(diff, -diff); a > 0; a >>= 1 {
			cat++
		}
		put(cat, 4)
		if diff < 0 {
			diff += 1<<cat - 1
		}
		put(diff, cat)
		put(0, 1) // end of block
	}
	for len(bits)%8 != 0 {
		bits = append(bits, true)
	}
	for i := 0; i < len(bits); i += 8 {
		var x byte
		for j := 0; j < 8; j++ {
			if bits[i+j] {
				x |= 0x80 >> j
			}
		}
		b = append(b, x)
		if x == 0xff {
			b = append(b, 0)
		}
	}
	return append(b, 0xff, 0xd9)
}

func TestImageInputCMYKJPEG(t *testing.T) {
	p := Preprocess{Height: 8, Width: 8, Channels: 3, Color: "rgb", Scale: "0..255"}
	for _, ink := range [][4]byte{{0, 255, 255, 0}, {0, 0, 0, 0}, {40, 100, 200, 30}, {255, 255, 255, 255}} {
		img, err := imagefile.Decode(bytes.NewReader(cmykJPEG(ink[0], ink[1], ink[2], ink[3])))
		if err != nil {
			t.Fatalf("%v: %v", ink, err)
		}
		if _, ok := img.(*image.CMYK); !ok {
			t.Fatalf("%v: decoded as %T, want *image.CMYK", ink, img)
		}
		x, err := ImageInput(img, p)
		if err != nil {
			t.Fatal(err)
		}
		r, g, bl := color.CMYKToRGB(ink[0], ink[1], ink[2], ink[3])
		want := []float32{float32(r), float32(g), float32(bl)}
		for h := 0; h < 8; h++ {
			for w := 0; w < 8; w++ {
				if got := pix(x, h, w); !near(got, want, 1) {
					t.Fatalf("ink %v at (%d,%d): got %v, want %v", ink, w, h, got, want)
				}
			}
		}
	}
}

// TestPixelsFast holds pixelsTo's 8-bit RGBA and NRGBA path to its
// general one (the same image behind a type of its own, read through At)
// on random pixels with every kind of alpha (0, 255 and between, and RGBA
// colours over their alpha), for RGB and grey inputs on both scales, in a
// region away from the origin.
func TestPixelsFast(t *testing.T) {
	type hidden struct{ image.Image }
	r := rand.New(rand.NewPCG(5, 6))
	b := image.Rect(-3, 2, 37, 31)
	pix := make([]uint8, 4*b.Dx()*b.Dy())
	for i := range pix {
		pix[i] = uint8(r.IntN(256))
		if i%4 == 3 && r.IntN(3) > 0 {
			pix[i] = uint8(255 * r.IntN(2)) // opaque or transparent
		}
	}
	region := image.Rect(2, 5, 30, 29)
	for _, img := range []image.Image{
		&image.RGBA{Pix: pix, Stride: 4 * b.Dx(), Rect: b},
		&image.NRGBA{Pix: pix, Stride: 4 * b.Dx(), Rect: b},
	} {
		for _, p := range []Preprocess{
			{Height: 24, Width: 28, Channels: 3, Color: "rgb", Scale: "0..255"},
			{Height: 24, Width: 28, Channels: 3, Color: "rgb", Scale: "0..1"},
			{Height: 24, Width: 28, Channels: 1, Color: "grey", Scale: "0..1"},
			{Height: 24, Width: 28, Channels: 1, Color: "grey", Scale: "0..255"},
		} {
			n := region.Dx() * region.Dy() * p.Channels
			fast, slow := make([]float32, n), make([]float32, n)
			pixelsTo(fast, img, region, p)
			pixelsTo(slow, hidden{img}, region, p)
			for i := range fast {
				if math.Float32bits(fast[i]) != math.Float32bits(slow[i]) {
					t.Fatalf("%T, %s %s: value %d is %v, the general path's %v", img, p.Color, p.Scale, i, fast[i], slow[i])
				}
			}
		}
	}
}

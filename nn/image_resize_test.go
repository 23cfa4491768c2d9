package nn

import (
	"bytes"
	"image"
	"math/rand/v2"
	"testing"

	"github.com/nfnt/resize"
)

// resizeKernelsGo are resizeKernels as plain loops, straight from their
// contract: what the SIMD128 kernels are held to, and what lets the tests
// check resize8 itself in every build.
var resizeKernelsGo = &resizeKernels{
	h: func(dst, src []uint8, start []int32, coef []int16, sum []int32, taps int) {
		pairs := (taps + 1) / 2
		for o := range sum {
			var acc [4]int32
			for t := range taps {
				k := int32(coef[2*o*pairs+t])
				for c := range 4 {
					acc[c] += k * int32(src[int(start[o])+4*t+c])
				}
			}
			for c := range 4 {
				dst[4*o+c] = clamp8(acc[c] / sum[o])
			}
		}
	},
	v: func(dst, src []uint8, stride int, coef []int32, sum int32) {
		for j := range dst {
			var acc int32
			for t, k := range coef {
				acc += k * int32(src[t*stride+j])
			}
			dst[j] = clamp8(acc / sum)
		}
	},
	opaque: func(row []uint8) bool {
		for i := 3; i < len(row); i += 4 {
			if row[i] != 0xff {
				return false
			}
		}
		return true
	},
}

func clamp8(v int32) uint8 { return uint8(min(max(v, 0), 255)) }

// testResizeKernels are the kernels this build can run.
func testResizeKernels() map[string]*resizeKernels {
	ks := map[string]*resizeKernels{"go": resizeKernelsGo}
	if resizeKernelsFast != nil {
		ks["fast"] = resizeKernelsFast
	}
	return ks
}

// TestResize8 holds resize8 to nfnt/resize, the definition of a
// Preprocess's resize, byte for byte, on each kernel this build has: every
// filter resize8 takes, shrinking and enlarging along each axis (to and
// from 1 pixel, and the page's photos to 224x224), RGBA (valid
// premultiplied colours) and NRGBA pixels (opaque, translucent with fully
// transparent ones, and opaque and translucent rows in one image), and a
// stride wider than the rows; then 40 sizes at random.
func TestResize8(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	sizes := [][4]int{ // source w, h; destination w, h
		{451, 300, 224, 224}, {224, 224, 28, 28}, {7, 5, 224, 224}, {1, 1, 3, 2},
		{300, 451, 224, 224}, {1000, 3, 224, 224}, {3, 600, 1, 2}, {97, 61, 96, 62},
		{2, 2, 1, 1}, {5, 9, 5, 4}, {640, 480, 32, 32}, {2, 3, 7, 1}, {4032, 9, 224, 5}, {32767, 2, 224, 224},
	}
	for fixed := len(sizes); len(sizes) < fixed+40; { // and 40 sizes at random, each side 1 to 300, not the image's own
		if s := [4]int{1 + r.IntN(300), 1 + r.IntN(300), 1 + r.IntN(300), 1 + r.IntN(300)}; s[0] != s[2] || s[1] != s[3] {
			sizes = append(sizes, s)
		}
	}
	filters := []struct {
		name string
		f    resize.InterpolationFunction
	}{{"bilinear", resize.Bilinear}, {"bicubic", resize.Bicubic}, {"lanczos3", resize.Lanczos3}}
	for _, sz := range sizes {
		sw, sh, w, h := sz[0], sz[1], sz[2], sz[3]
		for _, kind := range []string{"rgba", "nrgba-opaque", "nrgba", "nrgba-mixed"} {
			stride := 4*sw + 4*r.IntN(3)
			pix := make([]uint8, stride*sh)
			for i := range pix {
				pix[i] = uint8(r.IntN(256))
			}
			for y := range sh {
				for x := range sw {
					p := pix[y*stride+4*x : y*stride+4*x+4]
					switch {
					case kind == "nrgba-opaque", kind == "nrgba-mixed" && y%2 == 0:
						p[3] = 255
					case kind == "nrgba" && x%7 == 0:
						p[3] = 0
					case kind == "rgba":
						p[3] = max(p[0], p[1], p[2], p[3])
					}
				}
			}
			var img image.Image = &image.NRGBA{Pix: pix, Stride: stride, Rect: image.Rect(0, 0, sw, sh)}
			if kind == "rgba" {
				img = &image.RGBA{Pix: pix, Stride: stride, Rect: image.Rect(0, 0, sw, sh)}
			}
			for _, f := range filters {
				want := resize.Resize(uint(w), uint(h), img, f.f).(*image.RGBA)
				for kn, k := range testResizeKernels() {
					got := resize8(img, w, h, f.f, k)
					if got == nil {
						t.Fatalf("%v %s %s, %s kernels: resize8 did not take it", sz, kind, f.name, kn)
					}
					if got.Rect != want.Rect || !bytes.Equal(got.Pix, want.Pix) {
						n := 0
						for i := range min(len(got.Pix), len(want.Pix)) {
							if got.Pix[i] != want.Pix[i] {
								n++
							}
						}
						t.Errorf("%v %s %s, %s kernels: %d of %d bytes differ from nfnt/resize", sz, kind, f.name, kn, n, len(want.Pix))
					}
				}
			}
		}
	}
}

// TestResizeOpaque checks each kernel's opaque on rows of 0 to 40
// pixels, opaque and with one pixel of another alpha at each place (in a
// whole vector of four pixels and in the tail), the other channels 255
// or 0.
func TestResizeOpaque(t *testing.T) {
	for kn, k := range testResizeKernels() {
		for n := range 41 {
			for _, fill := range []uint8{0, 255} {
				row := bytes.Repeat([]uint8{fill, fill, fill, 255}, n)
				if !k.opaque(row) {
					t.Errorf("%s: an opaque row of %d pixels (channels %d) is not opaque", kn, n, fill)
				}
				for i := range n {
					for _, a := range []uint8{0, 127, 254} {
						row[4*i+3] = a
						if k.opaque(row) {
							t.Errorf("%s: a row of %d pixels with alpha %d at %d is opaque", kn, n, a, i)
						}
					}
					row[4*i+3] = 255
				}
			}
		}
	}
}

// TestResize8Declines checks what resize8 leaves to nfnt: other pixel
// types, an origin other than 0, nearest neighbour and filters no
// Preprocess names, and a shrink past the kernels' range (sums of 2^22 or
// more), which it refuses before allocating the filter's weights.
func TestResize8Declines(t *testing.T) {
	rgba := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for _, c := range []struct {
		img  image.Image
		w, h int
		f    resize.InterpolationFunction
	}{
		{rgba, 2, 2, resize.NearestNeighbor},
		{rgba, 2, 2, resize.MitchellNetravali},
		{image.NewGray(image.Rect(0, 0, 4, 4)), 2, 2, resize.Bilinear},
		{image.NewRGBA64(image.Rect(0, 0, 4, 4)), 2, 2, resize.Bilinear},
		{rgba.SubImage(image.Rect(1, 1, 4, 4)), 2, 2, resize.Bilinear},
		{rgba, 4, 4, resize.Bilinear},                                       // its own size: nfnt returns the image itself
		{image.NewNRGBA(image.Rect(0, 0, 40000, 1)), 1, 1, resize.Bilinear}, // a sum of 256*20000
	} {
		if resize8(c.img, c.w, c.h, c.f, resizeKernelsGo) != nil {
			t.Errorf("resize8 took a %T (bounds %v) to %dx%d with filter %d", c.img, c.img.Bounds(), c.w, c.h, c.f)
		}
	}
	if _, ok := resizeWindows(1, 1<<20, 2, 1<<20, linearKernel); ok {
		t.Error("resizeWindows took a filter of 2^21 taps")
	}
}

// BenchmarkResize8 and BenchmarkResizeNfnt resize photos as a canvas gives
// them (opaque NRGBA) to MAVIS's 224x224: the page's samples' size and a
// 12-megapixel phone photo.
func BenchmarkResize8(b *testing.B) {
	for name, k := range testResizeKernels() {
		for _, sz := range [][2]int{{451, 300}, {4032, 3024}} {
			b.Run(name+"-"+sizeName(sz), func(b *testing.B) {
				img := benchPhoto(sz[0], sz[1])
				for b.Loop() {
					resize8(img, 224, 224, resize.Bilinear, k)
				}
			})
		}
	}
}

func BenchmarkResizeNfnt(b *testing.B) {
	for _, sz := range [][2]int{{451, 300}, {4032, 3024}} {
		b.Run(sizeName(sz), func(b *testing.B) {
			img := benchPhoto(sz[0], sz[1])
			for b.Loop() {
				resize.Resize(224, 224, img, resize.Bilinear)
			}
		})
	}
}

func sizeName(sz [2]int) string { return sprintf("%dx%d", sz[0], sz[1]) }

func benchPhoto(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	return img
}

// FuzzResize8 holds resize8 to nfnt/resize on sizes, filters, alpha and
// pixels the fuzzer picks (each side 1 to 512, the pixels from a seed),
// on each kernel this build has.
func FuzzResize8(f *testing.F) {
	f.Add(uint16(451), uint16(300), uint16(224), uint16(224), uint8(0), uint8(0), uint64(1))
	f.Add(uint16(1), uint16(7), uint16(224), uint16(3), uint8(1), uint8(1), uint64(2))
	f.Add(uint16(512), uint16(2), uint16(5), uint16(200), uint8(2), uint8(2), uint64(3))
	filters := []resize.InterpolationFunction{resize.Bilinear, resize.Bicubic, resize.Lanczos3}
	f.Fuzz(func(t *testing.T, sw, sh, w, h uint16, filter, alpha uint8, seed uint64) {
		sw, sh, w, h = 1+sw%512, 1+sh%512, 1+w%512, 1+h%512
		if sw == w && sh == h {
			return // nfnt's own size: TestResize8Declines
		}
		r := rand.New(rand.NewPCG(seed, 7))
		img := image.NewNRGBA(image.Rect(0, 0, int(sw), int(sh)))
		for i := range img.Pix {
			img.Pix[i] = uint8(r.IntN(256))
			if i%4 == 3 && alpha%3 != 0 {
				img.Pix[i] = 255 // opaque, or (alpha%3 == 2) opaque but for some
				if alpha%3 == 2 && r.IntN(8) == 0 {
					img.Pix[i] = uint8(r.IntN(256))
				}
			}
		}
		fl := filters[int(filter)%len(filters)]
		want := resize.Resize(uint(w), uint(h), img, fl).(*image.RGBA)
		for kn, k := range testResizeKernels() {
			got := resize8(img, int(w), int(h), fl, k)
			if got == nil {
				t.Fatalf("%s kernels: resize8 did not take %dx%d to %dx%d", kn, sw, sh, w, h)
			}
			if !bytes.Equal(got.Pix, want.Pix) {
				t.Fatalf("%s kernels: %dx%d to %dx%d with filter %d differs from nfnt/resize", kn, sw, sh, w, h, fl)
			}
		}
	})
}

package nn

import (
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"math/rand/v2"
	"reflect"
	"testing"
)

// TestResizableMatchesDraw holds resizable's copy of a region to
// draw.Draw with draw.Src, which it replaces, for every kind of image.
func TestResizableMatchesDraw(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	b := image.Rect(-3, 2, 14, 13)
	fill := func(m draw.Image) image.Image {
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				a := uint16(rng.IntN(3)) * 0x7fff // transparent, half, opaque
				c := color.NRGBA64{uint16(rng.Uint32()), uint16(rng.Uint32()), uint16(rng.Uint32()), a}
				m.Set(x, y, c)
			}
		}
		return m
	}
	ycc := image.NewYCbCr(b, image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = uint8(rng.Uint32())
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = uint8(rng.Uint32()), uint8(rng.Uint32())
	}
	imgs := []image.Image{
		fill(image.NewRGBA(b)), fill(image.NewNRGBA(b)), fill(image.NewRGBA64(b)), fill(image.NewNRGBA64(b)),
		fill(image.NewGray(b)), fill(image.NewGray16(b)), fill(image.NewAlpha(b)), fill(image.NewAlpha16(b)),
		fill(image.NewCMYK(b)), fill(image.NewPaletted(b, palette.Plan9)), ycc,
	}
	for _, img := range imgs {
		for _, r := range []image.Rectangle{b, image.Rect(0, 3, 9, 12), image.Rect(-3, 2, -2, 3)} {
			got := resizable(img, r)
			var want draw.Image
			switch img.(type) {
			case *image.RGBA64, *image.NRGBA64, *image.Gray16, *image.Alpha16:
				want = image.NewRGBA64(image.Rect(0, 0, r.Dx(), r.Dy()))
			default:
				want = image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
			}
			draw.Draw(want, want.Bounds(), img, r.Min, draw.Src)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%T region %v: copy differs from draw.Draw", img, r)
			}
		}
	}
}

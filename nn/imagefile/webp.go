package imagefile

import "image"

// A lossy WebP (VP8) stores its picture as 4:2:0 YCbCr in BT.601's
// limited range (Y from 16 to 235). golang.org/x/image/webp hands those
// samples over as an image.YCbCr, whose RGB is JPEG's full-range formula
// (go.dev/issue/40173), so every lossy WebP came out with its contrast and
// saturation cut: 4.5 levels from Chromium's decode of a photo on average,
// up to 24. libwebp, Chromium's decoder, interpolates the chroma and
// converts with VP8's own fixed-point formula; libwebpRGBA does the same,
// and VP8's decoding is exact, so the pixels are Chromium's
// (TestDecodeLikeChromium in wasm/browsertest).

// libwebpRGBA returns a lossy WebP's picture as libwebp's default decode
// gives it (src/dsp/upsampling.c, yuv.h, dec/io_dec.c): RGBA, or NRGBA
// with the straight alpha of an NYCbCrA.
//
// Chroma: each pixel takes 9/16 of the nearest chroma sample, 3/16 of each
// of the two next (one across, one down) and 1/16 of the diagonal one,
// rounded as libwebp rounds it. The first row, and the last of an even
// height, have only the nearest chroma row; the first column, and the last
// of an even width, only the nearest column, weighed 3/4 against 1/4 of
// the other row. Colour: R = 1.164 (Y-16) + 1.596 (Cr-128) and so on, in
// libwebp's 14-bit fixed point.
func libwebpRGBA(img image.Image) image.Image {
	var s *image.YCbCr
	var a *image.NYCbCrA // the alpha, if any
	switch v := img.(type) {
	case *image.YCbCr:
		s = v
	case *image.NYCbCrA:
		s, a = &v.YCbCr, v
	default:
		return img
	}
	if s.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		return img // not a VP8 picture
	}
	b := s.Bounds()
	w, h := b.Dx(), b.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	cb, cr := make([]uint8, w), make([]uint8, w)
	var pix []uint8
	var stride int
	var out image.Image
	if a != nil {
		d := image.NewNRGBA(image.Rect(0, 0, w, h))
		out, pix, stride = d, d.Pix, d.Stride
	} else {
		d := image.NewRGBA(image.Rect(0, 0, w, h))
		out, pix, stride = d, d.Pix, d.Stride
	}
	c0 := s.COffset(b.Min.X, b.Min.Y)
	for y := range h {
		// The chroma row nearer the pixel's row, and the farther one (the
		// same row for the first row, and for the last of an even height).
		near, far := y/2, y/2-1
		if y%2 == 1 {
			near, far = y/2, min(y/2+1, ch-1)
		}
		far = max(far, 0)
		for k, plane := range [2][]uint8{s.Cb, s.Cr} {
			p := plane[c0+near*s.CStride:][:cw]
			q := plane[c0+far*s.CStride:][:cw]
			row := cb
			if k == 1 {
				row = cr
			}
			edge := func(x int) uint8 { return uint8((3*int(p[x]) + int(q[x]) + 2) >> 2) }
			row[0] = edge(0)
			for x := 1; x <= (w-1)/2; x++ {
				avg := int(p[x-1]) + int(p[x]) + int(q[x-1]) + int(q[x]) + 8
				row[2*x-1] = uint8((((avg + 2*(int(p[x])+int(q[x-1]))) >> 3) + int(p[x-1])) >> 1)
				row[2*x] = uint8((((avg + 2*(int(p[x-1])+int(q[x]))) >> 3) + int(p[x])) >> 1)
			}
			if w%2 == 0 {
				row[w-1] = edge(cw - 1)
			}
		}
		yrow := s.Y[s.YOffset(b.Min.X, b.Min.Y+y):]
		o := pix[y*stride:]
		for x := range w {
			yy, u, v := mulHi(int(yrow[x]), 19077), int(cb[x]), int(cr[x])
			o[4*x] = clip8(yy + mulHi(v, 26149) - 14234)
			o[4*x+1] = clip8(yy - mulHi(u, 6419) - mulHi(v, 13320) + 8708)
			o[4*x+2] = clip8(yy + mulHi(u, 33050) - 17685)
			o[4*x+3] = 0xFF
			if a != nil {
				o[4*x+3] = a.A[a.AOffset(b.Min.X+x, b.Min.Y+y)]
			}
		}
	}
	return out
}

// mulHi and clip8 are libwebp's MultHi and VP8Clip8: a product in 8.8
// fixed point, and a 14-bit fixed-point value (6 fractional bits) rounded
// down and clamped to a byte.
func mulHi(v, c int) int { return (v * c) >> 8 }

func clip8(v int) uint8 {
	if v&^(256<<6-1) == 0 {
		return uint8(v >> 6)
	}
	if v < 0 {
		return 0
	}
	return 255
}

package imagefile

import "image"

// A JPEG's colour pictures are YCbCr, most of them with the chroma stored at
// half resolution. image/jpeg hands them over as they are, and their RGB
// (image/draw, color.YCbCr) repeats each chroma sample over the pixels it
// covers. libjpeg-turbo, the decoder in Chromium and so the page's,
// interpolates it ("fancy upsampling") and rounds its fixed-point colour
// conversion its own way. On the MAVIS samples the two differed by 0.44 to
// 1.22 levels on average, up to 40; converted here as libjpeg-turbo does,
// by 0.03 to 0.04, up to 3, what is left being the two decoders' inverse
// DCTs (TestDecodeLikeChromium in wasm/browsertest; TestLibjpegReference
// here, against libjpeg-turbo's djpeg). Converting a 12 MP picture took
// 62-71 ms on the 2-core test machine (a row at a time: 48 MB, the RGBA),
// and image/jpeg 240 ms to decode one.

// libjpegRGBA returns a decoded JPEG's YCbCr picture as RGBA, converted as
// libjpeg-turbo 2 converts it by default (jdsample.c, jdcolor.c):
//   - 4:2:0 and 4:2:2 chroma by the triangle filter, weights 3/4 and 1/4
//     in each halved direction, when it is more than 2 samples wide (else
//     repeated);
//   - 4:4:0 chroma by the same filter down the columns;
//   - any other ratio by repeating each sample, as image/jpeg's own RGB;
//   - then Y + 1.402 Cr', Y - 0.34414 Cb' - 0.71414 Cr', Y + 1.772 Cb'
//     (Cb' = Cb - 128) with each factor times 65536 rounded to an integer
//     (91881, 22554, 46802, 116130) and each term rounded as libjpeg
//     rounds it.
func libjpegRGBA(s *image.YCbCr) *image.RGBA {
	b := s.Bounds()
	w, h := b.Dx(), b.Dy()
	cb, cr := make([]uint8, w), make([]uint8, w) // a row
	upsample := upsampler(s, w, h)
	d := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		upsample(cb, s.Cb, y)
		upsample(cr, s.Cr, y)
		yrow := s.Y[s.YOffset(b.Min.X, b.Min.Y+y):]
		out := d.Pix[y*d.Stride:]
		for x := range w {
			yy, u, v := int32(yrow[x]), int32(cb[x])-128, int32(cr[x])-128
			out[4*x] = clamp8(yy + (91881*v+1<<15)>>16)
			out[4*x+1] = clamp8(yy + (-22554*u+1<<15-46802*v)>>16)
			out[4*x+2] = clamp8(yy + (116130*u+1<<15)>>16)
			out[4*x+3] = 0xFF
		}
	}
	return d
}

func clamp8(v int32) uint8 { return uint8(min(max(v, 0), 255)) }

// upsampler returns a function that writes row y of the w x h chroma
// plane of s whose samples are plane (s.Cb or s.Cr) into row, one value a
// pixel, as libjpegRGBA describes.
func upsampler(s *image.YCbCr, w, h int) func(row, plane []uint8, y int) {
	b := s.Bounds()
	// The plane's size, and where its sample (0, 0) is.
	c0 := s.COffset(b.Min.X, b.Min.Y)
	hx, vy := 1, 1 // the pixels one sample covers across and down
	switch s.SubsampleRatio {
	case image.YCbCrSubsampleRatio420:
		hx, vy = 2, 2
	case image.YCbCrSubsampleRatio422:
		hx = 2
	case image.YCbCrSubsampleRatio440:
		vy = 2
	case image.YCbCrSubsampleRatio411:
		hx = 4
	case image.YCbCrSubsampleRatio410:
		hx, vy = 4, 2
	}
	cw, ch := (w+hx-1)/hx, (h+vy-1)/vy
	fancyX := hx == 2 && cw > 2
	fancyY := vy == 2 && (hx == 1 || fancyX)
	// sums is a row of chroma after the vertical pass: 3/4 of the chroma
	// row and 1/4 of the row nearer the pixel's (the one above for an even
	// row; libjpeg repeats the first and last rows), as sums of 4.
	sums := make([]int32, cw)
	return func(row, plane []uint8, y int) {
		cy := y / vy
		this := plane[c0+cy*s.CStride:][:cw]
		if fancyY {
			near := max(cy-1, 0)
			if y%2 == 1 {
				near = min(cy+1, ch-1)
			}
			other := plane[c0+near*s.CStride:][:cw]
			for cx := range cw {
				sums[cx] = 3*int32(this[cx]) + int32(other[cx])
			}
		} else {
			for cx := range cw {
				sums[cx] = int32(this[cx])
			}
		}
		switch {
		case fancyX:
			// The horizontal pass: each pair of pixels takes 3/4 of its
			// column and 1/4 of the one on its side; the first and last
			// pixels their column alone. On sums of 16 (after a vertical
			// pass) libjpeg rounds the left pixel of a pair with 8 and the
			// right with 7; on sums of 4, with 1 and 2.
			shift, left, right := 2, int32(1), int32(2)
			if fancyY {
				shift, left, right = 4, 8, 7
			}
			for cx, v := range sums {
				l, r := 4*v, 4*v
				if cx > 0 {
					l = 3*v + sums[cx-1]
				}
				if cx < cw-1 {
					r = 3*v + sums[cx+1]
				}
				row[2*cx] = uint8((l + left) >> shift)
				if 2*cx+1 < w {
					row[2*cx+1] = uint8((r + right) >> shift)
				}
			}
		case fancyY:
			// 4:4:0: the vertical pass alone, rounded with 1 of 4 on an
			// even row and 2 on an odd one.
			bias := int32(1 + y%2)
			for x := range w {
				row[x] = uint8((sums[x] + bias) >> 2)
			}
		default:
			for x := range w {
				row[x] = this[x/hx]
			}
		}
	}
}

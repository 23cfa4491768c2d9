package nn

import (
	"image"

	"github.com/nfnt/resize"
)

// Images in, tensors out.
//
// Decoding image files lives in nn/imagefile, so that programs that get
// pixels elsewhere (the browser worker) do not link five decoders. ImageInput and ImageInputTo apply a Preprocess
// contract: an optional centre square crop, a resize to Height x Width with
// nfnt/resize (skipped when the size already matches, so a 224x224 PNG gives
// exactly its bytes; the browser's build computes nfnt's bytes on its
// SIMD128 kernels, image_resize.go), and a conversion of any image type to RGB or grey
// values on the 0..255 or 0..1 scale.
//
// Colour conversion. Every pixel is read as 16-bit premultiplied RGBA
// (image.RGBA64Image, which every standard image type implements: grey,
// 16-bit, paletted, CMYK, YCbCr, NRGBA ...). Transparent pixels are
// composited over white, as a browser shows them on a white page: the
// opaque value is c + (1 - alpha) in premultiplied terms (a fully
// transparent pixel is white, not black). Because compositing is linear in
// premultiplied values, it commutes with resizing, and it is applied after
// the resize. RGB values are c16/257 (so an 8-bit byte v gives exactly v)
// and grey values are image/color.GrayModel's 8-bit ITU-R 601 luma,
// (19595 R + 38470 G + 7471 B + 2^15) >> 24 on 16-bit R, G, B, so a grey
// byte v gives exactly v. Scale "0..1" divides the 0..255 values by 255.

// ImageInput returns img preprocessed by p as a 1 x Height x Width x
// Channels tensor.
func ImageInput(img image.Image, p Preprocess) (*Tensor, error) {
	if err := checkPreprocess(p); err != nil {
		return nil, err
	}
	if p.Color == "none" {
		return nil, notImageModel(p)
	}
	x := NewTensor(1, p.Height, p.Width, p.Channels)
	if err := ImageInputTo(x, 0, img, p); err != nil {
		return nil, err
	}
	return x, nil
}

// ImageInputTo writes img preprocessed by p into sample n of dst, which
// must have shape (N, p.Height, p.Width, p.Channels) with n < N (a
// mismatch is a programmer error and panics). Problems with p or img are
// errors.
func ImageInputTo(dst *Tensor, n int, img image.Image, p Preprocess) error {
	if err := checkPreprocess(p); err != nil {
		return err
	}
	if p.Color == "none" {
		return notImageModel(p)
	}
	checkInputTo("ImageInputTo", dst, n, p)
	if img == nil || img.Bounds().Empty() {
		return errorf("nn: image: empty image")
	}
	r := cropRect(img.Bounds(), p)
	src := img
	if r.Dx() != p.Width || r.Dy() != p.Height {
		interp, err := interpolation(p.Resize)
		if err != nil {
			return err
		}
		rs := resizable(img, r)
		if m := resize8Fast(rs, p.Width, p.Height, interp); m != nil {
			src = m
		} else {
			src = resize.Resize(uint(p.Width), uint(p.Height), rs, interp)
		}
		r = src.Bounds()
		if r.Dx() != p.Width || r.Dy() != p.Height {
			return errorf("nn: image: resizing gave %dx%d, want %dx%d", r.Dx(), r.Dy(), p.Width, p.Height)
		}
	}
	pixelsTo(dst.Sample(n), src, r, p)
	return nil
}

// checkInputTo panics unless dst has shape (N, p.Height, p.Width,
// p.Channels) with n < N: a programmer error.
func checkInputTo(fn string, dst *Tensor, n int, p Preprocess) {
	if dst.Shape[1] != p.Height || dst.Shape[2] != p.Width || dst.Shape[3] != p.Channels || n < 0 || n >= dst.Shape[0] {
		panic(sprintf("nn: %s: sample %d of %v for a %dx%dx%d preprocess", fn, n, dst, p.Height, p.Width, p.Channels))
	}
}

// cropRect is the region of an image of bounds b that p resizes: b, or
// its centred square.
func cropRect(b image.Rectangle, p Preprocess) image.Rectangle {
	if p.Crop != "center" {
		return b
	}
	side := min(b.Dx(), b.Dy())
	x0, y0 := b.Min.X+(b.Dx()-side)/2, b.Min.Y+(b.Dy()-side)/2
	return image.Rect(x0, y0, x0+side, y0+side)
}

// resizable returns the region r of img as an image that nfnt/resize
// handles with a fast path and a zero origin: img itself when it already is
// one, otherwise a copy as RGBA (8-bit sources) or RGBA64 (16-bit ones).
func resizable(img image.Image, r image.Rectangle) image.Image {
	if r == img.Bounds() && r.Min == (image.Point{}) {
		switch img.(type) {
		case *image.RGBA, *image.NRGBA, *image.RGBA64, *image.NRGBA64, *image.Gray, *image.Gray16, *image.YCbCr:
			return img
		}
	}
	// The copy is what draw.Draw(dst, dst.Bounds(), img, r.Min, draw.Src)
	// gives (image_draw_test.go holds it to that), without linking
	// image/draw into the browser's worker.
	w, h := r.Dx(), r.Dy()
	switch src := img.(type) {
	case *image.RGBA64, *image.NRGBA64, *image.Gray16, *image.Alpha16:
		dst := image.NewRGBA64(image.Rect(0, 0, w, h))
		s := src.(image.RGBA64Image)
		for y := range h {
			for x := range w {
				dst.SetRGBA64(x, y, s.RGBA64At(r.Min.X+x, r.Min.Y+y))
			}
		}
		return dst
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		d := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
		switch src := img.(type) {
		case *image.RGBA:
			copy(d, src.Pix[src.PixOffset(r.Min.X, r.Min.Y+y):])
		case *image.NRGBA:
			// Premultiply as draw's NRGBA fast path (and color.NRGBA.RGBA) do.
			s := src.Pix[src.PixOffset(r.Min.X, r.Min.Y+y):]
			for i := 0; i < len(d); i += 4 {
				a := uint32(s[i+3]) * 0x101
				d[i] = uint8(uint32(s[i]) * a / 0xff >> 8)
				d[i+1] = uint8(uint32(s[i+1]) * a / 0xff >> 8)
				d[i+2] = uint8(uint32(s[i+2]) * a / 0xff >> 8)
				d[i+3] = uint8(a >> 8)
			}
		default:
			for x := range w {
				cr, cg, cb, ca := img.At(r.Min.X+x, r.Min.Y+y).RGBA()
				d[4*x], d[4*x+1], d[4*x+2], d[4*x+3] = uint8(cr>>8), uint8(cg>>8), uint8(cb>>8), uint8(ca>>8)
			}
		}
	}
	return dst
}

// pixelsTo writes the pixels of region r of img (r has the preprocess's
// size) into out, a Height x Width x Channels sample, as the package
// comment describes.
func pixelsTo(out []float32, img image.Image, r image.Rectangle, p Preprocess) {
	scale := float32(1)
	if p.Scale == "0..1" {
		scale = 255
	}
	switch src := img.(type) {
	case *image.RGBA:
		pixels8To(out, src.Pix, src.Stride, src.PixOffset(r.Min.X, r.Min.Y), r.Dx(), r.Dy(), false, p.Channels, scale)
		return
	case *image.NRGBA:
		pixels8To(out, src.Pix, src.Stride, src.PixOffset(r.Min.X, r.Min.Y), r.Dx(), r.Dy(), true, p.Channels, scale)
		return
	}
	fast, _ := img.(image.RGBA64Image)
	i := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			var cr, cg, cb, ca uint32
			if fast != nil {
				c := fast.RGBA64At(x, y)
				cr, cg, cb, ca = uint32(c.R), uint32(c.G), uint32(c.B), uint32(c.A)
			} else {
				cr, cg, cb, ca = img.At(x, y).RGBA()
			}
			i = pixelTo(out, i, cr, cg, cb, ca, p.Channels, scale)
		}
	}
}

// pixelTo writes one pixel, 16-bit premultiplied cr, cg, cb of alpha ca,
// into out from i as the model's values, and returns the index after it.
func pixelTo(out []float32, i int, cr, cg, cb, ca uint32, channels int, scale float32) int {
	// Composite over white: premultiplied c + (1 - alpha).
	// min guards against invalid premultiplied colours (c > alpha).
	cr, cg, cb = min(cr+0xffff-ca, 0xffff), min(cg+0xffff-ca, 0xffff), min(cb+0xffff-ca, 0xffff)
	if channels == 1 {
		out[i] = float32((19595*cr+38470*cg+7471*cb+1<<15)>>24) / scale
		return i + 1
	}
	out[i] = float32(cr) / 257 / scale
	out[i+1] = float32(cg) / 257 / scale
	out[i+2] = float32(cb) / 257 / scale
	return i + 3
}

func notImageModel(p Preprocess) error {
	return errorf("nn: preprocess: the model takes %d-channel tensors, not RGB or grey images", p.Channels)
}

// pixels8To is pixelsTo for 8-bit RGBA or NRGBA pixels (w x h from offset
// o of pix), without an interface call per pixel: the same 16-bit values
// as their RGBA64At (an NRGBA channel c of alpha a is c*0x101*a/0xff) into
// pixelTo (TestPixelsFast holds the two paths to each other). An opaque
// pixel's RGB values come from a table of pixelTo's 256 results.
func pixels8To(out []float32, pix []uint8, stride, o, w, h int, nrgba bool, channels int, scale float32) {
	var opaque [256 * 3]float32
	for v := range uint32(256) {
		pixelTo(opaque[:], 3*int(v), v*0x101, v*0x101, v*0x101, 0xffff, 3, scale)
	}
	i := 0
	for y := range h {
		row := pix[o+y*stride : o+y*stride+4*w]
		for x := 0; x < len(row); x += 4 {
			px := row[x : x+4 : x+4]
			if channels == 3 && px[3] == 0xff {
				out[i], out[i+1], out[i+2] = opaque[3*int(px[0])], opaque[3*int(px[1])], opaque[3*int(px[2])]
				i += 3
				continue
			}
			cr, cg, cb, ca := uint32(px[0])*0x101, uint32(px[1])*0x101, uint32(px[2])*0x101, uint32(px[3])*0x101
			if nrgba {
				a := uint32(px[3])
				cr, cg, cb = cr*a/0xff, cg*a/0xff, cb*a/0xff
			}
			i = pixelTo(out, i, cr, cg, cb, ca, channels, scale)
		}
	}
}

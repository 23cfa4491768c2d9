package imagefile

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/draw"
)

// Browsers show a photo the way its EXIF orientation tag says, and decode it
// that way for a canvas too: Chromium turns a JPEG by its APP1 "Exif"
// segment and a PNG by an eXIf chunk before its image data (not by one after
// it, nor a WebP's EXIF chunk). Phones store most photos sideways with the
// tag set, so a decoder that ignores it hands the model a turned picture,
// and the commands would explain another image than the page does.

// orientation returns the EXIF orientation of a JPEG or PNG file, 1 to 8
// (TIFF's tag 274: 1 as stored, 6 turned a quarter clockwise to show), or 1
// when the file has none or it cannot be read.
func orientation(data []byte, format string) int {
	var tiff []byte
	switch format {
	case "jpeg":
		tiff = jpegExif(data)
	case "png":
		tiff = pngExif(data)
	}
	return tiffOrientation(tiff)
}

// jpegExif returns the TIFF data of a JPEG's first APP1 "Exif" segment
// before its first scan, or nil.
func jpegExif(d []byte) []byte {
	if len(d) < 2 || d[0] != 0xFF || d[1] != 0xD8 {
		return nil
	}
	for i := 2; i+4 <= len(d); {
		if d[i] != 0xFF {
			return nil
		}
		m := d[i+1]
		switch {
		case m == 0xFF: // fill byte
			i++
			continue
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7): // no length
			i += 2
			continue
		case m == 0xDA || m == 0xD9: // the first scan, or the end
			return nil
		}
		n := int(binary.BigEndian.Uint16(d[i+2:]))
		if n < 2 || i+2+n > len(d) {
			return nil
		}
		seg := d[i+4 : i+2+n]
		if m == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return seg[6:]
		}
		i += 2 + n
	}
	return nil
}

// pngExif returns the data of a PNG's eXIf chunk before its first IDAT, or
// nil.
func pngExif(d []byte) []byte {
	const sig = "\x89PNG\r\n\x1a\n"
	if !bytes.HasPrefix(d, []byte(sig)) {
		return nil
	}
	for i := len(sig); i+8 <= len(d); {
		n := binary.BigEndian.Uint32(d[i:])
		typ := string(d[i+4 : i+8])
		if typ == "IDAT" || uint64(n) > uint64(len(d)-i-8) {
			return nil
		}
		if typ == "eXIf" {
			return d[i+8 : i+8+int(n)]
		}
		i += 12 + int(n) // length, type, data, CRC
	}
	return nil
}

// tiffOrientation reads tag 274 (Orientation, one SHORT) from the first
// image directory of TIFF data t: 1 to 8, else 1.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 1
	}
	ifd := uint64(bo.Uint32(t[4:]))
	if ifd+2 > uint64(len(t)) {
		return 1
	}
	n := int(bo.Uint16(t[ifd:]))
	for k := range n {
		e := ifd + 2 + 12*uint64(k)
		if e+12 > uint64(len(t)) {
			return 1
		}
		if bo.Uint16(t[e:]) != 274 {
			continue
		}
		if bo.Uint16(t[e+2:]) != 3 || bo.Uint32(t[e+4:]) != 1 { // SHORT, count 1
			return 1
		}
		if o := int(bo.Uint16(t[e+8:])); o >= 1 && o <= 8 {
			return o
		}
		return 1
	}
	return 1
}

// orient returns img as shown under EXIF orientation o (img itself for 1).
// The pixel buffers imagefile's decoders give keep their type and values,
// so a turned picture takes no more memory than the stored one; anything
// else becomes RGBA64 as image/draw converts it.
func orient(img image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	// src gives, for the shown pixel (x, y), the stored one (sx, sy),
	// relative to b.Min.
	src := func(x, y int) (int, int) {
		switch o {
		case 2: // mirrored left to right
			return w - 1 - x, y
		case 3: // turned half a turn
			return w - 1 - x, h - 1 - y
		case 4: // mirrored top to bottom
			return x, h - 1 - y
		case 5: // mirrored along the main diagonal
			return y, x
		case 6: // stored a quarter turn anticlockwise: shown turned clockwise
			return y, h - 1 - x
		case 7: // mirrored along the other diagonal
			return w - 1 - y, h - 1 - x
		default: // 8: shown turned anticlockwise
			return w - 1 - y, x
		}
	}
	r := image.Rect(0, 0, dw, dh)
	// turn copies the n-byte pixels of a buffer whose pixel b.Min is at
	// pix[0] into out, shown.
	turn := func(out []byte, outStride int, pix []byte, stride, n int) {
		for y := range dh {
			row := out[y*outStride:]
			for x := range dw {
				sx, sy := src(x, y)
				copy(row[n*x:n*x+n], pix[sy*stride+n*sx:])
			}
		}
	}
	switch s := img.(type) {
	case *image.RGBA:
		d := image.NewRGBA(r)
		turn(d.Pix, d.Stride, s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], s.Stride, 4)
		return d
	case *image.NRGBA:
		d := image.NewNRGBA(r)
		turn(d.Pix, d.Stride, s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], s.Stride, 4)
		return d
	case *image.RGBA64:
		d := image.NewRGBA64(r)
		turn(d.Pix, d.Stride, s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], s.Stride, 8)
		return d
	case *image.NRGBA64:
		d := image.NewNRGBA64(r)
		turn(d.Pix, d.Stride, s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], s.Stride, 8)
		return d
	case *image.Gray:
		d := image.NewGray(r)
		turn(d.Pix, d.Stride, s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], s.Stride, 1)
		return d
	case *image.Gray16:
		d := image.NewGray16(r)
		turn(d.Pix, d.Stride, s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], s.Stride, 2)
		return d
	case *image.CMYK:
		d := image.NewCMYK(r)
		turn(d.Pix, d.Stride, s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], s.Stride, 4)
		return d
	case *image.Paletted:
		d := image.NewPaletted(r, s.Palette)
		turn(d.Pix, d.Stride, s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], s.Stride, 1)
		return d
	}
	c := image.NewRGBA64(image.Rect(0, 0, w, h))
	draw.Draw(c, c.Rect, img, b.Min, draw.Src)
	return orient(c, o)
}

// Package imagefile decodes untrusted image files for the native tools: it
// reads at most MaxBytes, looks at the header first and refuses images over
// MaxPixels before any pixel buffer is allocated, and gives the pixels the
// page's browser would (a photo turned by its EXIF orientation, a JPEG's
// and a lossy WebP's colours converted as Chromium's decoders convert
// them), so that the commands explain what the page explains.
// nn.ImageInput turns the result into a model's input.
//
// It is apart from nn so that programs which receive pixels another way (the
// browser worker gets them from a canvas) do not link the PNG, JPEG, GIF,
// WebP and BMP decoders (about 0.19 MB of gzipped wasm).
package imagefile

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // register GIF
	_ "image/jpeg"
	_ "image/png"
	"io"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/webp"
)

// Decoding names the way Decode turns a file into pixels. It changes
// whenever some file's pixels do, so that results kept from decoded images
// (explain -evaluate's log) are not mixed with results from other pixels.
const Decoding = "chromium/1: EXIF orientation, JPEG as libjpeg-turbo, lossy WebP as libwebp"

const (
	// MaxBytes caps the size of an image file Decode reads.
	MaxBytes = 100 << 20
	// MaxPixels caps the pixel count of an image Decode decodes: the
	// page's too, nn.MaxImagePixels (nn imports no decoder; TestMaxPixels
	// holds the two equal).
	MaxPixels = 50_000_000
)

// Decode decodes a PNG, JPEG, GIF (first frame), WebP or BMP image
// read from r, refusing files over MaxBytes and images over MaxPixels
// before decoding their pixels. A JPEG or PNG with an EXIF orientation
// comes back turned as browsers show it (orient.go), and a colour JPEG or
// a lossy WebP as RGBA (NRGBA with alpha) converted as Chromium's decoders
// convert them (ycc.go, webp.go). TIFF is not registered: browsers do not
// show it, and its decoder adds 131 KB to the wasm binary (WebP adds 284 KB,
// BMP 17 KB; measured with go1.26 on a program that decodes and runs a model).
func Decode(r io.Reader) (image.Image, error) {
	return DecodeLimit(r, MaxBytes)
}

// DecodeLimit is Decode with another byte limit.
func DecodeLimit(r io.Reader, maxBytes int64) (image.Image, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("imagefile: reading: %v", err)
	}
	if int64(len(data)) > maxBytes {
		return nil, fmt.Errorf("imagefile: file over the %d-byte limit", maxBytes)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("imagefile: empty file")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if errors.Is(err, image.ErrFormat) {
		return nil, fmt.Errorf("imagefile: unknown format (supported: PNG, JPEG, GIF, WebP, BMP; save a HEIC or AVIF picture as one of them)")
	}
	if err != nil {
		return nil, fmt.Errorf("imagefile: reading the %s header: %v", format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("imagefile: %s of %dx%d pixels is empty", format, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > MaxPixels {
		return nil, fmt.Errorf("imagefile: %dx%d is %d MP, over the %d MP limit", cfg.Width, cfg.Height, px/1_000_000, MaxPixels/1_000_000)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("imagefile: decoding %s: %v", format, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, fmt.Errorf("imagefile: %s header says %dx%d, decoded %dx%d", format, cfg.Width, cfg.Height, b.Dx(), b.Dy())
	}
	switch format {
	case "jpeg":
		if y, ok := img.(*image.YCbCr); ok { // a colour JPEG
			img = libjpegRGBA(y)
		}
	case "webp":
		img = libwebpRGBA(img) // a lossy one; a lossless one is NRGBA already
	}
	return orient(img, orientation(data, format)), nil
}

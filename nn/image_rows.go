package nn

import "image"

// MaxImagePixels caps the pixel count of an image the project reads: the
// commands' decoder (nn/imagefile) and the page's worker (RowsInput)
// refuse larger ones. A phone's largest photos are 48 and 50 megapixels.
const MaxImagePixels = 50_000_000

// RowsInput is ImageInputTo for an image given a band of rows at a time.
// The browser's worker reads a photo from the browser's decoded bitmap in
// bands, so that its memory does not grow with the photo: a 50-megapixel
// photo is 200 MB of RGBA, and WebAssembly memory never shrinks. The rows
// are 8-bit non-premultiplied RGBA (image.NRGBA's layout, as canvas
// getImageData gives them), top to bottom.
//
// When the resize runs on resize8's kernels (the SIMD128 build) and reads
// the whole image (no crop), each row goes through the resize's first
// pass as it comes and only that pass's output is kept, 4 x Width bytes a
// source row. Otherwise the rows are kept whole and ImageInputTo reads
// them at the end. Either way the input is ImageInputTo's for the whole
// image as an *image.NRGBA, byte for byte (TestRowsInput).
type RowsInput struct {
	w, h, next int
	p          Preprocess
	whole      *image.NRGBA // the rows, when they are kept
	rs         *resizer8    // the resize, when the rows stream through it
}

// NewRowsInput starts the input of a w x h image preprocessed by p.
func NewRowsInput(w, h int, p Preprocess) (*RowsInput, error) {
	return newRowsInput(w, h, p, resizeKernelsFast)
}

func newRowsInput(w, h int, p Preprocess, k *resizeKernels) (*RowsInput, error) {
	if err := checkPreprocess(p); err != nil {
		return nil, err
	}
	if p.Color == "none" {
		return nil, notImageModel(p)
	}
	if w < 1 || h < 1 {
		return nil, errorf("nn: image: empty image")
	}
	if int64(w)*int64(h) > MaxImagePixels {
		return nil, errorf("nn: image: %dx%d is %.1f megapixels, over the %d-megapixel limit; scale the picture down and try again",
			w, h, float64(w)*float64(h)/1e6, MaxImagePixels/1_000_000)
	}
	in := &RowsInput{w: w, h: h, p: p}
	b := image.Rect(0, 0, w, h)
	if k != nil && cropRect(b, p) == b && (w != p.Width || h != p.Height) {
		interp, err := interpolation(p.Resize)
		if err != nil {
			return nil, err
		}
		in.rs = newResizer8(w, h, p.Width, p.Height, interp, k)
	}
	if in.rs == nil {
		in.whole = image.NewNRGBA(b)
	}
	return in, nil
}

// Add takes the next rows: a whole number of rows of 4 x w bytes.
func (in *RowsInput) Add(rows []uint8) error {
	stride := 4 * in.w
	if len(rows)%stride != 0 || in.next+len(rows)/stride > in.h {
		return errorf("nn: image rows: %d bytes after %d of %d rows of %d pixels", len(rows), in.next, in.h, in.w)
	}
	n := len(rows) / stride
	if in.whole != nil {
		copy(in.whole.Pix[in.next*stride:], rows)
	} else {
		for y := range n {
			in.rs.row(in.next+y, rows[y*stride:(y+1)*stride], true)
		}
	}
	in.next += n
	return nil
}

// To writes the image preprocessed into sample n of dst, as ImageInputTo
// does, once every row has been added.
func (in *RowsInput) To(dst *Tensor, n int) error {
	checkInputTo("RowsInput.To", dst, n, in.p)
	if in.next != in.h {
		return errorf("nn: image rows: %d of %d rows given", in.next, in.h)
	}
	if in.whole != nil {
		return ImageInputTo(dst, n, in.whole, in.p)
	}
	img := in.rs.finish()
	pixelsTo(dst.Sample(n), img, img.Bounds(), in.p)
	return nil
}

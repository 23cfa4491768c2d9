package nn

import (
	"image"
	"math"

	"github.com/nfnt/resize"
)

// A Preprocess's resize is nfnt/resize's. Go's wasm back end runs nfnt's
// loops at about 2 ns a multiply-add: under node the resize of a
// 12-megapixel photo to 224x224 took 167-171 ms, six times MAVIS's forward
// pass. resize8 computes the same bytes on row kernels, which the SIMD128
// build supplies (resizeKernelsFast): 12.9-13.7 ms (nn/BENCHMARKS.md).
// Elsewhere nfnt runs, natively on every core.

// resizeKernels are the kernels of resize8. h and v sum 8-bit values times
// int32 weights (each within int16), divide each sum by the weights' sum
// with Go's truncating division and clamp it to 0..255.
type resizeKernels struct {
	// h writes len(sum) pixels of a row into dst along a source row src:
	// output o sums taps pixels from byte start[o], channel by channel.
	// coef holds (taps+1)/2 pairs of int16 for each output: weights t
	// and t+1 of the output, the last pair's second weight 0 when taps is
	// odd.
	h func(dst, src []uint8, start []int32, coef []int16, sum []int32, taps int)
	// v writes output row dst: byte j sums src[j + t*stride] times coef[t]
	// for t < len(coef). len(dst) is a multiple of 4.
	v func(dst, src []uint8, stride int, coef []int32, sum int32)
	// opaque reports whether every pixel of an RGBA row has alpha 255.
	opaque func(row []uint8) bool
}

// resizeKernelsFast are the SIMD128 build's kernels, or nil.
var resizeKernelsFast *resizeKernels

// resize8Fast is resize8 on resizeKernelsFast, or nil without them.
func resize8Fast(img image.Image, w, h int, interp resize.InterpolationFunction) *image.RGBA {
	if resizeKernelsFast == nil {
		return nil
	}
	return resize8(img, w, h, interp, resizeKernelsFast)
}

// resize8 is resize.Resize(w, h, img, interp) for an 8-bit *image.RGBA or
// *image.NRGBA with a zero origin and the filters of a Preprocess other
// than nearest neighbour, computed on k: the same bytes as nfnt (TestResize8
// holds it to nfnt over sizes, filters and alpha). Both compute, along rows
// and then along columns, each output as the sum of the source pixels in
// its filter's window times int16 weights (the kernel at 1/256), with the
// window's taps past an edge reading the edge pixel, divided by the
// weights' sum and clamped, an NRGBA pixel premultiplied first (c*a/255).
// resize8 adds the weights of the taps that read the same edge pixel into
// one, which leaves every integer sum as it is, so that each window is a
// run of source pixels of one length. It returns nil when it does not take
// img or interp, for img's own size (nfnt returns img itself), and when a
// weight or sum is out of the kernels' range (only for shrinking by more
// than a few hundred times).
func resize8(img image.Image, w, h int, interp resize.InterpolationFunction, k *resizeKernels) *image.RGBA {
	var pix []uint8
	var stride int
	nrgba := false
	switch src := img.(type) {
	case *image.RGBA:
		pix, stride = src.Pix, src.Stride
	case *image.NRGBA:
		pix, stride, nrgba = src.Pix, src.Stride, true
	default:
		return nil
	}
	b := img.Bounds()
	if b.Min != (image.Point{}) || b.Empty() || (w == b.Dx() && h == b.Dy()) {
		return nil // nfnt returns an image of its own size as it is
	}
	r := newResizer8(b.Dx(), b.Dy(), w, h, interp, k)
	if r == nil {
		return nil
	}
	for y := range b.Dy() {
		r.row(y, pix[y*stride:y*stride+4*b.Dx()], nrgba)
	}
	return r.finish()
}

// resizer8 is resize8 a source row at a time: row runs the first pass
// (along the row) of each source row, in any order, and finish the second.
// It holds the first pass's output, 4 x w bytes a source row, and never
// the source itself (RowsInput).
type resizer8 struct {
	k          *resizeKernels
	w, h       int
	cols, rows resizeWindowList
	coef       []int16 // the first pass's weights as k.h reads them
	start      []int32 // its windows' first bytes
	tmp, pre   []uint8
}

// newResizer8 is a resizer8 from sw x sh to w x h, or nil when resize8
// does not take interp or a weight or sum is out of the kernels' range.
func newResizer8(sw, sh, w, h int, interp resize.InterpolationFunction, k *resizeKernels) *resizer8 {
	var taps int
	var kernel func(float64) float64
	switch interp {
	case resize.Bilinear:
		taps, kernel = 2, linearKernel
	case resize.Bicubic:
		taps, kernel = 4, cubicKernel
	case resize.Lanczos3:
		taps, kernel = 6, lanczos3Kernel
	default:
		return nil
	}
	if sw < 1 || sh < 1 || w < 1 || h < 1 {
		return nil
	}
	cols, ok := resizeWindows(w, sw, taps, float64(sw)/float64(w), kernel)
	if !ok {
		return nil
	}
	rows, ok := resizeWindows(h, sh, taps, float64(sh)/float64(h), kernel)
	if !ok {
		return nil
	}
	r := &resizer8{k: k, w: w, h: h, cols: cols, rows: rows, start: make([]int32, w), tmp: make([]uint8, 4*w*sh)}
	pairs := (cols.n + 1) / 2
	r.coef = make([]int16, 2*pairs*w)
	for o := range w {
		r.start[o] = 4 * cols.start[o]
		for t, c := range cols.coef[o*cols.n : (o+1)*cols.n] {
			r.coef[2*o*pairs+t] = int16(c)
		}
	}
	return r
}

// row runs the first pass on source row y: sw pixels of 8-bit RGBA,
// premultiplied, or NRGBA when nrgba.
func (r *resizer8) row(y int, row []uint8, nrgba bool) {
	if nrgba && !r.k.opaque(row) {
		r.pre = append(r.pre[:0], row...)
		for i := 0; i < len(r.pre); i += 4 {
			a := int32(r.pre[i+3])
			r.pre[i] = uint8(int32(r.pre[i]) * a / 0xff)
			r.pre[i+1] = uint8(int32(r.pre[i+1]) * a / 0xff)
			r.pre[i+2] = uint8(int32(r.pre[i+2]) * a / 0xff)
		}
		row = r.pre
	}
	r.k.h(r.tmp[4*r.w*y:4*r.w*(y+1)], row, r.start, r.coef, r.cols.sum, r.cols.n)
}

// finish runs the second pass, along the columns, once every source row
// has had its first.
func (r *resizer8) finish() *image.RGBA {
	w, rows := r.w, r.rows
	dst := image.NewRGBA(image.Rect(0, 0, w, r.h))
	for y := range r.h {
		s := 4 * w * int(rows.start[y])
		r.k.v(dst.Pix[y*dst.Stride:y*dst.Stride+4*w], r.tmp[s:s+4*w*rows.n], 4*w, rows.coef[y*rows.n:(y+1)*rows.n], rows.sum[y])
	}
	return dst
}

// resizeWindowList is a resize's windows along one axis: output o reads
// the n source pixels from start[o], with weights coef[o*n:(o+1)*n] and
// their sum sum[o].
type resizeWindowList struct {
	n                int
	start, coef, sum []int32
}

// resizeWindows computes nfnt/resize's 8-bit weights for out outputs from
// in inputs at scale in/out (its createWeights8, blur 1: the same float64
// expressions) and folds the taps past an edge onto the edge pixel. It
// reports false when a folded weight leaves int16, or a sum is 0 or at
// least 2^22, or 255 times the weights' absolute sum reaches 2^31 (the
// kernels' limits: resizeKernels, wasm/simd/gen/resize.go), and before
// computing any for a filter longer than 4096 taps.
func resizeWindows(out, in, taps int, scale float64, kernel func(float64) float64) (resizeWindowList, bool) {
	n := taps * int(math.Max(math.Ceil(scale), 1)) // nfnt's filter length
	if n > 1<<12 {
		return resizeWindowList{}, false // past the kernels' range whatever the weights
	}
	factor := math.Min(1./scale, 1)
	l := resizeWindowList{n: min(n, in), start: make([]int32, out), sum: make([]int32, out)}
	l.coef = make([]int32, out*l.n)
	for o := range out {
		x := scale*(float64(o)+0.5) - 0.5
		first := int(x) - n/2 + 1
		x -= float64(first)
		// The window: l.n pixels holding every tap's clamped pixel.
		s := min(max(first, 0), in-l.n)
		l.start[o] = int32(s)
		c := l.coef[o*l.n : (o+1)*l.n]
		var sum, abs int64
		for i := range n {
			v := int32(int16(kernel((x-float64(i))*factor) * 256))
			c[min(max(first+i, 0), in-1)-s] += v
			sum += int64(v)
			abs += int64(math.Abs(float64(v)))
		}
		for _, v := range c {
			if v < math.MinInt16 || v > math.MaxInt16 {
				return l, false
			}
		}
		if sum == 0 || sum <= -1<<22 || sum >= 1<<22 || 255*abs >= 1<<31 {
			return l, false
		}
		l.sum[o] = int32(sum)
	}
	return l, true
}

// The kernels of nfnt/resize's filters: the same float64 expressions, so
// the same weights.

func linearKernel(x float64) float64 {
	x = math.Abs(x)
	if x <= 1 {
		return 1 - x
	}
	return 0
}

func cubicKernel(x float64) float64 {
	x = math.Abs(x)
	if x <= 1 {
		return x*x*(1.5*x-2.5) + 1.0
	}
	if x <= 2 {
		return x*(x*(2.5-0.5*x)-4.0) + 2.0
	}
	return 0
}

func lanczos3Kernel(x float64) float64 {
	if x > -3 && x < 3 {
		return sinc(x) * sinc(x*0.3333333333333333)
	}
	return 0
}

func sinc(x float64) float64 {
	x = math.Abs(x) * math.Pi
	if x >= 1.220703e-4 {
		return math.Sin(x) / x
	}
	return 1
}

package nn

// Fast paths for the element-wise loops around the convolutions, which a
// build may install at init (gemm_simd_wasm.go: the browser's SIMD128
// kernels; nil elsewhere). Each computes exactly what the Go loop it
// shadows computes, bit for bit, and that loop stays beside it as the
// reference (TestFastPaths) and the fallback. The caller has checked the
// lengths; the shapes a fast path takes are stated with it.
var (
	// fastStoreDiff shadows deltaStore for len(flags) positions of c
	// channels, c % 4 == 0: dst = src, and flags[p] is 1 when position
	// p's values changed bits, else 0.
	fastStoreDiff func(dst, src []float32, flags []int32, c int)

	// fastMaskCopy shadows reluGradTo: dst = src where mask > 0, else +0.
	//
	//	dst, src, mask: same length
	fastMaskCopy func(dst, src, mask []float32)

	// fastScaleShift shadows scaleShiftTo (t not nil) and scaleTo (t nil):
	// y = x*s + t, or y = x*s, per channel, for len(s) % 4 == 0.
	//
	//	y, x: (positions, c)   s, t: (c)
	fastScaleShift func(y, x, s, t []float32)

	// fastShiftSum shadows shiftSumTo for len(mean) % 4 == 0.
	//
	//	x: (positions, c)   mean, inv: (c)
	fastShiftSum func(sum float64, x, mean, inv []float32) float64

	// fastPool2x2Row shadows pool2x2RowTo (output row i of image n) for
	// c % 4 == 0.
	fastPool2x2Row func(y []float32, arg []int32, x []float32, n, i, h, w, c, oh, ow int)

	// fastPool2x2RowAt is fastPool2x2Row for one output row whose two
	// input rows are held apart from x (MaxPool2D.forwardScaled): rows
	// holds x's elements from index base on, and each arg is the maximum's
	// index in x. For c % 4 == 0.
	//
	//	y, arg: (ow, c)   rows: (2, w, c)
	fastPool2x2RowAt func(y []float32, arg []int32, rows []float32, base, w, c, ow int)

	// fastPool2x2Back writes the input gradient of the windows of output
	// row i of image n of a 2x2, stride-2 max-pool without padding, as
	// MaxPool2D.Backward leaves it (0 + dy at each window's arg, +0
	// elsewhere), for c % 4 == 0; inputs in no window are not written.
	fastPool2x2Back func(dx, dy []float32, arg []int32, n, i, h, w, c, oh, ow int)

	// fastDense shadows Dense.Forward's products: y += x[i] * k[i, :] for
	// each x[i] != 0, in i order (axpy).
	//
	//	y: (out)   x: (in)   k: (in, out)
	fastDense func(y, x, k []float32)

	// fastDenseDx shadows Dense.Backward's input gradient: dx[i] =
	// dot(k[i, :], g).
	//
	//	dx: (in)   k: (in, out)   g: (out)
	fastDenseDx func(dx, k, g []float32)
)

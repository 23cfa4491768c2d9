//go:build goexperiment.simd && js && wasm

package nn

import (
	"strconv"
	"unsafe"
)

// With GOEXPERIMENT=simd the js/wasm build calls WebAssembly SIMD128
// kernels, which Go's wasm back end does not emit: a second module,
// written by wasm/simd/gen (the generator is their source), imports Go's
// linear memory and runs on Go's slices in place. Go reaches its
// functions through //go:wasmimport mavis_simd NAME, which the loader
// (www/kernels.js in the browser, wasm/simd/exec under node) binds to a
// forwarder calling a table the kernels fill once Go's memory exists; see
// wasm/simd/doc.go. A build with these imports runs only where the loader
// provides them: the page and the tests' exec wrapper do.
//
// At init, as gemm_simd_amd64.go checks the CPU, this file asks the loader
// which kernels it installed (simdVersion: 0 when the browser has no
// SIMD128 or the module could not be loaded, which the loader notes on the
// console) and registers them only when their interface is the one
// written here: a 4x8 micro-kernel, the row kernels of the row path
// (conv_kernel_rows.go: panels of 8 or 4 columns, and dot products for
// 1-3 output channels; the scalar Winograd path does not pay against
// them, see nn/BENCHMARKS.md), the vector Winograd path of the stride-1
// input gradients (conv_kernel_winograd_simd_wasm.go: its tile transforms),
// the element-wise fast paths (fastpath.go) and the row kernels of the
// image resize (image_resize.go).
// Otherwise the portable kernels stay.
//
// The kernels do no bounds checks: each wrapper below checks the lengths
// of its slices, as Go's own indexing would.

// simdABI is the kernels' interface version (wasm/simd/gen: abiVersion).
const simdABI = 3

//go:wasmimport mavis_simd version
func simdVersion() int32

//go:wasmimport mavis_simd gemm_4x8
func simdGemm4x8(kc int32, a, b, c *float32, ldc int32)

//go:wasmimport mavis_simd gemm_4x8_store
func simdGemm4x8Store(kc int32, a, b, c *float32, ldc int32, bias *float32, relu int32)

// The row kernels read the row addresses and keep none: without
// noescape the compiler would move the caller's address array to the heap
// on every call.
//
//go:noescape
//go:wasmimport mavis_simd conv_rows_4x8
func simdConvRows4x8(rows *uint32, kh, seg, step, npos int32, b *float32, panels, cols int32, bias *float32, relu int32, y *float32, ystep int32)

//go:noescape
//go:wasmimport mavis_simd conv_rows_7x4
func simdConvRows7x4(rows *uint32, kh, seg, step, npos int32, b *float32, panels, cols int32, bias *float32, relu int32, y *float32, ystep int32)

//go:noescape
//go:wasmimport mavis_simd conv_rows_dot
func simdConvRowsDot(rows *uint32, kh, seg, step, npos int32, b *float32, panels int32, bias *float32, relu int32, y *float32, ystep int32)

//go:wasmimport mavis_simd mask_copy
func simdMaskCopy(dst, src, mask *float32, n int32)

//go:wasmimport mavis_simd store_diff
func simdStoreDiff(dst, src *float32, flags *int32, npos, c int32)

//go:wasmimport mavis_simd scale_shift
func simdScaleShift(y, x, s, t *float32, n, c int32)

//go:wasmimport mavis_simd shift_sum
func simdShiftSum(sum float64, x, mean, inv *float32, n, c int32) float64

//go:wasmimport mavis_simd pool2x2_row
func simdPool2x2Row(y *float32, arg *int32, x *float32, base, w, c, ow int32)

// simdPool2x2RowAt is pool2x2_row with x's address passed as a number:
// the kernel addresses x + 4*index with wrapping 32-bit sums, so an x that
// stands base elements before the held rows (pool2x2RowAtSIMD) reads them
// while the maxima's indices count from x. A number, not a pointer: Go
// must not hold an address outside its objects.
//
//go:wasmimport mavis_simd pool2x2_row
func simdPool2x2RowAt(y *float32, arg *int32, x uint32, base, w, c, ow int32)

//go:wasmimport mavis_simd pool2x2_back_row
func simdPool2x2BackRow(dx, dy *float32, arg *int32, base, w, c, ow int32)

//go:wasmimport mavis_simd dense
func simdDense(y, x, k *float32, nin, nout int32)

//go:wasmimport mavis_simd dense_dx
func simdDenseDx(dx, k, g *float32, nin, nout int32)

// The row addresses are read, not kept (as for the row kernels).
//
//go:noescape
//go:wasmimport mavis_simd wino_in
func simdWinoIn(d *uint32, v *float32, in, vstep int32)

//go:wasmimport mavis_simd wino_out
func simdWinoOut(m *float32, mstep int32, bias, y *float32, xstep, ystep, n, relu, right, below int32)

//go:wasmimport mavis_simd resize_h
func simdResizeH(dst, src *uint8, start *int32, coef *int16, sum *int32, n, taps int32)

//go:wasmimport mavis_simd resize_v
func simdResizeV(dst, src *uint8, stride int32, coef *int32, taps, sum, n int32)

//go:wasmimport mavis_simd opaque
func simdOpaque(p *uint8, n int32) int32

func init() {
	switch v := simdVersion(); v {
	case 0:
		return // no kernels: the loader said why
	case simdABI:
	default:
		println("nn: the SIMD128 kernel module has interface version", v, "and this build expects", simdABI, "(a stale kernels.wasm?): using the portable kernels")
		return
	}
	addMicroKernel(microKernelInfo{"wasm simd128 4x8", micro4x8SIMD, 4, 8, false, micro4x8SIMDStore, convRowSIMD, convRowDotSIMD})
	fastMaskCopy = maskCopySIMD
	fastScaleShift = scaleShiftSIMD
	fastStoreDiff = storeDiffSIMD
	fastShiftSum = shiftSumSIMD
	fastPool2x2Row = pool2x2RowSIMD
	fastPool2x2RowAt = pool2x2RowAtSIMD
	fastPool2x2Back = pool2x2BackSIMD
	fastDense = denseSIMD
	fastDenseDx = denseDxSIMD
	winogradVec, winogradVecRange, winogradVecTakes = winogradVecSIMD, winogradVecRangeSIMD, winogradVecFitsSIMD
	resizeKernelsFast = &resizeKernels{h: resizeHSIMD, v: resizeVSIMD, opaque: opaqueSIMD}
}

// f32 returns the address of s's first element (of its array when s is
// empty; the kernels read nothing then).
func f32(s []float32) *float32 { return unsafe.SliceData(s) }

// addr32 returns the address of s's first element as a wasm32 address.
func addr32(s []float32) uint32 { return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(s)))) }

// micro4x8SIMD is a microKernel with mr = 4 and nr = 8.
func micro4x8SIMD(kc int, a, b, c []float32, ldc int) {
	_, _, _ = a[:4*kc], b[:8*kc], c[:3*ldc+8]
	simdGemm4x8(int32(kc), f32(a), f32(b), f32(c), int32(ldc))
}

// micro4x8SIMDStore is micro4x8SIMD as a microStoreKernel.
func micro4x8SIMDStore(kc int, a, b, c []float32, ldc int, bias []float32, relu bool) {
	_, _, _, _ = a[:4*kc], b[:8*kc], c[:3*ldc+8], bias[:8]
	simdGemm4x8Store(int32(kc), f32(a), f32(b), f32(c), int32(ldc), f32(bias), b2i(relu))
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// convRowSIMD is a rowKernel: conv_rows_4x8 for panels of 8 columns,
// conv_rows_7x4 for panels of 4.
func convRowSIMD(rc *rowConv, y []float32, rows *[maxRowsKH][]float32) {
	K := rc.kh * rc.seg
	_, _ = rc.bp[:rc.np*K*rc.nr], rc.bias[:rc.np*rc.nr]
	if rc.npos == 0 {
		return
	}
	_ = y[:(rc.npos-1)*rc.ystep+(rc.np-1)*rc.nr+rc.cols]
	var addrs [maxRowsKH]uint32
	for ky := range rc.kh {
		addrs[ky] = addr32(rows[ky][:(rc.npos-1)*rc.step+rc.seg])
	}
	// Direct calls: through a function value the compiler would not see
	// noescape and would move addrs to the heap.
	switch rc.nr {
	case 8:
		simdConvRows4x8(&addrs[0], int32(rc.kh), int32(rc.seg), int32(4*rc.step), int32(rc.npos), f32(rc.bp), int32(rc.np), int32(rc.cols), f32(rc.bias), b2i(rc.relu), f32(y), int32(4*rc.ystep))
	case 4:
		simdConvRows7x4(&addrs[0], int32(rc.kh), int32(rc.seg), int32(4*rc.step), int32(rc.npos), f32(rc.bp), int32(rc.np), int32(rc.cols), f32(rc.bias), b2i(rc.relu), f32(y), int32(4*rc.ystep))
	default:
		panic("nn: SIMD row kernel for panels of " + strconv.Itoa(rc.nr))
	}
}

// convRowDotSIMD is the rowKernel of dot panels (convRowDotGo):
// conv_rows_dot.
func convRowDotSIMD(rc *rowConv, y []float32, rows *[maxRowsKH][]float32) {
	if rc.nr != 1 || rc.np < 1 || rc.np > maxDotOut || rc.seg%4 != 0 || rc.seg == 0 {
		panic("nn: SIMD dot row kernel: nr " + strconv.Itoa(rc.nr) + ", " + strconv.Itoa(rc.np) + " panels, seg " + strconv.Itoa(rc.seg))
	}
	_, _ = rc.bp[:rc.np*rc.kh*rc.seg], rc.bias[:rc.np]
	if rc.npos == 0 {
		return
	}
	_ = y[:(rc.npos-1)*rc.ystep+rc.np]
	var addrs [maxRowsKH]uint32
	for ky := range rc.kh {
		addrs[ky] = addr32(rows[ky][:(rc.npos-1)*rc.step+rc.seg])
	}
	simdConvRowsDot(&addrs[0], int32(rc.kh), int32(rc.seg), int32(4*rc.step), int32(rc.npos), f32(rc.bp), int32(rc.np), f32(rc.bias), b2i(rc.relu), f32(y), int32(4*rc.ystep))
}

func maskCopySIMD(dst, src, mask []float32) {
	n := len(dst)
	_, _ = src[:n], mask[:n]
	simdMaskCopy(f32(dst), f32(src), f32(mask), int32(n))
}

func scaleShiftSIMD(y, x, s, t []float32) {
	n, c := len(x), len(s)
	_ = y[:n]
	if n%c != 0 {
		panic("nn: scale and shift of a partial position")
	}
	var tp *float32 // nil: no shift (the kernel's t == 0)
	if t != nil {
		tp = f32(t[:c])
	}
	simdScaleShift(f32(y), f32(x), f32(s), tp, int32(n), int32(c))
}

func shiftSumSIMD(sum float64, x, mean, inv []float32) float64 {
	n, c := len(x), len(mean)
	_ = inv[:c]
	if n%c != 0 {
		panic("nn: shift sum of a partial position")
	}
	return simdShiftSum(sum, f32(x), f32(mean), f32(inv), int32(n), int32(c))
}

func storeDiffSIMD(dst, src []float32, flags []int32, c int) {
	if c%4 != 0 {
		panic("nn: SIMD store of " + strconv.Itoa(c) + " channels")
	}
	n := len(flags)
	_, _ = dst[:n*c], src[:n*c]
	simdStoreDiff(f32(dst), f32(src), unsafe.SliceData(flags), int32(n), int32(c))
}

func pool2x2RowSIMD(y []float32, arg []int32, x []float32, n, i, h, w, c, oh, ow int) {
	o := ((n*oh + i) * ow) * c
	base := (n*h + 2*i) * w * c
	_, _ = y[o:o+ow*c], arg[o:o+ow*c]
	_ = x[base : base+(w+2*ow)*c] // rows 2i and 2i+1, the windows' columns
	simdPool2x2Row(f32(y[o:]), unsafe.SliceData(arg[o:]), f32(x), int32(base), int32(w), int32(c), int32(ow))
}

func pool2x2RowAtSIMD(y []float32, arg []int32, rows []float32, base, w, c, ow int) {
	_, _ = y[:ow*c], arg[:ow*c]
	_ = rows[:(w+2*ow)*c]
	simdPool2x2RowAt(f32(y), unsafe.SliceData(arg), addr32(rows)-uint32(4*base), int32(base), int32(w), int32(c), int32(ow))
}

func pool2x2BackSIMD(dx, dy []float32, arg []int32, n, i, h, w, c, oh, ow int) {
	o := ((n*oh + i) * ow) * c
	base := (n*h + 2*i) * w * c
	_, _ = dy[o:o+ow*c], arg[o:o+ow*c]
	_ = dx[base : base+(w+2*ow)*c]
	simdPool2x2BackRow(f32(dx), f32(dy[o:]), unsafe.SliceData(arg[o:]), int32(base), int32(w), int32(c), int32(ow))
}

func denseSIMD(y, x, k []float32) {
	_ = k[:len(x)*len(y)]
	simdDense(f32(y), f32(x), f32(k), int32(len(x)), int32(len(y)))
}

func denseDxSIMD(dx, k, g []float32) {
	_ = k[:len(dx)*len(g)]
	simdDenseDx(f32(dx), f32(k), f32(g), int32(len(dx)), int32(len(g)))
}

// resizeHSIMD is resizeKernels.h: resize_h.
func resizeHSIMD(dst, src []uint8, start []int32, coef []int16, sum []int32, taps int) {
	n := len(sum)
	_, _, _ = dst[:4*n], start[:n], coef[:2*((taps+1)/2)*n]
	for _, s := range start {
		_ = src[s : int(s)+4*taps]
	}
	simdResizeH(unsafe.SliceData(dst), unsafe.SliceData(src), unsafe.SliceData(start), unsafe.SliceData(coef), unsafe.SliceData(sum), int32(n), int32(taps))
}

// resizeVSIMD is resizeKernels.v: resize_v.
func resizeVSIMD(dst, src []uint8, stride int, coef []int32, sum int32) {
	n, taps := len(dst), len(coef)
	if n%4 != 0 {
		panic("nn: resize_v of a partial pixel")
	}
	if taps > 0 {
		_ = src[:(taps-1)*stride+n]
	}
	simdResizeV(unsafe.SliceData(dst), unsafe.SliceData(src), int32(stride), unsafe.SliceData(coef), int32(taps), sum, int32(n))
}

// opaqueSIMD is resizeKernels.opaque: opaque.
func opaqueSIMD(row []uint8) bool {
	return simdOpaque(unsafe.SliceData(row), int32(len(row)/4)) != 0
}

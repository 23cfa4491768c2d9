package main

// The two passes of nn's image resize (nn/image_resize.go: nfnt/resize's
// 8-bit filters, to the byte): sums of 8-bit RGBA pixels times int16
// weights in int32 lanes, each divided by its weights' sum with Go's
// truncating division and clamped to 0..255. SIMD128 has no integer
// division; for |n| < 2^31 and 1 <= |d| < 2^22 (nn checks both),
// trunc(float64(n) / float64(d)) is n/d exactly: the float64 quotient is
// within 2^-22 of n/d, which is an integer or at least 1/d from one.

// resizeHKernel writes resize_h(dst, src, start, coef, sum, n, taps): n
// output pixels along a row. Output o sums taps pixels of src from byte
// start[o], each channel times its weight: coef holds, for each output,
// (taps+1)/2 pairs of int16, weights t and t+1 (the last pair's second
// weight 0 when taps is odd). A pair loaded as four copies of itself and
// [r_t r_t+1 g_t g_t+1 b_t b_t+1 a_t a_t+1] make i32x4.dot_i16x8_s add two
// taps to the four channels. sum[o] divides.
func resizeHKernel(m *module) {
	f := m.newFunc("resize_h", "one row of a resize along rows (nn: resize8's first pass)")
	dst, src, start, coef := f.param("dst", i32), f.param("src", i32), f.param("start", i32), f.param("coef", i32)
	sum, n, taps := f.param("sum", i32), f.param("n", i32), f.param("taps", i32)
	end, p, pend := f.local("end", i32), f.local("p", i32), f.local("pend", i32)
	acc, d := f.local("acc", v128), f.local("d", v128)
	f.get(dst)
	f.get(n)
	f.i32Const(2)
	f.i32Shl()
	f.i32Add()
	f.set(end)
	// interleave puts a vector's first two pixels' channels side by side
	// in its low 8 bytes (the high ones are not read).
	interleave := [16]byte{0, 4, 1, 5, 2, 6, 3, 7, 16, 16, 16, 16, 16, 16, 16, 16}
	addTaps := func() {
		f.v128Zero()
		f.i8x16Shuffle(interleave)
		f.i16x8ExtendLowI8x16U()
		f.get(coef)
		f.v128Load32Splat(0)
		f.i32x4DotI16x8S()
		f.get(acc)
		f.i32x4Add()
		f.set(acc)
		advance(f, 4, coef)
	}
	f.whileBelow("out", dst, end, func() {
		f.get(src)
		f.get(start)
		f.i32Load(0)
		f.i32Add()
		f.tee(p)
		f.get(taps)
		f.i32Const(1)
		f.i32ShrU()
		f.i32Const(3)
		f.i32Shl()
		f.i32Add()
		f.set(pend)
		f.v128Zero()
		f.set(acc)
		f.whileBelow("pairs", p, pend, func() {
			f.get(p)
			f.v128Load64Zero(0)
			addTaps()
			advance(f, 8, p)
		})
		f.get(taps)
		f.i32Const(1)
		f.i32And()
		f.ifThen(func() {
			f.get(p)
			f.v128Load32Zero(0)
			addTaps()
		})
		f.get(sum)
		f.i32Load(0)
		f.f64ConvertI32S()
		f.f64x2Splat()
		f.set(d)
		f.get(dst)
		divLanes(f, acc, d)
		f.tee(acc)
		f.get(acc)
		f.i16x8NarrowI32x4S()
		f.tee(acc)
		f.get(acc)
		f.i8x16NarrowI16x8U()
		f.v128Store32Lane(0, 0)
		advance(f, 4, dst, start, sum)
	})
}

// resizeVKernel writes resize_v(dst, src, stride, coef, taps, sum, n): one
// output row of n bytes (n a multiple of 4) of a resize along columns.
// Byte j sums src[j + t*stride] times coef[t] (int32, each within int16)
// for t < taps, divided by sum. Sixteen bytes at a time, then four.
func resizeVKernel(m *module) {
	f := m.newFunc("resize_v", "one row of a resize along columns (nn: resize8's second pass)")
	dst, src, stride, coef := f.param("dst", i32), f.param("src", i32), f.param("stride", i32), f.param("coef", i32)
	taps, sum, n := f.param("taps", i32), f.param("sum", i32), f.param("n", i32)
	end, vend, p, c, cend := f.local("end", i32), f.local("vend", i32), f.local("p", i32), f.local("c", i32), f.local("cend", i32)
	a := [4]local{f.local("a0", v128), f.local("a1", v128), f.local("a2", v128), f.local("a3", v128)}
	k, lo, hi, d := f.local("k", v128), f.local("lo", v128), f.local("hi", v128), f.local("d", v128)
	f.get(dst)
	f.get(n)
	f.i32Add()
	f.set(end)
	f.get(dst)
	f.get(n)
	f.i32Const(-16)
	f.i32And()
	f.i32Add()
	f.set(vend)
	f.get(coef)
	f.get(taps)
	f.i32Const(2)
	f.i32Shl()
	f.i32Add()
	f.set(cend)
	f.get(sum)
	f.f64ConvertI32S()
	f.f64x2Splat()
	f.set(d)
	// eachTap runs body once per tap with k the tap's weight in eight int16
	// lanes and p the address of its first byte in this block.
	eachTap := func(name string, lanes int, body func()) {
		for i := range lanes {
			f.v128Zero()
			f.set(a[i])
		}
		f.get(src)
		f.set(p)
		f.get(coef)
		f.set(c)
		f.whileBelow(name, c, cend, func() {
			f.get(c)
			f.i32Load(0)
			f.i16x8Splat()
			f.set(k)
			body()
			f.get(p)
			f.get(stride)
			f.i32Add()
			f.set(p)
			advance(f, 4, c)
		})
	}
	// madd adds the products of the int16 lanes of v (its low or high
	// half) and k to a.
	madd := func(a, v local, high bool) {
		f.get(a)
		f.get(v)
		f.get(k)
		if high {
			f.i32x4ExtmulHighI16x8S()
		} else {
			f.i32x4ExtmulLowI16x8S()
		}
		f.i32x4Add()
		f.set(a)
	}
	f.forRange("blocks", dst, vend, 16, func() {
		eachTap("tap", 4, func() {
			f.get(p)
			f.v128Load(0)
			f.tee(hi)
			f.i16x8ExtendLowI8x16U()
			f.set(lo)
			f.get(hi)
			f.i16x8ExtendHighI8x16U()
			f.set(hi)
			madd(a[0], lo, false)
			madd(a[1], lo, true)
			madd(a[2], hi, false)
			madd(a[3], hi, true)
		})
		f.get(dst)
		divLanes(f, a[0], d)
		divLanes(f, a[1], d)
		f.i16x8NarrowI32x4S()
		divLanes(f, a[2], d)
		divLanes(f, a[3], d)
		f.i16x8NarrowI32x4S()
		f.i8x16NarrowI16x8U()
		f.v128Store(0)
		advance(f, 16, src)
	})
	f.forRange("pixels", dst, end, 4, func() {
		eachTap("tap1", 1, func() {
			f.get(p)
			f.v128Load32Zero(0)
			f.i16x8ExtendLowI8x16U()
			f.set(lo)
			madd(a[0], lo, false)
		})
		f.get(dst)
		divLanes(f, a[0], d)
		f.tee(a[0])
		f.get(a[0])
		f.i16x8NarrowI32x4S()
		f.tee(a[0])
		f.get(a[0])
		f.i8x16NarrowI16x8U()
		f.v128Store32Lane(0, 0)
		advance(f, 4, src)
	})
}

// opaqueKernel writes opaque(p, n) -> i32: 1 when each of the n RGBA
// pixels from p has alpha 255, else 0 (nn: resize8 premultiplies the
// NRGBA rows that are not). It ANDs the pixels together and looks at the
// alpha bytes once.
func opaqueKernel(m *module) {
	f := m.newFunc("opaque", "whether n RGBA pixels all have alpha 255 (nn: resize8)", i32)
	p, n := f.param("p", i32), f.param("n", i32)
	end, vend, acc, tail := f.local("end", i32), f.local("vend", i32), f.local("acc", v128), f.local("tail", i32)
	setEnds(f, p, n, end, vend)
	f.i32x4Const(-1, -1, -1, -1)
	f.set(acc)
	f.forRange("vec", p, vend, 16, func() {
		f.get(acc)
		f.get(p)
		f.v128Load(0)
		f.v128And()
		f.set(acc)
	})
	f.i32Const(-1)
	f.set(tail)
	f.forRange("tail", p, end, 4, func() {
		f.get(tail)
		f.get(p)
		f.i32Load(0)
		f.i32And()
		f.set(tail)
	})
	f.get(acc)
	f.get(tail)
	f.i32x4Splat()
	f.v128And()
	f.i32x4Const(-1<<24, -1<<24, -1<<24, -1<<24)
	f.v128And()
	f.i32x4Const(-1<<24, -1<<24, -1<<24, -1<<24)
	f.i32x4Eq()
	f.i32x4AllTrue()
}

// divLanes pushes the four int32 lanes of a, each divided by d (the
// divisor in both float64 lanes) and truncated: two lanes at a time in
// float64, exact within the limits in this file's comment.
func divLanes(f *function, a, d local) {
	f.get(a)
	f.f64x2ConvertLowI32x4S()
	f.get(d)
	f.f64x2Div()
	f.i32x4TruncSatF64x2SZero()
	f.get(a)
	f.get(a)
	f.i8x16Shuffle([16]byte{8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15})
	f.f64x2ConvertLowI32x4S()
	f.get(d)
	f.f64x2Div()
	f.i32x4TruncSatF64x2SZero()
	f.i8x16Shuffle([16]byte{0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23})
}

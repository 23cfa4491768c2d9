package main

// The element-wise kernels: each computes exactly what the Go loop it
// shadows in nn computes, bit for bit (the same operations on each
// element, in the same order), four lanes at a time. Lengths are in
// floats, addresses in bytes.

// maskCopyKernel writes mask_copy(dst, src, mask, n): dst[i] = src[i] where
// mask[i] > 0 and +0 elsewhere, for i < n (nn's reluGradTo and
// maskPositive: "mask > 0" is its bits as an int32 > 0, so a positive NaN
// counts as positive). dst may be src.
func maskCopyKernel(m *module) {
	f := m.newFunc("mask_copy", "dst[i] = mask[i] > 0 ? src[i] : +0, i < n (nn: reluGradTo)")
	dst, src, mask, n := f.param("dst", i32), f.param("src", i32), f.param("mask", i32), f.param("n", i32)
	end, vend := f.local("end", i32), f.local("vend", i32)
	setEnds(f, dst, n, end, vend)
	f.forRange("vec", dst, vend, 16, func() {
		f.get(dst)
		f.get(src)
		f.v128Load(0)
		f.get(mask)
		f.v128Load(0)
		f.v128Zero()
		f.i32x4GtS()
		f.v128And()
		f.v128Store(0)
		advance(f, 16, src, mask)
	})
	f.forRange("tail", dst, end, 4, func() {
		f.get(dst)
		f.get(src)
		f.i32Load(0)
		f.i32Const(0)
		f.get(mask)
		f.i32Load(0)
		f.i32Const(0)
		f.i32GtS()
		f.sel()
		f.i32Store(0)
		advance(f, 4, src, mask)
	})
}

// setEnd sets end = p + 4n, the address after n floats from p.
func setEnd(f *function, p, n, end local) {
	f.get(p)
	f.get(n)
	f.i32Const(2)
	f.i32Shl()
	f.i32Add()
	f.set(end)
}

// setEnds sets end = p + 4n and vend = p + 16*(n/4), the ends of a loop
// over n floats from p and of its whole vectors.
func setEnds(f *function, p, n, end, vend local) {
	setEnd(f, p, n, end)
	f.get(p)
	f.get(n)
	f.i32Const(-4)
	f.i32And()
	f.i32Const(2)
	f.i32Shl()
	f.i32Add()
	f.set(vend)
}

// advance adds by bytes to each local.
func advance(f *function, by int32, ls ...local) {
	for _, l := range ls {
		f.get(l)
		f.i32Const(by)
		f.i32Add()
		f.set(l)
	}
}

// scaleShiftKernel writes scale_shift(y, x, s, t, n, c): y = x*s + t per
// channel over n floats of c channels, c a multiple of 4 (nn's
// scaleShiftTo, batch normalisation at inference), and, with t = 0 (the
// address), y = x*s (nn's scaleTo). y may be x.
func scaleShiftKernel(m *module) {
	f := m.newFunc("scale_shift", "y = x*s + t (t != 0) or y = x*s, per channel; n floats of c channels, c % 4 == 0 (nn: scaleShiftTo, scaleTo)")
	y, x, s, t, n, c := f.param("y", i32), f.param("x", i32), f.param("s", i32), f.param("t", i32), f.param("n", i32), f.param("c", i32)
	end, rowEnd, j := f.local("end", i32), f.local("row_end", i32), f.local("j", i32)
	setEnd(f, y, n, end)
	row := func(shift bool) {
		// One position: c channels.
		setEnd(f, y, c, rowEnd)
		f.i32Const(0)
		f.set(j)
		f.loop("channels", func(l label) {
			f.get(y)
			f.get(x)
			f.v128Load(0)
			f.get(s)
			f.get(j)
			f.i32Add()
			f.v128Load(0)
			f.f32x4Mul()
			if shift {
				f.get(t)
				f.get(j)
				f.i32Add()
				f.v128Load(0)
				f.f32x4Add()
			}
			f.v128Store(0)
			advance(f, 16, y, x, j)
			f.get(y)
			f.get(rowEnd)
			f.i32LtU()
			f.brIf(l)
		})
	}
	loop := func(shift bool) {
		f.whileBelow("positions", y, end, func() { row(shift) })
	}
	f.get(t)
	f.ifElse(func() { loop(true) }, func() { loop(false) })
}

// shiftSumKernel writes shift_sum(sum, x, mean, inv, n, c) -> f64: sum
// plus, position by position in float64, each position's Σ_c ((x −
// mean_c)·inv_c)² in float32, summed in one vector (channel k in lane k mod
// 4) and added up as (lane 0 + lane 1) + (lane 2 + lane 3); n floats of c
// channels, c a multiple of 4 (nn's shiftSumTo, BatchNorm.Shift).
func shiftSumKernel(m *module) {
	f := m.newFunc("shift_sum", "sum + Σ_positions Σ_c ((x - mean)*inv)^2, the channels in float32 lanes k mod 4; n floats of c channels, c % 4 == 0 (nn: shiftSumTo)", f64)
	sum, x, mean, inv, n, c := f.param("sum", f64), f.param("x", i32), f.param("mean", i32), f.param("inv", i32), f.param("n", i32), f.param("c", i32)
	end, rowEnd, j := f.local("end", i32), f.local("row_end", i32), f.local("j", i32)
	acc, z := f.local("acc", v128), f.local("z", v128)
	setEnd(f, x, n, end)
	f.whileBelow("positions", x, end, func() {
		setEnd(f, x, c, rowEnd)
		f.i32Const(0)
		f.set(j)
		f.v128Zero()
		f.set(acc)
		f.loop("channels", func(lc label) {
			// z = (x - mean) * inv; acc += z*z
			f.get(x)
			f.v128Load(0)
			f.get(mean)
			f.get(j)
			f.i32Add()
			f.v128Load(0)
			f.f32x4Sub()
			f.get(inv)
			f.get(j)
			f.i32Add()
			f.v128Load(0)
			f.f32x4Mul()
			f.tee(z)
			f.get(z)
			f.f32x4Mul()
			f.get(acc)
			f.f32x4Add()
			f.set(acc)
			advance(f, 16, x, j)
			f.get(x)
			f.get(rowEnd)
			f.i32LtU()
			f.brIf(lc)
		})
		f.get(sum)
		for _, pair := range [2][2]byte{{0, 1}, {2, 3}} {
			f.get(acc)
			f.f32x4ExtractLane(pair[0])
			f.get(acc)
			f.f32x4ExtractLane(pair[1])
			f.f32Add()
		}
		f.f32Add()
		f.f64PromoteF32()
		f.f64Add()
		f.set(sum)
	})
	f.get(sum)
}

// pool2x2Kernel writes pool2x2_row(y, arg, x, base, w, c, ow): output row
// of a 2x2, stride-2 max-pool without padding (nn's pool2x2RowTo), c a
// multiple of 4. x is the input's first element; base is the index of the
// first element of the window row's top input row; y and arg point at
// the output row. Each output takes the first maximum of its window in
// row-major order (a later candidate wins only when it is greater, false
// for NaN), and arg its input index.
func pool2x2Kernel(m *module) {
	f := m.newFunc("pool2x2_row", "one output row of a 2x2 stride-2 max-pool with argmax (nn: pool2x2RowTo)")
	y, arg, x, base := f.param("y", i32), f.param("arg", i32), f.param("x", i32), f.param("base", i32)
	w, c, ow := f.param("w", i32), f.param("c", i32), f.param("ow", i32)
	j, k, p, v, a, u := f.local("j", i32), f.local("k", i32), f.local("p", i32), f.local("v", v128), f.local("a", v128), f.local("u", v128)
	mk, wc := f.local("m", v128), f.local("wc", i32)
	f.get(w)
	f.get(c)
	f.i32Mul()
	f.set(wc)
	f.i32Const(0)
	f.set(j)
	// candidate replaces (v, a) by the input at element p+off when greater.
	candidate := func(off func()) {
		f.get(x)
		f.get(p)
		off()
		f.i32Const(2)
		f.i32Shl()
		f.i32Add()
		f.v128Load(0)
		f.tee(u)
		f.get(v)
		f.f32x4Gt()
		f.set(mk)
		f.get(u)
		f.get(v)
		f.get(mk)
		f.v128Bitselect()
		f.set(v)
		f.get(p)
		off()
		f.i32x4Splat()
		f.i32x4Const(0, 1, 2, 3)
		f.i32x4Add()
		f.get(a)
		f.get(mk)
		f.v128Bitselect()
		f.set(a)
	}
	f.block("row_done", func(done label) {
		f.get(ow)
		f.i32Eqz()
		f.brIf(done)
		f.loop("row", func(rl label) {
			// p = base + 2j*c, the window's top-left input element.
			f.get(base)
			f.get(j)
			f.i32Const(1)
			f.i32Shl()
			f.get(c)
			f.i32Mul()
			f.i32Add()
			f.set(p)
			f.i32Const(0)
			f.set(k)
			f.loop("channels", func(cl label) {
				f.get(x)
				f.get(p)
				f.i32Const(2)
				f.i32Shl()
				f.i32Add()
				f.v128Load(0)
				f.set(v)
				f.get(p)
				f.i32x4Splat()
				f.i32x4Const(0, 1, 2, 3)
				f.i32x4Add()
				f.set(a)
				candidate(func() { f.get(c); f.i32Add() })
				candidate(func() { f.get(wc); f.i32Add() })
				candidate(func() { f.get(wc); f.i32Add(); f.get(c); f.i32Add() })
				f.get(y)
				f.get(v)
				f.v128Store(0)
				f.get(arg)
				f.get(a)
				f.v128Store(0)
				advance(f, 16, y, arg)
				advance(f, 4, p)
				f.get(k)
				f.i32Const(4)
				f.i32Add()
				f.tee(k)
				f.get(c)
				f.i32LtS()
				f.brIf(cl)
			})
			f.get(j)
			f.i32Const(1)
			f.i32Add()
			f.tee(j)
			f.get(ow)
			f.i32LtS()
			f.brIf(rl)
		})
	})
}

// pool2x2BackKernel writes pool2x2_back_row(dx, dy, arg, base, w, c, ow):
// the gradient of one output row of pool2x2_row, written into the
// 2 x 2*ow x c inputs of its windows (dx is the input gradient's first
// element, base and w as for pool2x2_row): each input gets 0 + dy of its
// window when it is the window's arg and +0 otherwise, which is what
// nn's MaxPool2D.Backward leaves there (clear, then dx[arg] += dy).
func pool2x2BackKernel(m *module) {
	f := m.newFunc("pool2x2_back_row", "the input gradient of one output row of a 2x2 stride-2 max-pool (nn: MaxPool2D.Backward)")
	dx, dy, arg, base := f.param("dx", i32), f.param("dy", i32), f.param("arg", i32), f.param("base", i32)
	w, c, ow := f.param("w", i32), f.param("c", i32), f.param("ow", i32)
	j, k, p, g, a, wc := f.local("j", i32), f.local("k", i32), f.local("p", i32), f.local("g", v128), f.local("a", v128), f.local("wc", i32)
	f.get(w)
	f.get(c)
	f.i32Mul()
	f.set(wc)
	f.i32Const(0)
	f.set(j)
	// write stores dx[p+off .. +4] = (g where a == p+off+lane) + 0.
	write := func(off func()) {
		f.get(dx)
		f.get(p)
		off()
		f.i32Const(2)
		f.i32Shl()
		f.i32Add()
		f.get(g)
		f.get(a)
		f.get(p)
		off()
		f.i32x4Splat()
		f.i32x4Const(0, 1, 2, 3)
		f.i32x4Add()
		f.i32x4Eq()
		f.v128And()
		f.v128Zero()
		f.f32x4Add()
		f.v128Store(0)
	}
	f.block("row_done", func(done label) {
		f.get(ow)
		f.i32Eqz()
		f.brIf(done)
		f.loop("row", func(rl label) {
			f.get(base)
			f.get(j)
			f.i32Const(1)
			f.i32Shl()
			f.get(c)
			f.i32Mul()
			f.i32Add()
			f.set(p)
			f.i32Const(0)
			f.set(k)
			f.loop("channels", func(cl label) {
				f.get(dy)
				f.v128Load(0)
				f.set(g)
				f.get(arg)
				f.v128Load(0)
				f.set(a)
				write(func() {})
				write(func() { f.get(c); f.i32Add() })
				write(func() { f.get(wc); f.i32Add() })
				write(func() { f.get(wc); f.i32Add(); f.get(c); f.i32Add() })
				advance(f, 16, dy, arg)
				advance(f, 4, p)
				f.get(k)
				f.i32Const(4)
				f.i32Add()
				f.tee(k)
				f.get(c)
				f.i32LtS()
				f.brIf(cl)
			})
			f.get(j)
			f.i32Const(1)
			f.i32Add()
			f.tee(j)
			f.get(ow)
			f.i32LtS()
			f.brIf(rl)
		})
	})
}

// denseKernel writes dense(y, x, k, nin, nout): y += x[i] * k[i, :] for
// each i < nin with x[i] != 0, in i order (nn's Dense.Forward after y is
// set to the bias: axpy per input). k is (nin, nout) row-major.
func denseKernel(m *module) {
	f := m.newFunc("dense", "y (nout) += x[i] * k[i,:] for x[i] != 0, i < nin (nn: Dense.Forward)")
	y, x, k, nin, nout := f.param("y", i32), f.param("x", i32), f.param("k", i32), f.param("nin", i32), f.param("nout", i32)
	xend, xv, sv := f.local("xend", i32), f.local("xv", f32), f.local("sv", v128)
	yp, kp, end, vend := f.local("yp", i32), f.local("kp", i32), f.local("end", i32), f.local("vend", i32)
	setEnd(f, x, nin, xend)
	setEnds(f, y, nout, end, vend)
	f.forRange("inputs", x, xend, 4, func() {
		f.get(x)
		f.f32Load(0)
		f.tee(xv)
		f.f32Const(0)
		f.f32Ne()
		f.ifThen(func() {
			f.get(xv)
			f.f32x4Splat()
			f.set(sv)
			f.get(y)
			f.set(yp)
			f.get(k)
			f.set(kp)
			f.forRange("vec", yp, vend, 16, func() {
				f.get(yp)
				f.get(yp)
				f.v128Load(0)
				f.get(sv)
				f.get(kp)
				f.v128Load(0)
				f.f32x4Mul()
				f.f32x4Add()
				f.v128Store(0)
				advance(f, 16, kp)
			})
			f.forRange("tail", yp, end, 4, func() {
				f.get(yp)
				f.get(yp)
				f.f32Load(0)
				f.get(xv)
				f.get(kp)
				f.f32Load(0)
				f.f32Mul()
				f.f32Add()
				f.f32Store(0)
				advance(f, 4, kp)
			})
		})
		// k = the next row
		setEnd(f, k, nout, k)
	})
}

// denseDxKernel writes dense_dx(dx, k, g, nin, nout): dx[i] = dot(k[i,:],
// g) for i < nin, with nn's dot: four partial sums s_l over the elements
// 4q+l, the elements past the last multiple of 4 added to s0, then
// (s0+s1) + (s2+s3).
func denseDxKernel(m *module) {
	f := m.newFunc("dense_dx", "dx[i] = dot(k[i,:], g), i < nin, with nn's dot (nn: Dense.Backward)")
	dx, k, g, nin, nout := f.param("dx", i32), f.param("k", i32), f.param("g", i32), f.param("nin", i32), f.param("nout", i32)
	dxend, gp, gend, gvend, acc, s0 := f.local("dxend", i32), f.local("gp", i32), f.local("gend", i32), f.local("gvend", i32), f.local("acc", v128), f.local("s0", f32)
	setEnd(f, dx, nin, dxend)
	setEnds(f, g, nout, gend, gvend)
	f.forRange("rows", dx, dxend, 4, func() {
		f.v128Zero()
		f.set(acc)
		f.get(g)
		f.set(gp)
		f.forRange("vec", gp, gvend, 16, func() {
			f.get(acc)
			f.get(k)
			f.v128Load(0)
			f.get(gp)
			f.v128Load(0)
			f.f32x4Mul()
			f.f32x4Add()
			f.set(acc)
			advance(f, 16, k)
		})
		f.get(acc)
		f.f32x4ExtractLane(0)
		f.set(s0)
		f.forRange("tail", gp, gend, 4, func() {
			f.get(s0)
			f.get(k)
			f.f32Load(0)
			f.get(gp)
			f.f32Load(0)
			f.f32Mul()
			f.f32Add()
			f.set(s0)
			advance(f, 4, k)
		})
		f.get(dx)
		sumLanes(f, acc, func() { f.get(s0) })
		f.f32Store(0)
	})
}

// sumLanes pushes (s0 + s1) + (s2 + s3), nn's dot order, where s1..s3 are
// lanes 1 to 3 of acc and first pushes s0 (lane 0, or lane 0 with a
// tail's products added).
func sumLanes(f *function, acc local, first func()) {
	first()
	f.get(acc)
	f.f32x4ExtractLane(1)
	f.f32Add()
	f.get(acc)
	f.f32x4ExtractLane(2)
	f.get(acc)
	f.f32x4ExtractLane(3)
	f.f32Add()
	f.f32Add()
}

// storeDiffKernel writes store_diff(dst, src, flags, npos, c): for each of
// npos positions of c channels (c % 4 == 0), dst = src, and flags[p] (an
// i32) is 1 when any of the position's values changed bits, else 0 (nn's
// deltaStore: Delta's recomputed outputs, stored and compared).
func storeDiffKernel(m *module) {
	f := m.newFunc("store_diff", "dst = src per position of c channels (c % 4 == 0), flags[p] = 1 when its bits changed (nn: deltaStore)")
	dst, src, flags, npos, c := f.param("dst", i32), f.param("src", i32), f.param("flags", i32), f.param("npos", i32), f.param("c", i32)
	fend, rowEnd, acc := f.local("flags_end", i32), f.local("row_end", i32), f.local("acc", v128)
	f.get(flags)
	f.get(npos)
	f.i32Const(2)
	f.i32Shl()
	f.i32Add()
	f.set(fend)
	f.whileBelow("positions", flags, fend, func() {
		setEnd(f, dst, c, rowEnd)
		f.v128Zero()
		f.set(acc)
		f.whileBelow("channels", dst, rowEnd, func() {
			// acc |= dst ^ src; dst = src
			f.get(acc)
			f.get(dst)
			f.v128Load(0)
			f.get(src)
			f.v128Load(0)
			f.v128Xor()
			f.v128Or()
			f.set(acc)
			f.get(dst)
			f.get(src)
			f.v128Load(0)
			f.v128Store(0)
			advance(f, 16, dst, src)
		})
		// flags[p] = acc != 0
		f.get(flags)
		f.get(acc)
		f.v128Zero()
		f.i32x4Eq()
		f.i32x4AllTrue()
		f.i32Eqz()
		f.i32Store(0)
		advance(f, 4, flags)
	})
}

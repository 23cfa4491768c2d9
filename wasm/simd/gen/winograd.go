package main

import "fmt"

// The tile transforms of Winograd's F(2x2, 3x3) for nn's vector Winograd
// path in the browser (nn/conv_kernel_winograd_simd_wasm.go; the
// transform matrices are in nn/conv_kernel_winograd.go). Its 16 products
// run on conv_rows_4x8. Each transform does, on every channel, the
// operations of nn's scalar winogradInput or winogradOutput in the same
// order, four channels at a time, so both give the same bits.

// winoInKernel writes wino_in(d, v, in, vstep): the input transform of one
// 4x4 tile,
//
//	V[ξν][c] = (Bᵀ d_c B)[ξ, ν]   for c < in (a multiple of 4)
//
//	d:     16 addresses (i32 each): the tile's pixels in row-major order,
//	       each a row of in channels (a row of zeros for a pixel outside
//	       the image)
//	v:     V[0][0]; V[ξν][c] is at v + ξν*vstep + 4c (bytes)
//
// computed as winogradInput does: t = Bᵀ d (t0 = d0 - d2, t1 = d1 + d2,
// t2 = d2 - d1, t3 = d1 - d3 down each column), then the same on t's rows.
func winoInKernel(m *module) {
	f := m.newFunc("wino_in", "the input transform Bᵀ d B of one 4x4 Winograd tile, in channels (nn: winogradInput)")
	d, v, in, vstep := f.param("d", i32), f.param("v", i32), f.param("in", i32), f.param("vstep", i32)
	var px, plane [16]local
	for i := range 16 {
		px[i] = f.local(fmt.Sprintf("px%d", i), i32)
		f.get(d)
		f.i32Load(uint32(4 * i))
		f.set(px[i])
	}
	planeAddrs(f, plane[:], v, vstep)
	o, end := f.local("o", i32), f.local("end", i32)
	var t [4]local
	for i := range t {
		t[i] = f.local(fmt.Sprintf("t%d", i), v128)
	}
	at, load := offsetAccess(f, o)
	f.get(in)
	f.i32Const(2)
	f.i32Shl()
	f.set(end)
	f.i32Const(0)
	f.set(o)
	f.forRange("channels", o, end, 16, func() {
		for xi := range 4 {
			// t[q] = (Bᵀ d)[ξ][q], column q of the tile.
			for q := range 4 {
				a, b, op := btRow(xi)
				load(px[a*4+q])
				load(px[b*4+q])
				op(f)
				f.set(t[q])
			}
			// V[ξν] = (t B)[ν].
			for nu := range 4 {
				a, b, op := btRow(nu)
				at(plane[xi*4+nu])
				f.get(t[a])
				f.get(t[b])
				op(f)
				f.v128Store(0)
			}
		}
	})
}

// btRow returns row i of Bᵀ as the operation x_a op x_b it applies:
// x0 - x2, x1 + x2, x2 - x1, x1 - x3.
func btRow(i int) (a, b int, op func(f *function)) {
	switch i {
	case 0:
		return 0, 2, (*function).f32x4Sub
	case 1:
		return 1, 2, (*function).f32x4Add
	case 2:
		return 2, 1, (*function).f32x4Sub
	}
	return 1, 3, (*function).f32x4Sub
}

// offsetAccess returns at, which pushes the address base + o, and load,
// which pushes the vector there.
func offsetAccess(f *function, o local) (at, load func(base local)) {
	at = func(base local) {
		f.get(base)
		f.get(o)
		f.i32Add()
	}
	load = func(base local) {
		at(base)
		f.v128Load(0)
	}
	return at, load
}

// planeAddrs sets plane[k] = base + k*step.
func planeAddrs(f *function, plane []local, base, step local) {
	for k := range plane {
		plane[k] = f.local(fmt.Sprintf("plane%d", k), i32)
		f.get(base)
		if k > 0 {
			f.get(step)
			f.i32Const(int32(k))
			f.i32Mul()
			f.i32Add()
		}
		f.set(plane[k])
	}
}

// winoOutKernel writes wino_out(mm, mstep, bias, y, xstep, ystep, n, relu,
// right, below): the output transform of one tile, its 2x2 outputs
//
//	Y = Aᵀ M A + bias, then relu when relu != 0, for n channels (a multiple of 4)
//
//	mm:    M[0][0]; the product M[ξν][j] is at mm + ξν*mstep + 4j (bytes)
//	bias:  n floats
//	y:     the top-left output; the top-right is at y + xstep, the
//	       bottom-left at y + ystep (bytes); right and below (0 or 1) say
//	       whether those exist (a tile on the image's last odd column or
//	       row has no right or bottom half)
//
// computed as winogradOutput does: s0 = M0 + M1 + M2 and s1 = M1 - M2 - M3
// down each column ν, then y00 = s0[0] + s0[1] + s0[2] + bias and
// y01 = s0[1] - s0[2] - s0[3] + bias (y10, y11 the same from s1).
func winoOutKernel(m *module) {
	f := m.newFunc("wino_out", "the output transform Aᵀ M A + bias (ReLU) of one Winograd tile, n channels (nn: winogradOutput)")
	mm, mstep, bias, y := f.param("mm", i32), f.param("mstep", i32), f.param("bias", i32), f.param("y", i32)
	xstep, ystep, n, relu := f.param("xstep", i32), f.param("ystep", i32), f.param("n", i32), f.param("relu", i32)
	right, below := f.param("right", i32), f.param("below", i32)
	var plane [16]local
	planeAddrs(f, plane[:], mm, mstep)
	o, end := f.local("o", i32), f.local("end", i32)
	y01, y10, y11 := f.local("y01", i32), f.local("y10", i32), f.local("y11", i32)
	var s0, s1 [4]local
	for q := range 4 {
		s0[q] = f.local(fmt.Sprintf("s0_%d", q), v128)
		s1[q] = f.local(fmt.Sprintf("s1_%d", q), v128)
	}
	b, out := f.local("b", v128), f.local("out", v128)
	at, load := offsetAccess(f, o)
	// The other outputs' addresses.
	f.get(y)
	f.get(xstep)
	f.i32Add()
	f.set(y01)
	f.get(y)
	f.get(ystep)
	f.i32Add()
	f.tee(y10)
	f.get(xstep)
	f.i32Add()
	f.set(y11)
	f.get(n)
	f.i32Const(2)
	f.i32Shl()
	f.set(end)
	f.i32Const(0)
	f.set(o)
	// store writes s[a] op1 s[b] op2 s[c] + bias (ReLU) at dst + o.
	store := func(dst local, s [4]local, a, bb, c int, op func(f *function)) {
		f.get(s[a])
		f.get(s[bb])
		op(f)
		f.get(s[c])
		op(f)
		f.get(b)
		f.f32x4Add()
		f.set(out)
		f.get(relu)
		f.ifThen(func() { reluVec(f, out) })
		at(dst)
		f.get(out)
		f.v128Store(0)
	}
	f.forRange("channels", o, end, 16, func() {
		for q := range 4 {
			load(plane[q])
			load(plane[4+q])
			f.f32x4Add()
			load(plane[8+q])
			f.f32x4Add()
			f.set(s0[q])
			load(plane[4+q])
			load(plane[8+q])
			f.f32x4Sub()
			load(plane[12+q])
			f.f32x4Sub()
			f.set(s1[q])
		}
		load(bias)
		f.set(b)
		store(y, s0, 0, 1, 2, (*function).f32x4Add)
		f.get(right)
		f.ifThen(func() { store(y01, s0, 1, 2, 3, (*function).f32x4Sub) })
		f.get(below)
		f.ifThen(func() {
			store(y10, s1, 0, 1, 2, (*function).f32x4Add)
			f.get(right)
			f.ifThen(func() { store(y11, s1, 1, 2, 3, (*function).f32x4Sub) })
		})
	})
}

//go:build goexperiment.simd && amd64

package nn

import (
	"simd/archsimd"
)

// The element-wise fast paths (fastpath.go) with AVX2, eight lanes: the
// batch-norm scale and shift, the ReLU mask, 2x2 max-pooling forward and
// backward. They are memory-bound (at 224x224x64 each pass moves 13 to 26
// MB) and the scalar loops ran at about 2 ns per value, several times what
// the memory needs. Each computes exactly what the Go loop it shadows
// computes, bit for bit: the same operations in the same order (a
// multiply, then an add: Go does not fuse them on amd64 v1), the same
// comparisons, the same signed zeros (TestFastPaths).
//
// The mask copy and the scale and shift split large tensors over the
// workers (each worker computes whole positions, so the result does not
// depend on the split); the pooling hooks run a row at a time, as called.

func init() {
	if !archsimd.X86.AVX2() {
		return
	}
	fastMaskCopy = maskCopyPar
	fastScaleShift = scaleShiftPar
	fastPool2x2Row = pool2x2RowAVX2
	fastPool2x2Back = pool2x2BackAVX2
}

// passParallelMin is the least number of values a pass splits over the
// workers: below it waking a worker costs more than it saves.
const passParallelMin = 1 << 15

// vecPass is one running parallel pass: which, and its operands.
type vecPass struct {
	parallelRun
	op         passOp
	y, x, s, t []float32
}

type passOp int

const (
	passScaleShift passOp = iota
	passMaskCopy
)

// vecPassFree holds idle vecPasses.
var vecPassFree freeList[vecPass]

func getPass(op passOp) *vecPass {
	v := vecPassFree.get()
	v.op = op
	return v
}

// runPass runs v over units [0, units) in about four grains per worker
// and returns v to the free list.
func runPass(v *vecPass, units, nw int) {
	v.parallelRun.run(v, units, max(1, units/(4*nw)), nw)
	v.y, v.x, v.s, v.t = nil, nil, nil, nil
	vecPassFree.put(v)
}

func (v *vecPass) runRange(_, lo, hi int) {
	switch v.op {
	case passScaleShift: // units are positions
		C := len(v.s)
		scaleShiftAVX2(v.y[lo*C:hi*C], v.x[lo*C:hi*C], v.s, v.t)
	case passMaskCopy: // units of 64 values
		hi = min(hi*64, len(v.y))
		maskCopyAVX2(v.y[lo*64:hi], v.x[lo*64:hi], v.t[lo*64:hi])
	}
}

// scaleShiftPar is fastScaleShift: y = x*s + t (x*s when t is nil) per
// channel, split over the workers when large.
func scaleShiftPar(y, x, s, t []float32) {
	nw := workers()
	if len(x) < passParallelMin || nw == 1 || len(s) == 0 {
		scaleShiftAVX2(y, x, s, t)
		return
	}
	v := getPass(passScaleShift)
	v.y, v.x, v.s, v.t = y, x, s, t
	runPass(v, len(x)/len(s), nw)
}

// maskCopyPar is fastMaskCopy: dst = src where mask > 0, else +0, split
// over the workers when large.
func maskCopyPar(dst, src, mask []float32) {
	nw := workers()
	if len(dst) < passParallelMin || nw == 1 {
		maskCopyAVX2(dst, src, mask)
		return
	}
	v := getPass(passMaskCopy)
	v.y, v.x, v.t = dst, src[:len(dst)], mask[:len(dst)]
	runPass(v, (len(dst)+63)/64, nw)
}

// scaleShiftAVX2 computes y = x*s + t, or y = x*s when t is nil, per
// channel, as scaleShiftTo and scaleTo do.
//
//	y, x: (positions, c)   s, t: (c) or t nil
func scaleShiftAVX2(y, x, s, t []float32) {
	C := len(s)
	n := len(x) / C * C
	y, x = y[:n], x[:n]
	if t != nil {
		t = t[:C]
	}
	c8 := C / 8 * 8
	for p := 0; p < n; p += C {
		xr, yr := x[p:p+C], y[p:p+C]
		for c := 0; c < c8; c += 8 {
			v := archsimd.LoadFloat32x8Slice(xr[c:]).Mul(archsimd.LoadFloat32x8Slice(s[c:]))
			if t != nil {
				v = v.Add(archsimd.LoadFloat32x8Slice(t[c:]))
			}
			v.StoreSlice(yr[c:])
		}
		for c := c8; c < C; c++ {
			if t != nil {
				yr[c] = xr[c]*s[c] + t[c]
			} else {
				yr[c] = xr[c] * s[c]
			}
		}
	}
}

// maskCopyAVX2 is reluGradTo's loop: dst = src where mask > 0, else +0,
// with mask > 0 read from the bits as there (sign clear and not zero, so
// a positive NaN counts as positive): as int32, mask > 0.
//
//	dst, src, mask: same length
func maskCopyAVX2(dst, src, mask []float32) {
	n := len(dst)
	src, mask = src[:n], mask[:n]
	zero := archsimd.BroadcastInt32x8(0)
	i := 0
	for ; i+8 <= n; i += 8 {
		pos := archsimd.LoadFloat32x8Slice(mask[i:]).AsInt32x8().Greater(zero)
		archsimd.LoadFloat32x8Slice(src[i:]).Masked(pos).StoreSlice(dst[i:])
	}
	for ; i < n; i++ {
		dst[i] = maskPositive(src[i], mask[i])
	}
}

// lanes8 holds 0..7, the lane offsets of an index vector.
var lanes8 = [8]int32{0, 1, 2, 3, 4, 5, 6, 7}

// pool2x2RowAVX2 is pool2x2RowTo (output row i of image n): each window's
// maximum and the input index of its first maximum in row-major order
// (strict >, false for NaNs).
//
//	y, arg: (n, oh, ow, c)   x: (n, h, w, c)
func pool2x2RowAVX2(y []float32, arg []int32, x []float32, n, i, H, W, C, oh, ow int) {
	if C%8 != 0 {
		pool2x2RowTo(y, arg, x, n, i, H, W, C, oh, ow)
		return
	}
	lanes := archsimd.LoadInt32x8(&lanes8)
	right := archsimd.BroadcastInt32x8(int32(C))
	down := archsimd.BroadcastInt32x8(int32(W * C))
	for j := range ow {
		o := ((n*oh+i)*ow + j) * C
		p00 := ((n*H+2*i)*W + 2*j) * C
		p01, p10 := p00+C, p00+W*C
		p11 := p10 + C
		yr, ar := y[o:o+C], arg[o:o+C]
		x00, x01, x10, x11 := x[p00:p00+C], x[p01:p01+C], x[p10:p10+C], x[p11:p11+C]
		for c := 0; c < C; c += 8 {
			i00 := archsimd.BroadcastInt32x8(int32(p00 + c)).Add(lanes)
			i01 := i00.Add(right)
			i10 := i00.Add(down)
			i11 := i10.Add(right)
			v, a := archsimd.LoadFloat32x8Slice(x00[c:]), i00
			u := archsimd.LoadFloat32x8Slice(x01[c:])
			m := u.Greater(v)
			v, a = u.Merge(v, m), i01.Merge(a, m)
			u = archsimd.LoadFloat32x8Slice(x10[c:])
			m = u.Greater(v)
			v, a = u.Merge(v, m), i10.Merge(a, m)
			u = archsimd.LoadFloat32x8Slice(x11[c:])
			m = u.Greater(v)
			v, a = u.Merge(v, m), i11.Merge(a, m)
			v.StoreSlice(yr[c:])
			a.StoreSlice(ar[c:])
		}
	}
}

// pool2x2BackAVX2 is fastPool2x2Back: the input gradient of the windows of
// output row i of image n, 0 + dy at each window's arg (so -0 becomes +0,
// as clearing and scattering leaves it), +0 at its other three inputs.
//
//	dx: (n, h, w, c)   dy, arg: (n, oh, ow, c)
func pool2x2BackAVX2(dx, dy []float32, arg []int32, n, i, H, W, C, oh, ow int) {
	if C%8 != 0 {
		pool2x2BackGo(dx, dy, arg, n, i, H, W, C, oh, ow)
		return
	}
	lanes := archsimd.LoadInt32x8(&lanes8)
	right := archsimd.BroadcastInt32x8(int32(C))
	down := archsimd.BroadcastInt32x8(int32(W * C))
	zero := archsimd.BroadcastFloat32x8(0)
	for j := range ow {
		o := ((n*oh+i)*ow + j) * C
		p00 := ((n*H+2*i)*W + 2*j) * C
		p01, p10 := p00+C, p00+W*C
		p11 := p10 + C
		gr, ar := dy[o:o+C], arg[o:o+C]
		d00, d01, d10, d11 := dx[p00:p00+C], dx[p01:p01+C], dx[p10:p10+C], dx[p11:p11+C]
		for c := 0; c < C; c += 8 {
			i00 := archsimd.BroadcastInt32x8(int32(p00 + c)).Add(lanes)
			g := zero.Add(archsimd.LoadFloat32x8Slice(gr[c:]))
			a := archsimd.LoadInt32x8Slice(ar[c:])
			g.Masked(a.Equal(i00)).StoreSlice(d00[c:])
			g.Masked(a.Equal(i00.Add(right))).StoreSlice(d01[c:])
			i10 := i00.Add(down)
			g.Masked(a.Equal(i10)).StoreSlice(d10[c:])
			g.Masked(a.Equal(i10.Add(right))).StoreSlice(d11[c:])
		}
	}
}

// pool2x2BackGo is pool2x2BackAVX2's loop in Go, for channel counts its
// vectors do not divide.
func pool2x2BackGo(dx, dy []float32, arg []int32, n, i, H, W, C, oh, ow int) {
	for j := range ow {
		o := ((n*oh+i)*ow + j) * C
		p00 := ((n*H+2*i)*W + 2*j) * C
		for c := range C {
			g, a := 0+dy[o+c], int(arg[o+c])
			for _, p := range [4]int{p00 + c, p00 + C + c, p00 + W*C + c, p00 + W*C + C + c} {
				v := float32(0)
				if p == a {
					v = g
				}
				dx[p] = v
			}
		}
	}
}

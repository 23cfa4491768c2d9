//go:build goexperiment.simd && amd64

package nn

import (
	"simd/archsimd"
	"strconv"
	"unsafe"
)

// With GOEXPERIMENT=simd on amd64 the GEMM gets vector micro-kernels,
// chosen at init from what the CPU has: AVX-512 gives a 4x32 tile (eight
// 16-wide accumulators), AVX2+FMA a 4x16 tile (eight 8-wide accumulators).
// Larger tiles measured slower because Go's register allocator spills them
// (6x16 with AVX2: 41 against 50 GFLOP/s per core for 4x16; 6x32 with
// AVX-512: 82 against 150 for 4x32). micro2x8 stays the portable fallback;
// the tests run every kernel the CPU supports.
//
// This file is generated in spirit: each kernel is the same loop, unrolled
// over rows r and vectors v of the tile,
//
//	for k: b_v = B[k, v*w : (v+1)*w]; for r: c_rv += broadcast(A[r, k]) * b_v

func init() {
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		addMicroKernel(microKernelInfo{"avx2 4x16", micro4x16AVX2, 4, 16, false, micro4x16AVX2Store, convRowAVX2, nil})
	}
	if archsimd.X86.AVX512() {
		addMicroKernel(microKernelInfo{"avx512 4x32", micro4x32AVX512, 4, 32, false, micro4x32AVX512Store, convRowAVX512, nil})
	}
}

// The Store variants start the accumulators from the bias and end with the
// ReLU (Max against zero) before storing: microStoreKernels.

// micro4x16AVX2 is a microKernel with mr = 4 and nr = 16 (AVX2, FMA).
func micro4x16AVX2(kc int, a, b, c []float32, ldc int) {
	c00 := archsimd.LoadFloat32x8Slice(c[0*ldc+0:])
	c01 := archsimd.LoadFloat32x8Slice(c[0*ldc+8:])
	c10 := archsimd.LoadFloat32x8Slice(c[1*ldc+0:])
	c11 := archsimd.LoadFloat32x8Slice(c[1*ldc+8:])
	c20 := archsimd.LoadFloat32x8Slice(c[2*ldc+0:])
	c21 := archsimd.LoadFloat32x8Slice(c[2*ldc+8:])
	c30 := archsimd.LoadFloat32x8Slice(c[3*ldc+0:])
	c31 := archsimd.LoadFloat32x8Slice(c[3*ldc+8:])
	a = a[:kc*4]
	b = b[:kc*16]
	for len(a) >= 4 && len(b) >= 16 {
		b0 := archsimd.LoadFloat32x8Slice(b[0:8])
		b1 := archsimd.LoadFloat32x8Slice(b[8:16])
		x0 := archsimd.BroadcastFloat32x8(a[0])
		c00 = x0.MulAdd(b0, c00)
		c01 = x0.MulAdd(b1, c01)
		x1 := archsimd.BroadcastFloat32x8(a[1])
		c10 = x1.MulAdd(b0, c10)
		c11 = x1.MulAdd(b1, c11)
		x2 := archsimd.BroadcastFloat32x8(a[2])
		c20 = x2.MulAdd(b0, c20)
		c21 = x2.MulAdd(b1, c21)
		x3 := archsimd.BroadcastFloat32x8(a[3])
		c30 = x3.MulAdd(b0, c30)
		c31 = x3.MulAdd(b1, c31)
		a = a[4:]
		b = b[16:]
	}
	c00.StoreSlice(c[0*ldc+0:])
	c01.StoreSlice(c[0*ldc+8:])
	c10.StoreSlice(c[1*ldc+0:])
	c11.StoreSlice(c[1*ldc+8:])
	c20.StoreSlice(c[2*ldc+0:])
	c21.StoreSlice(c[2*ldc+8:])
	c30.StoreSlice(c[3*ldc+0:])
	c31.StoreSlice(c[3*ldc+8:])
}

// micro4x32AVX512 is a microKernel with mr = 4 and nr = 32 (AVX-512F).
// Eight accumulators: Go 1.26's register allocator keeps values that live
// across a loop's back edge in X0-X14 only (the upper sixteen registers
// serve temporaries), so the 6x32 tile's twelve accumulators, two B
// vectors and a broadcast spilled three accumulators to the stack on
// every step, putting a store-to-load round trip into their dependency
// chains: 6x32 ran at 82 GFLOP per CPU second, 4x32 at 150 (kc = 576, one
// thread, nn/BENCHMARKS.md).
func micro4x32AVX512(kc int, a, b, c []float32, ldc int) {
	c00 := archsimd.LoadFloat32x16Slice(c[0*ldc+0:])
	c01 := archsimd.LoadFloat32x16Slice(c[0*ldc+16:])
	c10 := archsimd.LoadFloat32x16Slice(c[1*ldc+0:])
	c11 := archsimd.LoadFloat32x16Slice(c[1*ldc+16:])
	c20 := archsimd.LoadFloat32x16Slice(c[2*ldc+0:])
	c21 := archsimd.LoadFloat32x16Slice(c[2*ldc+16:])
	c30 := archsimd.LoadFloat32x16Slice(c[3*ldc+0:])
	c31 := archsimd.LoadFloat32x16Slice(c[3*ldc+16:])
	a = a[:kc*4]
	b = b[:kc*32]
	for len(a) >= 4 && len(b) >= 32 {
		b0 := archsimd.LoadFloat32x16Slice(b[0:16])
		b1 := archsimd.LoadFloat32x16Slice(b[16:32])
		x0 := archsimd.BroadcastFloat32x16(a[0])
		c00 = x0.MulAdd(b0, c00)
		c01 = x0.MulAdd(b1, c01)
		x1 := archsimd.BroadcastFloat32x16(a[1])
		c10 = x1.MulAdd(b0, c10)
		c11 = x1.MulAdd(b1, c11)
		x2 := archsimd.BroadcastFloat32x16(a[2])
		c20 = x2.MulAdd(b0, c20)
		c21 = x2.MulAdd(b1, c21)
		x3 := archsimd.BroadcastFloat32x16(a[3])
		c30 = x3.MulAdd(b0, c30)
		c31 = x3.MulAdd(b1, c31)
		a = a[4:]
		b = b[32:]
	}
	c00.StoreSlice(c[0*ldc+0:])
	c01.StoreSlice(c[0*ldc+16:])
	c10.StoreSlice(c[1*ldc+0:])
	c11.StoreSlice(c[1*ldc+16:])
	c20.StoreSlice(c[2*ldc+0:])
	c21.StoreSlice(c[2*ldc+16:])
	c30.StoreSlice(c[3*ldc+0:])
	c31.StoreSlice(c[3*ldc+16:])
}

// micro4x16AVX2Store is micro4x16AVX2 as a microStoreKernel.
func micro4x16AVX2Store(kc int, a, b, c []float32, ldc int, bias []float32, relu bool) {
	z0 := archsimd.LoadFloat32x8Slice(bias[0:8])
	z1 := archsimd.LoadFloat32x8Slice(bias[8:16])
	c00 := z0
	c01 := z1
	c10 := z0
	c11 := z1
	c20 := z0
	c21 := z1
	c30 := z0
	c31 := z1
	a = a[:kc*4]
	b = b[:kc*16]
	for len(a) >= 4 && len(b) >= 16 {
		b0 := archsimd.LoadFloat32x8Slice(b[0:8])
		b1 := archsimd.LoadFloat32x8Slice(b[8:16])
		x0 := archsimd.BroadcastFloat32x8(a[0])
		c00 = x0.MulAdd(b0, c00)
		c01 = x0.MulAdd(b1, c01)
		x1 := archsimd.BroadcastFloat32x8(a[1])
		c10 = x1.MulAdd(b0, c10)
		c11 = x1.MulAdd(b1, c11)
		x2 := archsimd.BroadcastFloat32x8(a[2])
		c20 = x2.MulAdd(b0, c20)
		c21 = x2.MulAdd(b1, c21)
		x3 := archsimd.BroadcastFloat32x8(a[3])
		c30 = x3.MulAdd(b0, c30)
		c31 = x3.MulAdd(b1, c31)
		a = a[4:]
		b = b[16:]
	}
	if relu {
		zero := archsimd.BroadcastFloat32x8(0)
		c00 = c00.Max(zero)
		c01 = c01.Max(zero)
		c10 = c10.Max(zero)
		c11 = c11.Max(zero)
		c20 = c20.Max(zero)
		c21 = c21.Max(zero)
		c30 = c30.Max(zero)
		c31 = c31.Max(zero)
	}
	c00.StoreSlice(c[0*ldc+0:])
	c01.StoreSlice(c[0*ldc+8:])
	c10.StoreSlice(c[1*ldc+0:])
	c11.StoreSlice(c[1*ldc+8:])
	c20.StoreSlice(c[2*ldc+0:])
	c21.StoreSlice(c[2*ldc+8:])
	c30.StoreSlice(c[3*ldc+0:])
	c31.StoreSlice(c[3*ldc+8:])
}

// micro4x32AVX512Store is micro4x32AVX512 as a microStoreKernel.
func micro4x32AVX512Store(kc int, a, b, c []float32, ldc int, bias []float32, relu bool) {
	z0 := archsimd.LoadFloat32x16Slice(bias[0:16])
	z1 := archsimd.LoadFloat32x16Slice(bias[16:32])
	c00, c01 := z0, z1
	c10, c11 := z0, z1
	c20, c21 := z0, z1
	c30, c31 := z0, z1
	a = a[:kc*4]
	b = b[:kc*32]
	for len(a) >= 4 && len(b) >= 32 {
		b0 := archsimd.LoadFloat32x16Slice(b[0:16])
		b1 := archsimd.LoadFloat32x16Slice(b[16:32])
		x0 := archsimd.BroadcastFloat32x16(a[0])
		c00 = x0.MulAdd(b0, c00)
		c01 = x0.MulAdd(b1, c01)
		x1 := archsimd.BroadcastFloat32x16(a[1])
		c10 = x1.MulAdd(b0, c10)
		c11 = x1.MulAdd(b1, c11)
		x2 := archsimd.BroadcastFloat32x16(a[2])
		c20 = x2.MulAdd(b0, c20)
		c21 = x2.MulAdd(b1, c21)
		x3 := archsimd.BroadcastFloat32x16(a[3])
		c30 = x3.MulAdd(b0, c30)
		c31 = x3.MulAdd(b1, c31)
		a = a[4:]
		b = b[32:]
	}
	if relu {
		zero := archsimd.BroadcastFloat32x16(0)
		c00 = c00.Max(zero)
		c01 = c01.Max(zero)
		c10 = c10.Max(zero)
		c11 = c11.Max(zero)
		c20 = c20.Max(zero)
		c21 = c21.Max(zero)
		c30 = c30.Max(zero)
		c31 = c31.Max(zero)
	}
	c00.StoreSlice(c[0*ldc+0:])
	c01.StoreSlice(c[0*ldc+16:])
	c10.StoreSlice(c[1*ldc+0:])
	c11.StoreSlice(c[1*ldc+16:])
	c20.StoreSlice(c[2*ldc+0:])
	c21.StoreSlice(c[2*ldc+16:])
	c30.StoreSlice(c[3*ldc+0:])
	c31.StoreSlice(c[3*ldc+16:])
}

// convRowAVX512 is the row kernel (conv_kernel_rows.go) of the AVX-512 4x32 micro-kernel:
// four positions of an output row by 32 columns at a time, reading the
// four positions' windows in place in the ring's rows (step floats
// apart), summing from +0 in ky, then k order and adding the bias last,
// as convRowGo does, but with fused multiply-adds (so within rounding of
// convRowGo, not bit for bit: TestRowKernels).
//
// The inner loop walks pointers (unsafe.Add) instead of indexing: the
// bounds checks and index arithmetic cost a quarter of the time (135
// against 164 GFLOP per CPU second on MAVIS's 3 x 192-value rows with
// AVX-512). Each row is bounds-checked before its loop, and no pointer
// steps past it (the loop stops before the increment that would, as
// unsafe.Pointer's rules require).
func convRowAVX512(rc *rowConv, y []float32, rows *[maxRowsKH][]float32) {
	if rc.nr != 32 {
		panic("nn: convRowAVX512: panels of " + strconv.Itoa(rc.nr) + " columns, want 32")
	}
	if rc.npos == 0 || rc.seg == 0 {
		return
	}
	K := rc.kh * rc.seg
	var tile [4 * 32]float32
	var base [maxRowsKH]unsafe.Pointer
	for q := range rc.np {
		cols := 32
		if q == rc.np-1 {
			cols = rc.cols
		}
		bq := rc.bp[q*K*32 : (q+1)*K*32]
		bias := rc.bias[q*32 : (q+1)*32]
		for p := 0; p < rc.npos; p += 4 {
			n := min(4, rc.npos-p) // positions in this block; the missing ones repeat the last
			s1, s2, s3 := min(1, n-1)*rc.step, min(2, n-1)*rc.step, min(3, n-1)*rc.step
			for ky := range rc.kh {
				row := rows[ky][p*rc.step : p*rc.step+s3+rc.seg]
				base[ky] = unsafe.Pointer(unsafe.SliceData(row))
			}
			var c00, c01, c10, c11, c20, c21, c30, c31 archsimd.Float32x16
			bk := unsafe.Pointer(unsafe.SliceData(bq))
			for ky := range rc.kh {
				a0 := base[ky]
				a1, a2, a3 := unsafe.Add(a0, 4*s1), unsafe.Add(a0, 4*s2), unsafe.Add(a0, 4*s3)
				for k := rc.seg; ; {
					b0 := archsimd.LoadFloat32x16((*[16]float32)(bk))
					b1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(bk, 4*16)))
					x0 := archsimd.BroadcastFloat32x16(*(*float32)(a0))
					c00 = x0.MulAdd(b0, c00)
					c01 = x0.MulAdd(b1, c01)
					x1 := archsimd.BroadcastFloat32x16(*(*float32)(a1))
					c10 = x1.MulAdd(b0, c10)
					c11 = x1.MulAdd(b1, c11)
					x2 := archsimd.BroadcastFloat32x16(*(*float32)(a2))
					c20 = x2.MulAdd(b0, c20)
					c21 = x2.MulAdd(b1, c21)
					x3 := archsimd.BroadcastFloat32x16(*(*float32)(a3))
					c30 = x3.MulAdd(b0, c30)
					c31 = x3.MulAdd(b1, c31)
					if k--; k == 0 {
						break
					}
					a0, a1, a2, a3 = unsafe.Add(a0, 4), unsafe.Add(a1, 4), unsafe.Add(a2, 4), unsafe.Add(a3, 4)
					bk = unsafe.Add(bk, 4*32)
				}
				if ky+1 < rc.kh {
					bk = unsafe.Add(bk, 4*32)
				}
			}
			// The bias, loaded here: kept in registers through the loop it
			// pushed accumulators onto the stack (Go keeps at most 15
			// vectors live across a loop's back edge).
			bias0 := archsimd.LoadFloat32x16Slice(bias[0:])
			bias1 := archsimd.LoadFloat32x16Slice(bias[16:])
			c00, c01 = bias0.Add(c00), bias1.Add(c01)
			c10, c11 = bias0.Add(c10), bias1.Add(c11)
			c20, c21 = bias0.Add(c20), bias1.Add(c21)
			c30, c31 = bias0.Add(c30), bias1.Add(c31)
			if rc.relu {
				zero := archsimd.BroadcastFloat32x16(0)
				c00, c01 = c00.Max(zero), c01.Max(zero)
				c10, c11 = c10.Max(zero), c11.Max(zero)
				c20, c21 = c20.Max(zero), c21.Max(zero)
				c30, c31 = c30.Max(zero), c31.Max(zero)
			}
			if n == 4 && cols == 32 {
				o := y[p*rc.ystep+q*32:]
				c00.StoreSlice(o[0:])
				c01.StoreSlice(o[16:])
				c10.StoreSlice(o[rc.ystep:])
				c11.StoreSlice(o[rc.ystep+16:])
				c20.StoreSlice(o[2*rc.ystep:])
				c21.StoreSlice(o[2*rc.ystep+16:])
				c30.StoreSlice(o[3*rc.ystep:])
				c31.StoreSlice(o[3*rc.ystep+16:])
				continue
			}
			c00.StoreSlice(tile[0:])
			c01.StoreSlice(tile[16:])
			c10.StoreSlice(tile[32:])
			c11.StoreSlice(tile[32+16:])
			c20.StoreSlice(tile[2*32:])
			c21.StoreSlice(tile[2*32+16:])
			c30.StoreSlice(tile[3*32:])
			c31.StoreSlice(tile[3*32+16:])
			for r := range n {
				copy(y[(p+r)*rc.ystep+q*32:][:cols], tile[r*32:r*32+cols])
			}
		}
	}
}

// convRowAVX2 is the row kernel (conv_kernel_rows.go) of the AVX2 4x16 micro-kernel:
// four positions of an output row by 16 columns at a time, reading the
// four positions' windows in place in the ring's rows (step floats
// apart), summing from +0 in ky, then k order and adding the bias last,
// as convRowGo does, but with fused multiply-adds (so within rounding of
// convRowGo, not bit for bit: TestRowKernels).
//
// The inner loop walks pointers (unsafe.Add) instead of indexing: the
// bounds checks and index arithmetic cost a quarter of the time (135
// against 164 GFLOP per CPU second on MAVIS's 3 x 192-value rows with
// AVX-512). Each row is bounds-checked before its loop, and no pointer
// steps past it (the loop stops before the increment that would, as
// unsafe.Pointer's rules require).
func convRowAVX2(rc *rowConv, y []float32, rows *[maxRowsKH][]float32) {
	if rc.nr != 16 {
		panic("nn: convRowAVX2: panels of " + strconv.Itoa(rc.nr) + " columns, want 16")
	}
	if rc.npos == 0 || rc.seg == 0 {
		return
	}
	K := rc.kh * rc.seg
	var tile [4 * 16]float32
	var base [maxRowsKH]unsafe.Pointer
	for q := range rc.np {
		cols := 16
		if q == rc.np-1 {
			cols = rc.cols
		}
		bq := rc.bp[q*K*16 : (q+1)*K*16]
		bias := rc.bias[q*16 : (q+1)*16]
		for p := 0; p < rc.npos; p += 4 {
			n := min(4, rc.npos-p) // positions in this block; the missing ones repeat the last
			s1, s2, s3 := min(1, n-1)*rc.step, min(2, n-1)*rc.step, min(3, n-1)*rc.step
			for ky := range rc.kh {
				row := rows[ky][p*rc.step : p*rc.step+s3+rc.seg]
				base[ky] = unsafe.Pointer(unsafe.SliceData(row))
			}
			var c00, c01, c10, c11, c20, c21, c30, c31 archsimd.Float32x8
			bk := unsafe.Pointer(unsafe.SliceData(bq))
			for ky := range rc.kh {
				a0 := base[ky]
				a1, a2, a3 := unsafe.Add(a0, 4*s1), unsafe.Add(a0, 4*s2), unsafe.Add(a0, 4*s3)
				for k := rc.seg; ; {
					b0 := archsimd.LoadFloat32x8((*[8]float32)(bk))
					b1 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(bk, 4*8)))
					x0 := archsimd.BroadcastFloat32x8(*(*float32)(a0))
					c00 = x0.MulAdd(b0, c00)
					c01 = x0.MulAdd(b1, c01)
					x1 := archsimd.BroadcastFloat32x8(*(*float32)(a1))
					c10 = x1.MulAdd(b0, c10)
					c11 = x1.MulAdd(b1, c11)
					x2 := archsimd.BroadcastFloat32x8(*(*float32)(a2))
					c20 = x2.MulAdd(b0, c20)
					c21 = x2.MulAdd(b1, c21)
					x3 := archsimd.BroadcastFloat32x8(*(*float32)(a3))
					c30 = x3.MulAdd(b0, c30)
					c31 = x3.MulAdd(b1, c31)
					if k--; k == 0 {
						break
					}
					a0, a1, a2, a3 = unsafe.Add(a0, 4), unsafe.Add(a1, 4), unsafe.Add(a2, 4), unsafe.Add(a3, 4)
					bk = unsafe.Add(bk, 4*16)
				}
				if ky+1 < rc.kh {
					bk = unsafe.Add(bk, 4*16)
				}
			}
			// The bias, loaded here: kept in registers through the loop it
			// pushed accumulators onto the stack (Go keeps at most 15
			// vectors live across a loop's back edge).
			bias0 := archsimd.LoadFloat32x8Slice(bias[0:])
			bias1 := archsimd.LoadFloat32x8Slice(bias[8:])
			c00, c01 = bias0.Add(c00), bias1.Add(c01)
			c10, c11 = bias0.Add(c10), bias1.Add(c11)
			c20, c21 = bias0.Add(c20), bias1.Add(c21)
			c30, c31 = bias0.Add(c30), bias1.Add(c31)
			if rc.relu {
				zero := archsimd.BroadcastFloat32x8(0)
				c00, c01 = c00.Max(zero), c01.Max(zero)
				c10, c11 = c10.Max(zero), c11.Max(zero)
				c20, c21 = c20.Max(zero), c21.Max(zero)
				c30, c31 = c30.Max(zero), c31.Max(zero)
			}
			if n == 4 && cols == 16 {
				o := y[p*rc.ystep+q*16:]
				c00.StoreSlice(o[0:])
				c01.StoreSlice(o[8:])
				c10.StoreSlice(o[rc.ystep:])
				c11.StoreSlice(o[rc.ystep+8:])
				c20.StoreSlice(o[2*rc.ystep:])
				c21.StoreSlice(o[2*rc.ystep+8:])
				c30.StoreSlice(o[3*rc.ystep:])
				c31.StoreSlice(o[3*rc.ystep+8:])
				continue
			}
			c00.StoreSlice(tile[0:])
			c01.StoreSlice(tile[8:])
			c10.StoreSlice(tile[16:])
			c11.StoreSlice(tile[16+8:])
			c20.StoreSlice(tile[2*16:])
			c21.StoreSlice(tile[2*16+8:])
			c30.StoreSlice(tile[3*16:])
			c31.StoreSlice(tile[3*16+8:])
			for r := range n {
				copy(y[(p+r)*rc.ystep+q*16:][:cols], tile[r*16:r*16+cols])
			}
		}
	}
}

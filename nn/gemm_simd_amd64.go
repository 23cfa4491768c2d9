//go:build goexperiment.simd && amd64

package nn

import "simd/archsimd"

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
		addMicroKernel(microKernelInfo{"avx2 4x16", micro4x16AVX2, 4, 16, false, micro4x16AVX2Store, nil})
	}
	if archsimd.X86.AVX512() {
		addMicroKernel(microKernelInfo{"avx512 4x32", micro4x32AVX512, 4, 32, false, micro4x32AVX512Store, nil})
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

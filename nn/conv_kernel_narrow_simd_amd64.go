//go:build goexperiment.simd && amd64

package nn

import (
	"simd/archsimd"
	"unsafe"
)

// Vector rows of the narrow convolution (conv_kernel_narrow.go): the input
// gradient of an RGB image's first layer, dx (3 channels) = conv(masked dy
// (64 channels), flipped kernel). The portable 4x3 kernel holds the three
// outputs of four positions in scalars; here the vectors run along dy's
// channels instead: each position keeps one 16-lane (AVX-512) or 8-lane
// (AVX2) partial sum per output channel, over every tap and channel block,
// and adds its lanes once at the end (a fixed tree: deterministic, and the
// same on every worker count). Two positions share each kernel load.
//
// The col2im path that the vector builds used before (dY·Kᵀ into 27
// columns per position, then scattered into dx) spent most of its time
// packing dy and scattering, not multiplying: 7 of the 48 ms of a MAVIS
// saliency pass (AVX-512, one thread).

func init() {
	switch {
	case archsimd.X86.AVX512():
		narrowRowKernel = narrowRowAVX512
	case archsimd.X86.AVX2() && archsimd.X86.FMA():
		narrowRowKernel = narrowRowAVX2
	}
}

// narrowRowAVX512 computes output row yr of the narrow convolution with
// geometry g (stride 1, 3 output channels, g.in a multiple of 16), from
// the input rows src[ky] (nil outside the image) and the kernel kf laid
// out (kh, kw, 3, in). It reports false, computing nothing, when g.in is
// not a multiple of 16.
//
// The channel loop walks pointers (unsafe.Add) and is unrolled by two:
// indexing the slices ran at 39 GFLOP per CPU second on MAVIS's first
// layer (64 channels: the loop's overhead is paid every 64 values), this
// at about 100. The slices are checked before each tap's loop, and no
// pointer steps past its slice (the loop stops before the increment that
// would, as unsafe.Pointer's rules require).
//
//	yr: (ow, 3)   src[ky]: (w, in) or nil   kf: (kh, kw, 3, in)   zero: (in) zeros
func narrowRowAVX512(yr []float32, src *[maxNarrowKH][]float32, kf, zero []float32, g convGeom) bool {
	in := g.in
	if in%16 != 0 || in == 0 {
		return false
	}
	zero = zero[:in]
	yr = yr[:g.ow*narrowOut]
	row := uintptr(in) * 4 // bytes from one output channel's weights to the next
	for ox := 0; ox < g.ow; ox += 2 {
		var a00, a01, a02, a10, a11, a12 archsimd.Float32x16
		for ky := range g.kh {
			xr := src[ky]
			if xr == nil {
				continue
			}
			for kx := range g.kw {
				s0, s1 := zero, zero
				if ix := ox + kx - g.pw; ix >= 0 && ix < g.w {
					s0 = xr[ix*in : (ix+1)*in]
				}
				if ix := ox + 1 + kx - g.pw; ix >= 0 && ix < g.w && ox+1 < g.ow {
					s1 = xr[ix*in : (ix+1)*in]
				}
				k0 := unsafe.Pointer(unsafe.SliceData(kf[(ky*g.kw+kx)*narrowOut*in:][:narrowOut*in]))
				q0, q1 := unsafe.Pointer(unsafe.SliceData(s0)), unsafe.Pointer(unsafe.SliceData(s1))
				k, p0, p1 := k0, q0, q1
				for n := in / (2 * 16); n > 0; {
					w0 := archsimd.LoadFloat32x16((*[16]float32)(k))
					w1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(k, row)))
					w2 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(k, 2*row)))
					d := archsimd.LoadFloat32x16((*[16]float32)(p0))
					a00 = d.MulAdd(w0, a00)
					a01 = d.MulAdd(w1, a01)
					a02 = d.MulAdd(w2, a02)
					d = archsimd.LoadFloat32x16((*[16]float32)(p1))
					a10 = d.MulAdd(w0, a10)
					a11 = d.MulAdd(w1, a11)
					a12 = d.MulAdd(w2, a12)
					w0 = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(k, 64)))
					w1 = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(k, row+64)))
					w2 = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(k, 2*row+64)))
					d = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(p0, 64)))
					a00 = d.MulAdd(w0, a00)
					a01 = d.MulAdd(w1, a01)
					a02 = d.MulAdd(w2, a02)
					d = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(p1, 64)))
					a10 = d.MulAdd(w0, a10)
					a11 = d.MulAdd(w1, a11)
					a12 = d.MulAdd(w2, a12)
					if n--; n == 0 {
						break
					}
					k, p0, p1 = unsafe.Add(k, 2*64), unsafe.Add(p0, 2*64), unsafe.Add(p1, 2*64)
				}
				if in%(2*16) != 0 { // the last block of 16 channels
					off := uintptr(in-16) * 4
					k, p0, p1 = unsafe.Add(k0, off), unsafe.Add(q0, off), unsafe.Add(q1, off)
					w0 := archsimd.LoadFloat32x16((*[16]float32)(k))
					w1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(k, row)))
					w2 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(k, 2*row)))
					d := archsimd.LoadFloat32x16((*[16]float32)(p0))
					a00 = d.MulAdd(w0, a00)
					a01 = d.MulAdd(w1, a01)
					a02 = d.MulAdd(w2, a02)
					d = archsimd.LoadFloat32x16((*[16]float32)(p1))
					a10 = d.MulAdd(w0, a10)
					a11 = d.MulAdd(w1, a11)
					a12 = d.MulAdd(w2, a12)
				}
			}
		}
		o := yr[ox*narrowOut : ox*narrowOut+narrowOut]
		o[0], o[1], o[2] = sum16(a00), sum16(a01), sum16(a02)
		if ox+1 < g.ow {
			o = yr[(ox+1)*narrowOut : (ox+1)*narrowOut+narrowOut]
			o[0], o[1], o[2] = sum16(a10), sum16(a11), sum16(a12)
		}
	}
	return true
}

// narrowRowAVX2 computes output row yr of the narrow convolution with
// geometry g (stride 1, 3 output channels, g.in a multiple of 8), from
// the input rows src[ky] (nil outside the image) and the kernel kf laid
// out (kh, kw, 3, in). It reports false, computing nothing, when g.in is
// not a multiple of 8.
// The AVX2 version of narrowRowAVX512.
//
//	yr: (ow, 3)   src[ky]: (w, in) or nil   kf: (kh, kw, 3, in)   zero: (in) zeros
func narrowRowAVX2(yr []float32, src *[maxNarrowKH][]float32, kf, zero []float32, g convGeom) bool {
	in := g.in
	if in%8 != 0 || in == 0 {
		return false
	}
	zero = zero[:in]
	yr = yr[:g.ow*narrowOut]
	row := uintptr(in) * 4 // bytes from one output channel's weights to the next
	for ox := 0; ox < g.ow; ox += 2 {
		var a00, a01, a02, a10, a11, a12 archsimd.Float32x8
		for ky := range g.kh {
			xr := src[ky]
			if xr == nil {
				continue
			}
			for kx := range g.kw {
				s0, s1 := zero, zero
				if ix := ox + kx - g.pw; ix >= 0 && ix < g.w {
					s0 = xr[ix*in : (ix+1)*in]
				}
				if ix := ox + 1 + kx - g.pw; ix >= 0 && ix < g.w && ox+1 < g.ow {
					s1 = xr[ix*in : (ix+1)*in]
				}
				k0 := unsafe.Pointer(unsafe.SliceData(kf[(ky*g.kw+kx)*narrowOut*in:][:narrowOut*in]))
				q0, q1 := unsafe.Pointer(unsafe.SliceData(s0)), unsafe.Pointer(unsafe.SliceData(s1))
				k, p0, p1 := k0, q0, q1
				for n := in / (2 * 8); n > 0; {
					w0 := archsimd.LoadFloat32x8((*[8]float32)(k))
					w1 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(k, row)))
					w2 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(k, 2*row)))
					d := archsimd.LoadFloat32x8((*[8]float32)(p0))
					a00 = d.MulAdd(w0, a00)
					a01 = d.MulAdd(w1, a01)
					a02 = d.MulAdd(w2, a02)
					d = archsimd.LoadFloat32x8((*[8]float32)(p1))
					a10 = d.MulAdd(w0, a10)
					a11 = d.MulAdd(w1, a11)
					a12 = d.MulAdd(w2, a12)
					w0 = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(k, 32)))
					w1 = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(k, row+32)))
					w2 = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(k, 2*row+32)))
					d = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(p0, 32)))
					a00 = d.MulAdd(w0, a00)
					a01 = d.MulAdd(w1, a01)
					a02 = d.MulAdd(w2, a02)
					d = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(p1, 32)))
					a10 = d.MulAdd(w0, a10)
					a11 = d.MulAdd(w1, a11)
					a12 = d.MulAdd(w2, a12)
					if n--; n == 0 {
						break
					}
					k, p0, p1 = unsafe.Add(k, 2*32), unsafe.Add(p0, 2*32), unsafe.Add(p1, 2*32)
				}
				if in%(2*8) != 0 { // the last block of 8 channels
					off := uintptr(in-8) * 4
					k, p0, p1 = unsafe.Add(k0, off), unsafe.Add(q0, off), unsafe.Add(q1, off)
					w0 := archsimd.LoadFloat32x8((*[8]float32)(k))
					w1 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(k, row)))
					w2 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(k, 2*row)))
					d := archsimd.LoadFloat32x8((*[8]float32)(p0))
					a00 = d.MulAdd(w0, a00)
					a01 = d.MulAdd(w1, a01)
					a02 = d.MulAdd(w2, a02)
					d = archsimd.LoadFloat32x8((*[8]float32)(p1))
					a10 = d.MulAdd(w0, a10)
					a11 = d.MulAdd(w1, a11)
					a12 = d.MulAdd(w2, a12)
				}
			}
		}
		o := yr[ox*narrowOut : ox*narrowOut+narrowOut]
		o[0], o[1], o[2] = sum8(a00), sum8(a01), sum8(a02)
		if ox+1 < g.ow {
			o = yr[(ox+1)*narrowOut : (ox+1)*narrowOut+narrowOut]
			o[0], o[1], o[2] = sum8(a10), sum8(a11), sum8(a12)
		}
	}
	return true
}

// sum16 adds the lanes of v in a fixed order: halves, then halves, then
// pairs.
func sum16(v archsimd.Float32x16) float32 {
	return sum8(v.GetLo().Add(v.GetHi()))
}

// sum8 adds the lanes of v in a fixed order.
func sum8(v archsimd.Float32x8) float32 {
	x := v.GetLo().Add(v.GetHi())
	x = x.AddPairs(x)
	x = x.AddPairs(x)
	return x.GetElem(0)
}

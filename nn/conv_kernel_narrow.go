package nn

// The narrow convolution: a stride-1 convolution with three output
// channels and many input channels, which is what the input gradient of an
// RGB image's first layer becomes (conv_kernel_grad.go: dy, 64 channels,
// convolved with the flipped kernel, 3 channels). A GEMM would pack every
// position's kh*kw*in column values to use them for one 3-wide panel, and
// the packing costs as much as the products; col2im computes 27 columns to
// add them back. Here each 4-position block reads its taps straight from
// x, in place, and keeps its 4x3 outputs in registers across one tap's
// channels (micro4x3Rows), with 12 accumulators as micro3x4. The ReLU mask
// of the layer's output is applied to the few rows being read, so the
// backward pass allocates no masked copy of dy (an image-sized buffer,
// 12.8 MB for MAVIS, whose first use costs more than the pass over it).

// narrowOut is the number of output channels narrowTo computes.
const narrowOut = 3

// narrowRowKernel, when not nil, computes a whole output row in place of
// the 4x3 loop below (conv_kernel_narrow_simd_amd64.go: vectors along the
// input channels), from the kernel laid out (kh, kw, 3, in); it reports
// false, computing nothing, for a geometry it does not take. With it the
// vector builds run 3-channel input gradients here too (narrowInputGrad).
//
//	yr: (ow, 3)   src[ky]: (w, in) or nil   kf: (kh, kw, 3, in)   zero: (in) zeros
var narrowRowKernel func(yr []float32, src *[maxNarrowKH][]float32, kf, zero []float32, g convGeom) bool

// narrowTo computes y = conv(x ⊙ [mask > 0], k) for cw.g, which has
// stride 1 and narrowOut output channels (no bias, no activation); mask,
// when not nil, has x's shape (the ReLU output whose gradient x is).
//
//	y: (n, oh, ow, 3)   x, mask: (n, h, w, in)   k: (kh, kw, in, 3)
func (cw *convWork) narrowTo(y, x, mask, k []float32, nw int) {
	g := cw.g
	if g.out != narrowOut || g.sh != 1 || g.sw != 1 || g.kh > maxNarrowKH {
		panic("nn: narrow convolution on an unsupported geometry")
	}
	cw.op = opNarrow
	cw.y, cw.x, cw.mask, cw.k = y, x, mask, k
	if narrowRowKernel != nil {
		// kf[tap, j, i] = k[tap, i, j]: each output channel's weights
		// contiguous along the input channels.
		cw.kf = grow(cw.kf, len(k))
		for tap := range g.kh * g.kw {
			src, dst := k[tap*g.in*narrowOut:][:g.in*narrowOut], cw.kf[tap*g.in*narrowOut:][:g.in*narrowOut]
			for i := range g.in {
				for j := range narrowOut {
					dst[j*g.in+i] = src[i*narrowOut+j]
				}
			}
		}
	}
	for w := range nw {
		ws := &cw.ws[w]
		ws.zero = growZero(ws.zero, g.in)
		if mask != nil {
			ws.c = grow(ws.c, g.kh*g.w*g.in)
		}
	}
	rows := g.n * g.oh
	cw.parallelRun.run(cw, rows, max(1, rows/(16*nw)), nw)
}

// narrowRange computes output rows [lo, hi) (over the batch), four
// positions at a time. With a mask, the input rows a output row reads are
// masked into a ring of kh rows (ws.c) as they are first needed, so each
// is masked once per range and no masked copy of x is allocated.
func (cw *convWork) narrowRange(w, lo, hi int) {
	g := cw.g
	ws := &cw.ws[w]
	zero := ws.zero[:g.in]
	kt := g.in * narrowOut // kernel floats per tap
	rowLen := g.w * g.in
	var ring [maxNarrowKH]int // the input row (n*h + iy) each ring slot holds
	for i := range ring {
		ring[i] = -1
	}
	for row := lo; row < hi; row++ {
		n, oy := row/g.oh, row%g.oh
		src := &ws.rows // input row oy+ky-ph, masked, or nil (in the worker, not on the heap: narrowRowKernel is called through a variable)
		*src = [maxNarrowKH][]float32{}
		for ky := range g.kh {
			iy := oy + ky - g.ph
			if iy < 0 || iy >= g.h {
				continue
			}
			xr := cw.x[(n*g.h+iy)*rowLen:][:rowLen]
			if cw.mask == nil {
				src[ky] = xr
				continue
			}
			key, slot := n*g.h+iy, iy%g.kh
			buf := ws.c[slot*rowLen:][:rowLen]
			if ring[slot] != key {
				reluGradTo(buf, xr, cw.mask[(n*g.h+iy)*rowLen:][:rowLen])
				ring[slot] = key
			}
			src[ky] = buf
		}
		yr := cw.y[row*g.ow*narrowOut:][:g.ow*narrowOut]
		if narrowRowKernel != nil && narrowRowKernel(yr, src, cw.kf, zero, g) {
			continue
		}
		for ox0 := 0; ox0 < g.ow; ox0 += 4 {
			cols := min(4, g.ow-ox0)
			var acc [4 * narrowOut]float32
			for ky := range g.kh {
				if src[ky] == nil {
					continue
				}
				for kx := range g.kw {
					var s [4][]float32
					for r := range s {
						s[r] = zero
						ix := ox0 + r + kx - g.pw
						if r < cols && ix >= 0 && ix < g.w {
							s[r] = src[ky][ix*g.in:][:g.in]
						}
					}
					tap := ky*g.kw + kx
					micro4x3Rows(&acc, s[0], s[1], s[2], s[3], cw.k[tap*kt:(tap+1)*kt])
				}
			}
			copy(yr[ox0*narrowOut:(ox0+cols)*narrowOut], acc[:cols*narrowOut])
		}
	}
}

// maxNarrowKH bounds the kernel height of the narrow convolution.
const maxNarrowKH = 16

// micro4x3Rows adds Σ_k s_r[k] b[k, j] into acc[r*3 + j]: four rows of A
// read in place, times a row-major (len(s0) x 3) matrix.
//
//	acc: (4, 3)   s0..s3: (kc)   b: (kc, 3)
func micro4x3Rows(acc *[12]float32, s0, s1, s2, s3, b []float32) {
	n := len(s0)
	s1, s2, s3 = s1[:n], s2[:n], s3[:n]
	b = b[:3*n]
	c00, c01, c02 := acc[0], acc[1], acc[2]
	c10, c11, c12 := acc[3], acc[4], acc[5]
	c20, c21, c22 := acc[6], acc[7], acc[8]
	c30, c31, c32 := acc[9], acc[10], acc[11]
	k := 0
	for ; k+1 < n && len(b) >= 6; k += 2 {
		{
			b0, b1, b2 := b[0], b[1], b[2]
			a := s0[k]
			c00 += a * b0
			c01 += a * b1
			c02 += a * b2
			a = s1[k]
			c10 += a * b0
			c11 += a * b1
			c12 += a * b2
			a = s2[k]
			c20 += a * b0
			c21 += a * b1
			c22 += a * b2
			a = s3[k]
			c30 += a * b0
			c31 += a * b1
			c32 += a * b2
		}
		{
			b0, b1, b2 := b[3], b[4], b[5]
			a := s0[k+1]
			c00 += a * b0
			c01 += a * b1
			c02 += a * b2
			a = s1[k+1]
			c10 += a * b0
			c11 += a * b1
			c12 += a * b2
			a = s2[k+1]
			c20 += a * b0
			c21 += a * b1
			c22 += a * b2
			a = s3[k+1]
			c30 += a * b0
			c31 += a * b1
			c32 += a * b2
		}
		b = b[6:]
	}
	if k < n && len(b) >= 3 {
		b0, b1, b2 := b[0], b[1], b[2]
		a := s0[k]
		c00 += a * b0
		c01 += a * b1
		c02 += a * b2
		a = s1[k]
		c10 += a * b0
		c11 += a * b1
		c12 += a * b2
		a = s2[k]
		c20 += a * b0
		c21 += a * b1
		c22 += a * b2
		a = s3[k]
		c30 += a * b0
		c31 += a * b1
		c32 += a * b2
	}
	acc[0], acc[1], acc[2] = c00, c01, c02
	acc[3], acc[4], acc[5] = c10, c11, c12
	acc[6], acc[7], acc[8] = c20, c21, c22
	acc[9], acc[10], acc[11] = c30, c31, c32
}

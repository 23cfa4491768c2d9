package nn

// The narrow convolution: a stride-1 convolution with three output
// channels and many input channels, which is what the input gradient of an
// RGB image's first layer becomes (conv_kernel_grad.go: dy, 64 channels,
// convolved with the flipped kernel, 3 channels). A GEMM would pack every
// position's kh*kw*in column values to use them for one 3-wide panel, and
// the packing costs as much as the products; col2im computes 27 columns to
// add them back. Here each 4-position block reads its taps straight from
// x, in place, and keeps its 4x3 outputs in registers across one tap's
// channels (micro4x3Rows), with 12 accumulators as micro3x4.

// narrowOut is the number of output channels narrowTo computes.
const narrowOut = 3

// narrowTo computes y = conv(x, k) for cw.g, which has stride 1 and
// narrowOut output channels (no bias, no activation).
//
//	y: (n, oh, ow, 3)   x: (n, h, w, in)   k: (kh, kw, in, 3)
func (cw *convWork) narrowTo(y, x, k []float32, nw int) {
	g := cw.g
	if g.out != narrowOut || g.sh != 1 || g.sw != 1 {
		panic("nn: narrow convolution on an unsupported geometry")
	}
	cw.op = opNarrow
	cw.y, cw.x, cw.k = y, x, k
	for w := range nw {
		ws := &cw.ws[w]
		ws.zero = growZero(ws.zero, g.in)
	}
	blocks := (g.n*g.oh*g.ow + 3) / 4
	cw.parallelRun.run(cw, blocks, max(1, blocks/(16*nw)), nw)
}

// narrowRange computes the output positions of blocks [lo, hi), four
// positions a block.
func (cw *convWork) narrowRange(w, lo, hi int) {
	g := cw.g
	zero := cw.ws[w].zero[:g.in]
	P := g.n * g.oh * g.ow
	kt := g.in * narrowOut // kernel floats per tap
	for blk := lo; blk < hi; blk++ {
		p0 := 4 * blk
		rows := min(4, P-p0)
		var pos [4][3]int // n, oy, ox
		for r := range rows {
			p := p0 + r
			pos[r] = [3]int{p / (g.oh * g.ow), p / g.ow % g.oh, p % g.ow}
		}
		var acc [4 * narrowOut]float32
		for ky := range g.kh {
			for kx := range g.kw {
				var s [4][]float32
				for r := range s {
					s[r] = zero
					if r >= rows {
						continue
					}
					n, iy, ix := pos[r][0], pos[r][1]+ky-g.ph, pos[r][2]+kx-g.pw
					if iy >= 0 && iy < g.h && ix >= 0 && ix < g.w {
						s[r] = cw.x[((n*g.h+iy)*g.w+ix)*g.in:][:g.in]
					}
				}
				tap := ky*g.kw + kx
				micro4x3Rows(&acc, s[0], s[1], s[2], s[3], cw.k[tap*kt:(tap+1)*kt])
			}
		}
		copy(cw.y[p0*narrowOut:(p0+rows)*narrowOut], acc[:rows*narrowOut])
	}
}

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

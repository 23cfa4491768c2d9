package nn

// Winograd's minimal filtering F(2x2, 3x3) for stride-1 3x3 convolutions
// (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks",
// CVPR 2016, eq. 8): each 2x2 output tile comes from a 4x4 input tile d as
//
//	Y = Aᵀ [ Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B) ] A
//
//	Bᵀ = | 1  0 -1  0 |   G = | 1    0    0  |   Aᵀ = | 1  1  1  0 |
//	     | 0  1  1  0 |       | 1/2  1/2  1/2 |        | 0  1 -1 -1 |
//	     | 0 -1  1  0 |       | 1/2 -1/2  1/2 |
//	     | 0  1  0 -1 |       | 0    0    1  |
//
// so the sum over input channels becomes 16 independent matrix products
// (tiles x in)·(in x out), one per element ξν of the 4x4 transformed
// tile: 16 multiply-adds per channel pair and tile instead of 36, 2.25x
// fewer. The products run on the same GEMM micro-kernel as the im2col path.
// The transforms only add, subtract and halve, so the result stays within
// float32 rounding of the direct sum (the tests hold it to conv2DNaive).

// useWinograd reports whether the forward pass of g goes through
// Winograd: when it pays with the micro-kernel in use (gemmWinograd), for
// 3x3 kernels, stride 1 and enough channels.
func useWinograd(g convGeom) bool {
	return gemmWinograd && gemmWinoNR <= maxNR && g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.in >= 8 && g.out >= 8
}

// winogradZero is a row of zero channels for the pixels of tiles outside
// the image, on the vector Winograd paths (read only).
var winogradZero [1024]float32

// winogradVecRun runs cw's forward pass through a vector Winograd path
// (conv_kernel_winograd_simd_*.go): it transforms the kernel with
// transform (U, 16 x in x out, as winogradKernelTo lays it out), packs each
// ξν's U in panels of nr columns (g.out a multiple of nr), sets up the
// bias and the workers' V and M blocks of four tiles, and runs the blocks
// on winogradVecRange.
func (cw *convWork) winogradVecRun(y, x, k, b []float32, relu bool, nw, nr int, transform func(u, k []float32)) {
	g := cw.g
	cw.y, cw.x, cw.k, cw.bias, cw.relu = y, x, k, b, relu
	cw.op = opWinogradVec
	cw.np = g.out / nr
	n := g.in * g.out
	psz := cw.np * g.in * nr // one ξν's packed panels
	cw.ub = cw.packed(prepWinograd, nr, 16*psz, func(bp []float32) {
		cw.ku = grow(cw.ku, 16*n)
		transform(cw.ku, k)
		for xn := range 16 {
			packBTo(bp[xn*psz:(xn+1)*psz], cw.ku[xn*n:(xn+1)*n], g.in, g.out, g.out, nr)
		}
	})
	cw.bpad = growZero(cw.bpad, 2*g.out) // the bias, then zeros (the products' bias)
	copy(cw.bpad, b)
	for w := range nw {
		ws := &cw.ws[w]
		ws.a = grow(ws.a, 16*4*g.in)  // V
		ws.c = grow(ws.c, 16*4*g.out) // M
	}
	tiles := g.n * ((g.oh + 1) / 2) * ((g.ow + 1) / 2)
	blocks := (tiles + 3) / 4
	cw.parallelRun.run(cw, blocks, max(1, blocks/(16*nw)), nw)
}

// winogradKernelTo writes U[ξν][c, o] = (G g_{c,o} Gᵀ)[ξ, ν].
//
//	u: (16, in, out)   k: (3, 3, in, out)
func winogradKernelTo(u, k []float32, in, out int) {
	n := in * out
	for j := range n { // j = c*out + o
		var g [3][3]float32
		for ky := range 3 {
			for kx := range 3 {
				g[ky][kx] = k[(ky*3+kx)*n+j]
			}
		}
		var r [4][3]float32 // G g
		for x := range 3 {
			r[0][x] = g[0][x]
			r[1][x] = (g[0][x] + g[1][x] + g[2][x]) / 2
			r[2][x] = (g[0][x] - g[1][x] + g[2][x]) / 2
			r[3][x] = g[2][x]
		}
		for xi := range 4 { // (G g) Gᵀ
			u[(xi*4+0)*n+j] = r[xi][0]
			u[(xi*4+1)*n+j] = (r[xi][0] + r[xi][1] + r[xi][2]) / 2
			u[(xi*4+2)*n+j] = (r[xi][0] - r[xi][1] + r[xi][2]) / 2
			u[(xi*4+3)*n+j] = r[xi][2]
		}
	}
}

// winogradTo computes y = conv(x, k) + b (ReLU when relu is set) for a
// geometry accepted by useWinograd.
func (cw *convWork) winogradTo(y, x, k, b []float32, relu bool, nw int) {
	g := cw.g
	cw.y, cw.x, cw.k, cw.bias, cw.relu = y, x, k, b, relu
	cw.op = opWinograd
	cw.kern, cw.mr, cw.nr = gemmWinoMicro, gemmWinoMR, gemmWinoNR
	cw.np = panels(g.out, cw.nr)
	n := g.in * g.out
	cw.ku = grow(cw.ku, 16*n)
	winogradKernelTo(cw.ku, k, g.in, g.out)
	psz := cw.np * g.in * cw.nr // one ξν's packed panels
	cw.bp = grow(cw.bp, 16*psz)
	for xn := range 16 {
		packBTo(cw.bp[xn*psz:(xn+1)*psz], cw.ku[xn*n:(xn+1)*n], g.in, g.out, g.out, cw.nr)
	}
	for w := range nw {
		ws := &cw.ws[w]
		ws.a = grow(ws.a, 16*g.in*cw.mr)
		ws.c = grow(ws.c, 16*cw.mr*cw.nr)
		ws.t = grow(ws.t, 16*g.in)
		ws.zero = growZero(ws.zero, max(g.in, cw.nr))
	}
	tiles := g.n * ((g.oh + 1) / 2) * ((g.ow + 1) / 2)
	blocks := (tiles + cw.mr - 1) / cw.mr
	cw.parallelRun.run(cw, blocks, max(1, blocks/(16*nw)), nw)
}

// winogradRange computes the output tiles of tile blocks [lo, hi).
func (cw *convWork) winogradRange(w, lo, hi int) {
	g, mr, nr := cw.g, cw.mr, cw.nr
	ws := &cw.ws[w]
	th, tw := (g.oh+1)/2, (g.ow+1)/2
	tiles := g.n * th * tw
	asz := g.in * mr // one ξν's packed A block
	psz := cw.np * g.in * nr
	a, m := ws.a[:16*asz], ws.c[:16*mr*nr]
	for blk := lo; blk < hi; blk++ {
		t0 := blk * mr
		rows := min(mr, tiles-t0)
		for r := range mr {
			cw.winogradInput(ws, a, asz, r, t0+r, r < rows)
		}
		for p := range cw.np {
			clear(m)
			for xn := range 16 {
				cw.kern(g.in, a[xn*asz:(xn+1)*asz], cw.bp[xn*psz+p*g.in*nr:xn*psz+(p+1)*g.in*nr], m[xn*mr*nr:], nr)
			}
			cw.winogradOutput(m, t0, rows, p)
		}
	}
}

// winogradInput writes row r of the 16 packed A blocks: a[ξν*asz + c*mr +
// r] = (Bᵀ d_c B)[ξ, ν] for tile t (zeros when !ok). It runs over
// channels in two passes, Bᵀ d into ws.t and then (Bᵀ d) B into a, so that
// each inner loop reads and writes a few whole channel rows (under wasm a
// per-channel gather of the 16 pixels cost more than the arithmetic).
func (cw *convWork) winogradInput(ws *convWorker, a []float32, asz, r, t int, ok bool) {
	g, mr := cw.g, cw.mr
	in := g.in
	if !ok {
		for xn := range 16 {
			for c := range in {
				a[xn*asz+c*mr+r] = 0
			}
		}
		return
	}
	th, tw := (g.oh+1)/2, (g.ow+1)/2
	n, ty, tx := t/(th*tw), t/tw%th, t%tw
	var s [16][]float32 // the 4x4 input tile, one channel row per pixel
	for u := range 4 {
		iy := 2*ty + u - g.ph
		for v := range 4 {
			ix := 2*tx + v - g.pw
			s[u*4+v] = ws.zero[:in]
			if iy >= 0 && iy < g.h && ix >= 0 && ix < g.w {
				s[u*4+v] = cw.x[((n*g.h+iy)*g.w+ix)*in:][:in]
			}
		}
	}
	tb := ws.t[:16*in] // tb[(ξ*4+v)*in + c] = (Bᵀ d_c)[ξ, v]
	for v := range 4 {
		d0 := s[v]
		d1, d2, d3 := s[4+v][:len(d0)], s[8+v][:len(d0)], s[12+v][:len(d0)]
		t0, t1 := tb[v*in:][:len(d0)], tb[(4+v)*in:][:len(d0)]
		t2, t3 := tb[(8+v)*in:][:len(d0)], tb[(12+v)*in:][:len(d0)]
		for c, x0 := range d0 {
			x1, x2, x3 := d1[c], d2[c], d3[c]
			t0[c] = x0 - x2
			t1[c] = x1 + x2
			t2[c] = x2 - x1
			t3[c] = x1 - x3
		}
	}
	for xi := range 4 {
		u0 := tb[xi*4*in:][:in]
		u1, u2, u3 := tb[(xi*4+1)*in:][:len(u0)], tb[(xi*4+2)*in:][:len(u0)], tb[(xi*4+3)*in:][:len(u0)]
		a0, a1 := a[xi*4*asz:][:asz], a[(xi*4+1)*asz:][:asz]
		a2, a3 := a[(xi*4+2)*asz:][:asz], a[(xi*4+3)*asz:][:asz]
		o := r
		for c, x0 := range u0 {
			x1, x2, x3 := u1[c], u2[c], u3[c]
			a0[o] = x0 - x2
			a1[o] = x1 + x2
			a2[o] = x2 - x1
			a3[o] = x1 - x3
			o += mr
		}
	}
}

// winogradOutput turns the 16 product tiles m[ξν] (mr x nr, panel p) into
// 2x2 output tiles, Aᵀ M A, adds the bias, applies the ReLU and writes y,
// a tile's columns at a time.
func (cw *convWork) winogradOutput(m []float32, t0, rows, p int) {
	g, mr, nr := cw.g, cw.mr, cw.nr
	th, tw := (g.oh+1)/2, (g.ow+1)/2
	j0 := p * nr
	cols := min(nr, g.out-j0)
	var zero [maxNR]float32
	bias := zero[:cols]
	if cw.bias != nil {
		bias = cw.bias[j0 : j0+cols]
	}
	var s0, s1 [4][maxNR]float32 // Aᵀ M, column by column
	for r := range rows {
		for v := range 4 {
			q0 := m[(v*mr+r)*nr:][:cols]
			q1, q2, q3 := m[((4+v)*mr+r)*nr:][:cols], m[((8+v)*mr+r)*nr:][:cols], m[((12+v)*mr+r)*nr:][:cols]
			r0, r1 := s0[v][:cols], s1[v][:cols]
			for j, x0 := range q0 {
				x1, x2, x3 := q1[j], q2[j], q3[j]
				r0[j] = x0 + x1 + x2
				r1[j] = x1 - x2 - x3
			}
		}
		t := t0 + r
		n, ty, tx := t/(th*tw), t/tw%th, t%tw
		oy, ox := 2*ty, 2*tx
		base := ((n*g.oh+oy)*g.ow+ox)*g.out + j0
		right, below := ox+1 < g.ow, oy+1 < g.oh
		cw.winogradStore(cw.y[base:][:cols], &s0, bias)
		if right {
			cw.winogradStore1(cw.y[base+g.out:][:cols], &s0, bias)
		}
		if below {
			cw.winogradStore(cw.y[base+g.ow*g.out:][:cols], &s1, bias)
			if right {
				cw.winogradStore1(cw.y[base+(g.ow+1)*g.out:][:cols], &s1, bias)
			}
		}
	}
}

// winogradStore writes the left output of a tile row, (Aᵀ M) A's column
// 0: y = s[0] + s[1] + s[2] + bias, then the ReLU when cw.relu is set.
func (cw *convWork) winogradStore(y []float32, s *[4][maxNR]float32, bias []float32) {
	s0, s1, s2 := s[0][:len(y)], s[1][:len(y)], s[2][:len(y)]
	bias = bias[:len(y)]
	for j := range y {
		v := s0[j] + s1[j] + s2[j] + bias[j]
		if cw.relu {
			v = relu(v)
		}
		y[j] = v
	}
}

// winogradStore1 writes the right output of a tile row, column 1:
// y = s[1] - s[2] - s[3] + bias, then the ReLU when cw.relu is set.
func (cw *convWork) winogradStore1(y []float32, s *[4][maxNR]float32, bias []float32) {
	s1, s2, s3 := s[1][:len(y)], s[2][:len(y)], s[3][:len(y)]
	bias = bias[:len(y)]
	for j := range y {
		v := s1[j] - s2[j] - s3[j] + bias[j]
		if cw.relu {
			v = relu(v)
		}
		y[j] = v
	}
}

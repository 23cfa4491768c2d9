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
	return gemmWinograd && g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.in >= 8 && g.out >= 8
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
// r] = (Bᵀ d_c B)[ξ, ν] for tile t (zeros when !ok).
func (cw *convWork) winogradInput(ws *convWorker, a []float32, asz, r, t int, ok bool) {
	g, mr := cw.g, cw.mr
	if !ok {
		for xn := range 16 {
			for c := range g.in {
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
			s[u*4+v] = ws.zero[:g.in]
			if iy >= 0 && iy < g.h && ix >= 0 && ix < g.w {
				s[u*4+v] = cw.x[((n*g.h+iy)*g.w+ix)*g.in:][:g.in]
			}
		}
	}
	for c := range g.in {
		var d, t [4][4]float32
		for i := range 16 {
			d[i/4][i%4] = s[i][c]
		}
		for v := range 4 { // Bᵀ d
			t[0][v] = d[0][v] - d[2][v]
			t[1][v] = d[1][v] + d[2][v]
			t[2][v] = d[2][v] - d[1][v]
			t[3][v] = d[1][v] - d[3][v]
		}
		o := c*mr + r
		for xi := range 4 { // (Bᵀ d) B
			a[(xi*4+0)*asz+o] = t[xi][0] - t[xi][2]
			a[(xi*4+1)*asz+o] = t[xi][1] + t[xi][2]
			a[(xi*4+2)*asz+o] = t[xi][2] - t[xi][1]
			a[(xi*4+3)*asz+o] = t[xi][1] - t[xi][3]
		}
	}
}

// winogradOutput turns the 16 product tiles m[ξν] (mr x nr, panel p) into
// 2x2 output tiles, Aᵀ M A, adds the bias, applies the ReLU and writes y.
func (cw *convWork) winogradOutput(m []float32, t0, rows, p int) {
	g, mr, nr := cw.g, cw.mr, cw.nr
	th, tw := (g.oh+1)/2, (g.ow+1)/2
	j0 := p * nr
	cols := min(nr, g.out-j0)
	for r := range rows {
		t := t0 + r
		n, ty, tx := t/(th*tw), t/tw%th, t%tw
		oy, ox := 2*ty, 2*tx
		for j := range cols {
			var q [16]float32
			for xn := range 16 {
				q[xn] = m[(xn*mr+r)*nr+j]
			}
			var s0, s1 [4]float32 // Aᵀ M
			for v := range 4 {
				s0[v] = q[v] + q[4+v] + q[8+v]
				s1[v] = q[4+v] - q[8+v] - q[12+v]
			}
			var bias float32
			if cw.bias != nil {
				bias = cw.bias[j0+j]
			}
			out := [4]float32{ // (Aᵀ M) A
				s0[0] + s0[1] + s0[2] + bias, s0[1] - s0[2] - s0[3] + bias,
				s1[0] + s1[1] + s1[2] + bias, s1[1] - s1[2] - s1[3] + bias,
			}
			for i, v := range out {
				y, x := oy+i/2, ox+i%2
				if y >= g.oh || x >= g.ow {
					continue
				}
				if cw.relu {
					v = relu(v)
				}
				cw.y[((n*g.oh+y)*g.ow+x)*g.out+j0+j] = v
			}
		}
	}
}

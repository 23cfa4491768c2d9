//go:build goexperiment.simd && amd64

package nn

import "simd/archsimd"

// Winograd's F(2x2, 3x3) (conv_kernel_winograd.go) with AVX-512: the tile
// transforms run on 16 channels at a time, and the 16 products on the
// AVX-512 row kernel (convRowAVX512), which reads the four tiles'
// transformed channels in place (V[ξν][tile][c]). The scalar transforms
// made Winograd slower than im2col with the vector kernels; vectorized,
// they cost a few adds per value, and the 2.25x fewer multiplies pay for
// them on MAVIS's 64-channel layers (about 1.5x on a 112x112x64 layer).
//
// The layers run it for input gradients (conv2DGemmInputGradTo's
// flipped-kernel convolution) and in Model.ForwardScores, not in the
// forward pass a backward pass follows: there its rounding, within
// float32's of the direct sum, still moved enough near-tied max-pool
// windows to put the deconvnet map of the rocket fixture at rel_l2
// 0.00124 against its limit of 0.001 (xai's TestFixturesWave2); the
// gradients it computes leave every fixture within its limit.
//
// A block of four tiles at a time: transform their inputs into V (16 x 4 x
// in floats), then the 16 products M[ξν] = V[ξν]·U[ξν] (4 x out, U the
// transformed kernel in 32-column panels), and the output transform
// Aᵀ M A + bias, ReLU, into y. Every output goes through the same sums in
// the same order, whichever worker runs its block.

func init() {
	if archsimd.X86.AVX512() {
		winogradVec, winogradVecRange, winogradVecTakes = winogradVecAVX512, winogradVecRangeAVX512, winogradVecFits
	}
}

// winogradVecFits reports whether the vector Winograd path takes geometry
// g: 3x3, stride 1, input channels a multiple of 16, output channels of
// 32, with the AVX-512 4x32 kernel in use (its products run on that
// kernel's row kernel). The choice
// must not depend on the image size: nn.Delta recomputes a layer's
// changed outputs tile by tile on gathered 4x4 windows, and gets the full
// pass's bits only through the same path (delta_layers.go).
func winogradVecFits(g convGeom) bool {
	return g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.in%16 == 0 && g.in <= len(winogradZero) && g.out%32 == 0 &&
		gemmMR == 4 && gemmNR == 32
}

// winogradVecAVX512 runs cw's forward pass through the vector Winograd
// path when winogradVecFits and reports whether it did.
func winogradVecAVX512(cw *convWork, y, x, k, b []float32, relu bool, nw int) bool {
	g := cw.g
	if !winogradVecFits(g) {
		return false
	}
	cw.winogradVecRun(y, x, k, b, relu, nw, 32, func(u, k []float32) { winogradKernelAVX512(u, k, g.in*g.out) })
	return true
}

// winogradKernelAVX512 is winogradKernelTo, 16 (channel, output) pairs at
// a time: U[ξν][j] = (G g_j Gᵀ)[ξ, ν], j = c*out + o, in the same order
// of operations.
//
//	u: (16, n)   k: (3, 3, n)   n = in*out, a multiple of 16
func winogradKernelAVX512(u, k []float32, n int) {
	u, k = u[:16*n], k[:9*n]
	half := archsimd.BroadcastFloat32x16(2)
	for j := 0; j+16 <= n; j += 16 {
		var r [4][3]archsimd.Float32x16 // G g
		for x := range 3 {
			g0 := archsimd.LoadFloat32x16Slice(k[x*n+j:])
			g1 := archsimd.LoadFloat32x16Slice(k[(3+x)*n+j:])
			g2 := archsimd.LoadFloat32x16Slice(k[(6+x)*n+j:])
			r[0][x] = g0
			r[1][x] = g0.Add(g1).Add(g2).Div(half)
			r[2][x] = g0.Sub(g1).Add(g2).Div(half)
			r[3][x] = g2
		}
		for xi := range 4 { // (G g) Gᵀ
			r0, r1, r2 := r[xi][0], r[xi][1], r[xi][2]
			r0.StoreSlice(u[(xi*4+0)*n+j:])
			r0.Add(r1).Add(r2).Div(half).StoreSlice(u[(xi*4+1)*n+j:])
			r0.Sub(r1).Add(r2).Div(half).StoreSlice(u[(xi*4+2)*n+j:])
			r2.StoreSlice(u[(xi*4+3)*n+j:])
		}
	}
}

// winogradVecRangeAVX512 computes the output tiles of tile blocks [lo, hi).
func winogradVecRangeAVX512(cw *convWork, w, lo, hi int) {
	g := cw.g
	ws := &cw.ws[w]
	tiles := g.n * ((g.oh + 1) / 2) * ((g.ow + 1) / 2)
	in := g.in
	v, m := ws.a[:16*4*in], ws.c[:16*4*g.out]
	psz := cw.np * in * 32
	// The products V[ξν]·U[ξν], each a row-kernel call: one "row" of four
	// positions (the tiles), in channels apart, all panels, no bias.
	rc := &ws.wrc
	*rc = rowConv{kh: 1, seg: in, step: in, npos: 4, np: cw.np, nr: 32, cols: 32, bias: cw.bpad[g.out : 2*g.out], ystep: g.out}
	for blk := lo; blk < hi; blk++ {
		t0 := blk * 4
		rows := min(4, tiles-t0)
		for r := range 4 {
			winogradInputAVX512(cw, v, r, t0+r, r < rows)
		}
		for xn := range 16 {
			rc.bp = cw.ub[xn*psz : (xn+1)*psz]
			ws.rows[0] = v[xn*4*in : (xn+1)*4*in]
			convRowAVX512(rc, m[xn*4*g.out:(xn+1)*4*g.out], &ws.rows)
		}
		for p := range cw.np {
			winogradOutputAVX512(cw, m, t0, rows, p)
		}
	}
}

// winogradInputAVX512 writes tile t's transformed input, V[ξν][r][c] =
// (Bᵀ d_c B)[ξ, ν], as conv_kernel_winograd.go's winogradInput computes it
// (zeros when !ok).
//
//	v: (16, 4, in)
func winogradInputAVX512(cw *convWork, v []float32, r, t int, ok bool) {
	g := cw.g
	in := g.in
	if !ok {
		for xn := range 16 {
			clear(v[(xn*4+r)*in : (xn*4+r+1)*in])
		}
		return
	}
	th, tw := (g.oh+1)/2, (g.ow+1)/2
	n, ty, tx := t/(th*tw), t/tw%th, t%tw
	iy0, ix0 := 2*ty-g.ph, 2*tx-g.pw
	img := cw.x[n*g.h*g.w*in : (n+1)*g.h*g.w*in]
	var s [16][]float32 // the 4x4 input tile, one channel row per pixel
	if iy0 >= 0 && iy0+4 <= g.h && ix0 >= 0 && ix0+4 <= g.w {
		for u := range 4 {
			row := img[((iy0+u)*g.w+ix0)*in:][:4*in]
			s[u*4], s[u*4+1], s[u*4+2], s[u*4+3] = row[:in], row[in:2*in], row[2*in:3*in], row[3*in:]
		}
	} else {
		for u := range 4 {
			iy := iy0 + u
			for q := range 4 {
				ix := ix0 + q
				s[u*4+q] = winogradZero[:in]
				if iy >= 0 && iy < g.h && ix >= 0 && ix < g.w {
					s[u*4+q] = img[(iy*g.w+ix)*in:][:in]
				}
			}
		}
	}
	v = v[:16*4*in]
	for c := 0; c+16 <= in; c += 16 {
		var tb [4][4]archsimd.Float32x16 // (Bᵀ d)[ξ][ν column]
		for q := range 4 {
			d0 := archsimd.LoadFloat32x16Slice(s[q][c:])
			d1 := archsimd.LoadFloat32x16Slice(s[4+q][c:])
			d2 := archsimd.LoadFloat32x16Slice(s[8+q][c:])
			d3 := archsimd.LoadFloat32x16Slice(s[12+q][c:])
			tb[0][q] = d0.Sub(d2)
			tb[1][q] = d1.Add(d2)
			tb[2][q] = d2.Sub(d1)
			tb[3][q] = d1.Sub(d3)
		}
		o := r*in + c // V[ξν][r][c] at ξν*4*in + o
		for xi := range 4 {
			u0, u1, u2, u3 := tb[xi][0], tb[xi][1], tb[xi][2], tb[xi][3]
			u0.Sub(u2).StoreSlice(v[(xi*4+0)*4*in+o:])
			u1.Add(u2).StoreSlice(v[(xi*4+1)*4*in+o:])
			u2.Sub(u1).StoreSlice(v[(xi*4+2)*4*in+o:])
			u1.Sub(u3).StoreSlice(v[(xi*4+3)*4*in+o:])
		}
	}
}

// winogradOutputAVX512 turns the 16 products M[ξν] (4 tiles x out) into
// the tiles' 2x2 outputs of panel p's 32 columns, Aᵀ M A + bias, then the
// ReLU, as conv_kernel_winograd.go's winogradOutput computes them.
//
//	m: (16, 4, out)
func winogradOutputAVX512(cw *convWork, m []float32, t0, rows, p int) {
	g := cw.g
	th, tw := (g.oh+1)/2, (g.ow+1)/2
	zero := archsimd.BroadcastFloat32x16(0)
	m = m[:16*4*g.out]
	n, ty, tx := t0/(th*tw), t0/tw%th, t0%tw // of tile t0+r, stepped below
	for r := range rows {
		oy, ox := 2*ty, 2*tx
		base := ((n*g.oh+oy)*g.ow + ox) * g.out
		right, below := ox+1 < g.ow, oy+1 < g.oh
		for h := 0; h < 32; h += 16 {
			j := p*32 + h
			bias := archsimd.LoadFloat32x16Slice(cw.bpad[j:])
			var s0, s1 [4]archsimd.Float32x16 // Aᵀ M, column by column
			for q := range 4 {
				x0 := archsimd.LoadFloat32x16Slice(m[(q*4+r)*g.out+j:])
				x1 := archsimd.LoadFloat32x16Slice(m[((4+q)*4+r)*g.out+j:])
				x2 := archsimd.LoadFloat32x16Slice(m[((8+q)*4+r)*g.out+j:])
				x3 := archsimd.LoadFloat32x16Slice(m[((12+q)*4+r)*g.out+j:])
				s0[q] = x0.Add(x1).Add(x2)
				s1[q] = x1.Sub(x2).Sub(x3)
			}
			y00 := s0[0].Add(s0[1]).Add(s0[2]).Add(bias)
			y01 := s0[1].Sub(s0[2]).Sub(s0[3]).Add(bias)
			y10 := s1[0].Add(s1[1]).Add(s1[2]).Add(bias)
			y11 := s1[1].Sub(s1[2]).Sub(s1[3]).Add(bias)
			if cw.relu {
				y00, y01, y10, y11 = y00.Max(zero), y01.Max(zero), y10.Max(zero), y11.Max(zero)
			}
			y00.StoreSlice(cw.y[base+j:])
			if right {
				y01.StoreSlice(cw.y[base+g.out+j:])
			}
			if below {
				y10.StoreSlice(cw.y[base+g.ow*g.out+j:])
				if right {
					y11.StoreSlice(cw.y[base+(g.ow+1)*g.out+j:])
				}
			}
		}
		if tx++; tx == tw {
			tx = 0
			if ty++; ty == th {
				ty, n = 0, n+1
			}
		}
	}
}

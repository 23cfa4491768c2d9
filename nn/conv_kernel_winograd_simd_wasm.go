//go:build goexperiment.simd && js && wasm

package nn

// Winograd's F(2x2, 3x3) (conv_kernel_winograd.go) on the SIMD128 kernels
// of the browser build, as conv_kernel_winograd_simd_amd64.go runs it with
// AVX-512: a block of four tiles at a time, their input transform by
// wino_in into V (16 x 4 x in floats), the 16 products M[ξν] = V[ξν]·U[ξν]
// (4 x out) on conv_rows_4x8 (U the transformed kernel in 8-column
// panels), and the output transform Aᵀ M A + bias, ReLU, by wino_out into
// y. The transforms compute what the scalar winogradInput and
// winogradOutput compute, in the same order; the products sum over the
// input channels from +0 as every kernel here does.
//
// With scalar transforms Winograd lost to the direct row path in the
// browser (37 against 51 GFLOP/cpu-s at 112x112x64, nn/BENCHMARKS.md);
// with these it wins. As natively, the layers run it for input gradients
// (the flipped kernel's convolution of conv2DGemmInputGradTo) and in
// Model.ForwardScores, whose outputs no gradient follows. In a forward
// pass a backward pass follows, its rounding moves near-tied max-pool
// windows: measured on
// 45 photos (the fixtures' and the page's samples, each also mirrored,
// shifted by a pixel either way and darkened), a Winograd forward pass
// changed the maps against the direct one by up to rel_l2 0.0084 for
// Deconvnet (the fixtures allow 0.001 against float64), 0.012 for Grad-CAM
// and Saliency and 0.013 for Gradient x Input. As the input gradient it
// changed no map, Integrated Gradients included, by more than 7.4e-7.

// winogradVecFitsSIMD reports whether the path takes geometry g: 3x3,
// stride 1, input channels a multiple of 4 (the transforms' vectors) and
// at most len(winogradZero), output channels a multiple of 8 (whole
// panels of conv_rows_4x8). It does not depend on the image size (see
// winogradVecFits).
func winogradVecFitsSIMD(g convGeom) bool {
	return g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.in%4 == 0 && g.in <= len(winogradZero) && g.out%8 == 0
}

// winogradVecSIMD runs cw's forward pass through the path when
// winogradVecFitsSIMD and reports whether it did.
func winogradVecSIMD(cw *convWork, y, x, k, b []float32, relu bool, nw int) bool {
	g := cw.g
	if !winogradVecFitsSIMD(g) {
		return false
	}
	cw.winogradVecRun(y, x, k, b, relu, nw, 8, func(u, k []float32) { winogradKernelTo(u, k, g.in, g.out) })
	return true
}

// winogradVecRangeSIMD computes the output tiles of tile blocks [lo, hi).
func winogradVecRangeSIMD(cw *convWork, w, lo, hi int) {
	g := cw.g
	ws := &cw.ws[w]
	th, tw := (g.oh+1)/2, (g.ow+1)/2
	tiles := g.n * th * tw
	in, out := g.in, g.out
	v, m := ws.a[:16*4*in], ws.c[:16*4*out]
	psz := cw.np * in * 8
	bias, zero := cw.bpad[:out], cw.bpad[out:2*out]
	// The products V[ξν]·U[ξν], each a row-kernel call: one "row" of four
	// positions (the tiles), in channels apart, all panels, no bias.
	rc := &ws.wrc
	*rc = rowConv{kh: 1, seg: in, step: in, npos: 4, np: cw.np, nr: 8, cols: 8, bias: zero, ystep: out}
	var px [16]uint32 // a tile's 16 pixel rows
	for blk := lo; blk < hi; blk++ {
		t0 := blk * 4
		rows := min(4, tiles-t0)
		for r := range 4 {
			winogradTileRows(cw, &px, t0+r, r < rows)
			simdWinoIn(&px[0], f32(v[r*in:]), int32(in), int32(4*4*in))
		}
		for xn := range 16 {
			rc.bp = cw.ub[xn*psz : (xn+1)*psz]
			ws.rows[0] = v[xn*4*in : (xn+1)*4*in]
			convRowSIMD(rc, m[xn*4*out:(xn+1)*4*out], &ws.rows)
		}
		n, ty, tx := t0/(th*tw), t0/tw%th, t0%tw // of tile t0+r, stepped below
		for r := range rows {
			oy, ox := 2*ty, 2*tx
			base := ((n*g.oh+oy)*g.ow + ox) * out
			right, below := ox+1 < g.ow, oy+1 < g.oh
			last := base + out // one past the last output written
			if right {
				last += out
			}
			if below {
				last += g.ow * out
			}
			_ = cw.y[base:last]
			simdWinoOut(f32(m[r*out:]), int32(4*4*out), f32(bias), f32(cw.y[base:]), int32(4*out), int32(4*g.ow*out), int32(out),
				b2i(cw.relu), b2i(right), b2i(below))
			if tx++; tx == tw {
				tx = 0
				if ty++; ty == th {
					ty, n = 0, n+1
				}
			}
		}
	}
}

// winogradTileRows sets px to the addresses of tile t's 16 input pixels,
// in channels each, in row-major order: winogradZero for a pixel outside
// the image, and for every pixel when !ok (a block's missing tiles).
func winogradTileRows(cw *convWork, px *[16]uint32, t int, ok bool) {
	g := cw.g
	in := g.in
	zero := addr32(winogradZero[:in])
	if !ok {
		for i := range px {
			px[i] = zero
		}
		return
	}
	th, tw := (g.oh+1)/2, (g.ow+1)/2
	n, ty, tx := t/(th*tw), t/tw%th, t%tw
	iy0, ix0 := 2*ty-g.ph, 2*tx-g.pw
	img := cw.x[n*g.h*g.w*in : (n+1)*g.h*g.w*in]
	for u := range 4 {
		iy := iy0 + u
		for q := range 4 {
			ix := ix0 + q
			px[u*4+q] = zero
			if iy >= 0 && iy < g.h && ix >= 0 && ix < g.w {
				px[u*4+q] = addr32(img[(iy*g.w+ix)*in:][:in])
			}
		}
	}
}

package nn

// The row path: a convolution computed output row by output row straight
// from its input rows, with no im2col copy, for micro-kernels that come
// with a row kernel (the WebAssembly SIMD128 kernels of
// gemm_simd_wasm.go, where packing the column matrix in Go would cost a
// third of the products' time). The kh input rows an output row reads are
// copied once into a ring of zero-padded rows, so that every output
// position, at the border too, reads the same kw*in contiguous values per
// kernel row: the row kernel needs no edge cases, and each output sums its
// products in one order (kernel row ky, then its kw*in values, then the
// bias added) whatever its position.
//
//	forward        y = conv(x, k) + b, then a ReLU
//	input grad     stride 1: dx = conv(dy ⊙ [y > 0], flipped kᵀ) (conv_kernel_grad.go),
//	               the ReLU mask applied as the rows are copied into the ring
//
// convRowGo is the portable row kernel, the reference the SIMD one is
// held to bit for bit (TestRowKernels) and the one the tests run the
// driver with natively.

// maxRowsKH bounds the kernel height of the row path (the ring's size).
const maxRowsKH = 16

// rowConv is what a row kernel needs of a convolution besides its rows.
type rowConv struct {
	kh, seg, step int       // kernel rows; floats per kernel row (kw*in); floats between output positions in an input row (sw*in)
	npos          int       // output positions per row (ow)
	bp            []float32 // the kernel in panels of nr columns: (np, kh*seg, nr), zero past the last column (nr 1: packDotTo's layout, convRowDotGo)
	np, nr, cols  int       // panels, their width, columns of the last one
	bias          []float32 // (np*nr), zero past the last column
	relu          bool
	ystep         int // floats between output positions (out)
}

// rowKernel computes one output row of rc:
//
//	y[p*ystep + q*nr + j] = relu?(bias[q*nr+j] + Σ_ky Σ_{k<seg} rows[ky][p*step + k] · bp[(q*kh*seg + ky*seg + k)*nr + j])
//
// for positions p < npos, panels q < np and columns j < nr (j < cols in
// the last panel), summing the products in ky, then k order from +0 and
// adding the bias last (the order of the portable micro-kernels).
//
//	y: ((npos-1)*ystep + (np-1)*nr + cols)   rows[ky]: ((npos-1)*step + seg)
type rowKernel func(rc *rowConv, y []float32, rows *[maxRowsKH][]float32)

// convRowGo is the portable rowKernel.
func convRowGo(rc *rowConv, y []float32, rows *[maxRowsKH][]float32) {
	K := rc.kh * rc.seg
	for q := range rc.np {
		cols := rc.nr
		if q == rc.np-1 {
			cols = rc.cols
		}
		bq := rc.bp[q*K*rc.nr : (q+1)*K*rc.nr]
		for p := range rc.npos {
			for j := range cols {
				var s float32
				for ky := range rc.kh {
					a := rows[ky][p*rc.step:][:rc.seg]
					b := bq[ky*rc.seg*rc.nr+j:]
					for k, v := range a {
						s += v * b[k*rc.nr]
					}
				}
				s = rc.bias[q*rc.nr+j] + s
				if rc.relu {
					s = relu(s)
				}
				y[p*rc.ystep+q*rc.nr+j] = s
			}
		}
	}
}

// convRowDotGo is the portable rowKernel of dot panels (gemmRowsDot), the
// reference the SIMD one is held to bit for bit (TestRowDotKernels): with
// one to three output channels the panels of nr columns leave most lanes
// of a vector kernel idle, so each output is computed as a dot product
// along the kernel row instead. For it rc.nr and rc.cols are 1, rc.seg a
// multiple of 4, and rc.bp holds the K = kh*seg kernel rows four at a
// time with the np output channels interleaved (packDotTo):
//
//	bp[(c*np + q)*4 + l] = kernel row 4c+l of output channel q
//
// Each output sums as nn's dot: four partial sums s_l over the rows 4c+l,
// in ky, then k order from +0, then ((s0 + s1) + (s2 + s3)) + bias.
func convRowDotGo(rc *rowConv, y []float32, rows *[maxRowsKH][]float32) {
	np := rc.np
	for p := range rc.npos {
		for q := range np {
			var s [4]float32
			c := 0 // four-row groups so far
			for ky := range rc.kh {
				a := rows[ky][p*rc.step:][:rc.seg]
				for k := 0; k+4 <= len(a); k += 4 {
					b := rc.bp[(c*np+q)*4:][:4]
					for l := range 4 {
						s[l] += float32(a[k+l] * b[l]) // no fused multiply-add, as the kernels
					}
					c++
				}
			}
			v := ((s[0] + s[1]) + (s[2] + s[3])) + rc.bias[q]
			if rc.relu {
				v = relu(v)
			}
			y[p*rc.ystep+q] = v
		}
	}
}

// packDotTo writes the dot panels of convRowDotGo from the row-major
// (K x n) kernel k, K a multiple of 4.
//
//	dst: (K/4, n, 4)   k: (K, n)
func packDotTo(dst, k []float32, K, n int) {
	for c := range K / 4 {
		for q := range n {
			for l := range 4 {
				dst[(c*n+q)*4+l] = k[(4*c+l)*n+q]
			}
		}
	}
}

// maxDotOut is the most output channels the dot row kernels take.
const maxDotOut = 3

// rowsDot reports whether the row path runs g on gemmRowsDot.
func rowsDot(g convGeom) bool {
	return gemmRowsDot != nil && g.out <= maxDotOut && g.kw*g.in%4 == 0
}

// rowsFit reports whether the row path takes the forward pass of g when
// Winograd does not (forwardRows).
func rowsFit(g convGeom) bool { return gemmRows != nil && g.kh <= maxRowsKH }

// forwardRows reports whether a forward convolution of g (not an input
// gradient) runs on the row path (convWork.forward).
func forwardRows(g convGeom) bool { return !useWinograd(g) && rowsFit(g) }

// rowsInputGrad reports whether the input gradient of g runs on the row
// path (stride 1: a forward convolution of dy), applying a ReLU mask:
// unless the vector Winograd path takes the flipped kernel's convolution
// (then the caller masks dy, and conv2DGemmInputGradTo runs it there).
func rowsInputGrad(g convGeom) bool {
	return gemmRows != nil && g.sh == 1 && g.sw == 1 && g.kh <= maxRowsKH && !useWinogradVec(flippedGeom(g))
}

// rowsTo computes y = conv(x ⊙ [mask > 0], k) + b, then a ReLU when relu
// is set, for cw.g on gemmRows; mask is nil or has x's shape (the ReLU
// output whose gradient x is), b may be nil.
//
//	y: (n, oh, ow, out)   x, mask: (n, h, w, in)   k: (kh, kw, in, out)   b: (out) or nil
func (cw *convWork) rowsTo(y, x, mask, k, b []float32, relu bool, nw int) {
	g := cw.g
	if g.kh > maxRowsKH {
		panic("nn: row convolution with a kernel taller than maxRowsKH")
	}
	cw.op = opRows
	cw.y, cw.x, cw.mask = y, x, mask
	cw.rowsPrep(k, b, relu)
	// The padded rows are wide enough for every position's window:
	// (ow-1)*sw + kw columns, the image's starting at column pw.
	cw.wp = (g.ow-1)*g.sw + g.kw
	for w := range nw {
		ws := &cw.ws[w]
		ws.c = growZero(ws.c, g.kh*cw.wp*g.in) // the ring: its padding stays zero
		ws.zero = growZero(ws.zero, max(g.in, cw.wp*g.in))
	}
	rows := g.n * g.oh
	cw.parallelRun.run(cw, rows, max(1, rows/(16*nw)), nw)
}

// rowsPrep sets up cw.rowk and cw.rc for the rows of cw.g: the row kernel
// and its panel width, the kernel k packed for it, the bias b (nil: none)
// padded to whole panels, and whether a ReLU follows. rc.npos is g.ow.
func (cw *convWork) rowsPrep(k, b []float32, relu bool) {
	g := cw.g
	nr := cw.nr // the micro-kernel's panel width
	cw.rowk = gemmRows
	switch {
	case rowsDot(g):
		nr, cw.rowk = 1, gemmRowsDot
	case nr == 8 && g.out <= 4:
		nr = 4 // the SIMD128 row kernel's narrow panels
	}
	K := cw.kk
	rc := &cw.rc
	*rc = rowConv{kh: g.kh, seg: g.kw * g.in, step: g.sw * g.in, npos: g.ow, np: panels(g.out, nr), nr: nr, relu: relu, ystep: g.out}
	rc.cols = g.out - (rc.np-1)*nr
	if nr == 1 {
		rc.bp = cw.packed(prepRowsDot, 1, K*g.out, func(bp []float32) { packDotTo(bp, k, K, g.out) })
	} else {
		rc.bp = cw.packed(prepRows, nr, rc.np*K*nr, func(bp []float32) { packBTo(bp, k, K, g.out, g.out, nr) })
	}
	cw.bpad = growZero(cw.bpad, rc.np*nr)
	copy(cw.bpad, b)
	rc.bias = cw.bpad
}

// rowsRange computes output rows [lo, hi) (over the batch). The input
// rows are copied (and masked) into a ring of kh padded rows as they are
// first needed, so each is copied once per range.
func (cw *convWork) rowsRange(w, lo, hi int) {
	g := cw.g
	ws := &cw.ws[w]
	rowLen, wpLen := g.w*g.in, cw.wp*g.in
	// The image's columns that fall inside the padded row.
	cols := min(g.w, cw.wp-g.pw) * g.in
	var ring [maxRowsKH]int // the input row (n*h + iy) each slot holds
	for i := range ring {
		ring[i] = -1
	}
	src := &ws.rows // in the worker's scratch: a local array would escape (cw.rowk is a func value)
	for row := lo; row < hi; row++ {
		n, oy := row/g.oh, row%g.oh
		for ky := range g.kh {
			iy := oy*g.sh + ky - g.ph
			if iy < 0 || iy >= g.h {
				src[ky] = ws.zero[:wpLen]
				continue
			}
			key, slot := n*g.h+iy, iy%g.kh
			buf := ws.c[slot*wpLen:][:wpLen]
			if ring[slot] != key {
				xr := cw.x[key*rowLen:][:cols]
				dst := buf[g.pw*g.in:][:cols]
				if cw.mask != nil {
					reluGradTo(dst, xr, cw.mask[key*rowLen:][:cols])
				} else {
					copy(dst, xr)
				}
				ring[slot] = key
			}
			src[ky] = buf
		}
		cw.rowk(&cw.rc, cw.y[row*g.ow*g.out:][:g.ow*g.out], src)
	}
}

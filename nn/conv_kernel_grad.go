package nn

// The gradients of the convolution on the GEMM core (see conv_kernel_gemm.go
// for the layout and the scratch):
//
//	input grad     stride 1, in >= nr: dx = conv(dy, flipped Kᵀ), the forward path
//	               (in == 3 with a portable kernel: the same on narrowTo; any
//	               in on the row path, which also applies the ReLU mask)
//	               otherwise: dCol (P x kk) = dY (P x out) · Kᵀ (out x kk), then col2im
//	kernel grad    dK (kk x out) += Colᵀ (kk x P) · dY (P x out)

// conv2DGemmInputGradTo computes dx = convᵀ(dy, k). prep, when not nil,
// keeps what the call makes of k for the next (see kernelPrep).
//
//	dx: (n, h, w, in)   dy: (n, oh, ow, out)   k: (kh, kw, in, out)
func conv2DGemmInputGradTo(dx, dy, mask, k []float32, g convGeom, prep *kernelPrep) {
	nw := workers()
	if inputGradByConv(g) {
		if mask != nil && !narrowInputGrad(g) && !rowsInputGrad(g) {
			panic("nn: conv2d input gradient: ReLU mask on the convolution path")
		}
		// With stride 1 the input gradient is itself a convolution, of dy
		// with the kernel flipped in space and transposed in channels,
		// padded by k-1-p before: dx[ih,iw,i] = Σ dy[ih+ky'-(kh-1-ph), ...,
		// o] K[kh-1-ky', kw-1-kx', i, o]. It then runs at the forward
		// pass's speed; with few input channels (the image's three) the
		// panels of B would be mostly padding, and col2im below wins.
		gt := flippedGeom(g)
		cw := getConvWork(opForward, gt, nw)
		defer cw.put()
		var kt []float32
		if prep != nil {
			kt, cw.prep = prep.flipped(k, g), prep
		} else {
			cw.kt = grow(cw.kt, len(k))
			flipKernelTo(cw.kt, k, g)
			kt = cw.kt
		}
		if narrowInputGrad(g) {
			cw.narrowTo(dx, dy, mask, kt, nw)
			return
		}
		if rowsInputGrad(g) {
			cw.rowsTo(dx, dy, mask, kt, nil, false, nw)
			return
		}
		cw.winoVec = true
		cw.forward(dx, dy, kt, nil, false, nw)
		cw.winoVec = false
		return
	}
	cw := getConvWork(opInputGrad, g, nw)
	defer cw.put()
	cw.dx, cw.dy, cw.mask, cw.k = dx, dy, mask, k
	cw.np = panels(cw.kk, cw.nr)
	cw.bp = grow(cw.bp, cw.np*g.out*cw.nr)
	packBTransTo(cw.bp, k, g.out, cw.kk, g.out, cw.nr)
	for w := range nw {
		ws := &cw.ws[w]
		ws.a = grow(ws.a, g.out*cw.mr)
		ws.c = grow(ws.c, cw.mr*cw.np*cw.nr)
	}
	clear(dx)
	R := g.n * g.oh // output rows, over the whole batch
	if R < 4*g.kh {
		cw.phase, cw.bandRows = 0, R
		cw.parallelRun.run(cw, 1, 1, 1)
		return
	}
	// Bands at least kh rows high: bands 2j and 2j+2 then touch disjoint
	// input rows (band height * stride >= kh - 1). Their number does not
	// depend on the workers (one worker runs the same bands in turn), so
	// every input gradient is added in the same order, and dx has the
	// same bits, with any number of workers.
	cw.bandRows = max(g.kh, (R+colBands-1)/colBands)
	bands := (R + cw.bandRows - 1) / cw.bandRows
	for phase := range 2 {
		cw.phase = phase
		cw.parallelRun.run(cw, (bands-phase+1)/2, 1, nw)
	}
}

// kernelPrep keeps what a layer's input gradient makes of its kernel from
// one call to the next: the flipped kernel, and the panels packed from it
// for the row path or the vector Winograd path (under node the Winograd
// kernel transform alone was 1.5 ms of a 38 ms saliency); or, for
// ForwardScores (conv2DScoresTo), the panels packed from the kernel
// itself. They are made
// again whenever the kernel's values differ, bit for bit, from those they
// were made from (compared at each call, as a paramStamp does), so that
// training, a sanity check's randomised weights or a new model's values
// are never met with stale panels. The results are those of a call
// without a prep, bit for bit: the same functions make the same values.
type kernelPrep struct {
	src  []float32 // the kernel's values they were made from
	geo  [4]int    // its kh, kw, in, out
	kt   []float32 // flipKernelTo's output
	kind prepKind  // what bp holds
	nr   int       // bp's panel width
	bp   []float32
}

// prepKind names what a kernelPrep's panels hold.
type prepKind int

const (
	prepNone     prepKind = iota
	prepRows              // packBTo of the (flipped) kernel (rowsTo)
	prepRowsDot           // packDotTo of the (flipped) kernel (rowsTo on gemmRowsDot)
	prepWinograd          // the Winograd-transformed (flipped) kernel, packed per ξν (winogradVecRun)
)

// remake records k (of geometry g) as the kernel p's panels are made from
// and drops them, and reports true, when k's values or shape differ from
// the last call's.
func (p *kernelPrep) remake(k []float32, g convGeom) bool {
	geo := [4]int{g.kh, g.kw, g.in, g.out}
	if p.geo == geo && len(p.src) == len(k) && SameBits(p.src, k) {
		return false
	}
	p.src = append(p.src[:0], k...)
	p.geo = geo
	p.kind = prepNone
	return true
}

// flipped returns k flipped for the input gradient of g, remade (and the
// panels dropped) when k's values or shape differ from the last call's.
func (p *kernelPrep) flipped(k []float32, g convGeom) []float32 {
	if p.remake(k, g) {
		p.kt = grow(p.kt, len(k))
		flipKernelTo(p.kt, k, g)
	}
	return p.kt
}

// packed returns n floats of panels of kind, nr wide: cw.prep's when it
// holds them, else made by fill into cw.prep's buffer (kept for the next
// call) or, without a prep, into cw.bp.
func (cw *convWork) packed(kind prepKind, nr, n int, fill func(bp []float32)) []float32 {
	p := cw.prep
	if p == nil {
		cw.bp = grow(cw.bp, n)
		fill(cw.bp)
		return cw.bp
	}
	if p.kind != kind || p.nr != nr || len(p.bp) != n {
		p.bp = grow(p.bp, n)
		fill(p.bp)
		p.kind, p.nr = kind, nr
	}
	return p.bp
}

// flippedGeom is the geometry of the stride-1 input gradient of g as a
// convolution: dy (g's output) convolved with the flipped, transposed
// kernel, padded by k-1-p before.
func flippedGeom(g convGeom) convGeom {
	return convGeom{n: g.n, h: g.oh, w: g.ow, in: g.out, oh: g.h, ow: g.w, out: g.in,
		kh: g.kh, kw: g.kw, sh: 1, sw: 1, ph: g.kh - 1 - g.ph, pw: g.kw - 1 - g.pw}
}

// colBands is the number of bands of output rows the col2im input
// gradient runs in (two phases, each band on one worker).
const colBands = 16

// inputGradByConv reports whether the input gradient of g runs as a
// convolution of dy with the flipped kernel (stride 1 and at least a
// panel's width of input channels, or three with a portable kernel, by
// narrowTo, or any on the row path) rather than by col2im.
func inputGradByConv(g convGeom) bool {
	return g.sh == 1 && g.sw == 1 && g.in >= gemmNR || narrowInputGrad(g) || rowsInputGrad(g)
}

// narrowInputGrad reports whether the input gradient of g runs on
// narrowTo, which also applies a ReLU mask as it reads dy: with the
// portable kernels, or with a vector narrowRowKernel.
func narrowInputGrad(g convGeom) bool {
	return (gemmNarrow || narrowRowKernel != nil) && g.sh == 1 && g.sw == 1 && g.in == narrowOut && g.in < gemmNR && g.kh <= maxNarrowKH
}

// flipKernelTo writes the kernel of the stride-1 input gradient:
// kt[ky,kx,o,i] = k[kh-1-ky, kw-1-kx, i, o].
//
//	kt: (kh, kw, out, in)   k: (kh, kw, in, out)
func flipKernelTo(kt, k []float32, g convGeom) {
	for ky := range g.kh {
		for kx := range g.kw {
			src := k[((g.kh-1-ky)*g.kw+(g.kw-1-kx))*g.in*g.out:][:g.in*g.out]
			dst := kt[(ky*g.kw+kx)*g.out*g.in:][:g.out*g.in]
			for i := range g.in {
				for o, v := range src[i*g.out : (i+1)*g.out] {
					dst[o*g.in+i] = v
				}
			}
		}
	}
}

// inputGradRange processes bands 2u+phase for u in [lo, hi).
func (cw *convWork) inputGradRange(w, lo, hi int) {
	g, mr := cw.g, cw.mr
	ws := &cw.ws[w]
	R := g.n * g.oh
	for u := lo; u < hi; u++ {
		band := 2*u + cw.phase
		r0, r1 := band*cw.bandRows, min(R, (band+1)*cw.bandRows)
		for p0 := r0 * g.ow; p0 < r1*g.ow; p0 += mr {
			cw.inputGradBlock(ws, p0, min(mr, r1*g.ow-p0))
		}
	}
}

// inputGradBlock computes the column-matrix gradient of positions
// p0..p0+rows-1 and adds it into dx (col2im).
func (cw *convWork) inputGradBlock(ws *convWorker, p0, rows int) {
	g, mr, nr := cw.g, cw.mr, cw.nr
	ld := cw.np * nr
	a, c := ws.a[:g.out*mr], ws.c[:mr*ld]
	// Pack the dy rows: a[o*mr + r] = dy[p0+r, o].
	for r := range mr {
		if r >= rows {
			for o := range g.out {
				a[o*mr+r] = 0
			}
			continue
		}
		row := cw.dy[(p0+r)*g.out : (p0+r+1)*g.out]
		if cw.mask != nil {
			m := cw.mask[(p0+r)*g.out : (p0+r+1)*g.out]
			for o, v := range row {
				a[o*mr+r] = maskPositive(v, m[o])
			}
			continue
		}
		for o, v := range row {
			a[o*mr+r] = v
		}
	}
	clear(c)
	for p := range cw.np {
		cw.kern(g.out, a, cw.bp[p*g.out*nr:(p+1)*g.out*nr], c[p*nr:], ld)
	}
	for r := range rows {
		p := p0 + r
		n, oy, ox := p/(g.oh*g.ow), p/g.ow%g.oh, p%g.ow
		q := r * ld
		for ky := range g.kh {
			iy := oy*g.sh + ky - g.ph
			for kx := range g.kw {
				ix := ox*g.sw + kx - g.pw
				if iy >= 0 && iy < g.h && ix >= 0 && ix < g.w {
					dst := cw.dx[((n*g.h+iy)*g.w+ix)*g.in:][:g.in]
					for i, v := range c[q : q+g.in] {
						dst[i] += v
					}
				}
				q += g.in
			}
		}
	}
}

// conv2DGemmKernelGradAdd adds dL/dk into dk.
//
//	dk: (kh, kw, in, out)   x: (n, h, w, in)   dy: (n, oh, ow, out)
func conv2DGemmKernelGradAdd(dk, x, dy []float32, g convGeom) {
	nw := workers()
	cw := getConvWork(opKernelGrad, g, nw)
	defer cw.put()
	cw.x, cw.dy = x, dy
	cw.np = panels(g.out, cw.nr)
	ld := cw.np * cw.nr
	mb := (cw.kk + cw.mr - 1) / cw.mr
	for w := range nw {
		ws := &cw.ws[w]
		ws.a = grow(ws.a, kgradChunk*cw.mr)
		ws.b = grow(ws.b, cw.np*kgradChunk*cw.nr)
		ws.part = grow(ws.part, mb*cw.mr*ld)
		clear(ws.part)
	}
	// Slot s sums chunks [s*chunks/nw, (s+1)*chunks/nw) into partial s, and
	// the partials are added in slot order: the summation order is fixed by
	// the worker count alone, not by scheduling, so seeded training repeats
	// exactly.
	P := g.n * g.oh * g.ow
	cw.chunks = (P + kgradChunk - 1) / kgradChunk
	cw.slots = nw
	cw.parallelRun.run(cw, nw, 1, nw)
	for w := range nw {
		part := cw.ws[w].part
		for m := range cw.kk {
			row := dk[m*g.out : (m+1)*g.out]
			for o, v := range part[m*ld : m*ld+g.out] {
				row[o] += v
			}
		}
	}
}

// kernelGradRange adds the contribution of the position chunks of slots
// [lo, hi) into each slot's partial kernel gradient, with worker w's
// packing scratch.
func (cw *convWork) kernelGradRange(w, lo, hi int) {
	for s := lo; s < hi; s++ {
		cw.kernelGradChunks(w, s, s*cw.chunks/cw.slots, (s+1)*cw.chunks/cw.slots)
	}
}

// kernelGradChunks adds position chunks [lo, hi) into slot s's partial.
func (cw *convWork) kernelGradChunks(w, s, lo, hi int) {
	g, mr, nr, kk := cw.g, cw.mr, cw.nr, cw.kk
	ws := &cw.ws[w]
	part := cw.ws[s].part
	ld := cw.np * nr
	P := g.n * g.oh * g.ow
	for ch := lo; ch < hi; ch++ {
		c0 := ch * kgradChunk
		kc := min(kgradChunk, P-c0)
		bp := ws.b[:cw.np*kc*nr]
		packBTo(bp, cw.dy[c0*g.out:], kc, g.out, g.out, nr)
		a := ws.a[:kc*mr]
		for m0 := 0; m0 < kk; m0 += mr {
			cw.packColT(a, c0, kc, m0)
			for p := range cw.np {
				cw.kern(kc, a, bp[p*kc*nr:(p+1)*kc*nr], part[m0*ld+p*nr:], ld)
			}
		}
	}
}

// packColT packs the block of Colᵀ with rows m0..m0+mr-1 (taps and
// channels) and columns c0..c0+kc-1 (positions): a[k*mr + r] =
// Col[c0+k, m0+r], zero past kk or in the padding.
//
//	a: (kc, mr)   x: (n, h, w, in)
func (cw *convWork) packColT(a []float32, c0, kc, m0 int) {
	g, mr := cw.g, cw.mr
	var ky, kx, ch [maxMR]int
	rows := min(mr, cw.kk-m0)
	for r := range rows {
		m := m0 + r
		ch[r] = m % g.in
		ky[r], kx[r] = m/g.in/g.kw, m/g.in%g.kw
	}
	for k := range kc {
		p := c0 + k
		n, oy, ox := p/(g.oh*g.ow), p/g.ow%g.oh, p%g.ow
		dst := a[k*mr : (k+1)*mr]
		for r := range mr {
			dst[r] = 0
			if r >= rows {
				continue
			}
			iy, ix := oy*g.sh+ky[r]-g.ph, ox*g.sw+kx[r]-g.pw
			if iy >= 0 && iy < g.h && ix >= 0 && ix < g.w {
				dst[r] = cw.x[((n*g.h+iy)*g.w+ix)*g.in+ch[r]]
			}
		}
	}
}

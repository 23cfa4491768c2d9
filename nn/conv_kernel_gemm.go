package nn

import (
	"math"
)

// The fast convolution kernels: each pass is a matrix product computed
// tile by tile by the GEMM micro-kernel (gemm.go), with the image-to-column
// lowering done while packing, so no full column matrix is ever built.
//
//	forward        Y (P x out)   = Col (P x kk) · K (kk x out)        + b
//	input grad     dCol (P x kk) = dY (P x out) · Kᵀ (out x kk), then col2im
//	kernel grad    dK (kk x out) += Colᵀ (kk x P) · dY (P x out)
//
// where P = n*oh*ow output positions, kk = kh*kw*in and Col[p, (kh,kw,i)] is
// the input value under tap (kh, kw) of position p (zero in the padding).
// K in HWIO is already the row-major kk x out matrix. Two shortcuts: with
// the portable micro-kernel, stride-1 3x3 layers use Winograd's F(2x2,3x3)
// instead of im2col (conv_kernel_winograd.go); and a stride-1 input
// gradient with at least nr input channels is run as a forward convolution
// of dY with the flipped kernel (conv_kernel_grad.go). A micro-kernel that
// comes with a row kernel (the browser's SIMD128 kernels) runs forward
// passes and stride-1 input gradients on the row path instead
// (conv_kernel_rows.go): no column matrix at all.
//
// Natively the work is split over worker goroutines (parallel_native.go):
// by blocks of output positions for the forward pass, by bands of output
// rows in two phases for the input gradient (bands of the same phase are at
// least kh rows apart, so their col2im writes never overlap), and by chunks
// of positions into per-worker partial sums for the kernel gradient.
//
// Scratch lives in a convWork taken from a free list for the duration of a
// call: steady-state passes allocate nothing, and concurrent calls (two
// models in two goroutines) get separate scratch.

// convOp is the pass a convWork is running.
type convOp int

const (
	opForward convOp = iota
	opInputGrad
	opKernelGrad
	opWinograd
	opNarrow
	opRows
	opWinogradVec
)

// The vector Winograd path (conv_kernel_winograd_simd_amd64.go), when this
// build and CPU have one: winogradVecTakes reports whether it takes a
// geometry, winogradVec runs a convolution through it if so and reports
// whether it did, winogradVecRange is its parallel loop. The layers use it
// for stride-1 input gradients and in Model.ForwardScores (see that file
// for why not in other forward passes). gemmWinogradVec turns it off
// (tests and benchmarks compare the paths).
var (
	winogradVec      func(cw *convWork, y, x, k, b []float32, relu bool, nw int) bool
	winogradVecRange func(cw *convWork, w, lo, hi int)
	winogradVecTakes func(g convGeom) bool
	gemmWinogradVec  = true
)

// useWinogradVec reports whether the forward pass of g runs on the vector
// Winograd path.
func useWinogradVec(g convGeom) bool {
	return winogradVecTakes != nil && gemmWinogradVec && winogradVecTakes(g)
}

// kgradChunk is the number of output positions packed at once for the
// kernel gradient (the k dimension of its GEMM).
const kgradChunk = 256

type convWork struct {
	parallelRun
	op     convOp
	g      convGeom
	relu   bool // forward: apply a ReLU
	mr, nr int
	kern   microKernel
	store  microStoreKernel // nil: the forward pass writes through a tile
	kk     int              // kh*kw*in
	np     int              // panels of B
	// Operands of the running call.
	x, y, k, bias, dy, dx []float32
	mask                  []float32 // input gradient: ReLU output masking dy, or nil
	bp                    []float32 // packed B (forward, input gradient)
	kt                    []float32 // flipped, transposed kernel (input gradient)
	kf                    []float32 // kt with its last two axes swapped (narrowRowKernel)
	ku                    []float32 // Winograd-transformed kernel
	phase, bandRows       int       // input gradient: bands of output rows
	chunks, slots         int       // kernel gradient: position chunks, partial sums
	rc                    rowConv   // row path (conv_kernel_rows.go)
	rowk                  rowKernel // row path: gemmRows, or gemmRowsDot (rowsDot)
	bpad                  []float32 // row path: the bias padded to whole panels
	wp                    int       // row path: padded input row width, in positions
	ws                    []convWorker
	winoVec               bool // the vector Winograd path may take this forward pass: an input gradient's (the flipped kernel's convolution) or a ForwardScores pass

	prep *kernelPrep // input gradient: the layer's prepared kernel, or nil
	ub   []float32   // vector Winograd: the packed U panels the run reads (bp or prep's)
}

// convWorker is one worker's scratch.
type convWorker struct {
	a    []float32 // packed A block
	c    []float32 // tile or row buffer
	b    []float32 // packed B chunk (kernel gradient)
	part []float32 // partial kernel gradient
	zero []float32 // a row of zeros for taps in the padding
	t    []float32 // Winograd: one tile's Bᵀ d, 16 channel rows
	src  [maxMR][]float32
	rows [maxRowsKH][]float32 // row path and narrow convolution: the input rows of an output row
	wrc  rowConv              // vector Winograd: its products on the row kernel
}

// convWorkFree holds the idle scratch of the convolutions.
var convWorkFree freeList[convWork]

// getConvWork returns scratch set up for geometry g and nw workers.
func getConvWork(op convOp, g convGeom, nw int) *convWork {
	cw := convWorkFree.get()
	cw.op, cw.g = op, g
	cw.kern, cw.store, cw.mr, cw.nr = gemmMicro, gemmStore, gemmMR, gemmNR
	cw.kk = g.kh * g.kw * g.in
	if len(cw.ws) < nw {
		cw.ws = append(cw.ws, make([]convWorker, nw-len(cw.ws))...)
	}
	return cw
}

// put drops the references to the caller's data and returns cw to the
// free list.
func (cw *convWork) put() {
	cw.x, cw.y, cw.k, cw.bias, cw.dy, cw.dx, cw.mask = nil, nil, nil, nil, nil, nil, nil
	cw.prep, cw.ub = nil, nil
	convWorkFree.put(cw)
}

func (cw *convWork) runRange(w, lo, hi int) {
	switch cw.op {
	case opForward:
		cw.forwardRange(w, lo, hi)
	case opInputGrad:
		cw.inputGradRange(w, lo, hi)
	case opKernelGrad:
		cw.kernelGradRange(w, lo, hi)
	case opWinograd:
		cw.winogradRange(w, lo, hi)
	case opNarrow:
		cw.narrowRange(w, lo, hi)
	case opRows:
		cw.rowsRange(w, lo, hi)
	case opWinogradVec:
		winogradVecRange(cw, w, lo, hi)
	}
}

// conv2DGemmTo computes y = conv(x, k) + b, followed by a ReLU when relu
// is set.
//
//	y: (n, oh, ow, out)   x: (n, h, w, in)   k: (kh, kw, in, out)   b: (out) or nil
func conv2DGemmTo(y, x, k, b []float32, relu bool, g convGeom) {
	conv2DForwardTo(y, x, k, b, relu, g, false, nil)
}

// conv2DForwardTo is conv2DGemmTo on the vector Winograd path too when
// winoVec is set (conv2DScoresTo), with prep, when not nil, keeping the
// packed kernel for the next call.
func conv2DForwardTo(y, x, k, b []float32, relu bool, g convGeom, winoVec bool, prep *kernelPrep) {
	nw := workers()
	cw := getConvWork(opForward, g, nw)
	defer cw.put()
	if prep != nil {
		prep.remake(k, g)
		cw.prep = prep
	}
	cw.winoVec = winoVec
	cw.forward(y, x, k, b, relu, nw)
	cw.winoVec = false
}

// forward runs the forward pass on cw.g with nw workers.
func (cw *convWork) forward(y, x, k, b []float32, relu bool, nw int) {
	g := cw.g
	if useWinograd(g) {
		cw.winogradTo(y, x, k, b, relu, nw)
		return
	}
	if cw.winoVec && useWinogradVec(g) && winogradVec(cw, y, x, k, b, relu, nw) {
		return
	}
	if rowsFit(g) {
		cw.rowsTo(y, x, nil, k, b, relu, nw)
		return
	}
	cw.y, cw.x, cw.k, cw.bias, cw.relu = y, x, k, b, relu
	cw.np = panels(g.out, cw.nr)
	cw.bp = grow(cw.bp, cw.np*cw.kk*cw.nr)
	packBTo(cw.bp, k, cw.kk, g.out, g.out, cw.nr)
	for w := range nw {
		ws := &cw.ws[w]
		ws.a = grow(ws.a, cw.forwardGroup()*cw.kk*cw.mr)
		ws.c = grow(ws.c, cw.mr*cw.nr)
		ws.zero = growZero(ws.zero, max(g.in, cw.nr))
	}
	blocks := (g.n*g.oh*g.ow + cw.mr - 1) / cw.mr
	cw.parallelRun.run(cw, blocks, max(1, blocks/(16*nw)), nw)
}

// forwardGroupFloats bounds the packed A blocks that forwardRange keeps at
// once (64 KiB, in L2), so that each panel of B (kk x nr, in L1) is reused
// by several blocks before the next panel is loaded.
const forwardGroupFloats = 1 << 14

// forwardRange computes the output rows of position blocks [lo, hi). Each
// tile goes through a small buffer, and the bias and ReLU are applied as it
// is written out, so y is written once.
func (cw *convWork) forwardRange(w, lo, hi int) {
	g, mr, nr, kk := cw.g, cw.mr, cw.nr, cw.kk
	ws := &cw.ws[w]
	tile := ws.c[:mr*nr]
	P := g.n * g.oh * g.ow
	group := cw.forwardGroup()
	for b0 := lo; b0 < hi; b0 += group {
		b1 := min(hi, b0+group)
		for blk := b0; blk < b1; blk++ {
			p0 := blk * mr
			cw.packCol(ws, ws.a[(blk-b0)*kk*mr:(blk-b0+1)*kk*mr], p0, min(mr, P-p0))
		}
		for p := range cw.np {
			j0 := p * nr
			cols := min(nr, g.out-j0)
			bp := cw.bp[p*kk*nr : (p+1)*kk*nr]
			bias := ws.zero[:cols]
			if cw.bias != nil {
				bias = cw.bias[j0 : j0+cols]
			}
			for blk := b0; blk < b1; blk++ {
				p0 := blk * mr
				if cw.store != nil && cols == nr && p0+mr <= P {
					cw.store(kk, ws.a[(blk-b0)*kk*mr:(blk-b0+1)*kk*mr], bp, cw.y[p0*g.out+j0:], g.out, bias, cw.relu)
					continue
				}
				// Edge tiles start from the bias too, as the store kernels
				// do, so that every position sums in the same order and
				// equal inputs give bit-equal outputs (max-pool ties
				// depend on it: uniform regions, the all-zero IG baseline).
				for r := range mr {
					copy(tile[r*nr:r*nr+cols], bias)
					clear(tile[r*nr+cols : (r+1)*nr])
				}
				cw.kern(kk, ws.a[(blk-b0)*kk*mr:(blk-b0+1)*kk*mr], bp, tile, nr)
				for r := range min(mr, P-p0) {
					tr := tile[r*nr:][:cols]
					yr := cw.y[(p0+r)*g.out+j0:][:len(tr)]
					if cw.relu {
						for j, v := range tr {
							yr[j] = relu(v)
						}
					} else {
						copy(yr, tr)
					}
				}
			}
		}
	}
}

// forwardGroup returns how many blocks forwardRange packs at once.
func (cw *convWork) forwardGroup() int {
	return max(1, forwardGroupFloats/(cw.kk*cw.mr))
}

// packCol packs rows p0..p0+rows-1 of the column matrix Col into a,
// zero-filling the block's remaining rows. Where every row's window row ky
// lies inside the image, its kw taps are kw*in contiguous values of x and
// are packed in one piece (for a 3-channel first layer, 9 values instead
// of three pieces of 3).
//
//	a: (kk, mr)   x: (n, h, w, in)
func (cw *convWork) packCol(ws *convWorker, a []float32, p0, rows int) {
	g, mr := cw.g, cw.mr
	var pos [maxMR][3]int // n, oy, ox
	for r := range rows {
		p := p0 + r
		pos[r] = [3]int{p / (g.oh * g.ow), p / g.ow % g.oh, p % g.ow}
	}
	src := ws.src[:mr]
	q := 0
	for ky := range g.kh {
		inside := rows == mr
		for r := range rows {
			iy, ix := pos[r][1]*g.sh+ky-g.ph, pos[r][2]*g.sw-g.pw
			inside = inside && iy >= 0 && iy < g.h && ix >= 0 && ix+g.kw <= g.w
		}
		if inside {
			for r := range mr {
				n, iy, ix := pos[r][0], pos[r][1]*g.sh+ky-g.ph, pos[r][2]*g.sw-g.pw
				src[r] = cw.x[((n*g.h+iy)*g.w+ix)*g.in:][:g.kw*g.in]
			}
			interleave(a[q*mr:(q+g.kw*g.in)*mr], src)
			q += g.kw * g.in
			continue
		}
		for kx := range g.kw {
			for r := range mr {
				src[r] = ws.zero[:g.in]
				if r >= rows {
					continue
				}
				n, iy, ix := pos[r][0], pos[r][1]*g.sh+ky-g.ph, pos[r][2]*g.sw+kx-g.pw
				if iy >= 0 && iy < g.h && ix >= 0 && ix < g.w {
					src[r] = cw.x[((n*g.h+iy)*g.w+ix)*g.in:][:g.in]
				}
			}
			interleave(a[q*mr:(q+g.in)*mr], src)
			q += g.in
		}
	}
}

// interleave writes dst[i*len(src) + r] = src[r][i]: it packs equal-length
// rows side by side, the layout of a packed A block.
func interleave(dst []float32, src [][]float32) {
	switch len(src) {
	case 3:
		s0, s1, s2 := src[0], src[1][:len(src[0])], src[2][:len(src[0])]
		dst = dst[:3*len(s0)]
		for i := range s0 {
			d := dst[3*i : 3*i+3 : 3*i+3]
			d[0], d[1], d[2] = s0[i], s1[i], s2[i]
		}
	case 2:
		s0, s1 := src[0], src[1][:len(src[0])]
		dst = dst[:2*len(s0)]
		for i := range s0 {
			d := dst[2*i : 2*i+2 : 2*i+2]
			d[0], d[1] = s0[i], s1[i]
		}
	case 4:
		s0, s1, s2, s3 := src[0], src[1][:len(src[0])], src[2][:len(src[0])], src[3][:len(src[0])]
		dst = dst[:4*len(s0)]
		for i := range s0 {
			d := dst[4*i : 4*i+4 : 4*i+4]
			d[0], d[1], d[2], d[3] = s0[i], s1[i], s2[i], s3[i]
		}
	case 6:
		n := len(src[0])
		s0, s1, s2, s3, s4, s5 := src[0], src[1][:n], src[2][:n], src[3][:n], src[4][:n], src[5][:n]
		dst = dst[:6*n]
		for i := range s0 {
			d := dst[6*i : 6*i+6 : 6*i+6]
			d[0], d[1], d[2], d[3], d[4], d[5] = s0[i], s1[i], s2[i], s3[i], s4[i], s5[i]
		}
	default:
		mr := len(src)
		for r, s := range src {
			for i, v := range s {
				dst[i*mr+r] = v
			}
		}
	}
}

// relu returns max(v, 0) without branches: the sign bit, spread over the
// word, masks v to +0. (Go's max on floats is a runtime call under wasm, and
// a branch mispredicts on half the values; a NaN with its sign bit set
// becomes 0.)
func relu(v float32) float32 {
	b := math.Float32bits(v)
	return math.Float32frombits(b &^ uint32(int32(b)>>31))
}

// growZero returns a zeroed slice of n elements, reusing s.
func growZero(s []float32, n int) []float32 {
	s = grow(s, n)
	clear(s)
	return s
}

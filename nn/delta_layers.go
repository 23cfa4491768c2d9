package nn

import "math"

// The incremental step of each layer kind Delta runs (delta.go). Each
// takes its input, the input positions changed since the last call (nil:
// all of them) and returns its output, the output positions whose values
// changed (nil: all) and the fraction of output positions recomputed.

// deltaBlock is the side of the square blocks of output positions a
// Conv2D off the row path recomputes (convRuns takes the row path's).
// Blocks start at even output coordinates, so with
// Winograd's F(2x2, 3x3) (conv_kernel_winograd.go) a block is exactly one
// tile of the full pass and gets the same bits; the im2col kernels compute
// every position on its own, so any block gives the same bits there.
const deltaBlock = 2

// deltaChunk is the number of blocks gathered for one kernel call: it
// bounds the scratch (1024 blocks of 4x4 windows of 64 channels: 4 MiB)
// while keeping the per-call cost of packing the kernel small.
const deltaChunk = 1024

// deltaFull is the fraction of a Conv2D's blocks (positions, on the row
// path) at or above which it is recomputed whole (no gathering; its whole
// output counts as changed).
const deltaFull = 0.9

// conv recomputes the output positions of c whose windows hold a changed
// input. On the row path convRuns does; otherwise it gathers the input
// window of each block holding one (zero outside the image, as the
// padding) into a small batch, runs the layer's kernel on it with valid
// padding, and stores the outputs back, noting which changed.
func (d *Delta) conv(i int, c *Conv2D, x *Tensor, chg []bool) (*Tensor, []bool, float64) {
	g := c.geometry(x)
	y := d.outs[i]
	var s, t []float32 // the batch-norm applied in place, if any
	if i+1 < d.pre && d.fused[i+1] {
		s, t = d.scaleShift(i + 1)
	}
	if chg == nil {
		d.convFull(c, y.Data, x.Data, s, t, g)
		return y, nil, 1
	}
	out := d.chg[i]
	clear(out)
	dirty := d.dirty[:g.n*g.oh*g.ow]
	if deltaWindowsTo(dirty, d.tmp, chg, g.n, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw) == 0 {
		return y, out, 0
	}
	if forwardRows(g) {
		return d.convRuns(c, y, x, dirty, out, s, t, g)
	}
	const B = deltaBlock
	by, bx := (g.oh+B-1)/B, (g.ow+B-1)/B
	d.blk = d.blk[:0]
	for n := range g.n {
		for j := range by {
			for k := range bx {
				if deltaBlockDirty(dirty[n*g.oh*g.ow:], g.oh, g.ow, j*B, k*B) {
					d.blk = append(d.blk, int32((n*by+j)*bx+k))
				}
			}
		}
	}
	if float64(len(d.blk)) >= deltaFull*float64(g.n*by*bx) {
		d.convFull(c, y.Data, x.Data, s, t, g)
		return y, nil, 1
	}
	ih, iw := (B-1)*g.sh+g.kh, (B-1)*g.sw+g.kw
	gc := convGeom{h: ih, w: iw, in: g.in, oh: B, ow: B, out: g.out, kh: g.kh, kw: g.kw, sh: g.sh, sw: g.sw}
	for start := 0; start < len(d.blk); start += deltaChunk {
		blks := d.blk[start:min(start+deltaChunk, len(d.blk))]
		gc.n = len(blks)
		// Sized for a whole chunk at once, so the scratch grows once
		// per geometry, not with every larger change.
		d.xs = grow(d.xs, deltaChunk*ih*iw*g.in)[:gc.n*ih*iw*g.in]
		d.ys = grow(d.ys, deltaChunk*B*B*g.out)[:gc.n*B*B*g.out]
		for j, b := range blks {
			n, oy, ox := int(b)/(by*bx), int(b)/bx%by*B, int(b)%bx*B
			deltaGather(d.xs[j*ih*iw*g.in:(j+1)*ih*iw*g.in], x.Data, n, oy*g.sh-g.ph, ox*g.sw-g.pw, ih, iw, g)
		}
		deltaConvTo(c, d.ys, d.xs, gc)
		if s != nil {
			scaleShiftTo(d.ys, d.ys, s, t)
		}
		for j, b := range blks {
			n, oy, ox := int(b)/(by*bx), int(b)/bx%by*B, int(b)%bx*B
			for r := range min(B, g.oh-oy) {
				for s := range min(B, g.ow-ox) {
					p := (n*g.oh+oy+r)*g.ow + ox + s
					src := d.ys[((j*B+r)*B+s)*g.out:][:g.out]
					if deltaStore(y.Data[p*g.out:(p+1)*g.out], src) {
						out[p] = true
					}
				}
			}
		}
	}
	return y, out, float64(len(d.blk)*B*B) / float64(g.n*by*bx*B*B)
}

// convRuns recomputes the output positions of c marked in dirty on the
// row path, the one c's full pass takes (forwardRows): each run of dirty
// positions of an output row is one call of the row kernel, on a gathered
// copy of the run's windows. The row kernel sums each output's products
// in one order wherever it stands, so these are the full pass's bits.
// Rows of positions, not the 2x2 blocks of Winograd's tiles: the row
// kernel's tile is 4 positions, and a 2-position row of a block left
// half of it idle. It stores the outputs, notes in out those that changed
// and returns the fraction of positions computed.
func (d *Delta) convRuns(c *Conv2D, y, x *Tensor, dirty, out []bool, s, t []float32, g convGeom) (*Tensor, []bool, float64) {
	var count int
	d.runs, count = deltaRunsOf(d.runs[:0], dirty, g.n*g.oh, g.ow)
	if float64(count) >= deltaFull*float64(g.n*g.oh*g.ow) {
		d.convFull(c, y.Data, x.Data, s, t, g)
		return y, nil, 1
	}
	nw := workers()
	cw := getConvWork(opForward, g, nw)
	defer cw.put()
	cw.rowsPrep(c.Kernel.Value, biasValue(c.Bias), c.Act == ReLU)
	rt := &d.rt
	rt.cw, rt.runs, rt.x, rt.y, rt.out, rt.s, rt.t = cw, d.runs, x.Data, y.Data, out, s, t
	if len(rt.ws) < nw {
		rt.ws = append(rt.ws, make([]deltaRunScratch, nw-len(rt.ws))...)
	}
	rt.run.run(rt, len(d.runs), max(1, len(d.runs)/(16*nw)), nw)
	rt.cw, rt.x, rt.y, rt.out = nil, nil, nil, nil
	return y, out, float64(count) / float64(g.n*g.oh*g.ow)
}

// deltaRun is a run of output positions [x0, x1) of output row row (over
// the batch) computed in one call.
type deltaRun struct{ row, x0, x1 int32 }

// deltaRunsOf appends to runs the runs of consecutive positions marked
// in dirty, rows of w positions each, and returns them with the number of
// positions marked. (Runs a few positions apart taken as one, to save
// kernel calls, were no faster.)
func deltaRunsOf(runs []deltaRun, dirty []bool, rows, w int) ([]deltaRun, int) {
	count := 0
	for row := range rows {
		dr := dirty[row*w : (row+1)*w]
		for x0 := 0; x0 < w; x0++ {
			if !dr[x0] {
				continue
			}
			x1 := x0 + 1
			for x1 < w && dr[x1] {
				x1++
			}
			runs = append(runs, deltaRun{row: int32(row), x0: int32(x0), x1: int32(x1)})
			count += x1 - x0
			x0 = x1
		}
	}
	return runs, count
}

// deltaRuns is convRuns's work, spread over the workers by run.
type deltaRuns struct {
	run        parallelRun
	cw         *convWork // rowk and rc set up by rowsPrep
	runs       []deltaRun
	x, y, s, t []float32
	out        []bool
	ws         []deltaRunScratch
}

// deltaRunScratch is one worker's gathered windows, their rows and their
// outputs (the rows and the rowConv in the scratch: locals would escape,
// as cw.rowk is a func value).
type deltaRunScratch struct {
	xs, ys []float32
	rows   [maxRowsKH][]float32
	rc     rowConv // cw.rc with each run's npos
	flags  []int32 // deltaStoreRun's
}

func (rt *deltaRuns) runRange(w, lo, hi int) {
	cw := rt.cw
	g := cw.g
	ws := &rt.ws[w]
	ws.rc = cw.rc
	rc, rows := &ws.rc, &ws.rows
	for _, r := range rt.runs[lo:hi] {
		n, oy, x0, npos := int(r.row)/g.oh, int(r.row)%g.oh, int(r.x0), int(r.x1-r.x0)
		iw := (npos-1)*g.sw + g.kw
		ws.xs = grow(ws.xs, g.kh*iw*g.in)
		ws.ys = grow(ws.ys, npos*g.out)
		deltaGather(ws.xs[:g.kh*iw*g.in], rt.x, n, oy*g.sh-g.ph, x0*g.sw-g.pw, g.kh, iw, g)
		for ky := range g.kh {
			rows[ky] = ws.xs[ky*iw*g.in : (ky+1)*iw*g.in]
		}
		ys := ws.ys[:npos*g.out]
		rc.npos = npos
		cw.rowk(rc, ys, rows)
		if rt.s != nil {
			scaleShiftTo(ys, ys, rt.s, rt.t)
		}
		p0 := int(r.row)*g.ow + x0
		deltaStoreRun(rt.y[p0*g.out:(p0+npos)*g.out], ys, rt.out[p0:p0+npos], &ws.flags, g.out)
	}
}

// deltaBlockDirty reports whether any of the B x B positions from (oy, ox) of
// the oh x ow mask m is set.
func deltaBlockDirty(m []bool, oh, ow, oy, ox int) bool {
	for r := oy; r < min(oy+deltaBlock, oh); r++ {
		for _, v := range m[r*ow+ox : r*ow+min(ox+deltaBlock, ow)] {
			if v {
				return true
			}
		}
	}
	return false
}

// deltaGather copies the ih x iw window of sample n of x whose top-left
// input position is (iy0, ix0) into dst, zero outside the image.
//
//	dst: (ih, iw, in)   x: (n, h, w, in)
func deltaGather(dst, x []float32, n, iy0, ix0, ih, iw int, g convGeom) {
	C := g.in
	lo, hi := max(ix0, 0), min(ix0+iw, g.w)
	hi = max(hi, lo)
	for r := range ih {
		row := dst[r*iw*C : (r+1)*iw*C]
		iy := iy0 + r
		if iy < 0 || iy >= g.h {
			clear(row)
			continue
		}
		clear(row[:(lo-ix0)*C])
		copy(row[(lo-ix0)*C:], x[((n*g.h+iy)*g.w+lo)*C:((n*g.h+iy)*g.w+hi)*C])
		clear(row[(hi-ix0)*C:])
	}
}

// deltaConvTo runs c's forward kernel, as Conv2D.Forward does, for
// geometry g.
//
//	y: (n, oh, ow, out)   x: (n, h, w, in)
func deltaConvTo(c *Conv2D, y, x []float32, g convGeom) {
	bias := biasValue(c.Bias)
	if c.Act == ReLU {
		conv2DReLUTo(y, x, c.Kernel.Value, bias, g)
		return
	}
	conv2DTo(y, x, c.Kernel.Value, bias, g)
}

// convFull computes the whole output of c, followed by the batch-norm
// scale and shift s, t when s is not nil.
func (d *Delta) convFull(c *Conv2D, y, x, s, t []float32, g convGeom) {
	deltaConvTo(c, y, x, g)
	if s != nil {
		scaleShiftTo(y, y, s, t)
	}
}

// scaleShift returns BatchNorm i's inference scale and shift (as
// BatchNorm.Forward computes them).
func (d *Delta) scaleShift(i int) (s, t []float32) {
	b := d.m.Layers[i].(*BatchNorm)
	s, t = d.st[i][:b.C], d.st[i][b.C:]
	b.inferenceScaleShift(s, t)
	return s, t
}

// batchNorm recomputes the changed positions with the inference scale
// and shift.
func (d *Delta) batchNorm(i int, b *BatchNorm, x *Tensor, chg []bool) (*Tensor, []bool, float64) {
	C := b.C
	s, t := d.scaleShift(i)
	y := d.outs[i]
	if chg == nil {
		scaleShiftTo(y.Data, x.Data, s, t)
		return y, nil, 1
	}
	out := d.chg[i]
	clear(out)
	d.row = grow(d.row, C)
	count := 0
	for p, v := range chg {
		if v {
			scaleShiftTo(d.row, x.Data[p*C:(p+1)*C], s, t)
			out[p] = deltaStore(y.Data[p*C:(p+1)*C], d.row)
			count++
		}
	}
	return y, out, float64(count) / float64(len(chg))
}

// relu recomputes the changed positions of a ReLU layer (the expression
// of ActivationLayer.Forward).
func (d *Delta) relu(i int, x *Tensor, chg []bool) (*Tensor, []bool, float64) {
	y := d.outs[i]
	if chg == nil {
		for j, v := range x.Data {
			y.Data[j] = relu(v)
		}
		return y, nil, 1
	}
	C := x.Shape[3]
	out := d.chg[i]
	clear(out)
	d.row = grow(d.row, C)
	count := 0
	for p, v := range chg {
		if v {
			for c, u := range x.Data[p*C : (p+1)*C] {
				d.row[c] = relu(u)
			}
			out[p] = deltaStore(y.Data[p*C:(p+1)*C], d.row)
			count++
		}
	}
	return y, out, float64(count) / float64(len(chg))
}

// maxPool pools again the windows that hold a changed input.
func (d *Delta) maxPool(i int, mp *MaxPool2D, x *Tensor, chg []bool) (*Tensor, []bool, float64) {
	N, H, W, C := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	oh, ph := window(H, mp.PH, mp.SH, mp.Pad)
	ow, pw := window(W, mp.PW, mp.SW, mp.Pad)
	y := d.outs[i]
	pool2x2 := mp.pools2x2(x.Shape)
	if chg == nil {
		if pool2x2 {
			for r := range N * oh {
				d.pool2x2Run(y.Data[r*ow*C:(r+1)*ow*C], x.Data, deltaRun{row: int32(r), x1: int32(ow)}, H, W, C)
			}
			return y, nil, 1
		}
		for p := range N * oh * ow {
			deltaPoolTo(mp, y.Data[p*C:(p+1)*C], x.Data, p/(oh*ow), p/ow%oh, p%ow, H, W, ph, pw)
		}
		return y, nil, 1
	}
	out := d.chg[i]
	clear(out)
	dirty := d.dirty[:N*oh*ow]
	count := deltaWindowsTo(dirty, d.tmp, chg, N, H, W, oh, ow, mp.PH, mp.PW, mp.SH, mp.SW, ph, pw)
	if count == 0 {
		return y, out, 0
	}
	if pool2x2 {
		d.runs, _ = deltaRunsOf(d.runs[:0], dirty, N*oh, ow)
		for _, r := range d.runs {
			p0, npos := int(r.row)*ow+int(r.x0), int(r.x1-r.x0)
			d.row = grow(d.row, npos*C)
			d.pool2x2Run(d.row[:npos*C], x.Data, r, H, W, C)
			deltaStoreRun(y.Data[p0*C:(p0+npos)*C], d.row[:npos*C], out[p0:p0+npos], &d.flags, C)
		}
		return y, out, float64(count) / float64(len(dirty))
	}
	d.row = grow(d.row, C)
	for p, v := range dirty {
		if v {
			deltaPoolTo(mp, d.row, x.Data, p/(oh*ow), p/ow%oh, p%ow, H, W, ph, pw)
			out[p] = deltaStore(y.Data[p*C:(p+1)*C], d.row)
		}
	}
	return y, out, float64(count) / float64(len(dirty))
}

// pool2x2Run pools the run r of output positions of a 2x2, stride-2 pool
// without padding into dst, with the row kernel MaxPool2D.Forward uses
// (pool2x2Row): the run as a one-row image of its windows' columns.
//
//	dst: (r.x1-r.x0, c)   x: (n, h, w, c)
func (d *Delta) pool2x2Run(dst, x []float32, r deltaRun, H, W, C int) {
	oh := H / 2
	n, oy, npos := int(r.row)/oh, int(r.row)%oh, int(r.x1-r.x0)
	d.arg = grow(d.arg, npos*C)
	pool2x2Row(C)(dst, d.arg[:npos*C], x[((n*H+2*oy)*W+2*int(r.x0))*C:], 0, 0, 2, W, C, 1, npos)
}

// deltaPoolTo writes the maximum of output position (n, oy, ox)'s window into
// dst by MaxPool2D's rule: the first element in row-major order, replaced
// only by a strictly greater one (−Inf for a window wholly outside).
//
//	dst: (c)   x: (n, h, w, c)
func deltaPoolTo(m *MaxPool2D, dst, x []float32, n, oy, ox, H, W, ph, pw int) {
	C := len(dst)
	first := true
	for di := range m.PH {
		h := oy*m.SH + di - ph
		if h < 0 || h >= H {
			continue
		}
		for dj := range m.PW {
			w := ox*m.SW + dj - pw
			if w < 0 || w >= W {
				continue
			}
			src := x[((n*H+h)*W+w)*C:][:C]
			if first {
				copy(dst, src)
				first = false
				continue
			}
			for c, v := range src {
				if v > dst[c] {
					dst[c] = v
				}
			}
		}
	}
	if first {
		for c := range dst {
			dst[c] = float32(math.Inf(-1))
		}
	}
}

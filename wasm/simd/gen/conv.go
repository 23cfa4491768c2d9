package main

import "fmt"

// convRowsKernel writes conv_rows_MRxNR, one output row of a convolution
// computed straight from the input rows, with no im2col copy (nn's
// rowKernel, conv_kernel_rows.go):
//
//	conv_rows(rows, kh, seg, step, npos, b, panels, cols, bias, relu, y, ystep)
//
//	rows:   kh addresses (i32 each): input rows ky = 0..kh-1, padded so that
//	        output position p reads floats [p*step, p*step + seg) of each
//	b:      the kernel in panels of NR columns, (panels, kh*seg, NR), zero
//	        past the last column
//	bias:   (panels*NR), zero past the last column
//	y:      output position p, panel q, column j at y + p*ystep + 4*(q*NR + j)
//	        (bytes); the last panel writes only its first cols columns
//
//	y[p, q*NR + j] = relu?(bias[q*NR + j] + Σ_ky Σ_{k<seg} rows[ky][p*step/4 + k] · b[q, ky*seg + k, j])
//
// summed as (Σ_ky Σ_k ...) + bias.
//
// step and ystep are in bytes. MR positions run at once on an MR x NR
// register tile; the last npos mod MR positions on a smaller tile with the
// same loop, so every output sums its products in the same order (ky,
// then k, from +0, then the bias added) whatever tile computes it: equal
// windows give equal outputs.
func convRowsKernel(m *module, mr, nr int) {
	f := m.newFunc(fmt.Sprintf("conv_rows_%dx%d", mr, nr), "one output row of a convolution from kh padded input rows (nn: rowKernel)")
	rows, kh, seg, step, npos := f.param("rows", i32), f.param("kh", i32), f.param("seg", i32), f.param("step", i32), f.param("npos", i32)
	b, panels, cols, bias, relu := f.param("b", i32), f.param("panels", i32), f.param("cols", i32), f.param("bias", i32), f.param("relu", i32)
	y, ystep := f.param("y", i32), f.param("ystep", i32)
	c := &convRows{f: f, mr: mr, nr: nr, rows: rows, kh: kh, seg: seg, step: step, relu: relu, ystep: ystep}
	c.t = newTile(f, mr, nr/4)
	c.q = f.local("q", i32)
	c.bq = f.local("bq", i32)
	c.yq = f.local("yq", i32)
	c.biasq = f.local("biasq", i32)
	c.ncols = f.local("ncols", i32)
	c.pos = f.local("pos", i32)
	c.ky = f.local("ky", i32)
	c.ap = f.local("ap", i32)
	c.bk = f.local("bk", i32)
	c.end = f.local("end", i32)
	c.panelBytes = f.local("panel_bytes", i32)
	for r := 1; r < mr; r++ {
		c.rs = append(c.rs, f.local(fmt.Sprintf("step%d", r), i32))
	}
	// step_r = r*step, the offset of tile row r in an input row.
	for r := 1; r < mr; r++ {
		f.get(step)
		f.i32Const(int32(r))
		f.i32Mul()
		f.set(c.rs[r-1])
	}
	// panel_bytes = kh*seg*nr*4, one panel of b.
	f.get(kh)
	f.get(seg)
	f.i32Mul()
	f.i32Const(int32(4 * nr))
	f.i32Mul()
	f.set(c.panelBytes)
	// for q := 0; q < panels; q++
	f.i32Const(0)
	f.set(c.q)
	f.get(b)
	f.set(c.bq)
	f.get(y)
	f.set(c.yq)
	f.get(bias)
	f.set(c.biasq)
	f.loop("panels", func(pl label) {
		// ncols = q == panels-1 ? cols : nr
		f.i32Const(int32(nr))
		f.set(c.ncols)
		f.get(c.q)
		f.get(panels)
		f.i32Const(1)
		f.i32Sub()
		f.i32Eq()
		f.ifThen(func() {
			f.get(cols)
			f.set(c.ncols)
		})
		c.positions(npos)
		f.get(c.bq)
		f.get(c.panelBytes)
		f.i32Add()
		f.set(c.bq)
		f.get(c.yq)
		f.i32Const(int32(4 * nr))
		f.i32Add()
		f.set(c.yq)
		f.get(c.biasq)
		f.i32Const(int32(4 * nr))
		f.i32Add()
		f.set(c.biasq)
		f.get(c.q)
		f.i32Const(1)
		f.i32Add()
		f.tee(c.q)
		f.get(panels)
		f.i32LtS()
		f.brIf(pl)
	})
}

// convRows holds the locals of a conv_rows kernel being written.
type convRows struct {
	f                                *function
	mr, nr                           int
	t                                *tile
	rows, kh, seg, step, relu, ystep local
	q, bq, yq, biasq, ncols, pos     local
	ky, ap, bk, end, panelBytes      local
	rs                               []local // r*step for r = 1..mr-1
}

// positions runs the tiles of one panel over all npos positions: full
// MR-row tiles, then one tile of the npos mod MR rows left.
func (c *convRows) positions(npos local) {
	tilePositions(c.f, "full", c.pos, npos, c.mr, c.tile)
}

// tilePositions emits the loop of a row kernel over output positions
// pos = 0, mr, 2mr, ... while a whole tile of mr fits in npos, then one
// tile of the npos mod mr positions left; tile(rows) emits a tile of rows
// positions from pos.
func tilePositions(f *function, name string, pos, npos local, mr int, tile func(rows int)) {
	f.i32Const(0)
	f.set(pos)
	f.block(name+"_done", func(done label) {
		f.loop(name, func(full label) {
			// while pos + mr <= npos
			f.get(pos)
			f.i32Const(int32(mr))
			f.i32Add()
			f.get(npos)
			f.i32GtS()
			f.brIf(done)
			tile(mr)
			f.get(pos)
			f.i32Const(int32(mr))
			f.i32Add()
			f.set(pos)
			f.br(full)
		})
	})
	// The rest: npos - pos in 0..mr-1.
	for r := 1; r < mr; r++ {
		f.get(npos)
		f.get(pos)
		f.i32Sub()
		f.i32Const(int32(r))
		f.i32Eq()
		f.ifThen(func() { tile(r) })
	}
}

// outAddr pushes the address of output position pos+r: base +
// (pos+r)*ystep.
func outAddr(f *function, base, pos local, r int, ystep local) {
	f.get(pos)
	if r > 0 {
		f.i32Const(int32(r))
		f.i32Add()
	}
	f.get(ystep)
	f.i32Mul()
	f.get(base)
	f.i32Add()
}

// rowLoop holds the locals of a row kernel's loops over the kernel rows
// and a window's values (rowLoops).
type rowLoop struct {
	rows, kh, seg, step, pos local // the kernel's parameters, and the tile's first position
	ky, ap, end              local // the loops' own
}

// rowLoops emits: for ky := 0; ky < kh; ky++ { ap = rows[ky] + pos*step;
// end = ap + 4*seg; do { body(); ap += kstep } while ap < end }: the
// window of position pos in each input row, kstep bytes at a time.
func rowLoops(f *function, name string, l rowLoop, kstep int32, body func()) {
	f.i32Const(0)
	f.set(l.ky)
	f.loop("ky_"+name, func(kyl label) {
		// ap = rows[ky] + pos*step; end = ap + 4*seg
		f.get(l.rows)
		f.get(l.ky)
		f.i32Const(2)
		f.i32Shl()
		f.i32Add()
		f.i32Load(0)
		f.get(l.pos)
		f.get(l.step)
		f.i32Mul()
		f.i32Add()
		f.tee(l.ap)
		f.get(l.seg)
		f.i32Const(2)
		f.i32Shl()
		f.i32Add()
		f.set(l.end)
		f.loop("k_"+name, func(kl label) {
			body()
			f.get(l.ap)
			f.i32Const(kstep)
			f.i32Add()
			f.tee(l.ap)
			f.get(l.end)
			f.i32LtU()
			f.brIf(kl)
		})
		f.get(l.ky)
		f.i32Const(1)
		f.i32Add()
		f.tee(l.ky)
		f.get(l.kh)
		f.i32LtS()
		f.brIf(kyl)
	})
}

// tile computes positions pos..pos+rows-1 of panel q on the first rows
// rows of the register tile.
func (c *convRows) tile(rows int) {
	f, t := c.f, c.t
	t.zero(rows)
	f.get(c.bq)
	f.set(c.bk)
	l := rowLoop{rows: c.rows, kh: c.kh, seg: c.seg, step: c.step, pos: c.pos, ky: c.ky, ap: c.ap, end: c.end}
	rowLoops(f, fmt.Sprint(rows), l, 4, func() {
		t.loadB(c.bk, 0)
		for r := range rows {
			t.madd(r, func() {
				f.get(c.ap)
				if r > 0 {
					f.get(c.rs[r-1])
					f.i32Add()
				}
			}, 0)
		}
		f.get(c.bk)
		f.i32Const(int32(4 * c.nr))
		f.i32Add()
		f.set(c.bk)
	})
	for r := range rows {
		t.addFrom(r, func() { f.get(c.biasq) })
	}
	t.reluRows(c.relu, rows)
	for r := range rows {
		c.storeRow(r)
	}
}

// storeRow writes tile row r at y + (pos+r)*ystep + q*NR*4: whole
// vectors for a full panel, lane by lane for the last one.
func (c *convRows) storeRow(r int) {
	f, t := c.f, c.t
	addr := func() { outAddr(f, c.yq, c.pos, r, c.ystep) }
	f.get(c.ncols)
	f.i32Const(int32(c.nr))
	f.i32Eq()
	f.ifElse(func() {
		t.store(r, addr)
	}, func() {
		// Lane by lane: lane l of vector v when 4v + l < ncols.
		for v := range t.nv {
			for l := range 4 {
				f.get(c.ncols)
				f.i32Const(int32(4*v + l))
				f.i32GtS()
				f.ifThen(func() {
					addr()
					f.get(t.acc[r][v])
					f.v128Store32Lane(uint32(16*v+4*l), byte(l))
				})
			}
		}
	})
}

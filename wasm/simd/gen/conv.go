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
	f := c.f
	f.i32Const(0)
	f.set(c.pos)
	f.block("full_done", func(done label) {
		f.loop("full", func(full label) {
			// while pos + mr <= npos
			f.get(c.pos)
			f.i32Const(int32(c.mr))
			f.i32Add()
			f.get(npos)
			f.i32GtS()
			f.brIf(done)
			c.tile(c.mr)
			f.get(c.pos)
			f.i32Const(int32(c.mr))
			f.i32Add()
			f.set(c.pos)
			f.br(full)
		})
	})
	// The rest: npos - pos in 0..mr-1.
	for r := 1; r < c.mr; r++ {
		f.get(npos)
		f.get(c.pos)
		f.i32Sub()
		f.i32Const(int32(r))
		f.i32Eq()
		f.ifThen(func() { c.tile(r) })
	}
}

// tile computes positions pos..pos+rows-1 of panel q on the first rows
// rows of the register tile.
func (c *convRows) tile(rows int) {
	f, t := c.f, c.t
	t.zero(rows)
	// for ky := 0; ky < kh; ky++
	f.i32Const(0)
	f.set(c.ky)
	f.get(c.bq)
	f.set(c.bk)
	f.loop("ky_"+fmt.Sprint(rows), func(kyl label) {
		// ap = rows[ky] + pos*step; end = ap + 4*seg
		f.get(c.rows)
		f.get(c.ky)
		f.i32Const(2)
		f.i32Shl()
		f.i32Add()
		f.i32Load(0)
		f.get(c.pos)
		f.get(c.step)
		f.i32Mul()
		f.i32Add()
		f.tee(c.ap)
		f.get(c.seg)
		f.i32Const(2)
		f.i32Shl()
		f.i32Add()
		f.set(c.end)
		f.loop("k_"+fmt.Sprint(rows), func(kl label) {
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
			f.get(c.ap)
			f.i32Const(4)
			f.i32Add()
			f.tee(c.ap)
			f.get(c.end)
			f.i32LtU()
			f.brIf(kl)
		})
		f.get(c.ky)
		f.i32Const(1)
		f.i32Add()
		f.tee(c.ky)
		f.get(c.kh)
		f.i32LtS()
		f.brIf(kyl)
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
	addr := func() {
		f.get(c.pos)
		if r > 0 {
			f.i32Const(int32(r))
			f.i32Add()
		}
		f.get(c.ystep)
		f.i32Mul()
		f.get(c.yq)
		f.i32Add()
	}
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

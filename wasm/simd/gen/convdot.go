package main

import "fmt"

// dotMR is the number of output positions a conv_rows_dot tile computes at
// once. With three output channels, two positions take 6 accumulators, 3
// kernel vectors, 2 input vectors and a product: 12 of the 15 vector
// registers V8 allocates on x64. Three positions need 16 once V8's
// scheduler hoists the loop's loads, and V8 kept one accumulator on the
// stack: its add then waited on a store and a load every step, and a row
// of MAVIS's input gradient took 34.8 us against 15.5 us with two (node
// 20, a throwaway bench calling the kernel on one 224-position row).
const dotMR = 2

// convRowsDotKernel writes conv_rows_dot, one output row of a convolution
// with one to three output channels (nn's row path with gemmRowsDot,
// conv_kernel_rows.go): the input gradient of an RGB image's first layer.
// The conv_rows kernels put the output channels along a vector's lanes,
// so with three of them a quarter of every product is padding, and each
// input value is broadcast to all four lanes. Here each output is a dot
// product along the kernel row instead: a vector holds four consecutive
// input values, every lane does useful work, and no value is broadcast.
//
//	conv_rows_dot(rows, kh, seg, step, npos, b, panels, bias, relu, y, ystep)
//
//	rows:   kh addresses (i32 each): input rows ky = 0..kh-1, padded so that
//	        output position p reads floats [p*step, p*step + seg) of each;
//	        seg a multiple of 4
//	b:      the kernel's K = kh*seg rows, four at a time, the panels
//	        (output channels) interleaved: b[(c*panels + q)*4 + l] is
//	        row 4c+l of output channel q, panels 1 to 3
//	bias:   (panels)
//	y:      output position p, channel q at y + p*ystep + 4q (bytes)
//
// Each output sums its products as nn's dot does: lane l of an
// accumulator adds the products of the rows 4c+l in order (ky, then k,
// from +0), then y = ((s0 + s1) + (s2 + s3)) + bias, then the ReLU. step
// and ystep are in bytes. The last npos mod dotMR positions run on a
// smaller tile with the same loop, so equal windows give equal outputs.
func convRowsDotKernel(m *module) {
	f := m.newFunc("conv_rows_dot", "one output row of a convolution with 1-3 output channels, a dot product per output (nn: gemmRowsDot)")
	c := &convDot{f: f}
	c.rows, c.kh, c.seg, c.step, c.npos = f.param("rows", i32), f.param("kh", i32), f.param("seg", i32), f.param("step", i32), f.param("npos", i32)
	c.b, c.panels, c.bias, c.relu = f.param("b", i32), f.param("panels", i32), f.param("bias", i32), f.param("relu", i32)
	c.y, c.ystep = f.param("y", i32), f.param("ystep", i32)
	for r := range dotMR {
		var row []local
		for q := range 3 {
			row = append(row, f.local(fmt.Sprintf("c%d%d", r, q), v128))
		}
		c.acc = append(c.acc, row)
	}
	for q := range 3 {
		c.bv = append(c.bv, f.local(fmt.Sprintf("b%d", q), v128))
	}
	c.av = f.local("a", v128)
	c.pos, c.ky, c.ap, c.bk, c.end, c.bstep = f.local("pos", i32), f.local("ky", i32), f.local("ap", i32), f.local("bk", i32), f.local("end", i32), f.local("bstep", i32)
	c.s = f.local("s", f32)
	for r := 1; r < dotMR; r++ {
		c.rs = append(c.rs, f.local(fmt.Sprintf("step%d", r), i32))
		f.get(c.step)
		f.i32Const(int32(r))
		f.i32Mul()
		f.set(c.rs[r-1])
	}
	// bstep = panels*16: from one four-row group of b to the next.
	f.get(c.panels)
	f.i32Const(4)
	f.i32Shl()
	f.set(c.bstep)
	// One body per panel count, so that each tile's accumulators are
	// fixed locals.
	for np := 3; np >= 1; np-- {
		f.get(c.panels)
		f.i32Const(int32(np))
		f.i32Eq()
		f.ifThen(func() {
			c.positions(np)
			f.ret()
		})
	}
}

// convDot holds the locals of conv_rows_dot.
type convDot struct {
	f                               *function
	rows, kh, seg, step, npos       local
	b, panels, bias, relu, y, ystep local
	acc                             [][]local // acc[r][q]
	bv                              []local   // the current four rows of each panel
	av                              local     // four input values
	pos, ky, ap, bk, end, bstep     local
	s                               local   // an output being finished
	rs                              []local // r*step for r = 1..dotMR-1
}

// positions runs the tiles of np panels over all npos positions.
func (c *convDot) positions(np int) {
	tilePositions(c.f, fmt.Sprintf("full%d", np), c.pos, c.npos, dotMR, func(rows int) { c.tile(rows, np) })
}

// tile computes positions pos..pos+rows-1 of np panels.
func (c *convDot) tile(rows, np int) {
	f := c.f
	for r := range rows {
		for q := range np {
			f.v128Zero()
			f.set(c.acc[r][q])
		}
	}
	f.get(c.b)
	f.set(c.bk)
	l := rowLoop{rows: c.rows, kh: c.kh, seg: c.seg, step: c.step, pos: c.pos, ky: c.ky, ap: c.ap, end: c.end}
	rowLoops(f, fmt.Sprintf("%dx%d", rows, np), l, 16, func() {
		for q := range np {
			f.get(c.bk)
			f.v128Load(uint32(16 * q))
			f.set(c.bv[q])
		}
		for r := range rows {
			f.get(c.ap)
			if r > 0 {
				f.get(c.rs[r-1])
				f.i32Add()
			}
			f.v128Load(0)
			f.set(c.av)
			for q := range np {
				maddVec(f, c.acc[r][q], c.av, c.bv[q])
			}
		}
		advanceBy(f, c.bk, c.bstep)
	})
	for r := range rows {
		for q := range np {
			c.finish(r, q)
		}
	}
}

// finish stores output (pos+r, q): ((s0 + s1) + (s2 + s3)) + bias[q] of
// its accumulator's lanes, then the ReLU on the bits when relu is set
// (v &^ (v >> 31), as nn.relu).
func (c *convDot) finish(r, q int) {
	f, acc := c.f, c.acc[r][q]
	sumLanes(f, acc, func() {
		f.get(acc)
		f.f32x4ExtractLane(0)
	})
	f.get(c.bias)
	f.f32Load(uint32(4 * q))
	f.f32Add()
	f.set(c.s)
	f.get(c.relu)
	f.ifThen(func() {
		f.get(c.s)
		f.i32ReinterpretF32()
		f.get(c.s)
		f.i32ReinterpretF32()
		f.i32Const(31)
		f.i32ShrS()
		f.i32Const(-1)
		f.i32Xor()
		f.i32And()
		f.f32ReinterpretI32()
		f.set(c.s)
	})
	outAddr(f, c.y, c.pos, r, c.ystep)
	f.get(c.s)
	f.f32Store(uint32(4 * q))
}

// advanceBy adds the local by to l.
func advanceBy(f *function, l, by local) {
	f.get(l)
	f.get(by)
	f.i32Add()
	f.set(l)
}

package main

import "fmt"

// The GEMM micro-kernels: the same contract as nn's microKernel (gemm.go),
//
//	a: (kc, mr) packed   b: (kc, nr) packed   c: (mr rows of stride ldc, nr)
//	c[r*ldc + j] += Σ_k a[k*mr + r] b[k*nr + j]
//
// on an mr x nr register tile of f32x4 accumulators: for each k, the nr/4
// vectors of B's row are loaded once and each A value is broadcast
// (v128.load32_splat) and multiplied into its row's vectors. Every
// element sums its products in k order from +0, then adds c (or the bias
// in the storing variant) to the sum, with a rounding after each multiply
// and each add (no fused multiply-add): the same result on every machine.
// (The order of nn's portable kernels. Starting from the bias instead
// moved more near-zero ReLU outputs across zero on the MAVIS fixtures,
// whose max-pool windows then chose other winners: wasm/simd/doc.go.)

// tile is the register tile of a kernel: mr rows of nv vectors.
type tile struct {
	f   *function
	mr  int
	nv  int
	acc [][]local // acc[r][v]
	b   []local   // the current row of B
	a   local     // the broadcast A value
}

func newTile(f *function, mr, nv int) *tile {
	t := &tile{f: f, mr: mr, nv: nv}
	for r := range mr {
		var row []local
		for v := range nv {
			row = append(row, f.local(fmt.Sprintf("c%d%d", r, v), v128))
		}
		t.acc = append(t.acc, row)
	}
	for v := range nv {
		t.b = append(t.b, f.local(fmt.Sprintf("b%d", v), v128))
	}
	t.a = f.local("a", v128)
	return t
}

// loadB loads B's row at bp + off into the b vectors.
func (t *tile) loadB(bp local, off uint32) {
	for v := range t.nv {
		t.f.get(bp)
		t.f.v128Load(off + uint32(16*v))
		t.f.set(t.b[v])
	}
}

// madd adds (broadcast A value at addr() + off) * b into row r.
func (t *tile) madd(r int, addr func(), off uint32) {
	f := t.f
	addr()
	f.v128Load32Splat(off)
	f.set(t.a)
	for v := range t.nv {
		maddVec(f, t.acc[r][v], t.a, t.b[v])
	}
}

// maddVec sets acc = acc + a*b (f32x4: the product rounded, then the sum).
func maddVec(f *function, acc, a, b local) {
	f.get(acc)
	f.get(a)
	f.get(b)
	f.f32x4Mul()
	f.f32x4Add()
	f.set(acc)
}

// zero sets every accumulator of the first rows rows to +0.
func (t *tile) zero(rows int) {
	for r := range rows {
		for v := range t.nv {
			t.f.v128Zero()
			t.f.set(t.acc[r][v])
		}
	}
}

// addFrom adds the vectors at addr() + 16v to row r's accumulators:
// acc = mem + acc, the sum of the products added to c or the bias last.
func (t *tile) addFrom(r int, addr func()) {
	for v := range t.nv {
		addr()
		t.f.v128Load(uint32(16 * v))
		t.f.get(t.acc[r][v])
		t.f.f32x4Add()
		t.f.set(t.acc[r][v])
	}
}

// store writes row r's accumulators at addr() + 16v, with a ReLU first
// when relu (an i32 local) is not zero.
func (t *tile) store(r int, addr func()) {
	for v := range t.nv {
		addr()
		t.f.get(t.acc[r][v])
		t.f.v128Store(uint32(16 * v))
	}
}

// relu replaces every accumulator by relu(acc) when flag is not zero.
// f32x4.max would turn NaN into NaN as nn's relu does not (nn keeps the
// bits of v when the sign is clear, else +0), so the ReLU is done on the
// bits: v & ~(v >> 31), lane by lane, as nn.relu.
func (t *tile) relu(flag local) { t.reluRows(flag, t.mr) }

// reluRows is relu on the first rows rows.
func (t *tile) reluRows(flag local, rows int) {
	f := t.f
	f.get(flag)
	f.ifThen(func() {
		for r := range rows {
			for v := range t.nv {
				reluVec(f, t.acc[r][v])
			}
		}
	})
}

// reluVec sets x = x &^ (x >> 31) (arithmetic shift of each int32 lane):
// +0 for a set sign bit, x unchanged otherwise, as nn's relu.
func reluVec(f *function, x local) {
	f.get(x)
	f.get(x)
	f.i32Const(31)
	f.simd("i32x4.shr_s", 0xac)
	f.v128AndNot()
	f.set(x)
}

// gemmKernel writes gemm_MRxNR(kc, a, b, c, ldc): c += A·B on a packed
// block and panel.
func gemmKernel(m *module, mr, nr int) {
	f := m.newFunc(fmt.Sprintf("gemm_%dx%d", mr, nr), fmt.Sprintf("c (%dx%d, row stride ldc floats) += A·B, A packed (kc, %d), B packed (kc, %d)", mr, nr, mr, nr))
	kc, a, b, c, ldc := f.param("kc", i32), f.param("a", i32), f.param("b", i32), f.param("c", i32), f.param("ldc", i32)
	t := newTile(f, mr, nr/4)
	end := f.local("end", i32)
	rowAddr := func(r int) func() {
		return func() {
			f.get(c)
			if r > 0 {
				f.get(ldc)
				f.i32Const(int32(4 * r))
				f.i32Mul()
				f.i32Add()
			}
		}
	}
	t.zero(mr)
	gemmLoop(f, t, kc, a, b, end)
	for r := range mr {
		t.addFrom(r, rowAddr(r))
		t.store(r, rowAddr(r))
	}
}

// gemmStoreKernel writes gemm_MRxNR_store(kc, a, b, c, ldc, bias, relu):
// c = A·B + bias, then the ReLU when relu is not zero (nn's
// microStoreKernel): the accumulators start from the bias.
func gemmStoreKernel(m *module, mr, nr int) {
	f := m.newFunc(fmt.Sprintf("gemm_%dx%d_store", mr, nr), fmt.Sprintf("c (%dx%d, row stride ldc floats) = relu?(bias + A·B), A packed (kc, %d), B packed (kc, %d)", mr, nr, mr, nr))
	kc, a, b, c, ldc := f.param("kc", i32), f.param("a", i32), f.param("b", i32), f.param("c", i32), f.param("ldc", i32)
	bias, relu := f.param("bias", i32), f.param("relu", i32)
	t := newTile(f, mr, nr/4)
	end := f.local("end", i32)
	t.zero(mr)
	gemmLoop(f, t, kc, a, b, end)
	for r := range mr {
		t.addFrom(r, func() { f.get(bias) })
	}
	t.relu(relu)
	for r := range mr {
		t.store(r, func() {
			f.get(c)
			if r > 0 {
				f.get(ldc)
				f.i32Const(int32(4 * r))
				f.i32Mul()
				f.i32Add()
			}
		})
	}
}

// gemmLoop runs the k loop of a packed micro-kernel, two steps per
// iteration and one more when kc is odd; a and b advance.
var unroll = 1

// gemmLoop runs the k loop of a packed micro-kernel, unroll steps per
// iteration, then single steps for the rest; a and b advance.
func gemmLoop(f *function, t *tile, kc, a, b, end local) {
	mr, nr := t.mr, 4*t.nv
	step := func(off int) {
		t.loadB(b, uint32(off*4*nr))
		for r := range mr {
			t.madd(r, func() { f.get(a) }, uint32(4*(off*mr+r)))
		}
	}
	advance := func(n int) {
		f.get(a)
		f.i32Const(int32(4 * n * mr))
		f.i32Add()
		f.set(a)
		f.get(b)
		f.i32Const(int32(4 * n * nr))
		f.i32Add()
		f.set(b)
	}
	loop := func(name string, n int) {
		f.block(name, func(done label) {
			f.get(a)
			f.get(end)
			f.i32GeU()
			f.brIf(done)
			f.loop(name+"_k", func(k label) {
				for u := range n {
					step(u)
				}
				advance(n)
				f.get(a)
				f.get(end)
				f.i32LtU()
				f.brIf(k)
			})
		})
	}
	if unroll > 1 {
		// end = a + 4*mr*(kc &^ (unroll-1))
		f.get(a)
		f.get(kc)
		f.i32Const(int32(-unroll))
		f.i32And()
		f.i32Const(int32(4 * mr))
		f.i32Mul()
		f.i32Add()
		f.set(end)
		loop("unrolled", unroll)
	}
	// end = a + 4*mr*(kc mod unroll): the steps left
	f.get(a)
	f.get(kc)
	if unroll > 1 {
		f.i32Const(int32(unroll - 1))
		f.i32And()
	}
	f.i32Const(int32(4 * mr))
	f.i32Mul()
	f.i32Add()
	f.set(end)
	loop("single", 1)
}

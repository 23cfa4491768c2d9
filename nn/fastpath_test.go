package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// The fast paths (fastpath.go) and row kernels (conv_kernel_rows.go)
// against the Go loops they shadow: bit for bit, as they promise, on
// random data salted with the values where float code goes wrong (±0,
// ±Inf, NaN, subnormals, ties). Where a build installs none (natively),
// there is nothing to compare and the tests say so.

// specialSlice is randSlice with some entries replaced by special values
// and, with ties, many entries drawn from a few levels (max-pool ties).
func specialSlice(r *rand.Rand, n int, ties bool) []float32 {
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), 1e-40, -1e-40, math.MaxFloat32, -math.MaxFloat32}
	s := randSlice(r, n)
	for i := range s {
		switch u := r.IntN(20); {
		case u == 0:
			s[i] = specials[r.IntN(len(specials))]
		case ties && u < 10:
			s[i] = float32(r.IntN(3)) - 1
		}
	}
	return s
}

// finiteSlice is randSlice with some zeros of both signs and subnormals.
func finiteSlice(r *rand.Rand, n int) []float32 {
	specials := []float32{0, float32(math.Copysign(0, -1)), 1e-40, -1e-40}
	s := randSlice(r, n)
	for i := range s {
		if r.IntN(10) == 0 {
			s[i] = specials[r.IntN(len(specials))]
		}
	}
	return s
}

// equalBits reports the first element where got and want differ in their
// bits; two NaNs count as equal (wasm leaves a NaN's payload open).
func equalBits(got, want []float32) error {
	if len(got) != len(want) {
		return fmt.Errorf("length %d, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
			return fmt.Errorf("element %d: got %g (%#x), want %g (%#x)", i, g, math.Float32bits(g), w, math.Float32bits(w))
		}
	}
	return nil
}

// swap sets *p to v and returns a func that puts the old value back.
func swap[T any](p *T, v T) func() {
	old := *p
	*p = v
	return func() { *p = old }
}

func TestFastPaths(t *testing.T) {
	if fastMaskCopy == nil && fastStoreDiff == nil && fastScaleShift == nil && fastShiftSum == nil && fastPool2x2Row == nil && fastPool2x2Back == nil && fastDense == nil && fastDenseDx == nil {
		t.Skip("this build installs no fast paths (they come with the js/wasm SIMD128 kernels and, natively, with GOEXPERIMENT=simd on amd64)")
	}
	r := rand.New(rand.NewPCG(11, 12))
	t.Run("mask copy", func(t *testing.T) {
		for n := range 40 {
			src, mask := specialSlice(r, n, false), specialSlice(r, n, false)
			want := make([]float32, n)
			restore := swap(&fastMaskCopy, nil)
			reluGradTo(want, src, mask)
			restore()
			got := randSlice(r, n)
			reluGradTo(got, src, mask)
			if err := equalBits(got, want); err != nil {
				t.Errorf("n=%d: %v", n, err)
			}
			reluGradTo(src, src, mask) // in place
			if err := equalBits(src, want); err != nil {
				t.Errorf("n=%d in place: %v", n, err)
			}
		}
	})
	t.Run("store", func(t *testing.T) {
		for _, c := range []int{4, 8, 64} {
			for _, pos := range []int{1, 3, 7} {
				old := specialSlice(r, pos*c, false)
				src := append([]float32(nil), old...)
				// Position p changes in one channel only, or not at all: the
				// lowest bit of its last channel (another value, or another
				// NaN), or its first from +0 to −0 (equal values, other
				// bits); every third is left alone.
				for p := range pos {
					switch p % 3 {
					case 0:
						src[p*c+c-1] = math.Float32frombits(math.Float32bits(src[p*c+c-1]) ^ 1)
					case 1:
						old[p*c] = 0
						src[p*c] = float32(math.Copysign(0, -1))
					}
				}
				want, got := append([]float32(nil), old...), append([]float32(nil), old...)
				wantOut, gotOut := make([]bool, pos), make([]bool, pos)
				var flags []int32
				restore := swap(&fastStoreDiff, nil)
				deltaStoreRun(want, src, wantOut, &flags, c)
				restore()
				deltaStoreRun(got, src, gotOut, &flags, c)
				if err := equalBits(got, want); err != nil {
					t.Errorf("c=%d positions=%d: %v", c, pos, err)
				}
				for p := range pos {
					if gotOut[p] != wantOut[p] || gotOut[p] != (p%3 != 2) {
						t.Errorf("c=%d position %d: changed %v, want %v (the Go loop: %v)", c, p, gotOut[p], p%3 != 2, wantOut[p])
					}
				}
			}
		}
	})
	t.Run("scale and shift", func(t *testing.T) {
		for _, c := range []int{4, 8, 64} {
			for _, pos := range []int{1, 3, 7} {
				x, s, sh := specialSlice(r, pos*c, false), specialSlice(r, c, false), specialSlice(r, c, false)
				want, want2 := make([]float32, len(x)), make([]float32, len(x))
				restore := swap(&fastScaleShift, nil)
				scaleShiftTo(want, x, s, sh)
				scaleTo(want2, x, s)
				restore()
				got := randSlice(r, len(x))
				scaleShiftTo(got, x, s, sh)
				if err := equalBits(got, want); err != nil {
					t.Errorf("c=%d positions=%d: scaleShiftTo: %v", c, pos, err)
				}
				scaleTo(got, x, s)
				if err := equalBits(got, want2); err != nil {
					t.Errorf("c=%d positions=%d: scaleTo: %v", c, pos, err)
				}
			}
		}
	})
	t.Run("shift sum", func(t *testing.T) {
		for _, c := range []int{4, 8, 64} {
			for _, pos := range []int{1, 3, 7} {
				x, mean, inv := finiteSlice(r, pos*c), finiteSlice(r, c), finiteSlice(r, c)
				restore := swap(&fastShiftSum, nil)
				want := shiftSumTo(1.5, x, mean, inv)
				restore()
				if got := shiftSumTo(1.5, x, mean, inv); math.Float64bits(got) != math.Float64bits(want) {
					t.Errorf("c=%d positions=%d: %v, want %v", c, pos, got, want)
				}
			}
		}
	})
	t.Run("max-pool", func(t *testing.T) {
		for _, sh := range [][4]int{{1, 2, 2, 4}, {2, 5, 7, 8}, {1, 6, 4, 12}, {1, 9, 9, 64}} {
			x := &Tensor{Shape: sh, Data: specialSlice(r, sh[0]*sh[1]*sh[2]*sh[3], true)}
			ref := NewMaxPool2D("ref", 2, 2, 2, 2, Valid)
			restore := swap(&fastPool2x2Row, nil)
			restoreBack := swap(&fastPool2x2Back, nil)
			y := ref.Forward(x)
			dy := &Tensor{Shape: y.Shape, Data: specialSlice(r, y.Len(), false)}
			dx := ref.Backward(dy)
			restore()
			restoreBack()
			m := NewMaxPool2D("fast", 2, 2, 2, 2, Valid)
			m.dx = &Tensor{Shape: x.Shape, Data: randSlice(r, x.Len())} // garbage the pass must overwrite
			if err := equalBits(m.Forward(x).Data, y.Data); err != nil {
				t.Errorf("%v: forward: %v", sh, err)
			}
			for i := range m.arg {
				if m.arg[i] != ref.arg[i] {
					t.Errorf("%v: arg[%d] = %d, want %d", sh, i, m.arg[i], ref.arg[i])
					break
				}
			}
			if err := equalBits(m.Backward(dy).Data, dx.Data); err != nil {
				t.Errorf("%v: backward: %v", sh, err)
			}
		}
	})
	t.Run("dense", func(t *testing.T) {
		for _, sz := range [][2]int{{1, 1}, {7, 5}, {72, 160}, {160, 50}, {50, 5}, {13, 3}} {
			ref := NewDense("ref", sz[0], sz[1], Linear, true)
			copy(ref.Kernel.Value, specialSlice(r, len(ref.Kernel.Value), false))
			copy(ref.Bias.Value, randSlice(r, sz[1]))
			x := &Tensor{Shape: [4]int{2, 1, 1, sz[0]}, Data: specialSlice(r, 2*sz[0], true)}
			restore := swap(&fastDense, nil)
			restoreDx := swap(&fastDenseDx, nil)
			y := ref.Forward(x).Clone()
			dy := &Tensor{Shape: y.Shape, Data: specialSlice(r, y.Len(), false)}
			dx := ref.Backward(dy).Clone()
			restore()
			restoreDx()
			if err := equalBits(ref.Forward(x).Data, y.Data); err != nil {
				t.Errorf("%dx%d: forward: %v", sz[0], sz[1], err)
			}
			if err := equalBits(ref.Backward(dy).Data, dx.Data); err != nil {
				t.Errorf("%dx%d: input gradient: %v", sz[0], sz[1], err)
			}
		}
	})
}

// TestRowKernels holds each micro-kernel's row kernel to convRowGo, bit
// for bit (both sum in the same order), on random rows, kernel heights,
// widths and panel counts, the last panel full or not. The values avoid
// Inf and NaN: a sum that meets Inf - Inf or NaN gives a NaN whose sign
// WebAssembly leaves to the engine and the instruction, and a ReLU keeps
// a NaN with its sign clear and zeroes one with its sign set. The native
// vector row kernels (gemm_simd_amd64.go) fuse each multiply and add, so
// they are held to convRowGo's float64 twin, convRowNaive, within 1e-5
// instead.
func TestRowKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	ran := false
	for _, k := range microKernels {
		if k.rows == nil {
			continue
		}
		ran = true
		for i := range 60 {
			nr := k.nr
			if nr == 8 && i%3 == 0 {
				nr = 4 // the SIMD128 row kernel's narrow panels
			}
			rc := rowConv{kh: 1 + r.IntN(5), seg: 1 + r.IntN(80), npos: r.IntN(30), nr: nr, relu: i%2 == 0}
			rc.step = 1 + r.IntN(rc.seg+3)
			out := 1 + r.IntN(3*nr)
			rc.np = panels(out, nr)
			rc.cols = out - (rc.np-1)*nr
			rc.ystep = out + r.IntN(3)
			rc.bp = finiteSlice(r, rc.np*rc.kh*rc.seg*nr)
			rc.bias = randSlice(r, rc.np*nr)
			rows, want, got := rowCase(r, &rc, out)
			k.rows(&rc, got, rows)
			var err error
			if runtime.GOARCH == "wasm" {
				convRowGo(&rc, want, rows)
				err = equalBits(got, want)
			} else {
				convRowNaive(&rc, want, rows)
				err = closeTo(got, want, 1e-5)
			}
			if err != nil {
				t.Errorf("%s: kh=%d seg=%d step=%d npos=%d out=%d nr=%d relu=%v: %v", k.name, rc.kh, rc.seg, rc.step, rc.npos, out, nr, rc.relu, err)
			}
		}
	}
	if !ran {
		t.Skip("no micro-kernel of this build has a row kernel (the js/wasm SIMD128 kernels do)")
	}
}

// rowCase returns random input rows for rc and two equal random outputs of
// out channels per position, one for the kernel under test and one for
// its reference (between the outputs, y must keep what it holds).
func rowCase(r *rand.Rand, rc *rowConv, out int) (rows *[maxRowsKH][]float32, want, got []float32) {
	rows = new([maxRowsKH][]float32)
	for ky := range rc.kh {
		rows[ky] = finiteSlice(r, max(0, rc.npos-1)*rc.step+rc.seg)
	}
	n := max(0, rc.npos-1)*rc.ystep + out
	want, got = randSlice(r, n), randSlice(r, n)
	copy(got, want)
	return rows, want, got
}

// TestRowDotKernels holds convRowDotGo to a float64 sum of the same
// products, and each micro-kernel's dot row kernel to convRowDotGo, bit
// for bit, on random rows, kernel heights, row lengths (multiples of 4),
// one to three output channels, with and without the ReLU.
func TestRowDotKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	kernels := []microKernelInfo{{name: "convRowDotGo", rowsDot: convRowDotGo}}
	for _, k := range microKernels {
		if k.rowsDot != nil {
			kernels = append(kernels, k)
		}
	}
	for _, k := range kernels {
		for i := range 60 {
			out := 1 + i%maxDotOut
			rc := rowConv{kh: 1 + r.IntN(5), seg: 4 * (1 + r.IntN(50)), npos: r.IntN(30), np: out, nr: 1, cols: 1, relu: i%2 == 0}
			rc.step = 1 + r.IntN(rc.seg+3)
			rc.ystep = out + r.IntN(3)
			rc.bp = finiteSlice(r, rc.kh*rc.seg*out)
			rc.bias = randSlice(r, out)
			rows, want, got := rowCase(r, &rc, out)
			k.rowsDot(&rc, got, rows)
			var err error
			if k.name == "convRowDotGo" {
				convRowDotNaive(&rc, want, rows)
				err = closeTo(got, want, 1e-5)
			} else {
				convRowDotGo(&rc, want, rows)
				err = equalBits(got, want)
			}
			if err != nil {
				t.Errorf("%s: kh=%d seg=%d step=%d npos=%d out=%d relu=%v: %v", k.name, rc.kh, rc.seg, rc.step, rc.npos, out, rc.relu, err)
			}
		}
	}
}

// convRowDotNaive is convRowDotGo summed in float64 in plain order, from
// the kernel as packDotTo lays it out.
func convRowDotNaive(rc *rowConv, y []float32, rows *[maxRowsKH][]float32) {
	for p := range rc.npos {
		for q := range rc.np {
			var s float64
			for ky := range rc.kh {
				for k, v := range rows[ky][p*rc.step:][:rc.seg] {
					kk := ky*rc.seg + k // the kernel row
					s += float64(v) * float64(rc.bp[(kk/4*rc.np+q)*4+kk%4])
				}
			}
			v := float32(s + float64(rc.bias[q]))
			if rc.relu {
				v = max(v, 0)
			}
			y[p*rc.ystep+q] = v
		}
	}
}

// TestPackDot checks packDotTo on a hand-laid 8x2 kernel.
func TestPackDot(t *testing.T) {
	k := make([]float32, 16) // row r, column q holds 10r + q
	for r := range 8 {
		for q := range 2 {
			k[r*2+q] = float32(10*r + q)
		}
	}
	want := []float32{0, 10, 20, 30, 1, 11, 21, 31, 40, 50, 60, 70, 41, 51, 61, 71}
	got := make([]float32, 16)
	packDotTo(got, k, 8, 2)
	if err := equalBits(got, want); err != nil {
		t.Error(err)
	}
}

// convRowNaive is convRowGo summed in float64, the oracle of the row
// kernels that fuse multiply-adds.
func convRowNaive(rc *rowConv, y []float32, rows *[maxRowsKH][]float32) {
	K := rc.kh * rc.seg
	for q := range rc.np {
		cols := rc.nr
		if q == rc.np-1 {
			cols = rc.cols
		}
		bq := rc.bp[q*K*rc.nr : (q+1)*K*rc.nr]
		for p := range rc.npos {
			for j := range cols {
				var s float64
				for ky := range rc.kh {
					a := rows[ky][p*rc.step:][:rc.seg]
					b := bq[ky*rc.seg*rc.nr+j:]
					for k, v := range a {
						s += float64(v) * float64(b[k*rc.nr])
					}
				}
				v := float32(float64(rc.bias[q*rc.nr+j]) + s)
				if rc.relu {
					v = max(v, 0)
				}
				y[p*rc.ystep+q*rc.nr+j] = v
			}
		}
	}
}

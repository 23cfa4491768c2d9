//go:build goexperiment.simd && amd64

package nn

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"simd/archsimd"
	"testing"
)

// TestFastPathsAVX2 makes sure the AVX2 fast paths are the ones
// TestFastPaths checks, and holds the two that split large tensors over
// the workers to the Go loops bit for bit at sizes that are split, with
// one and three workers.
func TestFastPathsAVX2(t *testing.T) {
	if !archsimd.X86.AVX2() {
		t.Skip("no AVX2: no fast paths")
	}
	for _, k := range []struct {
		name      string
		got, want any
	}{
		{"fastMaskCopy", fastMaskCopy, maskCopyPar},
		{"fastScaleShift", fastScaleShift, scaleShiftPar},
		{"fastPool2x2Row", fastPool2x2Row, pool2x2RowAVX2},
		{"fastPool2x2Back", fastPool2x2Back, pool2x2BackAVX2},
	} {
		if reflect.ValueOf(k.got).Pointer() != reflect.ValueOf(k.want).Pointer() {
			t.Errorf("%s is not the AVX2 pass", k.name)
		}
	}
	r := rand.New(rand.NewPCG(15, 16))
	for _, p := range []int{1, 3} {
		t.Run(fmt.Sprintf("procs=%d", p), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(p))
			for _, c := range []int{8, 12, 64, 160} {
				n := c * (passParallelMin/c + 333) // split over the workers, uneven grains
				x, mask := specialSlice(r, n, false), specialSlice(r, n, false)
				s, sh := specialSlice(r, c, false), specialSlice(r, c, false)
				want, got := make([]float32, n), randSlice(r, n)
				restore := swap(&fastScaleShift, nil)
				scaleShiftTo(want, x, s, sh)
				restore()
				scaleShiftTo(got, x, s, sh)
				if err := equalBits(got, want); err != nil {
					t.Errorf("scaleShiftTo c=%d n=%d: %v", c, n, err)
				}
				restore = swap(&fastScaleShift, nil)
				scaleTo(want, x, s)
				restore()
				scaleTo(got, x, s)
				if err := equalBits(got, want); err != nil {
					t.Errorf("scaleTo c=%d n=%d: %v", c, n, err)
				}
				restore = swap(&fastMaskCopy, nil)
				reluGradTo(want, x, mask)
				restore()
				reluGradTo(got, x, mask)
				if err := equalBits(got, want); err != nil {
					t.Errorf("reluGradTo n=%d: %v", n, err)
				}
			}
			// Max-pooling large enough to split its rows (MaxPool2D.rows).
			for _, sh := range [][4]int{{1, 64, 66, 16}, {2, 31, 24, 32}} {
				x := &Tensor{Shape: sh, Data: specialSlice(r, sh[0]*sh[1]*sh[2]*sh[3], true)}
				ref := NewMaxPool2D("ref", 2, 2, 2, 2, Valid)
				restore := swap(&fastPool2x2Row, nil)
				restoreBack := swap(&fastPool2x2Back, nil)
				y := ref.Forward(x).Clone()
				dy := &Tensor{Shape: y.Shape, Data: specialSlice(r, y.Len(), false)}
				dx := ref.Backward(dy).Clone()
				restore()
				restoreBack()
				m := NewMaxPool2D("fast", 2, 2, 2, 2, Valid)
				m.dx = &Tensor{Shape: x.Shape, Data: randSlice(r, x.Len())} // garbage the pass must overwrite
				if err := equalBits(m.Forward(x).Data, y.Data); err != nil {
					t.Errorf("%v: pool forward: %v", sh, err)
				}
				if err := equalBits(m.Backward(dy).Data, dx.Data); err != nil {
					t.Errorf("%v: pool backward: %v", sh, err)
				}
			}
		})
	}
}

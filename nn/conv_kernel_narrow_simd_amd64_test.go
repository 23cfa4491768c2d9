//go:build goexperiment.simd && amd64

package nn

import (
	"fmt"
	"math/rand/v2"
	"simd/archsimd"
	"testing"
)

// TestNarrowRowKernels holds each vector row kernel of the narrow
// convolution that this CPU can run (TestConvKernels checks only the one
// in use) to the input-gradient oracle, with and without a ReLU mask, on
// every 3-channel stride-1 geometry of kernelGeoms.
func TestNarrowRowKernels(t *testing.T) {
	defer func(k func([]float32, *[maxNarrowKH][]float32, []float32, []float32, convGeom) bool) {
		narrowRowKernel = k
	}(narrowRowKernel)
	kernels := map[string]func([]float32, *[maxNarrowKH][]float32, []float32, []float32, convGeom) bool{}
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		kernels["avx2"] = narrowRowAVX2
	}
	if archsimd.X86.AVX512() {
		kernels["avx512"] = narrowRowAVX512
	}
	if len(kernels) == 0 {
		t.Skip("no AVX2+FMA: the portable narrow kernel runs")
	}
	for name, k := range kernels {
		narrowRowKernel = k
		checked := 0
		for i, tt := range kernelGeoms {
			c := NewConv2D("c", tt.in, tt.out, tt.kh, tt.kw, tt.sh, tt.sw, tt.pad, Linear, true)
			g := c.geometry(&Tensor{Shape: [4]int{tt.n, tt.h, tt.w, tt.in}})
			if !narrowInputGrad(g) {
				continue
			}
			checked++
			r := rand.New(rand.NewPCG(uint64(i), 9))
			k := randSlice(r, g.kh*g.kw*g.in*g.out)
			dy, y := randSlice(r, g.n*g.oh*g.ow*g.out), randSlice(r, g.n*g.oh*g.ow*g.out)
			masked := make([]float32, len(dy))
			reluMaskTo(masked, dy, y)
			for _, mask := range [][]float32{nil, y} {
				want := make([]float32, g.n*g.h*g.w*g.in)
				if mask == nil {
					conv2DInputGradNaive(want, dy, k, g)
				} else {
					conv2DInputGradNaive(want, masked, k, g)
				}
				got := randSlice(r, len(want))
				conv2DInputGradTo(got, dy, mask, k, g, nil)
				if err := closeTo(got, want, 1e-5); err != nil {
					t.Errorf("%s: geometry %d (%v), mask %v: %v", name, i, tt, mask != nil, err)
				}
			}
		}
		if checked < 4 {
			t.Errorf("%s: only %d geometries take the narrow path", name, checked)
		}
		t.Log(fmt.Sprintf("%s: %d geometries", name, checked))
	}
}

package nn

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestWinogradVec holds the vector Winograd path (AVX-512 natively,
// SIMD128 in the browser build) to the float64 oracles on
// every geometry of kernelGeoms it takes (small images, odd sizes,
// batches), as the input gradient (the flipped kernel's forward pass,
// where the layers run it) and as a forward pass with and without bias
// and ReLU (called directly: the forward passes do not take it), on one
// and three workers.
func TestWinogradVec(t *testing.T) {
	if winogradVecTakes == nil {
		t.Skip("no vector Winograd path in this build (it needs GOEXPERIMENT=simd and AVX-512, or the SIMD128 kernels under js/wasm)")
	}
	geoms := append(kernelGeoms[:len(kernelGeoms):len(kernelGeoms)], struct {
		n, h, w, in, out, kh, kw, sh, sw int
		pad                              Padding
	}{2, 9, 7, 16, 64, 3, 3, 1, 1, Same}, struct {
		n, h, w, in, out, kh, kw, sh, sw int
		pad                              Padding
	}{1, 8, 11, 32, 32, 3, 3, 1, 1, Valid}, struct {
		n, h, w, in, out, kh, kw, sh, sw int
		pad                              Padding
	}{3, 7, 9, 32, 32, 3, 3, 1, 1, Same}, struct {
		n, h, w, in, out, kh, kw, sh, sw int
		pad                              Padding
	}{1, 6, 5, 32, 16, 3, 3, 1, 1, Same})
	for _, p := range []int{1, 3} {
		t.Run(fmt.Sprintf("procs=%d", p), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(p))
			fwd, grad := 0, 0
			for i, tt := range geoms {
				c := NewConv2D("c", tt.in, tt.out, tt.kh, tt.kw, tt.sh, tt.sw, tt.pad, Linear, true)
				g := c.geometry(&Tensor{Shape: [4]int{tt.n, tt.h, tt.w, tt.in}})
				fits := winogradVecTakes(g)
				fitsT := inputGradByConv(g) && winogradVecTakes(flippedGeom(g))
				if !fits && !fitsT {
					continue
				}
				r := rand.New(rand.NewPCG(uint64(i), 11))
				x := randSlice(r, g.n*g.h*g.w*g.in)
				k := randSlice(r, g.kh*g.kw*g.in*g.out)
				b := randSlice(r, g.out)
				name := fmt.Sprintf("%d: %v", i, tt)
				if fits {
					fwd++
					for _, bias := range [][]float32{b, nil} {
						want := make([]float32, g.n*g.oh*g.ow*g.out)
						conv2DNaive(want, x, k, bias, g)
						got := randSlice(r, len(want))
						winogradVecForward(t, got, x, k, bias, false, g)
						if err := closeTo(got, want, 1e-5); err != nil {
							t.Errorf("%s: forward (bias %v): %v", name, bias != nil, err)
						}
						for j, v := range want {
							want[j] = max(v, 0)
						}
						winogradVecForward(t, got, x, k, bias, true, g)
						if err := closeTo(got, want, 1e-5); err != nil {
							t.Errorf("%s: forward with ReLU (bias %v): %v", name, bias != nil, err)
						}
					}
				}
				if fitsT {
					grad++
					dy := randSlice(r, g.n*g.oh*g.ow*g.out)
					want := make([]float32, len(x))
					conv2DInputGradNaive(want, dy, k, g)
					got := randSlice(r, len(x))
					conv2DInputGradTo(got, dy, nil, k, g, nil)
					if err := closeTo(got, want, 1e-5); err != nil {
						t.Errorf("%s: input gradient: %v", name, err)
					}
				}
			}
			if fwd < 3 || grad < 3 {
				t.Errorf("only %d forward and %d input-gradient geometries took the vector Winograd path", fwd, grad)
			}
		})
	}
}

// winogradVecForward runs a forward pass through the vector Winograd path.
func winogradVecForward(t *testing.T, y, x, k, b []float32, relu bool, g convGeom) {
	t.Helper()
	nw := workers()
	cw := getConvWork(opForward, g, nw)
	defer cw.put()
	if !winogradVec(cw, y, x, k, b, relu, nw) {
		t.Fatalf("%+v: the vector Winograd path does not take it", g)
	}
}

package nn

import "math"

// The convolution kernels. conv2DNaive and friends are the reference loops
// that state the definition, accumulated in float64; the paths the layers
// call are the GEMM-based kernels of conv_kernel_gemm.go, and the tests
// (kernel_test.go) hold them to the naive ones.

// conv2DTo computes y = conv(x, k) + b (no activation).
//
//	y: (n, oh, ow, out)   x: (n, h, w, in)   k: (kh, kw, in, out)   b: (out) or nil
func conv2DTo(y, x, k, b []float32, g convGeom) {
	conv2DGemmTo(y, x, k, b, false, g)
}

// conv2DReLUTo computes y = max(conv(x, k) + b, 0) in one pass.
//
//	y: (n, oh, ow, out)   x: (n, h, w, in)   k: (kh, kw, in, out)   b: (out) or nil
func conv2DReLUTo(y, x, k, b []float32, g convGeom) {
	conv2DGemmTo(y, x, k, b, true, g)
}

// conv2DScoresTo is conv2DTo (relu: conv2DReLUTo) for a pass whose
// outputs are all its caller needs (Model.ForwardScores): it runs on the
// vector Winograd path where this build has one that takes g, with a
// rounding of its own, and is conv2DTo elsewhere. prep, when not nil,
// keeps the packed kernel for the next call (a layer's, see kernelPrep).
func conv2DScoresTo(y, x, k, b []float32, relu bool, g convGeom, prep *kernelPrep) {
	conv2DForwardTo(y, x, k, b, relu, g, true, prep)
}

// conv2DInputGradTo computes dx = convᵀ(dy ⊙ [mask > 0], k): with a
// non-nil mask (the output of a ReLU) only the entries of dy where the mask
// is positive count. A mask is only accepted where conv2DInputGradMasks
// says so. prep, when not nil, keeps what the call makes of k for the
// next (a layer's, see kernelPrep).
//
//	dx: (n, h, w, in)   dy, mask: (n, oh, ow, out)   k: (kh, kw, in, out)
func conv2DInputGradTo(dx, dy, mask, k []float32, g convGeom, prep *kernelPrep) {
	conv2DGemmInputGradTo(dx, dy, mask, k, g, prep)
}

// conv2DInputGradMasks reports whether conv2DInputGradTo applies a ReLU
// mask while it reads dy for geometry g (saving a pass over dy); otherwise
// the caller masks dy first.
func conv2DInputGradMasks(g convGeom) bool {
	return !inputGradByConv(g) || narrowInputGrad(g) || rowsInputGrad(g)
}

// conv2DKernelGradAdd adds dL/dk into dk.
//
//	dk: (kh, kw, in, out)   x: (n, h, w, in)   dy: (n, oh, ow, out)
func conv2DKernelGradAdd(dk, x, dy []float32, g convGeom) {
	conv2DGemmKernelGradAdd(dk, x, dy, g)
}

// conv2DNaive is the definition, element by element, accumulated in float64.
// It is the oracle for conv2DTo.
func conv2DNaive(y, x, k, b []float32, g convGeom) {
	for n := 0; n < g.n; n++ {
		for oh := 0; oh < g.oh; oh++ {
			for ow := 0; ow < g.ow; ow++ {
				for o := 0; o < g.out; o++ {
					var s float64
					if b != nil {
						s = float64(b[o])
					}
					for kh := 0; kh < g.kh; kh++ {
						for kw := 0; kw < g.kw; kw++ {
							ih, iw := oh*g.sh+kh-g.ph, ow*g.sw+kw-g.pw
							if ih < 0 || ih >= g.h || iw < 0 || iw >= g.w {
								continue
							}
							for i := 0; i < g.in; i++ {
								s += float64(x[((n*g.h+ih)*g.w+iw)*g.in+i]) * float64(k[((kh*g.kw+kw)*g.in+i)*g.out+o])
							}
						}
					}
					y[((n*g.oh+oh)*g.ow+ow)*g.out+o] = float32(s)
				}
			}
		}
	}
}

// conv2DInputGradNaive is the definition of the input gradient, the oracle
// for conv2DInputGradTo.
func conv2DInputGradNaive(dx, dy, k []float32, g convGeom) {
	acc := make([]float64, len(dx))
	for n := 0; n < g.n; n++ {
		for oh := 0; oh < g.oh; oh++ {
			for ow := 0; ow < g.ow; ow++ {
				for kh := 0; kh < g.kh; kh++ {
					for kw := 0; kw < g.kw; kw++ {
						ih, iw := oh*g.sh+kh-g.ph, ow*g.sw+kw-g.pw
						if ih < 0 || ih >= g.h || iw < 0 || iw >= g.w {
							continue
						}
						for i := 0; i < g.in; i++ {
							for o := 0; o < g.out; o++ {
								acc[((n*g.h+ih)*g.w+iw)*g.in+i] += float64(dy[((n*g.oh+oh)*g.ow+ow)*g.out+o]) * float64(k[((kh*g.kw+kw)*g.in+i)*g.out+o])
							}
						}
					}
				}
			}
		}
	}
	for i, v := range acc {
		dx[i] = float32(v)
	}
}

// conv2DKernelGradNaive is the definition of the kernel gradient, added
// into dk, the oracle for conv2DKernelGradAdd.
func conv2DKernelGradNaive(dk, x, dy []float32, g convGeom) {
	for kh := 0; kh < g.kh; kh++ {
		for kw := 0; kw < g.kw; kw++ {
			for i := 0; i < g.in; i++ {
				for o := 0; o < g.out; o++ {
					var s float64
					for n := 0; n < g.n; n++ {
						for oh := 0; oh < g.oh; oh++ {
							for ow := 0; ow < g.ow; ow++ {
								ih, iw := oh*g.sh+kh-g.ph, ow*g.sw+kw-g.pw
								if ih < 0 || ih >= g.h || iw < 0 || iw >= g.w {
									continue
								}
								s += float64(x[((n*g.h+ih)*g.w+iw)*g.in+i]) * float64(dy[((n*g.oh+oh)*g.ow+ow)*g.out+o])
							}
						}
					}
					j := ((kh*g.kw+kw)*g.in+i)*g.out + o
					dk[j] = float32(float64(dk[j]) + s)
				}
			}
		}
	}
}

// reluGradTo writes dst = dy where y > 0 and 0 elsewhere, as reluMaskTo
// does, without branches (on trained nets half the signs are random, and
// the branch was 15% of an input-gradient pass): y > 0 exactly when its
// sign bit is clear and its bits are not zero (a positive NaN counts as
// positive). dst may alias dy.
//
//	dst, dy, y: same length
func reluGradTo(dst, dy, y []float32) {
	dy, y = dy[:len(dst)], y[:len(dst)]
	if fastMaskCopy != nil {
		fastMaskCopy(dst, dy, y)
		return
	}
	i := 0
	for ; i+3 < len(y); i += 4 { // four per step: fewer loop edges under wasm
		_, _ = dst[i+3], dy[i+3]
		dst[i] = maskPositive(dy[i], y[i])
		dst[i+1] = maskPositive(dy[i+1], y[i+1])
		dst[i+2] = maskPositive(dy[i+2], y[i+2])
		dst[i+3] = maskPositive(dy[i+3], y[i+3])
	}
	for ; i < len(y); i++ {
		dst[i] = maskPositive(dy[i], y[i])
	}
}

// maskPositive returns v when m > 0 and +0 otherwise, without branches.
func maskPositive(v, m float32) float32 {
	b := math.Float32bits(m)
	pos := ^uint32(int32(b)>>31) & uint32(int32(b|-b)>>31)
	return math.Float32frombits(math.Float32bits(v) & pos)
}

// axpy computes y += a*x; len(x) >= len(y).
func axpy(y, x []float32, a float32) {
	x = x[:len(y)]
	i := 0
	for ; i+4 <= len(y); i += 4 {
		y[i] += a * x[i]
		y[i+1] += a * x[i+1]
		y[i+2] += a * x[i+2]
		y[i+3] += a * x[i+3]
	}
	for ; i < len(y); i++ {
		y[i] += a * x[i]
	}
}

// dot returns Σ x[i]*y[i]; len(y) >= len(x).
func dot(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

package nn

// The matrix-multiply core under the convolutions, in the GotoBLAS style:
// the caller packs an mr-row block of A and nr-column panels of B, and a
// register-blocked micro-kernel computes one mr x nr tile of C from them.
//
//	packed A: a[k*mr + r] = A[r, k]          (kc x mr, row r of the block)
//	packed B: b[k*nr + j] = B[k, j]          (kc x nr, column j of the panel)
//	tile:     c[r*ldc + j] += Σ_k A[r,k] B[k,j]
//
// Rows and columns past the matrix edge are packed as zeros, so a
// micro-kernel always computes a whole tile; callers write partial tiles
// through a scratch tile. gemmMicro is the pure-Go kernel below unless a
// faster one (gemm_simd_amd64.go, built with GOEXPERIMENT=simd) replaced it
// at init after checking the CPU.

// microKernel adds the product of a packed (kc x mr) A block and a packed
// (kc x nr) B panel into the mr x nr tile c with row stride ldc.
//
//	a: (kc, mr)   b: (kc, nr)   c: (mr rows of stride ldc, nr)
type microKernel func(kc int, a, b, c []float32, ldc int)

// microKernelInfo names a micro-kernel and its tile shape.
type microKernelInfo struct {
	name     string
	kernel   microKernel
	mr, nr   int  // tile rows (at most maxMR) and columns
	winograd bool // whether Winograd's transforms pay with this kernel
	store    microStoreKernel
	rows     rowKernel // nil, or the row kernel of the row path (conv_kernel_rows.go)
	rowsDot  rowKernel // nil, or the row path's kernel for 1-3 output channels (convRowDotGo's contract)
}

// microStoreKernel writes c = A·B + bias, followed by a ReLU when relu is
// set, into a whole mr x nr tile: the forward pass's ending, fused into the
// kernel when one is available.
//
//	a: (kc, mr)   b: (kc, nr)   c: (mr rows of stride ldc, nr)   bias: (nr)
type microStoreKernel func(kc int, a, b, c []float32, ldc int, bias []float32, relu bool)

// maxMR bounds the tile rows of any micro-kernel, maxNR the columns of a
// kernel that Winograd uses.
const (
	maxMR = 8
	maxNR = 8
)

// microKernels lists the kernels this build and CPU can run, portable
// first; the last one is in use.
var microKernels = []microKernelInfo{
	{"go 2x8", micro2x8, 2, 8, true, micro2x8Store, nil, nil},
	{"go 3x4", micro3x4, 3, 4, true, micro3x4Store, nil, nil},
}

// The kernel in use, its tile shape, whether stride-1 3x3 convolutions
// go through Winograd (conv_kernel_winograd.go), and whether 3-channel
// input gradients run as narrow convolutions (conv_kernel_narrow.go). With the
// scalar kernel Winograd's 2.25x fewer multiplies win (7.9 against 4.3
// GFLOP/cpu-s at 112x112x64); with AVX-512 the scalar transforms cost more
// than they save (27 against 36-42), so the vector kernels use im2col.
var (
	gemmMicro    microKernel      = micro3x4
	gemmMR       int              = 3
	gemmNR       int              = 4
	gemmKernel   string           = "go 3x4"
	gemmWinograd bool             = true
	gemmStore    microStoreKernel = micro3x4Store
	gemmNarrow   bool             = true
	// The kernel Winograd's 16 products run on: with the portable kernels
	// the 2x8 tile, which runs them 10-15% faster than 3x4 under wasm
	// (kc is only the channel count there, and 2x8 makes fewer calls),
	// while 3x4 is 1.3x faster on im2col's long columns.
	gemmWinoMicro microKernel = micro2x8
	gemmWinoMR    int         = 2
	gemmWinoNR    int         = 8
	// The row kernels of the row path, when the kernel in use has them:
	// panels of nr columns, and dot products for 1-3 output channels.
	gemmRows    rowKernel
	gemmRowsDot rowKernel
)

// addMicroKernel registers a faster kernel and makes it the one in use.
func addMicroKernel(k microKernelInfo) {
	microKernels = append(microKernels, k)
	useMicroKernel(k)
}

// useMicroKernel switches the kernel in use (tests and benchmarks compare
// them; not safe while a convolution runs).
func useMicroKernel(k microKernelInfo) {
	gemmMicro, gemmMR, gemmNR, gemmKernel, gemmWinograd, gemmStore = k.kernel, k.mr, k.nr, k.name, k.winograd, k.store
	gemmRows, gemmRowsDot = k.rows, k.rowsDot
	gemmNarrow = k.winograd // the portable kernels (conv_kernel_narrow.go)
	gemmWinoMicro, gemmWinoMR, gemmWinoNR = k.kernel, k.mr, k.nr
	if k.winograd {
		gemmWinoMicro, gemmWinoMR, gemmWinoNR = micro2x8, 2, 8
	}
}

// micro3x4 is the portable kernel: 12 accumulators, the three values of
// A and one of B fill exactly the 16 float32 registers of Go's wasm back
// end (F0-F15; amd64 has 16 too), so nothing spills to the stack. One B
// value is loaded at a time and used three times. The 2x8 tile needs 16
// accumulators plus operands and spilled half of them on every step: 3x4
// runs 1.4x faster under wasm (nn/BENCHMARKS.md, 2026-11-26 16:20).
//
//	a: (kc, 3)   b: (kc, 4)   c: (3 rows of stride ldc, 4)
func micro3x4(kc int, a, b, c []float32, ldc int) {
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	var c20, c21, c22, c23 float32
	a = a[:kc*3]
	b = b[:kc*4]
	for len(a) >= 6 && len(b) >= 8 {
		{
			a0, a1, a2 := a[0], a[1], a[2]
			b0 := b[0]
			c00 += a0 * b0
			c10 += a1 * b0
			c20 += a2 * b0
			b1 := b[1]
			c01 += a0 * b1
			c11 += a1 * b1
			c21 += a2 * b1
			b2 := b[2]
			c02 += a0 * b2
			c12 += a1 * b2
			c22 += a2 * b2
			b3 := b[3]
			c03 += a0 * b3
			c13 += a1 * b3
			c23 += a2 * b3
		}
		{
			a0, a1, a2 := a[3], a[4], a[5]
			b0 := b[4]
			c00 += a0 * b0
			c10 += a1 * b0
			c20 += a2 * b0
			b1 := b[5]
			c01 += a0 * b1
			c11 += a1 * b1
			c21 += a2 * b1
			b2 := b[6]
			c02 += a0 * b2
			c12 += a1 * b2
			c22 += a2 * b2
			b3 := b[7]
			c03 += a0 * b3
			c13 += a1 * b3
			c23 += a2 * b3
		}
		a = a[6:]
		b = b[8:]
	}
	if len(a) >= 3 && len(b) >= 4 {
		a0, a1, a2 := a[0], a[1], a[2]
		b0 := b[0]
		c00 += a0 * b0
		c10 += a1 * b0
		c20 += a2 * b0
		b1 := b[1]
		c01 += a0 * b1
		c11 += a1 * b1
		c21 += a2 * b1
		b2 := b[2]
		c02 += a0 * b2
		c12 += a1 * b2
		c22 += a2 * b2
		b3 := b[3]
		c03 += a0 * b3
		c13 += a1 * b3
		c23 += a2 * b3
	}
	r0 := c[:4]
	r0[0], r0[1], r0[2], r0[3] = r0[0]+c00, r0[1]+c01, r0[2]+c02, r0[3]+c03
	r1 := c[1*ldc:][:4]
	r1[0], r1[1], r1[2], r1[3] = r1[0]+c10, r1[1]+c11, r1[2]+c12, r1[3]+c13
	r2 := c[2*ldc:][:4]
	r2[0], r2[1], r2[2], r2[3] = r2[0]+c20, r2[1]+c21, r2[2]+c22, r2[3]+c23
}

// micro3x4Store is micro3x4 writing c = A·B + bias, then the ReLU when
// relu is set (see micro2x8Store).
//
//	a: (kc, 3)   b: (kc, 4)   c: (3 rows of stride ldc, 4)   bias: (4)
func micro3x4Store(kc int, a, b, c []float32, ldc int, bias []float32, relu bool) {
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	var c20, c21, c22, c23 float32
	a = a[:kc*3]
	b = b[:kc*4]
	for len(a) >= 6 && len(b) >= 8 {
		{
			a0, a1, a2 := a[0], a[1], a[2]
			b0 := b[0]
			c00 += a0 * b0
			c10 += a1 * b0
			c20 += a2 * b0
			b1 := b[1]
			c01 += a0 * b1
			c11 += a1 * b1
			c21 += a2 * b1
			b2 := b[2]
			c02 += a0 * b2
			c12 += a1 * b2
			c22 += a2 * b2
			b3 := b[3]
			c03 += a0 * b3
			c13 += a1 * b3
			c23 += a2 * b3
		}
		{
			a0, a1, a2 := a[3], a[4], a[5]
			b0 := b[4]
			c00 += a0 * b0
			c10 += a1 * b0
			c20 += a2 * b0
			b1 := b[5]
			c01 += a0 * b1
			c11 += a1 * b1
			c21 += a2 * b1
			b2 := b[6]
			c02 += a0 * b2
			c12 += a1 * b2
			c22 += a2 * b2
			b3 := b[7]
			c03 += a0 * b3
			c13 += a1 * b3
			c23 += a2 * b3
		}
		a = a[6:]
		b = b[8:]
	}
	if len(a) >= 3 && len(b) >= 4 {
		a0, a1, a2 := a[0], a[1], a[2]
		b0 := b[0]
		c00 += a0 * b0
		c10 += a1 * b0
		c20 += a2 * b0
		b1 := b[1]
		c01 += a0 * b1
		c11 += a1 * b1
		c21 += a2 * b1
		b2 := b[2]
		c02 += a0 * b2
		c12 += a1 * b2
		c22 += a2 * b2
		b3 := b[3]
		c03 += a0 * b3
		c13 += a1 * b3
		c23 += a2 * b3
	}
	bias = bias[:4]
	b0, b1, b2, b3 := bias[0], bias[1], bias[2], bias[3]
	c00, c01, c02, c03 = c00+b0, c01+b1, c02+b2, c03+b3
	c10, c11, c12, c13 = c10+b0, c11+b1, c12+b2, c13+b3
	c20, c21, c22, c23 = c20+b0, c21+b1, c22+b2, c23+b3
	if relu {
		c00, c01, c02, c03 = reluF(c00), reluF(c01), reluF(c02), reluF(c03)
		c10, c11, c12, c13 = reluF(c10), reluF(c11), reluF(c12), reluF(c13)
		c20, c21, c22, c23 = reluF(c20), reluF(c21), reluF(c22), reluF(c23)
	}
	r0 := c[:4]
	r0[0], r0[1], r0[2], r0[3] = c00, c01, c02, c03
	r1 := c[ldc:][:4]
	r1[0], r1[1], r1[2], r1[3] = c10, c11, c12, c13
	r2 := c[2*ldc:][:4]
	r2[0], r2[1], r2[2], r2[3] = c20, c21, c22, c23
}

// micro2x8 is the portable kernel of Winograd's products (gemmWinoMicro):
// 16 accumulators, k unrolled by two. With its operands it needs more than
// the 16 float registers and Go spills, but on Winograd's short products
// (kc = channels) it beats micro3x4.
func micro2x8(kc int, a, b, c []float32, ldc int) {
	var c00, c01, c02, c03, c04, c05, c06, c07 float32
	var c10, c11, c12, c13, c14, c15, c16, c17 float32
	a = a[:kc*2]
	b = b[:kc*8]
	for len(a) >= 4 && len(b) >= 16 {
		a0, a1 := a[0], a[1]
		b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		b0, b1, b2, b3 = b[4], b[5], b[6], b[7]
		c04 += a0 * b0
		c05 += a0 * b1
		c06 += a0 * b2
		c07 += a0 * b3
		c14 += a1 * b0
		c15 += a1 * b1
		c16 += a1 * b2
		c17 += a1 * b3
		a0, a1 = a[2], a[3]
		b0, b1, b2, b3 = b[8], b[9], b[10], b[11]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		b0, b1, b2, b3 = b[12], b[13], b[14], b[15]
		c04 += a0 * b0
		c05 += a0 * b1
		c06 += a0 * b2
		c07 += a0 * b3
		c14 += a1 * b0
		c15 += a1 * b1
		c16 += a1 * b2
		c17 += a1 * b3
		a = a[4:]
		b = b[16:]
	}
	if len(a) >= 2 && len(b) >= 8 {
		a0, a1 := a[0], a[1]
		c00 += a0 * b[0]
		c01 += a0 * b[1]
		c02 += a0 * b[2]
		c03 += a0 * b[3]
		c04 += a0 * b[4]
		c05 += a0 * b[5]
		c06 += a0 * b[6]
		c07 += a0 * b[7]
		c10 += a1 * b[0]
		c11 += a1 * b[1]
		c12 += a1 * b[2]
		c13 += a1 * b[3]
		c14 += a1 * b[4]
		c15 += a1 * b[5]
		c16 += a1 * b[6]
		c17 += a1 * b[7]
	}
	r := c[:8]
	r[0] += c00
	r[1] += c01
	r[2] += c02
	r[3] += c03
	r[4] += c04
	r[5] += c05
	r[6] += c06
	r[7] += c07
	r = c[ldc:][:8]
	r[0] += c10
	r[1] += c11
	r[2] += c12
	r[3] += c13
	r[4] += c14
	r[5] += c15
	r[6] += c16
	r[7] += c17
}

// micro2x8Store is micro2x8's loop with a different ending: it writes
// c = A·B + bias, then the ReLU when relu is set, straight into the tile
// (no accumulate, no scratch tile, no separate epilogue pass): for
// 3-channel first layers, where kc is only 27, that ending was a third of
// the time.
//
//	a: (kc, 2)   b: (kc, 8)   c: (2 rows of stride ldc, 8)   bias: (8)
func micro2x8Store(kc int, a, b, c []float32, ldc int, bias []float32, relu bool) {
	var c00, c01, c02, c03, c04, c05, c06, c07 float32
	var c10, c11, c12, c13, c14, c15, c16, c17 float32
	a = a[:kc*2]
	b = b[:kc*8]
	for len(a) >= 4 && len(b) >= 16 {
		a0, a1 := a[0], a[1]
		b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		b0, b1, b2, b3 = b[4], b[5], b[6], b[7]
		c04 += a0 * b0
		c05 += a0 * b1
		c06 += a0 * b2
		c07 += a0 * b3
		c14 += a1 * b0
		c15 += a1 * b1
		c16 += a1 * b2
		c17 += a1 * b3
		a0, a1 = a[2], a[3]
		b0, b1, b2, b3 = b[8], b[9], b[10], b[11]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		b0, b1, b2, b3 = b[12], b[13], b[14], b[15]
		c04 += a0 * b0
		c05 += a0 * b1
		c06 += a0 * b2
		c07 += a0 * b3
		c14 += a1 * b0
		c15 += a1 * b1
		c16 += a1 * b2
		c17 += a1 * b3
		a = a[4:]
		b = b[16:]
	}
	if len(a) >= 2 && len(b) >= 8 {
		a0, a1 := a[0], a[1]
		c00 += a0 * b[0]
		c01 += a0 * b[1]
		c02 += a0 * b[2]
		c03 += a0 * b[3]
		c04 += a0 * b[4]
		c05 += a0 * b[5]
		c06 += a0 * b[6]
		c07 += a0 * b[7]
		c10 += a1 * b[0]
		c11 += a1 * b[1]
		c12 += a1 * b[2]
		c13 += a1 * b[3]
		c14 += a1 * b[4]
		c15 += a1 * b[5]
		c16 += a1 * b[6]
		c17 += a1 * b[7]
	}
	bias = bias[:8]
	c00 += bias[0]
	c01 += bias[1]
	c02 += bias[2]
	c03 += bias[3]
	c04 += bias[4]
	c05 += bias[5]
	c06 += bias[6]
	c07 += bias[7]
	c10 += bias[0]
	c11 += bias[1]
	c12 += bias[2]
	c13 += bias[3]
	c14 += bias[4]
	c15 += bias[5]
	c16 += bias[6]
	c17 += bias[7]
	if relu {
		c00, c01, c02, c03 = reluF(c00), reluF(c01), reluF(c02), reluF(c03)
		c04, c05, c06, c07 = reluF(c04), reluF(c05), reluF(c06), reluF(c07)
		c10, c11, c12, c13 = reluF(c10), reluF(c11), reluF(c12), reluF(c13)
		c14, c15, c16, c17 = reluF(c14), reluF(c15), reluF(c16), reluF(c17)
	}
	r := c[:8]
	r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7] = c00, c01, c02, c03, c04, c05, c06, c07
	r = c[ldc:][:8]
	r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7] = c10, c11, c12, c13, c14, c15, c16, c17
}

// reluF is relu (conv_kernel_gemm.go), named apart for the kernels.
func reluF(v float32) float32 { return relu(v) }

// gemmNaive is the oracle for the micro-kernels: the same contract,
// accumulated in float64.
func gemmNaive(kc, mr, nr int, a, b, c []float32, ldc int) {
	for r := range mr {
		for j := range nr {
			var s float64
			for k := range kc {
				s += float64(a[k*mr+r]) * float64(b[k*nr+j])
			}
			c[r*ldc+j] = float32(float64(c[r*ldc+j]) + s)
		}
	}
}

// panels returns the number of nr-wide panels covering n columns.
func panels(n, nr int) int { return (n + nr - 1) / nr }

// packBTo packs the k x n row-major matrix m (row stride ld) into
// ceil(n/nr) panels of k x nr, zero-padding the last panel's columns.
//
//	dst: (panels(n,nr), k, nr)   m: (k rows of stride ld, n)
func packBTo(dst, m []float32, k, n, ld, nr int) {
	for p := range panels(n, nr) {
		j0 := p * nr
		cols := min(nr, n-j0)
		pp := dst[p*k*nr : (p+1)*k*nr]
		for kk := range k {
			row := pp[kk*nr : (kk+1)*nr]
			copy(row, m[kk*ld+j0:kk*ld+j0+cols])
			clear(row[cols:])
		}
	}
}

// packBTransTo packs the transpose of the n x k row-major matrix m (row
// stride ld), that is the k x n matrix mᵀ, into panels as packBTo does.
//
//	dst: (panels(n,nr), k, nr)   m: (n rows of stride ld, k)
func packBTransTo(dst, m []float32, k, n, ld, nr int) {
	for p := range panels(n, nr) {
		j0 := p * nr
		cols := min(nr, n-j0)
		pp := dst[p*k*nr : (p+1)*k*nr]
		clear(pp)
		for j := range cols {
			src := m[(j0+j)*ld : (j0+j)*ld+k]
			for kk, v := range src {
				pp[kk*nr+j] = v
			}
		}
	}
}

// grow returns s resliced to n elements, reallocating only when its
// capacity is too small. The contents are unspecified.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

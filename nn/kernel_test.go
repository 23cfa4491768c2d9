package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// The fast kernels against their float64 oracles (conv2DNaive,
// conv2DInputGradNaive, conv2DKernelGradNaive, gemmNaive), for every
// micro-kernel this build and CPU can run and for one and several workers.

// kernelGeoms are the geometries every kernel is checked on: strides 1 and
// 2, same and valid, odd sizes, 1x1, 3x3, 5x5 and non-square kernels, 1 to
// 64 channels, batch 1 to 3, images tall enough for the banded (parallel)
// col2im input gradient, and stride-1 layers with enough input channels
// for the flipped-kernel one, and odd-sized 3x3 stride-1 layers for
// Winograd's 2x2 tiles.
var kernelGeoms = []struct {
	n, h, w, in, out, kh, kw, sh, sw int
	pad                              Padding
}{
	{1, 5, 5, 1, 1, 1, 1, 1, 1, Valid},
	{1, 6, 6, 3, 64, 1, 1, 1, 1, Valid},
	{1, 7, 6, 3, 8, 3, 3, 1, 1, Same},
	{2, 4, 5, 3, 16, 3, 3, 1, 1, Same},
	{3, 9, 7, 3, 5, 3, 3, 2, 2, Same},
	{1, 8, 8, 16, 16, 3, 3, 1, 1, Same},
	{3, 11, 9, 16, 33, 5, 5, 1, 1, Same},
	{1, 10, 10, 64, 64, 3, 3, 1, 1, Same},
	{3, 7, 9, 64, 7, 3, 3, 2, 2, Valid},
	{3, 13, 11, 1, 17, 5, 5, 2, 2, Valid},
	{1, 12, 12, 16, 3, 5, 5, 2, 1, Same},
	{1, 3, 3, 8, 8, 3, 3, 1, 1, Valid},
	{1, 9, 8, 4, 12, 3, 1, 1, 2, Same},
	{2, 20, 6, 16, 16, 3, 3, 1, 1, Same},
	{2, 30, 5, 3, 8, 3, 3, 2, 2, Same},
	{3, 17, 3, 2, 40, 5, 3, 1, 1, Same},
	{1, 9, 7, 32, 5, 3, 3, 1, 1, Valid},
	{2, 6, 8, 40, 9, 5, 3, 1, 1, Same},
	{3, 7, 5, 9, 11, 3, 3, 1, 1, Same},
	{1, 11, 9, 12, 40, 3, 3, 1, 1, Valid},
	{2, 5, 7, 3, 32, 3, 3, 1, 1, Same},
	{1, 6, 5, 3, 24, 5, 5, 1, 1, Same},
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.Float64()*2 - 1)
	}
	return s
}

// closeTo reports the first element where got and want differ by more
// than tol times the largest |want| (a normwise relative error: float32
// sums of hundreds of terms are compared with float64 ones).
func closeTo(got, want []float32, tol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("length %d, want %d", len(got), len(want))
	}
	var scale float64
	for _, v := range want {
		scale = max(scale, math.Abs(float64(v)))
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - float64(want[i])); !(d <= tol*scale) {
			return fmt.Errorf("element %d: got %g, want %g (|diff| %.3g > %.3g)", i, got[i], want[i], d, tol*scale)
		}
	}
	return nil
}

// forEachKernel runs f with each available micro-kernel in use, on each
// of its convolution paths (Winograd, the vector one with the AVX-512
// kernel, im2col, and the row path with the kernel's own row kernels, or
// convRowGo and convRowDotGo for a kernel without them), and with one and
// three workers natively.
func forEachKernel(t *testing.T, f func(t *testing.T)) {
	defer useMicroKernel(microKernels[len(microKernels)-1])
	procs := []int{1, 3}
	if runtime.GOARCH == "wasm" {
		procs = []int{1}
	}
	for _, k := range microKernels {
		for _, p := range procs {
			for _, path := range []string{"winograd", "im2col", "rows"} {
				t.Run(fmt.Sprintf("%s/procs=%d/%s", k.name, p, path), func(t *testing.T) {
					defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(p))
					defer func(on bool) { gemmWinogradVec = on }(gemmWinogradVec)
					useMicroKernel(k)
					gemmWinograd = path == "winograd"
					gemmWinogradVec = path == "winograd"
					gemmRows, gemmRowsDot = nil, nil
					if path == "rows" {
						gemmRows, gemmRowsDot = k.rows, k.rowsDot
						if gemmRows == nil {
							gemmRows, gemmRowsDot = convRowGo, convRowDotGo
						}
					}
					f(t)
				})
			}
		}
	}
}

func TestMicroKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, k := range microKernels {
		for _, kc := range []int{1, 2, 3, 7, 64, 577} {
			ldc := k.nr + 3
			a, b := randSlice(r, kc*k.mr), randSlice(r, kc*k.nr)
			c := randSlice(r, k.mr*ldc)
			want := append([]float32(nil), c...)
			gemmNaive(kc, k.mr, k.nr, a, b, want, ldc)
			k.kernel(kc, a, b, c, ldc)
			if err := closeTo(c, want, 1e-5); err != nil {
				t.Errorf("%s kc=%d: %v", k.name, kc, err)
			}
			if k.store == nil {
				continue
			}
			// The storing kernel: c = relu(A·B + bias), garbage in c ignored.
			bias := randSlice(r, k.nr)
			for _, relu := range []bool{false, true} {
				want := make([]float32, k.mr*ldc)
				gemmNaive(kc, k.mr, k.nr, a, b, want, ldc)
				for i := range k.mr {
					for j := range k.nr {
						v := want[i*ldc+j] + bias[j]
						if relu {
							v = max(v, 0)
						}
						want[i*ldc+j] = v
					}
				}
				c := randSlice(r, k.mr*ldc)
				for i := range k.mr { // outside the tile c must stay as it was
					copy(want[i*ldc+k.nr:(i+1)*ldc], c[i*ldc+k.nr:(i+1)*ldc])
				}
				k.store(kc, a, b, c, ldc, bias, relu)
				if err := closeTo(c, want, 1e-5); err != nil {
					t.Errorf("%s store kc=%d relu=%v: %v", k.name, kc, relu, err)
				}
			}
		}
	}
}

func TestPackB(t *testing.T) {
	// A 3x5 matrix (row stride 6) in panels of 2: 3 panels, the last padded.
	m := []float32{
		1, 2, 3, 4, 5, -1,
		6, 7, 8, 9, 10, -1,
		11, 12, 13, 14, 15, -1,
	}
	want := []float32{
		1, 2, 6, 7, 11, 12,
		3, 4, 8, 9, 13, 14,
		5, 0, 10, 0, 15, 0,
	}
	got := make([]float32, 18)
	packBTo(got, m, 3, 5, 6, 2)
	if err := closeTo(got, want, 0); err != nil {
		t.Errorf("packBTo: %v", err)
	}
	// The transpose of the 5x3 matrix mᵀ gives the same panels.
	mt := make([]float32, 15)
	for i := range 3 {
		for j := range 5 {
			mt[j*3+i] = m[i*6+j]
		}
	}
	packBTransTo(got, mt, 3, 5, 3, 2)
	if err := closeTo(got, want, 0); err != nil {
		t.Errorf("packBTransTo: %v", err)
	}
}

// TestKernelPrep holds the input gradient with a layer's kernelPrep to
// the same call without one, bit for bit: when the prep is made, when it
// is reused, after the kernel's values change in place, and across
// geometries (one prep serves them all in turn, so each remakes it).
func TestKernelPrep(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		var prep kernelPrep
		kept := 0 // geometries whose panels the prep kept
		for i, tt := range kernelGeoms {
			c := NewConv2D("c", tt.in, tt.out, tt.kh, tt.kw, tt.sh, tt.sw, tt.pad, ReLU, true)
			g := c.geometry(&Tensor{Shape: [4]int{tt.n, tt.h, tt.w, tt.in}})
			if !inputGradByConv(g) {
				continue // col2im: nothing is flipped or kept
			}
			r := rand.New(rand.NewPCG(uint64(i), 11))
			k := randSlice(r, g.kh*g.kw*g.in*g.out)
			dy := randSlice(r, g.n*g.oh*g.ow*g.out)
			var mask []float32
			if conv2DInputGradMasks(g) {
				mask = randSlice(r, len(dy))
			}
			want, got := make([]float32, g.n*g.h*g.w*g.in), make([]float32, g.n*g.h*g.w*g.in)
			check := func(when string) {
				conv2DInputGradTo(want, dy, mask, k, g, nil)
				conv2DInputGradTo(got, dy, mask, k, g, &prep)
				if !SameBits(got, want) {
					t.Errorf("%d %+v, %s: the input gradient with the prep differs from the one without", i, tt, when)
				}
			}
			check("made")
			if prep.kind != prepNone {
				kept++
			}
			check("reused")
			k[len(k)/2] = -2 * k[len(k)/2]
			check("after a kernel value changed")
		}
		if gemmRows != nil && kept == 0 {
			t.Errorf("on the row path no geometry kept its panels")
		}
	})
}

// TestKeptKernel: a layer keeps a prepared kernel (its input gradient's,
// or ForwardScores') when the kernel is small (prepSmall) or the prep,
// about four times the kernel, is no larger than the layer's output; else
// it keeps none and drops the one it had.
func TestKeptKernel(t *testing.T) {
	for _, tt := range []struct {
		in, out, h int
		want       bool
	}{
		{64, 64, 2, true},     // 36,864 values: small, whatever the output
		{128, 128, 4, false},  // 147,456 values, 4x4x128 = 2,048 outputs
		{128, 128, 67, false}, // 67x67x128 = 574,592 outputs < 589,824
		{128, 128, 68, true},  // 68x68x128 = 591,872 outputs
	} {
		c := NewConv2D("c", tt.in, tt.out, 3, 3, 1, 1, Same, ReLU, true)
		c.prep.kt = make([]float32, 1) // one kept from before
		c.y = NewTensor(1, tt.h, tt.h, tt.out)
		p := c.kept(&c.prep)
		if (p != nil) != tt.want {
			t.Errorf("%dx%d kernel, %dx%dx%d output: kept %v, want %v", tt.in, tt.out, tt.h, tt.h, tt.out, p != nil, tt.want)
		}
		if p == nil && c.prep.kt != nil {
			t.Errorf("%dx%d kernel, %dx%dx%d output: the prep kept from before was not dropped", tt.in, tt.out, tt.h, tt.h, tt.out)
		}
	}
}

func TestConvKernels(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		for i, tt := range kernelGeoms {
			c := NewConv2D("c", tt.in, tt.out, tt.kh, tt.kw, tt.sh, tt.sw, tt.pad, Linear, true)
			g := c.geometry(&Tensor{Shape: [4]int{tt.n, tt.h, tt.w, tt.in}})
			name := fmt.Sprintf("%d: %dx%dx%dx%d k%dx%d/s%dx%d %v -> %d", i, tt.n, tt.h, tt.w, tt.in, tt.kh, tt.kw, tt.sh, tt.sw, tt.pad, tt.out)
			r := rand.New(rand.NewPCG(uint64(i), 7))
			x := randSlice(r, g.n*g.h*g.w*g.in)
			k := randSlice(r, g.kh*g.kw*g.in*g.out)
			b := randSlice(r, g.out)
			dy := randSlice(r, g.n*g.oh*g.ow*g.out)

			want := make([]float32, len(dy))
			conv2DNaive(want, x, k, b, g)
			got := randSlice(r, len(dy)) // garbage: the kernel must overwrite it
			conv2DTo(got, x, k, b, g)
			if err := closeTo(got, want, 1e-5); err != nil {
				t.Errorf("%s: forward: %v", name, err)
			}
			for j, v := range want {
				want[j] = max(v, 0)
			}
			conv2DReLUTo(got, x, k, b, g)
			if err := closeTo(got, want, 1e-5); err != nil {
				t.Errorf("%s: forward with ReLU: %v", name, err)
			}
			conv2DNaive(want, x, k, nil, g)
			conv2DTo(got, x, k, nil, g)
			if err := closeTo(got, want, 1e-5); err != nil {
				t.Errorf("%s: forward without bias: %v", name, err)
			}

			wantDx := make([]float32, len(x))
			conv2DInputGradNaive(wantDx, dy, k, g)
			gotDx := randSlice(r, len(x))
			conv2DInputGradTo(gotDx, dy, nil, k, g, nil)
			if err := closeTo(gotDx, wantDx, 1e-5); err != nil {
				t.Errorf("%s: input gradient: %v", name, err)
			}
			if conv2DInputGradMasks(g) {
				// y doubles as a ReLU output: its negative half masks dy.
				masked := make([]float32, len(dy))
				reluMaskTo(masked, dy, got)
				conv2DInputGradNaive(wantDx, masked, k, g)
				conv2DInputGradTo(gotDx, dy, got, k, g, nil)
				if err := closeTo(gotDx, wantDx, 1e-5); err != nil {
					t.Errorf("%s: masked input gradient: %v", name, err)
				}
			}

			// The kernel gradient adds into what is there.
			dk0 := randSlice(r, len(k))
			wantDk := append([]float32(nil), dk0...)
			conv2DKernelGradNaive(wantDk, x, dy, g)
			gotDk := append([]float32(nil), dk0...)
			conv2DKernelGradAdd(gotDk, x, dy, g)
			if err := closeTo(gotDk, wantDk, 1e-5); err != nil {
				t.Errorf("%s: kernel gradient: %v", name, err)
			}
		}
	})
}

// TestConvKernelGradDefinition checks the kernel-gradient oracle itself
// against the forward oracle: for the loss L = Σ y·dy, dL/dk[j] is the
// change of L when k[j] moves, and L is linear in k.
func TestConvKernelGradDefinition(t *testing.T) {
	c := NewConv2D("c", 2, 3, 3, 3, 2, 1, Same, Linear, false)
	g := c.geometry(&Tensor{Shape: [4]int{2, 5, 4, 2}})
	r := rand.New(rand.NewPCG(3, 4))
	x, k := randSlice(r, g.n*g.h*g.w*g.in), randSlice(r, g.kh*g.kw*g.in*g.out)
	dy := randSlice(r, g.n*g.oh*g.ow*g.out)
	loss := func(k []float32) float64 {
		y := make([]float32, len(dy))
		conv2DNaive(y, x, k, nil, g)
		var s float64
		for i := range y {
			s += float64(y[i]) * float64(dy[i])
		}
		return s
	}
	dk := make([]float32, len(k))
	conv2DKernelGradNaive(dk, x, dy, g)
	for j := range k {
		kp := append([]float32(nil), k...)
		kp[j] += 1
		if d, want := loss(kp)-loss(k), float64(dk[j]); math.Abs(d-want) > 1e-4*max(1, math.Abs(want)) {
			t.Errorf("dk[%d] = %g, finite difference %g", j, want, d)
		}
	}
}

// TestSteadyStateAllocs checks that repeated forward and backward passes
// at batch 1 allocate nothing once the buffers exist (the 50 steps of
// Integrated Gradients), on a small model and, natively, on MAVIS.
func TestSteadyStateAllocs(t *testing.T) {
	small := Spec{Name: "small", Input: [3]int{12, 10, 3}, Layers: []LayerSpec{
		{Class: "Conv2D", Name: "c1", Config: LayerConfig{Filters: 8, KernelSize: []int{3, 3}, Padding: "same", Activation: "relu"}},
		{Class: "BatchNormalization", Name: "bn"},
		{Class: "MaxPooling2D", Name: "pool", Config: LayerConfig{PoolSize: []int{2, 2}}},
		{Class: "Conv2D", Name: "c2", Config: LayerConfig{Filters: 16, KernelSize: []int{3, 3}, Strides: []int{2, 2}, Padding: "same", Activation: "relu"}},
		{Class: "Conv2D", Name: "c3", Config: LayerConfig{Filters: 16, KernelSize: []int{3, 3}, Padding: "same", Activation: "relu"}},
		{Class: "Flatten", Name: "flat"},
		{Class: "Dense", Name: "out", Config: LayerConfig{Units: 4, Activation: "softmax"}},
	}}
	specs := []Spec{small}
	if runtime.GOARCH != "wasm" && !testing.Short() {
		mavis, err := Builtin("mavis")
		if err != nil {
			t.Fatal(err)
		}
		specs = append(specs, mavis)
	}
	for _, s := range specs {
		m, err := Build(s)
		if err != nil {
			t.Fatal(err)
		}
		randomizeWeights(m, 3)
		x := m.NewInput(1)
		copy(x.Data, randSlice(rand.New(rand.NewPCG(5, 5)), len(x.Data)))
		dy := NewTensor(1, 1, 1, m.Shapes[m.Logits()][2])
		dy.Data[0] = 1
		pass := func() {
			m.Forward(x)
			m.Backward(dy, m.Logits(), 0)
		}
		pass()
		if a := testing.AllocsPerRun(3, pass); a != 0 {
			t.Errorf("%s: %v allocations per forward+backward, want 0", s.Name, a)
		}
	}
}

func TestReluGrad(t *testing.T) {
	inf := float32(math.Inf(1))
	y := []float32{1, 0, float32(math.Copysign(0, -1)), -1, 1e-40, -1e-40, inf, -inf, 3}
	dy := []float32{10, 20, 30, 40, 50, 60, 70, 80, -90}
	want := []float32{10, 0, 0, 0, 50, 0, 70, 0, -90}
	got := make([]float32, len(y))
	reluGradTo(got, dy, y)
	for i := range want {
		if got[i] != want[i] || math.Signbit(float64(got[i])) != math.Signbit(float64(want[i])) {
			t.Errorf("y=%g dy=%g: got %g, want %g", y[i], dy[i], got[i], want[i])
		}
	}
	// reluMaskTo, the layer package's definition, agrees on random data.
	r := rand.New(rand.NewPCG(8, 8))
	y, dy = randSlice(r, 1000), randSlice(r, 1000)
	want = make([]float32, len(y))
	reluMaskTo(want, dy, y)
	reluGradTo(got[:0:0], nil, nil)
	got = make([]float32, len(y))
	reluGradTo(got, dy, y)
	if err := closeTo(got, want, 0); err != nil {
		t.Error(err)
	}
}

// TestPassesIndependentOfWorkers checks that a forward pass and the input
// gradient give the same bits on every run and with any number of workers
// (each output is summed by one worker in a fixed order; only the kernel
// gradient's partial sums depend on the worker count), on MAVIS with
// random weights and, in -short mode, a small model.
func TestPassesIndependentOfWorkers(t *testing.T) {
	s, err := Builtin("mavis")
	if err != nil {
		t.Fatal(err)
	}
	if testing.Short() {
		s = Spec{Name: "small", Input: [3]int{30, 28, 3}, Layers: []LayerSpec{
			{Class: "Conv2D", Name: "c1", Config: LayerConfig{Filters: 64, KernelSize: []int{3, 3}, Padding: "same", Activation: "relu"}},
			{Class: "BatchNormalization", Name: "bn"},
			{Class: "MaxPooling2D", Name: "pool", Config: LayerConfig{PoolSize: []int{2, 2}}},
			{Class: "Conv2D", Name: "c2", Config: LayerConfig{Filters: 32, KernelSize: []int{3, 3}, Padding: "same", Activation: "relu"}},
			{Class: "Flatten", Name: "flat"},
			{Class: "Dense", Name: "out", Config: LayerConfig{Units: 4, Activation: "softmax"}},
		}}
	}
	m, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	randomizeWeights(m, 4)
	x := m.NewInput(1)
	r := rand.New(rand.NewPCG(6, 6))
	for i := range x.Data {
		x.Data[i] = float32(r.IntN(256))
	}
	dy := NewTensor(1, 1, 1, m.Shapes[m.Logits()][2])
	dy.Data[1] = 1
	pass := func() (logits, dx []float32) {
		m.Forward(x)
		m.Backward(dy, m.Logits(), 0)
		return append([]float32(nil), m.Output(m.Logits()).Data...), append([]float32(nil), m.InputGrad().Data...)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	wantZ, wantDx := pass()
	for _, p := range []int{1, 2, 3} {
		runtime.GOMAXPROCS(p)
		z, dx := pass()
		if i := sameBits(z, wantZ); i >= 0 {
			t.Errorf("procs=%d: logit %d is %g, with one worker %g", p, i, z[i], wantZ[i])
		}
		if i := sameBits(dx, wantDx); i >= 0 {
			t.Errorf("procs=%d: input gradient %d is %g, with one worker %g", p, i, dx[i], wantDx[i])
		}
	}
}

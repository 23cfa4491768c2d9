package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// Benchmarks in gonum's style: benchmarkConv at a geometry plus named
// wrappers at MAVIS's real shapes, and whole-model passes. Each reports
// GFLOP/s counting 2 FLOPs per multiply-add of the convolutions and dense
// layers actually needed (the model's element-wise layers are not counted):
// one MAVIS forward at batch 1 is 1.376 GFLOP. nn/BENCHMARKS.md has the
// numbers and the commands.
//
//	go test -run '^$' -bench . -count 3 ./nn
//	GOEXPERIMENT=simd go test -run '^$' -bench . -count 3 ./nn
//	PATH=$PATH:$(go env GOROOT)/lib/wasm GOOS=js GOARCH=wasm go test -run '^$' -bench . -count 3 ./nn

type convPass int

const (
	passForward convPass = iota
	passInputGrad
	passKernelGrad
)

func benchmarkConv(b *testing.B, n, h, w, in, out, k int, pass convPass) {
	c := NewConv2D("c", in, out, k, k, 1, 1, Same, ReLU, true)
	r := rand.New(rand.NewPCG(1, 1))
	copy(c.Kernel.Value, randSlice(r, len(c.Kernel.Value)))
	x := &Tensor{Shape: [4]int{n, h, w, in}, Data: randSlice(r, n*h*w*in)}
	y := c.Forward(x)
	dy := &Tensor{Shape: y.Shape, Data: randSlice(r, y.Len())}
	if pass == passKernelGrad {
		c.Kernel.Grad = make([]float32, len(c.Kernel.Value))
	}
	if pass != passForward {
		c.Backward(dy) // allocate the layer's gradient buffers
	}
	flops := 2 * float64(k*k*in*out) * float64(y.Len()/out)
	b.ReportAllocs()
	cpu0 := cpuSeconds() // before ResetTimer: under wasm it allocates
	b.ResetTimer()
	for range b.N {
		switch pass {
		case passForward:
			c.Forward(x)
		case passInputGrad:
			// Backward computes dx (and the kernel gradient when training).
			c.Backward(dy)
		case passKernelGrad:
			c.Backward(dy)
		}
	}
	if pass == passKernelGrad {
		flops *= 2 // dx and dk
	}
	reportFlops(b, flops, cpu0)
}

// The first MAVIS convolution and the one that dominates its cost.
func BenchmarkConv224x3to64Forward(b *testing.B) {
	benchmarkConv(b, 1, 224, 224, 3, 64, 3, passForward)
}
func BenchmarkConv224x3to64InputGrad(b *testing.B) {
	benchmarkConv(b, 1, 224, 224, 3, 64, 3, passInputGrad)
}
func BenchmarkConv112x64to64Forward(b *testing.B) {
	benchmarkConv(b, 1, 112, 112, 64, 64, 3, passForward)
}
func BenchmarkConv112x64to64InputGrad(b *testing.B) {
	benchmarkConv(b, 1, 112, 112, 64, 64, 3, passInputGrad)
}

// BenchmarkConv112x64to64InputGradNoWinograd is the input gradient
// without the vector Winograd path (where the build has one: the row
// path, the ReLU mask applied in its ring), against InputGrad.
func BenchmarkConv112x64to64InputGradNoWinograd(b *testing.B) {
	defer func(on bool) { gemmWinogradVec = on }(gemmWinogradVec)
	gemmWinogradVec = false
	benchmarkConv(b, 1, 112, 112, 64, 64, 3, passInputGrad)
}
func BenchmarkConv112x64to64Backward(b *testing.B) {
	benchmarkConv(b, 1, 112, 112, 64, 64, 3, passKernelGrad)
}

// The same layer through each path, to compare them with the kernel in use:
// im2col, Winograd (its products on the kernel in use, its transforms in
// Go) and the row path (the kernel's row kernel, or convRowGo).
func BenchmarkConv112x64to64ForwardIm2col(b *testing.B) {
	defer func(on bool, rows rowKernel) { gemmWinograd, gemmRows = on, rows }(gemmWinograd, gemmRows)
	gemmWinograd, gemmRows = false, nil
	benchmarkConv(b, 1, 112, 112, 64, 64, 3, passForward)
}
func BenchmarkConv112x64to64ForwardWinograd(b *testing.B) {
	defer func(on bool) { gemmWinograd = on }(gemmWinograd)
	gemmWinograd = true
	benchmarkConv(b, 1, 112, 112, 64, 64, 3, passForward)
}

// BenchmarkConv112x64to64ForwardWinogradVec runs the vector Winograd path
// (AVX-512, or SIMD128 under js/wasm) as the forward pass of the layer,
// which the layers never do (its rounding moves max-pool choices: see
// conv_kernel_winograd_simd_wasm.go), to show what it would save against
// Forward.
func BenchmarkConv112x64to64ForwardWinogradVec(b *testing.B) {
	if winogradVec == nil {
		b.Skip("no vector Winograd path in this build")
	}
	r := rand.New(rand.NewPCG(1, 1))
	c := NewConv2D("c", 64, 64, 3, 3, 1, 1, Same, ReLU, true)
	copy(c.Kernel.Value, randSlice(r, len(c.Kernel.Value)))
	g := c.geometry(&Tensor{Shape: [4]int{1, 112, 112, 64}})
	x, y := randSlice(r, g.n*g.h*g.w*g.in), make([]float32, g.n*g.oh*g.ow*g.out)
	nw := workers()
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for range b.N {
		cw := getConvWork(opForward, g, nw)
		if !winogradVec(cw, y, x, c.Kernel.Value, c.Bias.Value, true, nw) {
			b.Fatal("the vector Winograd path does not take the layer")
		}
		cw.put()
	}
	reportFlops(b, 2*float64(9*64*64)*float64(g.oh*g.ow), cpu0)
}
func BenchmarkConv112x64to64ForwardRows(b *testing.B) {
	defer func(on bool, rows rowKernel) { gemmWinograd, gemmRows = on, rows }(gemmWinograd, gemmRows)
	gemmWinograd = false
	if gemmRows == nil {
		gemmRows = convRowGo
	}
	benchmarkConv(b, 1, 112, 112, 64, 64, 3, passForward)
}

// The same layer with each micro-kernel this build and CPU can run (with
// its own choice of Winograd or im2col).
func BenchmarkConv112x64to64ForwardByKernel(b *testing.B) {
	defer useMicroKernel(microKernels[len(microKernels)-1])
	for _, k := range microKernels {
		b.Run(strings.ReplaceAll(k.name, " ", "-"), func(b *testing.B) {
			useMicroKernel(k)
			benchmarkConv(b, 1, 112, 112, 64, 64, 3, passForward)
		})
	}
}

// The deep, tiny layers.
func BenchmarkConv14x32to16Forward(b *testing.B) { benchmarkConv(b, 1, 14, 14, 32, 16, 3, passForward) }
func BenchmarkConv7x16to8Forward(b *testing.B)   { benchmarkConv(b, 1, 7, 7, 16, 8, 3, passForward) }

// randomizeWeights gives every kernel and bias He-uniform random values
// (batch-norm statistics keep Build's identity values).
func randomizeWeights(m *Model, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 9))
	for _, p := range m.Params() {
		switch {
		case strings.HasSuffix(p.Name, "/kernel"):
			fanIn := len(p.Value) / p.Shape[len(p.Shape)-1]
			a := math.Sqrt(6 / float64(fanIn))
			for i := range p.Value {
				p.Value[i] = float32((r.Float64()*2 - 1) * a)
			}
		case strings.HasSuffix(p.Name, "/bias"):
			for i := range p.Value {
				p.Value[i] = float32(r.Float64()*0.2 - 0.1)
			}
		}
	}
}

// modelFlops returns the FLOPs per sample of a model's forward pass, of
// its input gradient (every convolution and dense layer's dx, the first
// layer's included: explainers need the gradient at the image) and of its
// parameter gradients.
func modelFlops(m *Model) (fwd, dx, dk float64) {
	for i, l := range m.Layers {
		switch l := l.(type) {
		case *Conv2D:
			s := m.Shapes[i]
			f := 2 * float64(l.KH*l.KW*l.In*l.Out) * float64(s[0]*s[1])
			fwd += f
			dx += f
			dk += f
		case *Dense:
			f := 2 * float64(l.In*l.Out)
			fwd += f
			dx += f
			dk += f
		}
	}
	return fwd, dx, dk
}

// reportFlops stops the timer and reports flopsPerOp*b.N over the
// wall-clock time as GFLOP/s and over the CPU time since cpu0 as
// GFLOP/cpu-s (natively and under node).
func reportFlops(b *testing.B, flopsPerOp, cpu0 float64) {
	b.StopTimer()
	b.ReportMetric(flopsPerOp*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	reportCPU(b, flopsPerOp*float64(b.N), cpu0)
}

func benchModel(b *testing.B, name string, n int) (*Model, *Tensor) {
	m, err := BuildBuiltin(name)
	if err != nil {
		b.Fatal(err)
	}
	randomizeWeights(m, 1)
	x := m.NewInput(n)
	r := rand.New(rand.NewPCG(2, 2))
	for i := range x.Data {
		x.Data[i] = float32(r.IntN(256))
	}
	return m, x
}

func BenchmarkMavisForward(b *testing.B) {
	m, x := benchModel(b, "mavis", 1)
	fwd, _, _ := modelFlops(m)
	m.Forward(x)
	b.ReportAllocs()
	cpu0 := cpuSeconds() // before ResetTimer: under wasm it allocates
	b.ResetTimer()
	for range b.N {
		m.Forward(x)
	}
	reportFlops(b, fwd, cpu0)
}

// BenchmarkMavisForwardScores is BenchmarkMavisForward through
// ForwardScores, as xai's RISE and Score-CAM score their images (the
// GFLOP counted as for the direct sums).
func BenchmarkMavisForwardScores(b *testing.B) {
	m, x := benchModel(b, "mavis", 1)
	fwd, _, _ := modelFlops(m)
	last := len(m.Layers) - 1
	m.ForwardScores(x, last)
	b.ReportAllocs()
	cpu0 := cpuSeconds() // before ResetTimer: under wasm it allocates
	b.ResetTimer()
	for range b.N {
		m.ForwardScores(x, last)
	}
	reportFlops(b, fwd, cpu0)
}

// BenchmarkMavisForwardInputGrad is one step of Saliency or Integrated
// Gradients: forward, then the gradient of a logit back to the image.
func BenchmarkMavisForwardInputGrad(b *testing.B) {
	m, x := benchModel(b, "mavis", 1)
	fwd, dx, _ := modelFlops(m)
	dy := NewTensor(1, 1, 1, m.Shapes[m.Logits()][2])
	dy.Data[0] = 1
	m.Forward(x)
	m.Backward(dy, m.Logits(), 0)
	b.ReportAllocs()
	cpu0 := cpuSeconds() // before ResetTimer: under wasm it allocates
	b.ResetTimer()
	for range b.N {
		m.Forward(x)
		m.Backward(dy, m.Logits(), 0)
	}
	reportFlops(b, fwd+dx, cpu0)
}

// BenchmarkMavisInputGrad is the backward pass alone (Grad-CAM's and IG's
// gradient after a forward).
func BenchmarkMavisInputGrad(b *testing.B) {
	m, x := benchModel(b, "mavis", 1)
	_, dx, _ := modelFlops(m)
	dy := NewTensor(1, 1, 1, m.Shapes[m.Logits()][2])
	dy.Data[0] = 1
	m.Forward(x)
	m.Backward(dy, m.Logits(), 0)
	b.ReportAllocs()
	cpu0 := cpuSeconds() // before ResetTimer: under wasm it allocates
	b.ResetTimer()
	for range b.N {
		m.Backward(dy, m.Logits(), 0)
	}
	reportFlops(b, dx, cpu0)
}

// BenchmarkMavisTrainStep is one training step at batch 32: forward in
// training mode, softmax cross-entropy gradient at the logits, backward
// with parameter gradients (no optimiser update).
func BenchmarkMavisTrainStep(b *testing.B) {
	if runtime.GOARCH == "wasm" {
		b.Skip("training runs natively")
	}
	const batch = 32
	m, x := benchModel(b, "mavis", batch)
	fwd, dx, dk := modelFlops(m)
	m.SetTraining(true)
	logits := m.Logits()
	classes := m.Shapes[logits][2]
	dy := NewTensor(batch, 1, 1, classes)
	step := func() {
		m.ZeroGrad()
		p := m.Forward(x)
		// d(mean cross-entropy)/d(logits) = (p - onehot) / batch, label n % classes.
		for n := range batch {
			for c := range classes {
				v := p.Data[n*classes+c]
				if c == n%classes {
					v--
				}
				dy.Data[n*classes+c] = v / batch
			}
		}
		m.Backward(dy, logits, 0)
	}
	step()
	b.ReportAllocs()
	cpu0 := cpuSeconds() // before ResetTimer: under wasm it allocates
	b.ResetTimer()
	for range b.N {
		step()
	}
	reportFlops(b, batch*(fwd+dx+dk), cpu0)
	b.ReportMetric(batch*float64(b.N)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkMavisLayers times each layer of MAVIS at batch 1 on its own:
// the forward pass, and the backward pass as an explainer runs it (no
// parameter gradients; the first convolution's input gradient included).
// The sub-benchmarks are named by layer index and name, so that a profile
// of where a pass goes needs no profiler. Each also reports the CPU time
// per pass (cpu-ms/op), which a busy machine inflates less than the wall
// clock:
//
//	PATH=$PATH:$(go env GOROOT)/lib/wasm GOOS=js GOARCH=wasm go test ./nn -run '^$' -bench MavisLayers -benchtime 5x
func BenchmarkMavisLayers(b *testing.B) {
	m, x := benchModel(b, "mavis", 1)
	logits := m.Logits()
	dy := NewTensor(1, 1, 1, m.Shapes[logits][2])
	dy.Data[0] = 1
	m.Forward(x)
	m.Backward(dy, logits, 0)
	for i := 0; i <= logits; i++ {
		l := m.Layers[i]
		in := x
		if i > 0 {
			in = m.Output(i - 1)
		}
		g := m.Grad(i)
		b.Run(fmt.Sprintf("%02d-%s/forward", i, l.Name()), func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuSeconds()
			for b.Loop() {
				l.Forward(in)
			}
			reportCPUTime(b, cpu0)
		})
		b.Run(fmt.Sprintf("%02d-%s/backward", i, l.Name()), func(b *testing.B) {
			l.Forward(in) // Backward uses what the last Forward cached
			b.ReportAllocs()
			cpu0 := cpuSeconds()
			for b.Loop() {
				l.Backward(g)
			}
			reportCPUTime(b, cpu0)
		})
	}
}

// reportCPUTime reports the CPU milliseconds per iteration since cpu0
// (from cpuSeconds) as "cpu-ms/op".
func reportCPUTime(b *testing.B, cpu0 float64) {
	if cpu0 == 0 {
		return
	}
	if d := cpuSeconds() - cpu0; d > 0 {
		b.ReportMetric(d*1e3/float64(b.N), "cpu-ms/op")
	}
}

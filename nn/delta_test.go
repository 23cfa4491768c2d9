package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The incremental runner is held to the full forward pass of the same
// model, bit for bit: the recomputed values go through the same kernels,
// and the kept ones have unchanged inputs.

// deltaOddSpec exercises the geometry the built-in models do not: odd
// sizes, strides 2, valid padding, a linear convolution without bias, a
// 3x3 stride-2 'same' pool, a separate ReLU layer and a Winograd-sized
// (8-channel) 3x3 convolution on an odd grid.
func deltaOddSpec() Spec {
	conv := func(name string, f, k, s int, pad, act string, bias bool) LayerSpec {
		return LayerSpec{Class: "Conv2D", Name: name, Config: LayerConfig{Filters: f,
			KernelSize: []int{k, k}, Strides: []int{s, s}, Padding: pad, Activation: act, UseBias: &bias}}
	}
	return Spec{Name: "odd", Input: [3]int{23, 19, 2}, Layers: []LayerSpec{
		conv("c0", 8, 3, 1, "same", "relu", true),
		{Class: "BatchNormalization", Name: "bn0"},
		conv("c1", 9, 3, 1, "same", "linear", false),
		{Class: "ReLU", Name: "r1"},
		conv("c2", 8, 5, 2, "valid", "relu", true),
		{Class: "MaxPooling2D", Name: "p2", Config: LayerConfig{PoolSize: []int{3, 3}, Strides: []int{2, 2}, Padding: "same"}},
		{Class: "Dropout", Name: "d2", Config: LayerConfig{Rate: 0.5}},
		conv("c3", 8, 2, 2, "same", "relu", true),
		{Class: "Flatten", Name: "f"},
		{Class: "Dense", Name: "out", Config: LayerConfig{Units: 4, Activation: "softmax"}},
	}}
}

// deltaStemSpec is the stem of the common ImageNet networks, which the
// built-in models and deltaOddSpec lack: a 7x7 stride-2 'same' convolution
// (three columns of padding, windows that straddle the border), a 2x2
// pool of an odd grid, a 1x1 convolution and a 'valid' 3x3 one with
// more output channels than input, on 31x29 colour images.
func deltaStemSpec() Spec {
	conv := func(name string, f, k, s int, pad, act string) LayerSpec {
		bias := true
		return LayerSpec{Class: "Conv2D", Name: name, Config: LayerConfig{Filters: f,
			KernelSize: []int{k, k}, Strides: []int{s, s}, Padding: pad, Activation: act, UseBias: &bias}}
	}
	return Spec{Name: "stem", Input: [3]int{31, 29, 3}, Layers: []LayerSpec{
		conv("c0", 8, 7, 2, "same", "relu"),
		{Class: "BatchNormalization", Name: "bn0"},
		{Class: "MaxPooling2D", Name: "p0", Config: LayerConfig{PoolSize: []int{2, 2}, Strides: []int{2, 2}, Padding: "valid"}},
		conv("c1", 8, 1, 1, "same", "relu"),
		conv("c2", 12, 3, 1, "valid", "relu"),
		{Class: "Flatten", Name: "f"},
		{Class: "Dense", Name: "out", Config: LayerConfig{Units: 3, Activation: "softmax"}},
	}}
}

// deltaModel builds a model with random weights and random batch-norm
// statistics (so that batch-norm is not the identity).
func deltaModel(t testing.TB, s Spec, seed uint64) *Model {
	t.Helper()
	m, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	Init(m, seed)
	rng := rand.New(rand.NewPCG(seed, 9))
	for _, l := range m.Layers {
		switch l := l.(type) {
		case *BatchNorm:
			for c := range l.C {
				l.Gamma.Value[c] = float32(0.5 + rng.Float64())
				l.Beta.Value[c] = float32(rng.NormFloat64() * 0.1)
				l.Mean.Value[c] = float32(rng.NormFloat64() * 0.1)
				l.Var.Value[c] = float32(0.5 + rng.Float64())
			}
		case *Conv2D:
			if l.Bias != nil {
				for j := range l.Bias.Value {
					l.Bias.Value[j] = float32(rng.NormFloat64() * 0.05)
				}
			}
		}
	}
	return m
}

// changeMask marks pixels of an n x h x w batch: "random" marks each with
// probability 0.03, "blob" a random disc per sample, "row" one random
// row segment.
func changeMask(rng *rand.Rand, kind string, n, h, w int) []bool {
	m := make([]bool, n*h*w)
	for b := range n {
		s := m[b*h*w : (b+1)*h*w]
		switch kind {
		case "random":
			for i := range s {
				s[i] = rng.Float64() < 0.03
			}
		case "blob":
			cy, cx := rng.IntN(h), rng.IntN(w)
			r := 1 + rng.IntN(max(1, min(h, w)/5))
			for y := max(0, cy-r); y < min(h, cy+r+1); y++ {
				for x := max(0, cx-r); x < min(w, cx+r+1); x++ {
					if (y-cy)*(y-cy)+(x-cx)*(x-cx) <= r*r {
						s[y*w+x] = true
					}
				}
			}
		case "row":
			y, x0 := rng.IntN(h), rng.IntN(w)
			for x := x0; x < min(w, x0+1+rng.IntN(w)); x++ {
				s[y*w+x] = true
			}
		}
	}
	return m
}

// perturb gives the marked pixels new values: zero (deletion to black)
// or random.
func perturb(rng *rand.Rand, x *Tensor, mask []bool) {
	C := x.Shape[3]
	zero := rng.IntN(2) == 0
	for p, v := range mask {
		if !v {
			continue
		}
		for c := range C {
			if zero {
				x.Data[p*C+c] = 0
			} else {
				x.Data[p*C+c] = float32(255 * rng.Float64())
			}
		}
	}
}

func sameBits(a, b []float32) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// checkDelta runs steps successive updates of the given kind and holds
// every incremental layer's output and the logits to a full pass.
func checkDelta(t *testing.T, m *Model, n int, kind string, steps int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	x := m.NewInput(n)
	for i := range x.Data {
		x.Data[i] = float32(255 * rng.Float64())
	}
	last := m.Logits()
	d := NewDelta(m, last)
	got := append([]float32(nil), d.Forward(x).Data...)
	in := m.InputShape()
	for step := 0; step <= steps; step++ {
		if step > 0 {
			mask := changeMask(rng, kind, n, in[0], in[1])
			perturb(rng, x, mask)
			got = append(got[:0], d.Update(x, mask).Data...)
		}
		want := m.ForwardTo(x, last)
		if i := sameBits(got, want.Data); i >= 0 {
			t.Fatalf("%s step %d: logits differ at %d: got %v, want %v", kind, step, i, got, want.Data)
		}
		for l := range d.pre {
			ref := m.Output(l)
			if l+1 < d.pre && d.fused[l+1] {
				ref = m.Output(l + 1) // the convolution's buffer holds the batch-norm's output
			}
			if i := sameBits(d.outs[l].Data, ref.Data); i >= 0 {
				t.Fatalf("%s step %d: layer %d (%s) differs at %d: got %g, want %g", kind, step, l, m.Layers[l].Name(), i, d.outs[l].Data[i], ref.Data[i])
			}
		}
	}
}

func TestDeltaEqualsForward(t *testing.T) {
	for _, tt := range []struct {
		name  string
		spec  func() Spec
		n     int
		steps int
	}{
		{"fashion", fashionSpec, 1, 6},
		{"fashion-batch3", fashionSpec, 3, 3},
		{"odd", deltaOddSpec, 2, 6},
		{"stem", deltaStemSpec, 2, 6},
		{"mavis", mavisSpec, 1, 2},
	} {
		for _, kind := range []string{"random", "blob", "row"} {
			t.Run(tt.name+"/"+kind, func(t *testing.T) {
				if tt.name == "mavis" {
					if testing.Short() {
						t.Skip("MAVIS at 224x224 in -short")
					}
					checkDelta(t, deltaModel(t, tt.spec(), 3), tt.n, kind, tt.steps, 5)
					return
				}
				// Every convolution path: Delta's blocks (Winograd, im2col)
				// and its runs (the row path) against each path's full pass.
				forEachKernel(t, func(t *testing.T) {
					checkDelta(t, deltaModel(t, tt.spec(), 3), tt.n, kind, tt.steps, 5)
				})
			})
		}
	}
}

func TestDeltaRunsOf(t *testing.T) {
	// Two rows of 6: runs at both edges, a single position, a full row.
	dirty := []bool{
		true, true, false, true, false, true,
		true, true, true, true, true, true,
	}
	runs, n := deltaRunsOf(nil, dirty, 2, 6)
	want := []deltaRun{{0, 0, 2}, {0, 3, 4}, {0, 5, 6}, {1, 0, 6}}
	if n != 10 || len(runs) != len(want) {
		t.Fatalf("got %v (%d positions), want %v (10)", runs, n, want)
	}
	for i := range want {
		if runs[i] != want[i] {
			t.Errorf("run %d = %v, want %v", i, runs[i], want[i])
		}
	}
}

// TestDeltaWrongMask is the contract: a changed pixel left unmarked is
// what makes the result differ, and marking it makes it right.
func TestDeltaWrongMask(t *testing.T) {
	m := deltaModel(t, fashionSpec(), 4)
	rng := rand.New(rand.NewPCG(4, 4))
	x := m.NewInput(1)
	for i := range x.Data {
		x.Data[i] = float32(255 * rng.Float64())
	}
	last := m.Logits()
	d := NewDelta(m, last)
	d.Forward(x)
	mask := make([]bool, 28*28)
	p, q := 14*28+13, 3*28+20 // q is changed but not marked
	x.Data[p] += 200
	x.Data[q] += 200
	mask[p] = true
	wrong := append([]float32(nil), d.Update(x, mask).Data...)
	want := append([]float32(nil), m.ForwardTo(x, last).Data...)
	if sameBits(wrong, want) < 0 {
		t.Fatalf("an unmarked changed pixel gave the full pass's logits %v", want)
	}
	// Start again from the old input, mark both, and the result is exact.
	x.Data[p] -= 200
	x.Data[q] -= 200
	d.Forward(x)
	x.Data[p] += 200
	x.Data[q] += 200
	mask[q] = true
	if got := d.Update(x, mask).Data; sameBits(got, want) >= 0 {
		t.Fatalf("marked: got %v, want %v", got, want)
	}
}

// TestDeltaWork checks that small changes are incremental (the
// convolutions' work is a small fraction of a full pass) and that an
// empty change recomputes nothing.
func TestDeltaWork(t *testing.T) {
	if testing.Short() {
		t.Skip("MAVIS at 224x224 in -short")
	}
	m := deltaModel(t, mavisSpec(), 6)
	x := m.NewInput(1)
	for i := range x.Data {
		x.Data[i] = float32(i % 251)
	}
	d := NewDelta(m, m.Logits())
	d.Forward(x)
	if d.Work != 1 {
		t.Errorf("first pass work %g, want 1", d.Work)
	}
	mask := make([]bool, 224*224)
	d.Update(x, mask)
	if d.Work != 0 {
		t.Errorf("empty change: work %g, want 0", d.Work)
	}
	for y := 100; y < 108; y++ { // an 8x8 patch
		for c := 60; c < 68; c++ {
			mask[y*224+c] = true
			for k := range 3 {
				x.Data[(y*224+c)*3+k] = 0
			}
		}
	}
	got := append([]float32(nil), d.Update(x, mask).Data...)
	if !(d.Work > 0 && d.Work < 0.02) {
		t.Errorf("8x8 patch: work %g, want in (0, 0.02)", d.Work)
	}
	if want := m.ForwardTo(x, m.Logits()).Data; sameBits(got, want) >= 0 {
		t.Errorf("8x8 patch: got %v, want %v", got, want)
	}
}

// TestDeltaTraining: in training mode the layers from the first
// batch-norm on run their own Forward (the convolution before it is the
// same in both modes).
func TestDeltaTraining(t *testing.T) {
	m := deltaModel(t, fashionSpec(), 7)
	d := NewDelta(m, m.Logits())
	m.SetTraining(true)
	if p := d.prefix(); p != 1 {
		t.Errorf("training: %d incremental layers, want 1", p)
	}
	m.SetTraining(false)
	if p := d.prefix(); p != 6 {
		t.Errorf("inference: %d incremental layers, want 6 (up to the Flatten)", p)
	}
}

func TestDeltaWindows(t *testing.T) {
	// A 1-D hand-worked case: 7 inputs, window 3, stride 2, padding 1:
	// output j covers inputs 2j-1..2j+1.
	src := []bool{false, false, false, true, false, false, false}
	dst := make([]bool, 4)
	tmp := make([]bool, 5)
	if n := deltaWindowsTo(dst, tmp, src, 1, 1, 7, 1, 4, 1, 3, 1, 2, 0, 1); n != 2 {
		t.Errorf("marked %d, want 2", n)
	}
	want := []bool{false, true, true, false}
	for i := range want {
		if dst[i] != want[i] {
			t.Errorf("dst = %v, want %v", dst, want)
			break
		}
	}
}

// TestDeltaWeightsChanged: new weights make the next Update a full pass
// with them, whatever the mask says.
func TestDeltaWeightsChanged(t *testing.T) {
	m := deltaModel(t, fashionSpec(), 8)
	x := m.NewInput(1)
	for i := range x.Data {
		x.Data[i] = float32(i % 97)
	}
	last := m.Logits()
	d := NewDelta(m, last)
	d.Forward(x)
	m.Layers[0].(*Conv2D).Kernel.Value[5] += 0.5
	m.Layers[1].(*BatchNorm).Mean.Value[3] += 0.25
	got := append([]float32(nil), d.Update(x, make([]bool, 28*28)).Data...)
	if d.Work != 1 {
		t.Errorf("work %g after new weights, want 1 (a full pass)", d.Work)
	}
	if want := m.ForwardTo(x, last).Data; sameBits(got, want) >= 0 {
		t.Errorf("got %v, want %v", got, want)
	}
	d.Update(x, make([]bool, 28*28))
	if d.Work != 0 {
		t.Errorf("work %g for no change with the same weights, want 0", d.Work)
	}
}

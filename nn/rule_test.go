package nn

// Backward rules: hand-worked cases (finite differences do not apply to a
// modified backward pass), the Rescale rule's summation-to-delta on a
// random network, and the rules' fallbacks to the ordinary gradient.

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func ruleModel(t *testing.T, in [3]int, layers []LayerSpec, params map[string][]float32) *Model {
	t.Helper()
	m, err := Build(Spec{Name: "rule", Input: in, Layers: layers})
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range params {
		p := m.Param(name)
		if p == nil || len(p.Value) != len(v) {
			t.Fatalf("parameter %s: %v", name, p)
		}
		copy(p.Value, v)
	}
	return m
}

func tensorOf(shape [4]int, v ...float32) *Tensor {
	return &Tensor{Shape: shape, Data: v}
}

// A dense layer 3 -> 2 with a ReLU, worked by hand:
//
//	K = 1 −1    b = (0.5, 1)    x = (1, 2, −1):  u = (5.5, −3),  y = (5.5, 0)
//	    2  0                    x⁰ = (0, 0, 1):  u⁰ = (0.5, 4),  y⁰ = (0.5, 4)
//	    0  3
//
// and the gradient dy = (−2, 3) arriving from above. The rule decides what
// passes the ReLU (g); the input gets K·g:
//
//	gradient  g = (−2, 0)             dx = (−2, −4, 0)
//	guided    g = (0, 0)              dx = (0, 0, 0)
//	deconv    g = (0, 3)              dx = (−3, 0, 9)
//	rescale   g = (−2·1, 3·4/7)       dx = (−2 − 12/7, −4, 36/7)
//
// Rescale's slopes are the secants (5.5 − 0.5)/(5.5 − 0.5) = 1 and
// (0 − 4)/(−3 − 4) = 4/7, and its multipliers add up to the output change:
// Σ dx·(x − x⁰) = −26/7 − 8 − 72/7 = −22 = Σ dy·(y − y⁰) = −2·5 + 3·(−4).
func TestRuleDenseHandWorked(t *testing.T) {
	layers := []LayerSpec{{Class: "Dense", Name: "d", Config: LayerConfig{Units: 2, Activation: "relu"}}}
	params := map[string][]float32{"d/kernel": {1, -1, 2, 0, 0, 3}, "d/bias": {0.5, 1}}
	x := tensorOf([4]int{1, 1, 1, 3}, 1, 2, -1)
	x0 := tensorOf([4]int{1, 1, 1, 3}, 0, 0, 1)
	dy := tensorOf([4]int{1, 1, 1, 2}, -2, 3)
	for _, tt := range []struct {
		rule Rule
		want []float64
	}{
		{Gradient, []float64{-2, -4, 0}},
		{Guided, []float64{0, 0, 0}},
		{Deconv, []float64{-3, 0, 9}},
		{Rescale, []float64{-2 - 12./7, -4, 36. / 7}},
	} {
		m := ruleModel(t, [3]int{1, 1, 3}, layers, params)
		m.SetRule(tt.rule)
		if tt.rule == Rescale {
			y0 := m.ForwardReference(x0, 0)
			if !slices.Equal(y0.Data, []float32{0.5, 4}) {
				t.Fatalf("reference output %v, want [0.5 4]", y0.Data)
			}
		}
		y := m.Forward(x)
		if !slices.Equal(y.Data, []float32{5.5, 0}) {
			t.Fatalf("%v: output %v, want [5.5 0] (the rule must not change the forward pass)", tt.rule, y.Data)
		}
		dx := m.Backward(dy, 0, 0)
		nearRule(t, tt.rule.String(), dx.Data, tt.want, 1e-6)
		if tt.rule == Rescale {
			var sum float64
			for i, v := range dx.Data {
				sum += float64(v) * float64(x.Data[i]-x0.Data[i])
			}
			if math.Abs(sum+22) > 1e-5 {
				t.Errorf("rescale: Σ dx·(x − x⁰) = %g, want −22", sum)
			}
		}
	}
}

// The same rules on an Activation("relu") layer, elementwise:
//
//	u  =  2   −1    3    0   −2        dy = 1   5   −2   4   −3
//	u⁰ =  1    2    3   −1   −4
//
//	gradient  1    0   −2    0    0
//	guided    1    0    0    0    0
//	deconv    1    5    0    4    0
//	rescale   1   5·(0−2)/(−1−2)  −2 (u = u⁰ > 0: the gradient)
//	              = 10/3          0 (0 − 0)/(0 + 1)   0 (both ≤ 0)
func TestRuleActivationHandWorked(t *testing.T) {
	layers := []LayerSpec{{Class: "Activation", Name: "a", Config: LayerConfig{Activation: "relu"}}}
	x := tensorOf([4]int{1, 1, 1, 5}, 2, -1, 3, 0, -2)
	x0 := tensorOf([4]int{1, 1, 1, 5}, 1, 2, 3, -1, -4)
	dy := tensorOf([4]int{1, 1, 1, 5}, 1, 5, -2, 4, -3)
	for _, tt := range []struct {
		rule Rule
		want []float64
	}{
		{Gradient, []float64{1, 0, -2, 0, 0}},
		{Guided, []float64{1, 0, 0, 0, 0}},
		{Deconv, []float64{1, 5, 0, 4, 0}},
		{Rescale, []float64{1, 10. / 3, -2, 0, 0}},
	} {
		m := ruleModel(t, [3]int{1, 1, 5}, layers, nil)
		m.SetRule(tt.rule)
		if tt.rule == Rescale {
			m.ForwardReference(x0, 0)
		}
		m.Forward(x)
		nearRule(t, tt.rule.String(), m.Backward(dy, 0, 0).Data, tt.want, 1e-6)
	}
}

// Rescale through a 2x2 max-pool (Captum's rule), three windows worked by
// hand. Each output's difference Δy = y − y⁰ goes in two parts, max(y, y⁰)
// − y⁰ to the input's maximum and y − max(y, y⁰) to the reference's, each
// times the window's multiplier g; an element's multiplier is what it got
// over its own Δx (the routed gradient where Δx = 0):
//
//	x  = 3 1 | 5 2 | 1 6     x⁰ = 1 4 | 5 0 | 2 1     g = 3 | −3 | 1
//	     0 2 | 5 1 | 2 0          0 0 | 2 7 | 3 0
//
//	A: y = 3 (top left), y⁰ = 4 (top right): 0 to the top left, 3·(3 − 4) = −3
//	   to the top right, whose Δx = −3: multiplier 1.
//	B: y = 5 (top left, first of a tie), y⁰ = 7 (bottom right): 0 to the top
//	   left, which has Δx = 0 and takes the gradient −3; −3·(5 − 7) = 6 to the
//	   bottom right, Δx = −6: multiplier −1.
//	C: y = 6 (top right), y⁰ = 3 (bottom left): 1·(6 − 3) = 3 to the top
//	   right, Δx = 5: multiplier 0.6; 0 to the bottom left.
//
// Σ m·Δx = −3 + 6 + 3 = 6 = Σ g·Δy = 3·(−1) − 3·(−2) + 1·3.
func TestRuleRescaleMaxPoolHandWorked(t *testing.T) {
	m := ruleModel(t, [3]int{2, 6, 1}, []LayerSpec{
		{Class: "MaxPooling2D", Name: "pool"},
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "d", Config: LayerConfig{Units: 1}},
	}, map[string][]float32{"d/kernel": {3, -3, 1}})
	x := tensorOf([4]int{1, 2, 6, 1},
		3, 1, 5, 2, 1, 6,
		0, 2, 5, 1, 2, 0)
	x0 := tensorOf([4]int{1, 2, 6, 1},
		1, 4, 5, 0, 2, 1,
		0, 0, 2, 7, 3, 0)
	m.SetRule(Rescale)
	m.ForwardReference(x0, 2)
	m.Forward(x)
	dx := m.Backward(tensorOf([4]int{1, 1, 1, 1}, 1), 2, 0)
	nearRule(t, "rescale max-pool", dx.Data, []float64{
		0, 1, -3, 0, 0, 0.6,
		0, 0, 0, -1, 0, 0,
	}, 1e-6)
	// Guided and Deconv route by the forward argmax, as the gradient does.
	for _, r := range []Rule{Guided, Deconv} {
		m.SetRule(r)
		m.Forward(x)
		nearRule(t, r.String()+" max-pool", m.Backward(tensorOf([4]int{1, 1, 1, 1}, 1), 2, 0).Data, []float64{
			3, 0, -3, 0, 0, 1,
			0, 0, 0, 0, 0, 0,
		}, 0)
	}
}

// ruleNet is a small network with every layer kind the rules meet:
// convolutions with fused ReLUs, batch normalisation, max-pools (one with
// odd input sizes), an Activation ReLU, flatten, dense with and without
// ReLU.
func ruleNet(t *testing.T, seed uint64) *Model {
	t.Helper()
	m, err := Build(Spec{Name: "net", Input: [3]int{9, 9, 2}, Layers: []LayerSpec{
		{Class: "Conv2D", Name: "c1", Config: LayerConfig{Filters: 4, KernelSize: []int{3, 3}, Padding: "same", Activation: "relu"}},
		{Class: "BatchNormalization", Name: "bn1"},
		{Class: "MaxPooling2D", Name: "p1"},
		{Class: "Conv2D", Name: "c2", Config: LayerConfig{Filters: 3, KernelSize: []int{3, 3}, Padding: "same"}},
		{Class: "Activation", Name: "a2", Config: LayerConfig{Activation: "relu"}},
		{Class: "MaxPooling2D", Name: "p2"},
		{Class: "Flatten", Name: "f"},
		{Class: "Dense", Name: "d1", Config: LayerConfig{Units: 6, Activation: "relu"}},
		{Class: "Dense", Name: "d2", Config: LayerConfig{Units: 3}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	for _, p := range m.Params() {
		for i := range p.Value {
			p.Value[i] = float32(rng.NormFloat64() * 0.5)
		}
		if strings.HasSuffix(p.Name, "variance") {
			for i := range p.Value {
				p.Value[i] = 0.5 + rng.Float32()
			}
		}
	}
	return m
}

func ruleInput(rng *rand.Rand, n int) *Tensor {
	x := NewTensor(n, 9, 9, 2)
	for i := range x.Data {
		x.Data[i] = float32(rng.IntN(256)) / 32
	}
	return x
}

// TestRescaleSummationToDelta: DeepLIFT's multipliers of every output add
// up to that output's change, Σ_i m_i (x_i − x⁰_i) = z(x) − z(x⁰) (the
// summation-to-delta of Shrikumar et al.), for random networks, inputs and
// references, two samples at a time.
func TestRescaleSummationToDelta(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for seed := range uint64(20) {
		m := ruleNet(t, seed)
		last := len(m.Layers) - 1
		x, x0 := ruleInput(rng, 2), ruleInput(rng, 2)
		if seed%4 == 0 {
			clear(x0.Data) // the black reference: every pool window tied
		}
		m.SetRule(Rescale)
		z0 := slices.Clone(m.ForwardReference(x0, last).Data)
		z := slices.Clone(m.Forward(x).Data)
		for o := range 3 {
			dz := NewTensor(2, 1, 1, 3)
			dz.Data[o], dz.Data[3+o] = 1, 1
			dx := m.Backward(dz, last, 0)
			for n := range 2 {
				var sum, scale float64
				for i, v := range dx.Sample(n) {
					c := float64(v) * float64(x.Sample(n)[i]-x0.Sample(n)[i])
					sum += c
					scale += math.Abs(c)
				}
				want := float64(z[n*3+o]) - float64(z0[n*3+o])
				if math.Abs(sum-want) > 1e-5*max(scale, math.Abs(want), 1) {
					t.Errorf("seed %d sample %d output %d: Σ m·Δx = %.7g, z − z⁰ = %.7g", seed, n, o, sum, want)
				}
			}
		}
	}
}

// TestRulesFallBackToGradient: Rescale against the input itself is the
// gradient (every difference is 0, so every multiplier falls back to the
// derivative), and a model set back to Gradient after any rule gives the
// ordinary gradient, bit for bit.
func TestRulesFallBackToGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	m := ruleNet(t, 7)
	ref := ruleNet(t, 7)
	last := len(m.Layers) - 1
	x := ruleInput(rng, 1)
	seed := tensorOf([4]int{1, 1, 1, 3}, 0.5, -1, 2)
	ref.Forward(x)
	want := slices.Clone(ref.Backward(seed, last, 0).Data)

	m.SetRule(Rescale)
	m.ForwardReference(x, last)
	m.Forward(x)
	if got := m.Backward(seed, last, 0).Data; !slices.Equal(got, want) {
		t.Errorf("Rescale against x itself differs from the gradient: %v, want %v", got[:6], want[:6])
	}
	for _, r := range []Rule{Guided, Deconv, Rescale} {
		m.SetRule(r)
		if r == Rescale {
			m.ForwardReference(ruleInput(rng, 1), last)
		}
		m.Forward(x)
		m.Backward(seed, last, 0)
		m.SetRule(Gradient)
		m.Forward(x)
		if got := m.Backward(seed, last, 0).Data; !slices.Equal(got, want) {
			t.Errorf("after %v, Gradient differs from the ordinary gradient", r)
		}
	}
	if m.Rule() != Gradient || Rescale.String() != "rescale" {
		t.Errorf("Rule() = %v", m.Rule())
	}
}

// TestRescaleNeedsReference: Backward under Rescale without a reference of
// the batch's size is a programmer error, reported as such.
func TestRescaleNeedsReference(t *testing.T) {
	m := ruleNet(t, 1)
	last := len(m.Layers) - 1
	rng := rand.New(rand.NewPCG(1, 1))
	for _, tt := range []struct {
		name string
		ref  *Tensor
	}{{"none", nil}, {"batch 2 for 1", ruleInput(rng, 2)}} {
		func() {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, "needs a reference of batch 1") {
					t.Errorf("%s: panic %v, want a missing-reference message", tt.name, r)
				}
			}()
			m.SetRule(Rescale)
			if tt.ref != nil {
				m.ForwardReference(tt.ref, last)
			}
			m.Forward(ruleInput(rng, 1))
			m.Backward(NewTensor(1, 1, 1, 3), last, 0)
		}()
	}
	func() {
		defer func() {
			if r := recover(); r == nil {
				t.Error("ForwardReference without the Rescale rule did not panic")
			}
		}()
		m.SetRule(Guided)
		m.ForwardReference(ruleInput(rng, 1), last)
	}()
}

func nearRule(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i, v := range got {
		if math.Abs(float64(v)-want[i]) > tol {
			t.Errorf("%s: got %v, want %v", what, got, want)
			return
		}
	}
}

// TestScaleShiftAndGather: the two reads of a forward pass LRP uses. A
// batch normalisation with gamma 2, beta 1, mean 1, variance 3 and
// epsilon 1e-3 is y = s·x + t with s = 2/√3.001 and t = 1 − s; a 2x2 pool
// that chose (top right, bottom left) gathers another tensor's elements
// at those places, not at that tensor's own maxima.
func TestScaleShiftAndGather(t *testing.T) {
	bn := NewBatchNorm("bn", 1, 1e-3, 0.99)
	bn.Gamma.Value[0], bn.Beta.Value[0], bn.Mean.Value[0], bn.Var.Value[0] = 2, 1, 1, 3
	s, sh := bn.ScaleShift()
	want := 2 / math.Sqrt(3.001)
	if math.Abs(float64(s[0])-want) > 1e-6 || math.Abs(float64(sh[0])-(1-want)) > 1e-6 {
		t.Errorf("ScaleShift = %v, %v; want %g, %g", s, sh, want, 1-want)
	}
	p := NewMaxPool2D("p", 2, 2, 2, 2, Valid)
	p.Forward(tensorOf([4]int{1, 2, 4, 1},
		0, 5, 9, 1,
		3, 2, 1, 1)) // maxima: top right (5) and top left (9, first of a window)
	dst := NewTensor(1, 1, 2, 1)
	p.Gather(dst, tensorOf([4]int{1, 2, 4, 1},
		10, 20, 30, 40,
		50, 60, 70, 80))
	if !slices.Equal(dst.Data, []float32{20, 30}) {
		t.Errorf("Gather = %v, want [20 30]", dst.Data)
	}
}

// TestRescalePoolTo: on disjoint windows, dividing only each window's two
// maxima gives the bits of dividing every element; on disjoint and
// overlapping windows alike (a line of n elements, windows of size k every
// s), the multipliers add up to the outputs' change, Σ_i dx_i Δx_i =
// Σ_o dy_o Δy_o, with ties between x and x⁰ at the maxima and windows of
// padding only.
func TestRescalePoolTo(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tt := range []struct{ n, k, s int }{{16, 2, 2}, {15, 3, 3}, {17, 3, 2}, {16, 4, 1}} {
		for trial := range 20 {
			x, x0 := make([]float32, tt.n), make([]float32, tt.n)
			for i := range x {
				x[i], x0[i] = float32(rng.IntN(8)), float32(rng.IntN(8))
				if rng.IntN(4) == 0 {
					x0[i] = x[i] // Δx = 0
				}
			}
			var y, y0, dy []float32
			var arg, arg0 []int32
			for lo := 0; lo+tt.k <= tt.n; lo += tt.s {
				a, a0 := lo, lo
				for i := lo; i < lo+tt.k; i++ {
					if x[i] > x[a] {
						a = i
					}
					if x0[i] > x0[a0] {
						a0 = i
					}
				}
				y, y0, arg, arg0 = append(y, x[a]), append(y0, x0[a0]), append(arg, int32(a)), append(arg0, int32(a0))
				dy = append(dy, float32(rng.IntN(9)-4))
			}
			// A window of padding only.
			y, y0, arg, arg0, dy = append(y, 0), append(y0, 0), append(arg, -1), append(arg0, -1), append(dy, 3)
			all := make([]float32, tt.n)
			rescalePoolTo(all, dy, x, x0, y, y0, arg, arg0, false)
			if tt.s >= tt.k {
				maxima := make([]float32, tt.n)
				rescalePoolTo(maxima, dy, x, x0, y, y0, arg, arg0, true)
				if !SameBits(maxima, all) {
					t.Fatalf("%+v, trial %d: the disjoint path %v, the general one %v", tt, trial, maxima, all)
				}
			}
			var in, out float64
			for i, m := range all {
				in += float64(m) * float64(x[i]-x0[i])
			}
			for o, g := range dy {
				out += float64(g) * float64(y[o]-y0[o])
			}
			if math.Abs(in-out) > 1e-4*(1+math.Abs(out)) {
				t.Fatalf("%+v, trial %d: Σ dx Δx = %g, Σ dy Δy = %g", tt, trial, in, out)
			}
		}
	}
}

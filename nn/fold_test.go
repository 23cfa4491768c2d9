package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// foldSpec has the pair ForwardTo folds (a BatchNorm, then a 2x2 pool)
// three times: on 4 channels with an odd height and width (the pool drops
// the last row and column), on 6 channels (the portable rows: not a
// multiple of 4), and on 8 channels before the head; and a BatchNorm
// that is not followed by a pool.
func foldSpec() Spec {
	conv := func(name string, f int) LayerSpec {
		return LayerSpec{Class: "Conv2D", Name: name, Config: LayerConfig{Filters: f, KernelSize: []int{3, 3}, Padding: "same", Activation: "relu"}}
	}
	pool := func(name string) LayerSpec {
		return LayerSpec{Class: "MaxPooling2D", Name: name, Config: LayerConfig{PoolSize: []int{2, 2}}}
	}
	bn := func(name string) LayerSpec { return LayerSpec{Class: "BatchNormalization", Name: name} }
	return Spec{Name: "fold", Input: [3]int{23, 21, 3}, Layers: []LayerSpec{
		conv("c0", 4), bn("bn0"), pool("p0"),
		conv("c1", 6), bn("bn1"), pool("p1"),
		conv("c2", 8), bn("bn2"), bn("bn3"), pool("p3"),
		{Class: "Flatten", Name: "flat"},
		{Class: "Dense", Name: "out", Config: LayerConfig{Units: 5, Activation: "softmax"}},
	}}
}

// foldModel builds foldSpec with random weights and batch-norm statistics,
// the scales of both signs, so that a pool of the scaled rows differs from
// the scaled pool.
func foldModel(t *testing.T) *Model {
	t.Helper()
	m, err := Build(foldSpec())
	if err != nil {
		t.Fatal(err)
	}
	Init(m, 3)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, l := range m.Layers {
		if b, ok := l.(*BatchNorm); ok {
			for c := range b.C {
				b.Gamma.Value[c] = float32((0.5 + rng.Float64()) * float64(1-2*(c%2)))
				b.Beta.Value[c] = float32(rng.NormFloat64() * 0.3)
				b.Mean.Value[c] = float32(rng.NormFloat64() * 0.1)
				b.Var.Value[c] = float32(0.5 + rng.Float64())
			}
		}
	}
	return m
}

// foldPass is what a pass of foldModel gives: every layer's output (the
// folded ones asked for after the backward pass), the pools' maxima
// positions and the input gradient.
type foldPass struct {
	outs [][]float32
	args [][]int32
	dx   []float32
}

func runFold(t *testing.T, fold bool, x *Tensor, dy []float32) (foldPass, *Model) {
	t.Helper()
	defer func(v bool) { foldBNPool = v }(foldBNPool)
	foldBNPool = fold
	m := foldModel(t)
	last := len(m.Layers) - 1
	m.Forward(x)
	var p foldPass
	for _, l := range m.Layers {
		if mp, ok := l.(*MaxPool2D); ok {
			p.args = append(p.args, slices.Clone(mp.arg))
		}
	}
	g := m.Output(last).Clone()
	copy(g.Data, dy)
	p.dx = slices.Clone(m.Backward(g, last, 0).Data)
	for i := range m.Layers {
		p.outs = append(p.outs, slices.Clone(m.Output(i).Data))
	}
	return p, m
}

// TestFoldBNPool checks that a pass with each BatchNorm folded into the
// 2x2 pool after it gives, bit for bit, the outputs (the BatchNorms' own,
// computed when asked), the pools' maxima positions and the input
// gradient of the pass with every layer run on its own, and that it does
// not write the folded BatchNorms' outputs.
func TestFoldBNPool(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := NewTensor(2, 23, 21, 3)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	dy := make([]float32, 2*5)
	for i := range dy {
		dy[i] = float32(rng.NormFloat64())
	}
	want, _ := runFold(t, false, x, dy)
	got, m := runFold(t, true, x, dy)

	// Which layers were folded, before anything asked for their outputs.
	defer func(v bool) { foldBNPool = v }(foldBNPool)
	foldBNPool = true
	m2 := foldModel(t)
	m2.Forward(x)
	var folded []string
	for i, l := range m2.Layers {
		if m2.folded[i] {
			folded = append(folded, l.Name())
			if l.(*BatchNorm).y != nil {
				t.Errorf("%s: folded, but its output buffer was allocated", l.Name())
			}
		}
	}
	if w := []string{"bn0", "bn1", "bn3"}; !slices.Equal(folded, w) {
		t.Errorf("folded %v, want %v", folded, w)
	}

	same := func(what string, a, b []float32) {
		t.Helper()
		if len(a) != len(b) {
			t.Fatalf("%s: %d values, want %d", what, len(a), len(b))
		}
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Fatalf("%s[%d] = %v, want %v (bit for bit)", what, i, a[i], b[i])
			}
		}
	}
	for i, l := range m.Layers {
		same(l.Name()+" output", got.outs[i], want.outs[i])
	}
	for k := range want.args {
		if !slices.Equal(got.args[k], want.args[k]) {
			t.Errorf("pool %d: the maxima's positions differ", k)
		}
	}
	same("input gradient", got.dx, want.dx)
	// The input gradient is not trivially zero: the check above would
	// pass on two empty passes.
	if slices.Max(got.dx) == 0 && slices.Min(got.dx) == 0 {
		t.Fatal("the input gradient is zero")
	}
}

// TestFoldedPassUnderRules: Guided backprop and the deconvnet reuse the
// prediction's pass (ForwardAgain), which the gradient rule ran with its
// BatchNorms folded into the pools after them. Their backward passes then
// give, bit for bit, the input gradient of a pass run under their own
// rule, which folds nothing.
func TestFoldedPassUnderRules(t *testing.T) {
	defer func(v bool) { foldBNPool = v }(foldBNPool)
	foldBNPool = true
	rng := rand.New(rand.NewPCG(7, 8))
	x := NewTensor(1, 23, 21, 3)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	for _, r := range []Rule{Guided, Deconv} {
		m, o := foldModel(t), foldModel(t)
		last := len(m.Layers) - 1
		m.ForwardKeep(x, last)
		if !slices.Contains(m.folded, true) {
			t.Fatal("the gradient rule's pass folded no BatchNorm")
		}
		dy := m.Output(last).Clone()
		for i := range dy.Data {
			dy.Data[i] = float32(rng.NormFloat64())
		}
		m.SetRule(r)
		before := m.passes
		m.ForwardAgain(x, last)
		if m.passes != before {
			t.Fatalf("%v: ForwardAgain ran the layers again", r)
		}
		got := slices.Clone(m.Backward(dy, last, 0).Data)
		o.SetRule(r)
		o.ForwardTo(x, last)
		if slices.Contains(o.folded, true) {
			t.Fatalf("%v: the oracle's pass folded a BatchNorm", r)
		}
		if want := o.Backward(dy, last, 0).Data; !SameBits(got, want) {
			t.Errorf("%v: the input gradient from the folded gradient pass differs from its own pass's", r)
		}
	}
}

package nn

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestForwardAgain: ForwardAgain returns the kept output, running no
// layer, exactly when nothing it depends on has changed, and otherwise
// the output of a fresh ForwardTo of the same model, bit for bit;
// ForwardKeep always runs the layers, and only it keeps a pass.
func TestForwardAgain(t *testing.T) {
	// o, the same model, is the oracle: ForwardTo of o never reuses.
	m, o := deltaModel(t, deltaOddSpec(), 11), deltaModel(t, deltaOddSpec(), 11)
	last := m.Logits()
	rng := rand.New(rand.NewPCG(11, 12))
	in := m.InputShape()
	x, other := NewTensor(1, in[0], in[1], in[2]), NewTensor(1, in[0], in[1], in[2])
	for i := range x.Data {
		x.Data[i], other.Data[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	dy := NewTensor(1, 1, 1, m.Shapes[last][2])
	dy.Data[1] = 1
	// fresh is what ForwardTo computes for x now.
	fresh := func() []float32 { return slices.Clone(o.ForwardTo(x, last).Data) }
	want := fresh()
	check := func(name string, reuse bool, want []float32) {
		t.Helper()
		before := m.passes
		got := slices.Clone(m.ForwardAgain(x, last).Data)
		if ran := m.passes != before; ran == reuse {
			t.Errorf("%s: ran the layers %v, want %v", name, ran, !reuse)
		}
		if !SameBits(got, want) {
			t.Errorf("%s: output %v, want %v", name, got, want)
		}
		// A backward pass after it gives the oracle's input gradient, and
		// leaves the outputs for the next reuse.
		m.Backward(dy, last, 0)
		o.ForwardTo(x, last)
		o.Backward(dy, last, 0)
		if !SameBits(m.InputGrad().Data, o.InputGrad().Data) {
			t.Errorf("%s: the input gradient after it differs from the oracle's", name)
		}
	}
	keep := func() {
		t.Helper()
		if before := m.passes; !SameBits(m.ForwardKeep(x, last).Data, fresh()) || m.passes == before {
			t.Error("ForwardKeep did not run the layers to ForwardTo's output")
		}
	}
	check("without ForwardKeep", false, want)
	check("again: ForwardTo keeps nothing", false, want)
	keep()
	check("after ForwardKeep", true, want)
	check("again, after a backward pass", true, want)
	m.ForwardTo(other, last)
	check("after ForwardTo of another input", false, want)
	keep()
	m.ForwardFrom(m.Output(1), 2, last)
	check("after ForwardFrom", false, want)
	keep()
	NewDelta(m, last).Forward(other)
	check("after a Delta pass", false, want)
	m.ForwardKeep(x, last-1)
	check("kept to another layer", false, want)
	keep()
	v := x.Data[5]
	x.Data[5] = v + 0.25
	check("changed input", false, fresh())
	x.Data[5] = v
	check("input restored, after another pass", false, want)
	for i, p := range m.Params() { // every kind of parameter, moving statistics included
		keep()
		v := p.Value[0]
		p.Value[0], o.Params()[i].Value[0] = v+0.125, v+0.125
		check("changed "+p.Name, false, fresh())
		keep()
		check("kept with "+p.Name+" changed", true, fresh())
		p.Value[0], o.Params()[i].Value[0] = v, v
		check(p.Name+" restored", false, want)
	}
	// Guided backprop and the deconvnet run the gradient's forward pass;
	// Rescale's keeps more (the fused ReLUs' inputs), so no pass is shared
	// with it either way.
	keep()
	for _, r := range []Rule{Guided, Deconv, Gradient} {
		m.SetRule(r)
		o.SetRule(r)
		check("kept under another rule, now "+r.String(), true, want)
	}
	m.SetRule(Rescale)
	if before := m.passes; m.ForwardAgain(x, last) != nil && m.passes == before {
		t.Error("under Rescale, ForwardAgain reused a pass kept under the gradient rule")
	}
	m.ForwardKeep(x, last)
	m.SetRule(Gradient)
	check("kept under Rescale, now gradient", false, want)
	keep() // in inference mode
	for _, mm := range []*Model{m, o} {
		mm.SetTraining(true)
		for _, l := range mm.Layers { // without dropout's randomness: batch statistics
			if d, ok := l.(*Dropout); ok {
				d.Training = false
			}
		}
	}
	check("switched to training", false, fresh())
	keep()
	check("kept in training", false, fresh())
}

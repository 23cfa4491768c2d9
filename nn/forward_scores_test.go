package nn

import (
	"math/rand/v2"
	"testing"
)

// TestForwardScores holds Model.ForwardScores to its contract on MAVIS's
// architecture with random weights: each convolution the vector Winograd
// path takes (when the build has one) ran there and every other one as
// ForwardTo runs it, bit for bit, recomputed from the pass's own inputs;
// its logits stay within float32 rounding of ForwardTo's; a sample's
// outputs do not depend on the batch; a ForwardTo after it is ForwardTo's
// again; ForwardAgain does not reuse it; and a Backward after it panics.
func TestForwardScores(t *testing.T) {
	if testing.Short() {
		t.Skip("MAVIS at 224x224 in -short")
	}
	m := deltaModel(t, mavisSpec(), 3)
	last := m.Logits()
	r := rand.New(rand.NewPCG(7, 7))
	x := m.NewInput(1)
	for i := range x.Data {
		x.Data[i] = float32(r.IntN(256))
	}
	direct := append([]float32(nil), m.ForwardTo(x, last).Data...)
	scores := append([]float32(nil), m.ForwardScores(x, last).Data...)
	if err := closeTo(scores, direct, 1e-4); err != nil {
		t.Errorf("ForwardScores' logits against ForwardTo's: %v", err)
	}
	taken := scoresLayers(t, m, x, last)
	if winogradVecTakes != nil && taken == 0 {
		t.Error("no convolution of MAVIS took the vector Winograd path")
	}
	t.Logf("%d convolutions on the vector Winograd path", taken)
	// A kernel changed since the last pass: its prepared panels are made again.
	for _, l := range m.Layers {
		if c, ok := l.(*Conv2D); ok {
			c.Kernel.Value[1] += 0.25
		}
	}
	m.ForwardScores(x, last)
	scoresLayers(t, m, x, last)
	for _, l := range m.Layers {
		if c, ok := l.(*Conv2D); ok {
			c.Kernel.Value[1] -= 0.25
		}
	}
	direct = append(direct[:0], m.ForwardTo(x, last).Data...)
	scores = append(scores[:0], m.ForwardScores(x, last).Data...)

	two := m.NewInput(2)
	copy(two.Sample(0), x.Data)
	for i := range two.Sample(1) {
		two.Sample(1)[i] = float32(r.IntN(256))
	}
	if z := m.ForwardScores(two, last); !SameBits(z.Data[:len(scores)], scores) {
		t.Error("ForwardScores in a batch of 2 gave the sample other logits than alone")
	}
	if z := m.ForwardTo(x, last); !SameBits(z.Data, direct) {
		t.Error("ForwardTo after ForwardScores is not ForwardTo's: a layer kept the scores path")
	}
	m.ForwardKeep(x, last)
	m.ForwardScores(x, last)
	if z := m.ForwardAgain(x, last); !SameBits(z.Data, direct) {
		t.Error("ForwardAgain after ForwardScores did not run ForwardTo's pass again")
	}
	m.Backward(NewTensor(1, 1, 1, len(direct)), last, 0) // after ForwardAgain's pass: allowed
	m.ForwardScores(x, last)
	defer func() {
		if recover() == nil {
			t.Error("Backward after ForwardScores did not panic")
		}
	}()
	m.Backward(NewTensor(1, 1, 1, len(direct)), last, 0)
}

// scoresLayers checks that each convolution of m's last pass, a
// ForwardScores of x, ran on the vector Winograd path when that takes it
// and as ForwardTo does otherwise, bit for bit, from its input in the same
// pass; it returns the number on the vector Winograd path.
func scoresLayers(t *testing.T, m *Model, x *Tensor, last int) (taken int) {
	t.Helper()
	for i, l := range m.Layers[:last+1] {
		c, ok := l.(*Conv2D)
		if !ok {
			continue
		}
		in := x
		if i > 0 {
			in = m.Output(i - 1)
		}
		g := c.geometry(in)
		want := make([]float32, g.n*g.oh*g.ow*g.out)
		k, b := c.Kernel.Value, biasValue(c.Bias)
		switch {
		case useWinogradVec(g):
			taken++
			winogradVecForward(t, want, in.Data, k, b, c.Act == ReLU, g)
		case c.Act == ReLU:
			conv2DReLUTo(want, in.Data, k, b, g)
		default:
			conv2DTo(want, in.Data, k, b, g)
		}
		if !SameBits(m.Output(i).Data, want) {
			t.Errorf("%s (vector Winograd %v): its output in ForwardScores is not that path's", c.Name(), useWinogradVec(g))
		}
	}
	return taken
}

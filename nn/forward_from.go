package nn

// ForwardFrom runs layers first..last on a, the input of layer first (the
// output of layer first-1, or the model input when first is 0), for a
// batch of any size, and returns the output of layer last. It is ForwardTo
// started part-way: an explainer that changes one layer's output (xai's
// Ablation-CAM zeroes one channel per sample) runs only the layers after
// it, on a batch of changed copies.
//
// The outputs of layers first..last are recorded for Output and for a
// Backward that stops at first or later; the outputs of the earlier layers
// stay those of an earlier pass, and a Backward below first would use
// their stale caches. a must not change until such a Backward has run.
// A shape mismatch between a and layer first's input is a programmer
// error: it panics.
func (m *Model) ForwardFrom(a *Tensor, first, last int) *Tensor {
	if first < 0 || first > last || last >= len(m.Layers) {
		panic(sprintf("nn: ForwardFrom layer %d to %d of %d", first, last, len(m.Layers)))
	}
	if first == 0 {
		return m.ForwardTo(a, last)
	}
	if s := m.Shapes[first-1]; a.Shape[1] != s[0] || a.Shape[2] != s[1] || a.Shape[3] != s[2] || len(a.Data) != a.Len() {
		panic(sprintf("nn: ForwardFrom: input %v to layer %s, want Nx%dx%dx%d", a, m.Layers[first].Name(), s[0], s[1], s[2]))
	}
	m.keepOutputs()
	m.passes++
	y := a
	for i := first; i <= last; i++ {
		y = m.Layers[i].Forward(y)
		m.outs[i], m.folded[i] = y, false
	}
	return y
}

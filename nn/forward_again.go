package nn

// againPass is what the last ForwardKeep ran.
type againPass struct {
	valid  bool
	passes uint64 // Model.passes after it
	last   int
	rule   Rule
	shape  [4]int
	x      []float32 // its input's values
	par    paramStamp
}

// ForwardKeep is ForwardTo(x, last) for a caller that may run the same
// input again, as xai's explainers do after predicting an image: it also
// records x's values and the parameters of layers 0..last for
// ForwardAgain: about 1.3 MB for MAVIS at 224x224, a copy of x and of the
// parameters (compared only, when they are those already recorded). As
// after ForwardTo, the first layer keeps referring to x, which must not
// change until a Backward after it, or after a ForwardAgain that reuses
// it, has run.
func (m *Model) ForwardKeep(x *Tensor, last int) *Tensor {
	y := m.ForwardTo(x, last)
	a := &m.again
	a.x = append(a.x[:0], x.Data...)
	a.par.same(m.Layers[:last+1])
	a.passes, a.last, a.rule, a.shape, a.valid = m.passes, last, m.rs.rule, x.Shape, !m.training(last)
	return y
}

// ForwardAgain returns the output that layer last already holds, without
// running a layer, when the model's last pass was a ForwardKeep to the same
// layer (or ForwardAgain's return of one; no ForwardTo, ForwardFrom or
// Delta pass since) under a rule with the same forward pass (any but
// Rescale: Guided backprop and the deconvnet reuse a prediction's pass),
// x holds the same values (bit for bit), no parameter has changed and no
// layer is in training mode. Otherwise it is ForwardTo, and keeps nothing:
// a caller that runs many inputs (Integrated Gradients' steps) pays for no
// copies, and after its first pass not even for the comparison.
//
// A Backward after it finds what it would after ForwardTo: the layers'
// backward passes leave their outputs as they are.
func (m *Model) ForwardAgain(x *Tensor, last int) *Tensor {
	a := &m.again
	if a.valid && a.passes == m.passes && a.last == last && sameForward(a.rule, m.rs.rule) && a.shape == x.Shape &&
		len(a.x) == len(x.Data) && SameBits(a.x, x.Data) && a.par.same(m.Layers[:last+1]) && !m.training(last) {
		m.x = x // the same values as the input they ran on
		return m.outs[last]
	}
	return m.ForwardTo(x, last)
}

// training reports whether one of layers 0..last is in training mode
// (its forward pass depends on more than its input and parameters).
func (m *Model) training(last int) bool {
	for _, l := range m.Layers[:last+1] {
		switch l := l.(type) {
		case *BatchNorm:
			if l.Training {
				return true
			}
		case *Dropout:
			if l.Training {
				return true
			}
		}
	}
	return false
}

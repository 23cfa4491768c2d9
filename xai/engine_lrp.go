package xai

import (
	"math"

	"github.com/mavis-xai/mavis/nn"
)

// Layer-wise relevance propagation, the engine's part: with engine.go the
// only code in xai that runs nn's layers. After a forward pass it walks
// the layers from the logits down, turning the relevance at each layer's
// output into the relevance at its input (see lrp.go for the rules and
// the conventions).
//
// The linear layers use the rules in the form of Montavon et al. (2019)
// give for an implementation: with v the layer's input, z = ρ(W)·v, s = R / z and
// c = ρ(W)ᵀ·s, the input's relevance is v ⊙ c. For the ε rule ρ(W) = W and
// z is the layer's own pre-activation, so c is the layer's ordinary input
// gradient of s; for α-β, ρ keeps the positive or negative weights, run by
// copies of the layer.
//
// Batch normalisation (y = s·x + t at inference) is folded into the next
// convolution or dense layer, through the max-pools, dropouts and
// flattens between them: the scale s joins that layer's weights and the
// shift t its bias (position-dependent at a zero-padded border). So
// relevance passes a batch normalisation unchanged, and the next linear
// layer's input v is s·x carried through the layers between (a max-pool
// gathers it at the maxima of its forward pass), which is its actual
// input minus t, without the cancellation of subtracting t in float32.

// lrpRule is the rule of every linear layer.
type lrpRule struct {
	alphaBeta   bool    // the α-β rule; false: the ε rule
	eps         float64 // ε
	alpha, beta float64 // α and β, α − β = 1
}

// lrpState is the propagation's storage, reused between calls.
type lrpState struct {
	r, rin  []float32   // relevance at the current layer's output and input
	v, a, b []float32   // the input v (and its positive and negative parts)
	zp, zn  []float32   // ρ(W)·v: positive and negative contributions
	sp, sn  []float32   // R / z
	cp, cn  []float32   // ρ(W)ᵀ·s, and a second product for inputs of both signs
	copies  []lrpCopies // [layer]: the positive- and negative-weight copies (α-β)
	fold    []int       // [layer]: the batch normalisation folded into layer i, or −1
	scale   [][]float32 // [layer]: that batch normalisation's s
	g1, g2  []float32   // carrying s·x through the layers between
	in, out nn.Tensor   // tensors over the buffers, for the layers' calls
	sums    []float64   // [layer]: Σ relevance at layer i's input
}

type lrpCopies struct {
	src      nn.Layer
	pos, neg nn.Layer
}

// relevance propagates relevance from the logit of class c, where it is
// score, down to the input, after a pass of e.x (batch 1) through the
// logits. It returns the input's relevance (H x W x C, in e.lrp.r) and
// leaves in e.lrp.sums the sum at every layer's input.
func (e *engine) relevance(rule lrpRule, c int, score float64) ([]float32, error) {
	m, s := e.m, &e.lrp
	if err := s.prepare(m, e.logits); err != nil {
		return nil, err
	}
	s.r = resize32(s.r, e.k)
	clear(s.r)
	s.r[c] = float32(score)
	for i := e.logits; i >= 0; i-- {
		in := e.x
		if i > 0 {
			in = m.Output(i - 1)
		}
		out := m.Output(i)
		s.rin = resize32(s.rin, in.Len())
		switch l := m.Layers[i].(type) {
		case *nn.Conv2D, *nn.Dense:
			s.linear(m, e.x, i, l, in, out, rule)
		case *nn.MaxPool2D:
			// Winner takes all: the window's relevance goes to its first
			// maximum, as the gradient does.
			s.out = nn.Tensor{Shape: out.Shape, Data: s.r}
			copy(s.rin, l.Backward(&s.out).Data)
		default:
			// Flatten, dropout, batch normalisation (folded), ReLU and
			// linear activations: the relevance of each unit passes on.
			copy(s.rin, s.r)
		}
		var sum float64
		for _, v := range s.rin {
			sum += float64(v)
		}
		s.sums[i] = sum
		s.r, s.rin = s.rin, s.r
	}
	return s.r, nil
}

// prepare checks that every layer up to the logits has an LRP rule, finds
// the batch normalisations folded into the linear layers, and sizes the
// sums.
func (s *lrpState) prepare(m *nn.Model, logits int) error {
	s.fold = resizeInts(s.fold, logits+1)
	s.scale = resizeShifts(s.scale, logits+1)
	s.sums = resize64(s.sums, logits+1)
	for i := range s.fold {
		s.fold[i], s.scale[i] = -1, nil
	}
	for i := 0; i <= logits; i++ {
		switch l := m.Layers[i].(type) {
		case *nn.Conv2D:
			if l.Act == nn.Softmax {
				return errorf("xai: lrp: layer %q has a softmax activation inside the network; LRP has no rule for it", l.Name())
			}
		case *nn.Dense:
			if l.Act == nn.Softmax {
				return errorf("xai: lrp: layer %q has a softmax activation inside the network; LRP has no rule for it", l.Name())
			}
		case *nn.BatchNorm:
			j := i + 1
			for j <= logits && passesShift(m.Layers[j]) {
				j++
			}
			if j > logits || !isLinear(m.Layers[j]) {
				return errorf("xai: lrp: batch normalisation %q is not followed by a convolution or dense layer (through pooling, dropout or flatten only), so LRP cannot fold it into one (as in Conv→ReLU→BatchNorm→Conv)", l.Name())
			}
			s.fold[j] = i
			s.scale[j], _ = l.ScaleShift()
		case *nn.MaxPool2D, *nn.Flatten, *nn.Dropout, *nn.ActivationLayer:
		default:
			return errorf("xai: lrp: no relevance rule for layer %q (%s)", l.Name(), m.Class(i))
		}
	}
	return nil
}

// passesShift reports whether a per-channel shift of a layer's input
// passes to its output unchanged (so a batch normalisation's shift can
// move past it).
func passesShift(l nn.Layer) bool {
	switch l.(type) {
	case *nn.MaxPool2D, *nn.Flatten, *nn.Dropout:
		return true
	}
	return false
}

func isLinear(l nn.Layer) bool {
	switch l.(type) {
	case *nn.Conv2D, *nn.Dense:
		return true
	}
	return false
}

// linear turns the relevance s.r at the output of layer i (a Conv2D or
// Dense; its ReLU, if any, passes relevance unchanged) into s.rin at its
// input in.
func (s *lrpState) linear(m *nn.Model, x *nn.Tensor, i int, l nn.Layer, in, out *nn.Tensor, rule lrpRule) {
	s.v = resize32(s.v, in.Len())
	if j := s.fold[i]; j >= 0 {
		s.canonical(m, x, j, i)
	} else {
		copy(s.v, in.Data)
	}
	if !rule.alphaBeta {
		s.epsilon(l, out, rule.eps)
		return
	}
	s.alphaBeta(i, l, in, out, rule)
}

// canonical writes into s.v the input of layer i with the batch
// normalisation j folded into it: s·x, x the normalisation's input,
// carried through layers j+1..i−1 (max-pools gather it at their forward
// pass's maxima; flatten and dropout pass it on).
func (s *lrpState) canonical(m *nn.Model, x *nn.Tensor, j, i int) {
	a := x
	if j > 0 {
		a = m.Output(j - 1)
	}
	sc := s.scale[i]
	s.g1 = resize32(s.g1, a.Len())
	for p, v := range a.Data {
		s.g1[p] = v * sc[p%len(sc)] // channels last: the channel is the index mod C
	}
	cur := nn.Tensor{Shape: a.Shape, Data: s.g1}
	for k := j + 1; k < i; k++ {
		if p, ok := m.Layers[k].(*nn.MaxPool2D); ok {
			o := m.Output(k)
			s.g2 = resize32(s.g2, o.Len())
			dst := nn.Tensor{Shape: o.Shape, Data: s.g2}
			p.Gather(&dst, &cur)
			cur, s.g1, s.g2 = dst, s.g2, s.g1
		}
	}
	copy(s.v, cur.Data)
}

// epsilon is the ε rule: s_j = R_j / (z_j + ε·sign(z_j)) with z the layer's
// pre-activation (its output where its ReLU is active; R is 0 where it is
// not), and R_in = v ⊙ Wᵀs, Wᵀs being the layer's input gradient of s.
func (s *lrpState) epsilon(l nn.Layer, out *nn.Tensor, eps float64) {
	relu := activation(l) == nn.ReLU
	s.sp = resize32(s.sp, len(s.r))
	for j, r := range s.r {
		z := float64(out.Data[j])
		switch {
		case r == 0 || relu && z <= 0:
			s.sp[j] = 0
		case z >= 0:
			s.sp[j] = float32(float64(r) / (z + eps))
		default:
			s.sp[j] = float32(float64(r) / (z - eps))
		}
	}
	s.out = nn.Tensor{Shape: out.Shape, Data: s.sp}
	c := l.Backward(&s.out).Data
	for j, v := range s.v {
		s.rin[j] = v * c[j]
	}
}

// alphaBeta is the α-β rule: with z⁺_j = Σ_i (v_i w_ij)⁺ and
// z⁻_j = Σ_i (v_i w_ij)⁻ (biases ignored),
//
//	R_i = Σ_j (α (v_i w_ij)⁺ / z⁺_j − β (v_i w_ij)⁻ / z⁻_j) R_j
//
// (a share whose z is 0 is dropped). (v w)⁺ = v⁺w⁺ + v⁻w⁻, so inputs of
// both signs take the copies twice.
func (s *lrpState) alphaBeta(i int, l nn.Layer, in, out *nn.Tensor, rule lrpRule) {
	pos, neg := s.copiesOf(i, l)
	n, k := len(s.v), len(s.r)
	s.a, s.b = resize32(s.a, n), resize32(s.b, n)
	mixed := false
	for j, v := range s.v {
		s.a[j], s.b[j] = splitSign(v)
		mixed = mixed || v < 0
	}
	s.zp, s.zn = resize32(s.zp, k), resize32(s.zn, k)
	s.in = nn.Tensor{Shape: in.Shape, Data: s.a}
	// z⁻ only when β weighs it (z+ needs one copy's passes per input sign).
	copy(s.zp, pos.Forward(&s.in).Data)
	if rule.beta != 0 {
		copy(s.zn, neg.Forward(&s.in).Data)
	}
	if mixed {
		s.in.Data = s.b
		for j, v := range neg.Forward(&s.in).Data {
			s.zp[j] += v
		}
		if rule.beta != 0 {
			for j, v := range pos.Forward(&s.in).Data {
				s.zn[j] += v
			}
		}
	}
	s.sp, s.sn = resize32(s.sp, k), resize32(s.sn, k)
	for j, r := range s.r {
		s.sp[j], s.sn[j] = 0, 0
		if s.zp[j] != 0 {
			s.sp[j] = float32(rule.alpha * float64(r) / float64(s.zp[j]))
		}
		if s.zn[j] != 0 && rule.beta != 0 {
			s.sn[j] = float32(rule.beta * float64(r) / float64(s.zn[j]))
		}
	}
	// R_in = v⁺ ⊙ (W⁺ᵀ s⁺ − W⁻ᵀ s⁻) + v⁻ ⊙ (W⁻ᵀ s⁺ − W⁺ᵀ s⁻), with α and β in s.
	s.cp, s.cn = resize32(s.cp, n), resize32(s.cn, n)
	s.out = nn.Tensor{Shape: out.Shape}
	back := func(l nn.Layer, sv []float32, dst []float32, sign float32) {
		s.out.Data = sv
		for j, v := range l.Backward(&s.out).Data {
			dst[j] += sign * v
		}
	}
	clear(s.cp)
	clear(s.cn)
	back(pos, s.sp, s.cp, 1)
	if rule.beta != 0 {
		back(neg, s.sn, s.cp, -1)
	}
	if mixed {
		back(neg, s.sp, s.cn, 1)
		if rule.beta != 0 {
			back(pos, s.sn, s.cn, -1)
		}
	}
	for j := range s.rin {
		s.rin[j] = s.a[j]*s.cp[j] + s.b[j]*s.cn[j]
	}
}

// copiesOf returns layer i's copies holding its positive and negative
// weights (no bias, no activation), made once per model layer and
// refilled from its current weights on every call.
func (s *lrpState) copiesOf(i int, l nn.Layer) (pos, neg nn.Layer) {
	if len(s.copies) <= i {
		s.copies = append(s.copies, make([]lrpCopies, i+1-len(s.copies))...)
	}
	cp := &s.copies[i]
	var src, wp, wn []float32
	switch l := l.(type) {
	case *nn.Conv2D:
		if cp.src != nn.Layer(l) {
			p := nn.NewConv2D(l.Name()+"+", l.In, l.Out, l.KH, l.KW, l.SH, l.SW, l.Pad, nn.Linear, false)
			q := nn.NewConv2D(l.Name()+"-", l.In, l.Out, l.KH, l.KW, l.SH, l.SW, l.Pad, nn.Linear, false)
			*cp = lrpCopies{src: l, pos: p, neg: q}
		}
		src, wp, wn = l.Kernel.Value, cp.pos.(*nn.Conv2D).Kernel.Value, cp.neg.(*nn.Conv2D).Kernel.Value
	case *nn.Dense:
		if cp.src != nn.Layer(l) {
			p := nn.NewDense(l.Name()+"+", l.In, l.Out, nn.Linear, false)
			q := nn.NewDense(l.Name()+"-", l.In, l.Out, nn.Linear, false)
			*cp = lrpCopies{src: l, pos: p, neg: q}
		}
		src, wp, wn = l.Kernel.Value, cp.pos.(*nn.Dense).Kernel.Value, cp.neg.(*nn.Dense).Kernel.Value
	}
	for j, w := range src {
		wp[j], wn[j] = splitSign(w)
	}
	return cp.pos, cp.neg
}

// splitSign returns max(v, 0) and min(v, 0) of a finite v without
// branches (a weight's sign is a coin flip): the sign bit, spread over the
// word, selects v for one and +0 for the other. Go's max and min on floats
// are runtime calls under wasm (7% of LRP's time under node).
func splitSign(v float32) (pos, neg float32) {
	b := math.Float32bits(v)
	m := uint32(int32(b) >> 31)
	return math.Float32frombits(b &^ m), math.Float32frombits(b & m)
}

// activation returns a Conv2D's or Dense's activation.
func activation(l nn.Layer) nn.Activation {
	switch l := l.(type) {
	case *nn.Conv2D:
		return l.Act
	case *nn.Dense:
		return l.Act
	}
	return nn.Linear
}

func resizeInts(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	return s[:n]
}

func resizeShifts(s [][]float32, n int) [][]float32 {
	if cap(s) < n {
		return make([][]float32, n)
	}
	return s[:n]
}

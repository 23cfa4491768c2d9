package nn

// Backward rules: explanation methods that are "a gradient with a modified
// backward pass" (guided backpropagation, the deconvnet, DeepLIFT) change
// what a model's ReLUs, and for DeepLIFT its max-pools, do in Backward.
// Model.SetRule selects the rule; every other layer (convolutions and dense
// layers without their ReLU, batch normalisation, flatten, dropout) keeps
// its ordinary backward pass, which is what all three methods prescribe.
// The default, Gradient, is the derivative, and a model without a rule
// runs exactly the code it always did.

// Rule is how a model's backward pass treats its ReLUs: the activation of
// a Conv2D or Dense layer and an ActivationLayer with ReLU. With u the
// ReLU's input, y = max(u, 0) its output and dy the gradient arriving from
// above:
//
//	Gradient  dx = dy·[u > 0]                 the derivative (0 at u = 0)
//	Guided    dx = dy·[u > 0]·[dy > 0]         guided backpropagation
//	Deconv    dx = max(dy, 0)                 the deconvnet
//	Rescale   dx = dy·(y − y⁰)/(u − u⁰)        DeepLIFT's Rescale rule (dy·[u > 0] where u = u⁰)
//
// Guided and Deconv route max-pools by the forward argmax, as Gradient
// does. Rescale compares the last Forward with the reference recorded by
// ForwardReference (u⁰, y⁰ are the reference's), sample by sample, and
// also changes MaxPool2D's backward (see rescalePoolTo). Its results are
// DeepLIFT's multipliers: Σ dx·(x − x⁰) over the input equals Σ dy·(z − z⁰)
// at the layer Backward started from (summation-to-delta), up to float32
// rounding.
type Rule int

const (
	Gradient Rule = iota
	// Guided is guided backpropagation (Springenberg et al., "Striving for
	// Simplicity: The All Convolutional Net", ICLR workshop 2015).
	Guided
	// Deconv is the deconvnet's backward pass through a ReLU (Zeiler and
	// Fergus, "Visualizing and Understanding Convolutional Networks", ECCV
	// 2014): the ReLU is applied to the signal going down, not masked by
	// the forward pass.
	Deconv
	// Rescale is DeepLIFT's Rescale rule (Shrikumar, Greenside and
	// Kundaje, "Learning Important Features Through Propagating Activation
	// Differences", ICML 2017), with Captum's rule for max-pools.
	Rescale
)

// sameForward reports whether passes under rules a and b run and keep
// the same: every rule's forward pass is the gradient's but Rescale's,
// which runs the fused ReLUs apart and keeps their inputs. (A gradient
// pass may fold a BatchNorm into the next pool, foldsBN; a backward pass
// under another rule asks Output for the folded output, which computes
// it.)
func sameForward(a, b Rule) bool { return a == b || (a != Rescale && b != Rescale) }

func (r Rule) String() string {
	switch r {
	case Guided:
		return "guided"
	case Deconv:
		return "deconv"
	case Rescale:
		return "rescale"
	}
	return "gradient"
}

// ruleState is what a model keeps for its rule. Only Rescale needs
// storage: a fused ReLU's pre-activation u (under Rescale the layer runs
// linear, so its own output holds u, and the ReLU's output goes to post),
// and of the reference, the fused ReLUs' pre-activations, the inputs of
// ActivationLayer ReLUs and of max-pools, with the pools' outputs and
// argmax.
type ruleState struct {
	rule           Rule
	pre            []*Tensor // [layer]: a fused ReLU's pre-activation at the last Forward (the layer's own output)
	post           []*Tensor // [layer]: its ReLU's output, the layer's output in the model
	refPre         []*Tensor // [layer]: the reference's pre-activation of a fused ReLU
	refIn, refOut  []*Tensor // [layer]: the reference's input and output (ActivationLayer, MaxPool2D)
	refArg         [][]int32 // [layer]: the reference's argmax (MaxPool2D)
	grad           []*Tensor // [layer]: the rule's gradient before a fused layer's linear part
	reference      bool      // ForwardReference has recorded since the rule was set
	refBatch, refN int       // the reference's batch size and last layer
}

// SetRule selects the backward rule of the model's ReLUs (and, for
// Rescale, its max-pools); Gradient restores the derivative. Rules are for
// inference: parameter gradients (training) are those of the modified
// backward pass. Setting Rescale drops any reference recorded before.
func (m *Model) SetRule(r Rule) {
	if r < Gradient || r > Rescale {
		panic(sprintf("nn: SetRule: unknown rule %d", int(r)))
	}
	m.rs.rule = r
	m.rs.reference = false
	if r != Rescale {
		// Keep no activations of Rescale alive (the rule's gradient
		// buffers stay, as the layers' own do).
		s := &m.rs
		s.pre, s.post, s.refPre, s.refIn, s.refOut, s.refArg = nil, nil, nil, nil, nil, nil
	}
}

// Rule returns the backward rule (Gradient unless SetRule chose another).
func (m *Model) Rule() Rule { return m.rs.rule }

// ForwardReference runs x0 (the reference input, the same batch size as
// the inputs to come) through layers 0..last and records what the Rescale
// rule needs of it; the next Forward then runs the input x, and Backward
// gives DeepLIFT's multipliers of x against x0, sample by sample. It
// returns the output of layer last for x0, valid until the next Forward.
// The model's rule must be Rescale.
func (m *Model) ForwardReference(x0 *Tensor, last int) *Tensor {
	if m.rs.rule != Rescale {
		panic("nn: ForwardReference needs the Rescale rule (SetRule(Rescale))")
	}
	y := m.ForwardTo(x0, last)
	s := &m.rs
	s.grow(len(m.Layers))
	for i := 0; i <= last; i++ {
		in := m.x
		if i > 0 {
			in = m.Output(i - 1)
		}
		if s.pre[i] != nil {
			s.refPre[i] = copyTo(s.refPre[i], s.pre[i])
			s.pre[i] = nil
		}
		switch l := m.Layers[i].(type) {
		case *ActivationLayer:
			if l.Act == ReLU {
				s.refIn[i] = copyTo(s.refIn[i], in)
			}
		case *MaxPool2D:
			s.refIn[i] = copyTo(s.refIn[i], in)
			s.refOut[i] = copyTo(s.refOut[i], l.y)
			s.refArg[i] = append(s.refArg[i][:0], l.arg...)
		}
	}
	s.reference, s.refBatch, s.refN = true, x0.Shape[0], last
	return y
}

func (s *ruleState) grow(n int) {
	for _, p := range []*[]*Tensor{&s.pre, &s.post, &s.refPre, &s.refIn, &s.refOut, &s.grad} {
		if len(*p) < n {
			*p = append(*p, make([]*Tensor, n-len(*p))...)
		}
	}
	if len(s.refArg) < n {
		s.refArg = append(s.refArg, make([][]int32, n-len(s.refArg))...)
	}
}

func copyTo(dst, src *Tensor) *Tensor {
	dst = reuse(dst, src.Shape)
	copy(dst.Data, src.Data)
	return dst
}

// forwardLayer runs layer i on x. Under Rescale a Conv2D or Dense with a
// ReLU runs linear, so that its output holds the pre-activation u, and
// the ReLU writes relu(u) into a buffer of the model's, which the next
// layer reads. (Its Backward masks with the layer's output, and u > 0
// where relu(u) > 0: after Rescale, Gradient needs no new forward pass.)
func (m *Model) forwardLayer(i int, x *Tensor) *Tensor {
	l := m.Layers[i]
	if m.rs.rule != Rescale {
		return l.Forward(x)
	}
	act := fusedReLU(l)
	if act == nil {
		return l.Forward(x)
	}
	s := &m.rs
	s.grow(len(m.Layers))
	*act = Linear
	u := l.Forward(x)
	*act = ReLU
	s.pre[i] = u
	s.post[i] = reuse(s.post[i], u.Shape)
	reluTo(s.post[i].Data, u.Data)
	return s.post[i]
}

// reluTo writes y = max(u, 0).
func reluTo(y, u []float32) {
	y = y[:len(u)]
	for i, v := range u {
		y[i] = relu(v)
	}
}

// fusedReLU returns the Act field of a Conv2D or Dense with a ReLU, or nil.
func fusedReLU(l Layer) *Activation {
	switch l := l.(type) {
	case *Conv2D:
		if l.Act == ReLU {
			return &l.Act
		}
	case *Dense:
		if l.Act == ReLU {
			return &l.Act
		}
	}
	return nil
}

// backwardLayer runs layer i's backward pass under the model's rule.
func (m *Model) backwardLayer(i int, dy *Tensor) *Tensor {
	l := m.Layers[i]
	r := m.rs.rule
	if r == Gradient {
		return l.Backward(dy)
	}
	s := &m.rs
	s.grow(len(m.Layers))
	if r == Rescale && !(s.reference && s.refBatch == dy.Shape[0] && i <= s.refN) {
		panic(sprintf("nn: Backward under the Rescale rule at layer %d needs a reference of batch %d through that layer (ForwardReference)", i, dy.Shape[0]))
	}
	in := m.x
	if i > 0 {
		in = m.Output(i - 1)
	}
	if act := fusedReLU(l); act != nil {
		// The rule replaces the ReLU's backward; the layer's linear part
		// runs as usual.
		var y []float32
		switch l := l.(type) {
		case *Conv2D:
			y = l.y.Data
		case *Dense:
			y = l.y.Data
		}
		mustShape(l.Name(), "backward", dy.Shape, m.Output(i).Shape)
		s.grad[i] = reuse(s.grad[i], dy.Shape)
		g := s.grad[i].Data
		switch r {
		case Guided:
			guidedTo(g, dy.Data, y)
		case Deconv:
			deconvTo(g, dy.Data)
		case Rescale:
			rescaleTo(g, dy.Data, s.pre[i].Data, s.refPre[i].Data)
		}
		*act = Linear
		dx := l.Backward(s.grad[i])
		*act = ReLU
		return dx
	}
	switch l := l.(type) {
	case *ActivationLayer:
		if l.Act != ReLU {
			break
		}
		mustShape(l.name, "backward", dy.Shape, l.y.Shape)
		l.dx = reuse(l.dx, dy.Shape)
		switch r {
		case Guided:
			guidedTo(l.dx.Data, dy.Data, l.y.Data)
		case Deconv:
			deconvTo(l.dx.Data, dy.Data)
		case Rescale:
			rescaleTo(l.dx.Data, dy.Data, in.Data, s.refIn[i].Data)
		}
		return l.dx
	case *MaxPool2D:
		if r != Rescale {
			break
		}
		mustShape(l.name, "backward", dy.Shape, l.y.Shape)
		l.dx = reuse(l.dx, l.xshape)
		disjoint := l.SH >= l.PH && l.SW >= l.PW
		rescalePoolTo(l.dx.Data, dy.Data, in.Data, s.refIn[i].Data, l.y.Data, s.refOut[i].Data, l.arg, s.refArg[i], disjoint)
		return l.dx
	}
	return l.Backward(dy)
}

// guidedTo is guided backpropagation through a ReLU: dx = dy where y > 0
// and dy > 0, else 0, without branches (maskPositive; on activations the
// conditions are coin flips), four per step as reluGradTo.
//
//	dx, dy, y: (n)
func guidedTo(dx, dy, y []float32) {
	dy, dx = dy[:len(y)], dx[:len(y)]
	i := 0
	for ; i+3 < len(y); i += 4 {
		_, _ = dx[i+3], dy[i+3]
		dx[i] = maskPositive(maskPositive(dy[i], y[i]), dy[i])
		dx[i+1] = maskPositive(maskPositive(dy[i+1], y[i+1]), dy[i+1])
		dx[i+2] = maskPositive(maskPositive(dy[i+2], y[i+2]), dy[i+2])
		dx[i+3] = maskPositive(maskPositive(dy[i+3], y[i+3]), dy[i+3])
	}
	for ; i < len(y); i++ {
		dx[i] = maskPositive(maskPositive(dy[i], y[i]), dy[i])
	}
}

// deconvTo is the deconvnet's ReLU: dx = max(dy, 0), without branches.
//
//	dx, dy: (n)
func deconvTo(dx, dy []float32) {
	dx = dx[:len(dy)]
	for i, v := range dy {
		dx[i] = maskPositive(v, v)
	}
}

// rescaleTo is DeepLIFT's Rescale rule through a ReLU: the multiplier is
// the secant slope (relu(u) − relu(u⁰)) / (u − u⁰), always in [0, 1], and
// the derivative [u > 0] where u = u⁰ (where the choice does not change
// the sum of contributions; Captum takes the gradient there too).
//
//	dx, dy, u, u0: (n)   u: pre-activations at the input, u0 at the reference
func rescaleTo(dx, dy, u, u0 []float32) {
	dy, dx, u0 = dy[:len(u)], dx[:len(u)], u0[:len(u)]
	for i, a := range u {
		b := u0[i]
		switch {
		case a > 0 && b > 0, a == b && a > 0:
			dx[i] = dy[i] // both on the linear side (or equal and active): slope 1
		case a <= 0 && b <= 0:
			dx[i] = 0 // both clipped (or equal and inactive): slope 0
		case a > 0: // b ≤ 0
			dx[i] = float32(float64(dy[i]) * float64(a) / (float64(a) - float64(b)))
		default: // a ≤ 0 < b
			dx[i] = float32(float64(dy[i]) * float64(b) / (float64(b) - float64(a)))
		}
	}
}

// rescalePoolTo is DeepLIFT through a max-pool by Captum's rule
// (captum.attr.DeepLift, deep_lift.py's maxpool): each window's output
// difference Δy = y − y⁰ is split into max(y, y⁰) − y⁰, sent to the
// input's maximum (arg), and y − max(y, y⁰), sent to the reference's
// maximum (arg0), each times the multiplier dy of the output; an input
// element's multiplier is what it received divided by its own difference
// Δx = x − x⁰. Where Δx = 0 it received exactly 0 (at the input's maximum
// y = x = x⁰ ≤ y⁰; at the reference's, y⁰ = x⁰ = x ≤ y), and it takes the
// gradient, the window's dy routed by arg, as Captum does. Both parts lie
// between 0 and Δx of the element they go to, so the multipliers stay
// within [0, 1]·dy per window, and summation-to-delta holds exactly:
// Σ_i m_i Δx_i = Σ_o dy_o Δy_o. (The authors' implementation routes by
// the gradient alone, which conserves the sum only when every element of
// a window has the same reference value: not so for an image reference.)
//
// With disjoint windows (strides at least the pool size) an element
// receives from one window at most, so only the two maxima of each window
// are divided, not every element of the input.
//
//	dx, x, x0: (input)   dy, y, y0, arg, arg0: (output)
func rescalePoolTo(dx, dy, x, x0, y, y0 []float32, arg, arg0 []int32, disjoint bool) {
	clear(dx)
	for o, g := range dy {
		a, a0 := arg[o], arg0[o]
		if a < 0 || a0 < 0 {
			continue // a window of padding only
		}
		top := y[o] // max(y, y⁰) in comparisons: Go's max is a runtime call under wasm
		if y0[o] > top {
			top = y0[o]
		}
		if x[a] == x0[a] {
			dx[a] += g // Δx = 0: the gradient (its share, top − y⁰, is 0)
		} else {
			dx[a] += g * (top - y0[o])
		}
		if x[a0] != x0[a0] { // else its share, y − top, is 0
			dx[a0] += g * (y[o] - top)
		}
	}
	// An element's sum of shares over its Δx; where Δx = 0 it holds the
	// gradient.
	div := func(i int32) {
		if v, d := dx[i], x[i]-x0[i]; v != 0 && d != 0 {
			dx[i] = float32(float64(v) / float64(d))
		}
	}
	if !disjoint {
		for i := range dx {
			div(int32(i))
		}
		return
	}
	for o, a := range arg[:len(dy)] {
		if a0 := arg0[o]; a >= 0 && a0 >= 0 {
			div(a)
			if a0 != a {
				div(a0)
			}
		}
	}
}

// What layer-wise relevance propagation reads of a forward pass (xai folds
// batch normalisation into the next linear layer, through the max-pools
// between them).

// ScaleShift returns the affine map a BatchNorm is at inference,
// y = s·x + t per channel, from the moving statistics (new slices).
func (b *BatchNorm) ScaleShift() (s, t []float32) {
	s, t = make([]float32, b.C), make([]float32, b.C)
	b.inferenceScaleShift(s, t)
	return s, t
}

// Gather writes into dst (the pool's output shape) the elements of x (its
// input shape) at the maxima the last Forward chose: x pooled with the
// routing of that forward pass, whatever x's own maxima. A window of
// padding only gives 0.
func (m *MaxPool2D) Gather(dst, x *Tensor) {
	mustShape(m.name, "gather", x.Shape, m.xshape)
	mustShape(m.name, "gather", dst.Shape, m.y.Shape)
	for o, a := range m.arg[:len(dst.Data)] {
		if a >= 0 {
			dst.Data[o] = x.Data[a]
		} else {
			dst.Data[o] = 0
		}
	}
}

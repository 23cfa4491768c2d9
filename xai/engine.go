package xai

import (
	"math"

	"github.com/mavis-xai/mavis/nn"
)

// The gradient engine: the only code in xai that talks to nn. It runs a
// forward pass to the logits, computes the softmax in float64 from them,
// seeds the backward pass with d(Score)/d(logits) and runs nn's backward
// pass down to the layer an explainer needs. Every explainer is a thin
// weighting of what it leaves in the model (activations, gradients) and in
// its own buffers (probabilities, scores).

// engine holds the buffers reused between passes. Its input buffer has a
// fixed batch size per call site, so steady-state passes allocate nothing
// (nn reuses its layer buffers while the batch size is unchanged).
type engine struct {
	m      *nn.Model
	logits int // index of the layer whose output holds the logits
	k      int // number of classes

	x     *nn.Tensor // input batch
	seed  *nn.Tensor // (N, 1, 1, k): d(Score)/d(logits) per sample
	z     []float64  // (N, k): the logits
	p     []float64  // (N, k): softmax of the logits, float64
	score []float64  // (N): Score of each sample
	p0    []float64  // (k): probabilities at a sweep's point 0
	z0    []float64  // (k): logits at a sweep's point 0

	lrp lrpState // relevance propagation's buffers (engine_lrp.go)
}

func newEngine(m *nn.Model) engine {
	l := m.Logits()
	s := m.Shapes[l]
	k := s[0] * s[1] * s[2]
	return engine{m: m, logits: l, k: k, p0: make([]float64, k), z0: make([]float64, k)}
}

// input returns the input buffer for a batch of n samples. Its contents
// are unspecified when the batch size changes.
func (e *engine) input(n int) *nn.Tensor {
	in := e.m.InputShape()
	if e.x == nil || e.x.Shape[0] != n {
		e.x = nn.NewTensor(n, in[0], in[1], in[2])
		e.seed = nn.NewTensor(n, 1, 1, e.k)
		e.p = make([]float64, n*e.k)
		e.z = make([]float64, n*e.k)
		e.score = make([]float64, n)
	}
	return e.x
}

// noBackward as pass's stop runs the forward pass only.
const noBackward = -1

// pass runs e.x forward to the logits; resolves the class (t.Class < 0:
// the argmax of sample 0's probabilities); records every sample's
// probabilities and score; and, unless stop is noBackward, seeds
// d(Score)/d(logits) and runs backward from the logits through layer stop.
// stop 0 reaches the input (m.InputGrad); stop i+1 leaves the gradient at
// layer i's output in m.Grad(i). It returns the class.
//
// A pass of one sample reuses the model's last pass when it ran the same
// input (nn.Model.ForwardAgain): an explanation of the image just
// predicted (Predict keeps its pass) starts from the prediction's forward
// pass.
func (e *engine) pass(t Target, stop int) int {
	var z *nn.Tensor
	if e.x.Shape[0] == 1 {
		z = e.m.ForwardAgain(e.x, e.logits)
	} else {
		z = e.m.ForwardTo(e.x, e.logits)
	}
	c := e.record(z, t)
	if stop == noBackward || stop > e.logits {
		return c
	}
	k := e.k
	for s := range e.x.Shape[0] {
		seed := e.seed.Data[s*k : (s+1)*k]
		if t.Kind == Probability {
			probabilitySeed(seed, e.p[s*k:(s+1)*k], c)
		} else {
			clear(seed)
			seed[c] = 1
		}
	}
	e.m.Backward(e.seed, e.logits, stop)
	return c
}

// passFrom runs a, a batch of layer from-1's outputs, through layers
// from..logits (nn.Model.ForwardFrom; no backward) and records it as pass
// does: the class (t.Class < 0: sample 0's argmax), and every sample's
// probabilities and score. It returns the class.
func (e *engine) passFrom(a *nn.Tensor, from int, t Target) int {
	return e.record(e.m.ForwardFrom(a, from, e.logits), t)
}

// record writes the probabilities (softmax64), logits and score of every
// sample of z, the logits of a batch, into e.p, e.z and e.score, growing
// them for a batch larger than e.x's, and returns the class: t.Class, or
// sample 0's argmax when t.Class < 0.
func (e *engine) record(z *nn.Tensor, t Target) int {
	n, k := z.Shape[0], e.k
	if len(e.score) < n {
		e.p = make([]float64, n*k)
		e.z = make([]float64, n*k)
		e.score = make([]float64, n)
	}
	for s := range n {
		softmax64(e.p[s*k:(s+1)*k], z.Data[s*k:(s+1)*k])
	}
	for i, v := range z.Data {
		e.z[i] = float64(v)
	}
	c := t.Class
	if c < 0 {
		c = argmax(e.p[:k])
	}
	for s := range n {
		if t.Kind == Probability {
			e.score[s] = e.p[s*k+c]
		} else {
			e.score[s] = e.z[s*k+c]
		}
	}
	return c
}

// probabilitySeed writes d p_c / d z_j = p_c (δ_cj − p_j), computing
// 1 − p_c as Σ_{j≠c} p_j so that it stays exact when p_c rounds to 1.
//
//	seed: (k)   p: (k) softmax probabilities in float64
func probabilitySeed(seed []float32, p []float64, c int) {
	var rest float64
	for j, v := range p {
		if j != c {
			rest += v
		}
	}
	for j, v := range p {
		if j == c {
			seed[j] = float32(p[c] * rest)
		} else {
			seed[j] = float32(-p[c] * v)
		}
	}
}

// softmax64 writes p_j = exp(z_j − max z) / Σ_k exp(z_k − max z) in
// float64.
//
//	p: (k)   z: (k)
func softmax64(p []float64, z []float32) {
	m := math.Inf(-1)
	for _, v := range z {
		m = max(m, float64(v))
	}
	var s float64
	for j, v := range z {
		p[j] = math.Exp(float64(v) - m)
		s += p[j]
	}
	for j := range p {
		p[j] /= s
	}
}

// argmax returns the index of the first largest value.
func argmax(p []float64) int {
	best := 0
	for j, v := range p {
		if v > p[best] {
			best = j
		}
	}
	return best
}

// sweep evaluates the gradient of the score with respect to the input at
// n points, b samples per pass. point(i, dst) writes point i into dst;
// use(i, g, score) receives the input gradient and score at point i. Every
// pass has the same batch size ceil(n / ceil(n/b)); the last one is padded
// by repeating its last point (without calling point again), so repeated
// sweeps allocate nothing. progress, when not nil, is called after every
// pass with the number of points done. With t.Class < 0 the class is that predicted for
// point 0. It returns the class, and leaves the probabilities and logits
// at point 0 in e.p0 and e.z0.
func (e *engine) sweep(n, b int, t Target, point func(i int, dst []float32), use func(i int, g []float32, score float64), progress func(done, total int)) (class int) {
	passes := (n + b - 1) / b
	b = (n + passes - 1) / passes
	x := e.input(b)
	class = t.Class
	first := true
	for start := 0; start < n; start += b {
		cnt := min(b, n-start)
		for s := range cnt {
			point(start+s, x.Sample(s))
		}
		for s := cnt; s < b; s++ {
			copy(x.Sample(s), x.Sample(cnt-1))
		}
		class = e.pass(Target{Class: class, Kind: t.Kind}, 0)
		if first {
			copy(e.p0, e.p[:e.k])
			copy(e.z0, e.z[:e.k])
			first = false
		}
		dx := e.m.InputGrad()
		for s := range cnt {
			use(start+s, dx.Sample(s), e.score[s])
		}
		if progress != nil {
			progress(start+cnt, n)
		}
	}
	return class
}

// rest returns 1 − p_c of sample s as Σ_{j≠c} p_j, exact when p_c rounds
// to 1 (see probabilitySeed).
func (e *engine) rest(s, c int) float64 {
	var r float64
	for j, v := range e.p[s*e.k : (s+1)*e.k] {
		if j != c {
			r += v
		}
	}
	return r
}

// spatialLayer resolves the layer a CAM explains: name, or the last Conv2D
// when name is empty. The layer must have a spatial output (a map over
// image positions: a convolution or pooling layer, or a BatchNorm or
// Dropout after one, not a Flatten, a Dense or what follows them) and
// come before the logits.
func (e *engine) spatialLayer(name string) (int, error) {
	m := e.m
	if name == "" {
		for i := e.logits - 1; i >= 0; i-- {
			if _, ok := m.Layers[i].(*nn.Conv2D); ok {
				return i, nil
			}
		}
		return -1, errorf("xai: the model has no Conv2D layer before its logits; name a layer with a spatial output")
	}
	i := m.Index(name)
	if i < 0 {
		return -1, errorf("xai: the model has no layer %q (%s)", name, layerList(m))
	}
	s := m.Shapes[i]
	// Spatial: an H x W map, or the 1 x 1 output of a convolution or
	// pooling layer, possibly through BatchNorm or Dropout; never what
	// follows a Flatten or Dense.
	spatial := s[0]*s[1] > 1
walk:
	for j := i; j >= 0; j-- {
		switch m.Layers[j].(type) {
		case *nn.Conv2D, *nn.MaxPool2D:
			spatial = true
			break walk
		case *nn.Dense, *nn.Flatten, *nn.SoftmaxLayer:
			spatial = false
			break walk
		}
	}
	if !spatial {
		return -1, errorf("xai: layer %q has no spatial output (its output is %dx%dx%d, one value per feature, not a map over image positions); Grad-CAM needs a convolution, pooling or normalisation layer before the Flatten", name, s[0], s[1], s[2])
	}
	if i >= e.logits {
		return -1, errorf("xai: layer %q is not before the logits layer %q", name, m.Layers[e.logits].Name())
	}
	return i, nil
}

func layerList(m *nn.Model) string {
	s := "layers:"
	for i, l := range m.Layers {
		if i > 0 {
			s += ","
		}
		s += " " + l.Name()
	}
	return s
}

// scan is sweep without the backward pass: it scores n points, b per
// pass (balanced and padded as sweep pads), giving use each point's score.
// Its passes are nn's ForwardScores: only their outputs count, so their
// convolutions may take Winograd's fewer multiplies.
// ctx, when not nil, is checked before every pass; a cancellation returns
// its error and the number of points done. With t.Class < 0 the class is
// that predicted for point 0. It returns the class, and leaves the
// probabilities and logits at point 0 in e.p0 and e.z0.
func (e *engine) scan(ctx Canceller, n, b int, t Target, point func(i int, dst []float32), use func(i int, score float64), progress func(done, total int)) (class, done int, err error) {
	passes := (n + b - 1) / b
	b = (n + passes - 1) / passes
	x := e.input(b)
	class = t.Class
	for start := 0; start < n; start += b {
		if err := cancelled(ctx); err != nil {
			return class, start, err
		}
		cnt := min(b, n-start)
		for s := range cnt {
			point(start+s, x.Sample(s))
		}
		for s := cnt; s < b; s++ {
			copy(x.Sample(s), x.Sample(cnt-1))
		}
		class = e.record(e.m.ForwardScores(x, e.logits), Target{Class: class, Kind: t.Kind})
		if start == 0 {
			copy(e.p0, e.p[:e.k])
			copy(e.z0, e.z[:e.k])
		}
		for s := range cnt {
			use(start+s, e.score[s])
		}
		if progress != nil {
			progress(start+cnt, n)
		}
	}
	return class, n, nil
}

// rulePass is pass with the model's ReLUs following rule r (nn.Guided or
// nn.Deconv) in the backward pass; the model is back on the gradient
// afterwards.
func (e *engine) rulePass(t Target, stop int, r nn.Rule) int {
	e.m.SetRule(r)
	defer e.m.SetRule(nn.Gradient)
	return e.pass(t, stop)
}

// ruleBackward runs the backward pass of the last pass again, from the
// same seed through layer stop, with the ReLUs following rule r (nn.Guided
// or nn.Deconv): a second backward pass over the same forward pass.
func (e *engine) ruleBackward(r nn.Rule, stop int) {
	e.m.SetRule(r)
	defer e.m.SetRule(nn.Gradient)
	e.m.Backward(e.seed, e.logits, stop)
}

// rescale runs DeepLIFT's Rescale rule (nn.Rescale) for x against the
// reference x0 (both 1 x H x W x C): the reference's forward pass, x's,
// and one backward pass from the multipliers of the logits, m_j with
// Σ_j m_j (z_j − z⁰_j) = Score(x) − Score(x0). For the logit target that
// is e_c; for the probability target it is the path integral of the
// softmax's gradient along the straight line from z⁰ to z (see
// softmaxSecant). It returns the class (t.Class, or x's prediction) and
// the reference's logits and probabilities; x's are in e.z and e.p, and
// the input multipliers in m.InputGrad().
func (e *engine) rescale(x, x0 *nn.Tensor, t Target) (c int, z0, p0 []float64) {
	e.m.SetRule(nn.Rescale)
	defer e.m.SetRule(nn.Gradient)
	in := e.input(1)
	copy(in.Data, x0.Data)
	zr := e.m.ForwardReference(in, e.logits)
	k := e.k
	z0, p0 = make([]float64, k), make([]float64, k)
	for j, v := range zr.Data[:k] {
		z0[j] = float64(v)
	}
	softmax64(p0, zr.Data[:k])
	copy(in.Data, x.Data)
	c = e.pass(t, noBackward)
	seed := e.seed.Data[:k]
	if t.Kind == Probability {
		m := make([]float64, k)
		softmaxSecant(m, z0, e.z[:k], c)
		for j, v := range m {
			seed[j] = float32(v)
		}
	} else {
		clear(seed)
		seed[c] = 1
	}
	e.m.Backward(e.seed, e.logits, 0)
	return c, z0, p0
}

// softmaxSecant writes the multipliers of the logits for the probability
// p_c: m_j = ∫_0^1 ∂p_c/∂z_j (z⁰ + α(z − z⁰)) dα, so that Σ_j m_j (z_j − z⁰_j)
// = p_c(z) − p_c(z⁰) (the fundamental theorem of calculus along the line).
// The softmax has no single-input Rescale rule; this is the same
// straight-line path integral Integrated Gradients takes, in the k
// logits. The integrand changes over a length of about 1/D along the
// path (D the spread of z − z⁰ over the classes), so it runs composite
// 16-point Gauss–Legendre panels of width about 2/D (at most 4096),
// accurate to float64 rounding (TestSoftmaxSecant).
//
//	m: (k)   z0, z: (k) logits of the reference and the input
func softmaxSecant(m []float64, z0, z []float64, c int) {
	k := len(z)
	lo, hi := math.Inf(1), math.Inf(-1)
	for j := range z {
		d := z[j] - z0[j]
		lo, hi = min(lo, d), max(hi, d)
	}
	panels := min(max(1, int(math.Ceil((hi-lo)/2))), 4096)
	alpha, weight, _ := alphas(GaussLegendre, 16)
	clear(m)
	p := make([]float64, k)
	for q := range panels {
		for i, a := range alpha {
			at := (float64(q) + a) / float64(panels)
			softmaxAt(p, z0, z, at)
			rest := 0.0
			for j, v := range p {
				if j != c {
					rest += v
				}
			}
			w := weight[i] / float64(panels)
			for j, v := range p {
				if j == c {
					m[j] += w * p[c] * rest
				} else {
					m[j] -= w * p[c] * v
				}
			}
		}
	}
}

// softmaxAt writes the softmax of z⁰ + α(z − z⁰) in float64.
func softmaxAt(p, z0, z []float64, alpha float64) {
	top := math.Inf(-1)
	for j := range z {
		p[j] = z0[j] + alpha*(z[j]-z0[j])
		top = max(top, p[j])
	}
	var s float64
	for j := range p {
		p[j] = math.Exp(p[j] - top)
		s += p[j]
	}
	for j := range p {
		p[j] /= s
	}
}

package nn

import (
	"runtime"
	"slices"
)

// Class is one output class: an identifier (a WordNet id, a folder name)
// and a human-readable name.
type Class struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Preprocess is the contract that turns an image into the model's input. It
// travels with the model in its weights file, so that explanations always see
// the input the model was trained on.
type Preprocess struct {
	Height   int    `json:"height"`
	Width    int    `json:"width"`
	Channels int    `json:"channels"` // 3 for RGB, 1 for grey
	Color    string `json:"color"`    // "rgb", "grey", or "none" (tensors only: not an image model)
	Scale    string `json:"scale"`    // "0..255" (raw bytes, MAVIS) or "0..1"
	Resize   string `json:"resize"`   // "bilinear" (default), "nearest", "bicubic", "lanczos3"
	Crop     string `json:"crop"`     // "none" (stretch, default) or "center" (centre square crop first)
}

// DefaultPreprocess returns the contract for raw 0..255 pixels at the given
// input shape, resized bilinearly, RGB or grey by channel count.
func DefaultPreprocess(in [3]int) Preprocess {
	p := Preprocess{Height: in[0], Width: in[1], Channels: in[2], Color: "rgb", Scale: "0..255", Resize: "bilinear", Crop: "none"}
	switch in[2] {
	case 1:
		p.Color = "grey"
	case 3:
	default:
		p.Color = "none"
	}
	return p
}

// Model is a sequential network built from a Spec.
//
// Forward keeps every layer's output (under wasm, a BatchNorm's output that
// the pool after it read row by row is computed when Output asks for it:
// foldBNPool); Backward walks the layers in reverse
// from any layer and keeps the gradient at every layer output it passes, so
// an explainer reads the activation and gradient of any layer by index. All
// buffers are reused between calls with the same batch size.
type Model struct {
	Spec       Spec
	Classes    []Class
	Preprocess Preprocess
	Layers     []Layer
	Shapes     [][3]int // Shapes[i] is layer i's per-sample output shape

	classes []string // classes[i]: layer i's Keras class name
	params  []*Param // every parameter, in order (built on first use)

	outs   []*Tensor // outs[i]: output of layer i (last Forward), nil when folded[i]
	folded []bool    // folded[i]: a BatchNorm the last ForwardTo ran in the next pool's rows (foldBNPool), its output unwritten
	grads  []*Tensor // grads[i]: gradient at the output of layer i (last Backward)
	dx     *Tensor   // gradient at the model input (last Backward that reached it)
	x      *Tensor

	rs ruleState // the backward rule of the ReLUs and what it keeps (rule.go)

	passes     uint64    // forward passes that wrote layer outputs (ForwardTo, ForwardFrom, a Delta's)
	again      againPass // what ForwardAgain's last pass ran (forward_again.go)
	scoresPass uint64    // passes after the last ForwardScores (no Backward may follow that pass)
}

// maxActivations bounds one image's activations: the input and every
// layer's output, added up (1 GiB of float32). A model over it could not
// run in a browser tab (wasm's memory is 4 GB, and the explainers keep
// gradients and buffers beside the activations); a small file can declare
// one (a large input, few weights), so Build refuses it before anything
// that size is allocated.
const maxActivations = 1 << 28

// Build constructs a model with zero weights (BatchNorm: gamma 1, moving
// variance 1) from a spec, checking every shape. A final Dense with a
// softmax activation becomes a linear Dense followed by a separate Softmax
// layer, so that Logits can find the scores before the softmax.
func Build(s Spec) (*Model, error) { return build(s, -1) }

// BuildWithin is Build for an architecture that comes with its weights (a
// weights file's metadata, a .keras file's config), which hold values
// parameter values. It refuses an architecture that needs more than
// values plus 2^20 (the slack lets a spec that is only slightly off reach
// the precise missing-tensor and shape errors) before allocating the layer
// that goes over, so that a small file whose spec asks for billions of
// parameters costs nothing.
func BuildWithin(s Spec, values int64) (*Model, error) { return build(s, values) }

// overBudget is BuildWithin's error for an architecture that needs more
// parameters than its file holds.
type overBudget struct{ error }

// build is Build, with BuildWithin's budget when values >= 0. Each layer's
// parameters are counted from its spec before it is constructed, and again
// from the layer after.
func build(s Spec, values int64) (*Model, error) {
	budget := int64(1 << 30)
	if values >= 0 {
		budget = min(budget, values+1<<20)
	}
	over := func(layer string) error {
		if values < 0 {
			return errorf("nn: architecture %q has over 2^30 parameters", s.Name)
		}
		return overBudget{errorf("nn: weights: architecture %q needs over %d parameter values by layer %q, the file holds %d", s.Name, budget, layer, values)}
	}
	if len(s.Layers) == 0 {
		return nil, errorf("nn: architecture %q has no layers", s.Name)
	}
	if len(s.Layers) > 10000 {
		return nil, errorf("nn: architecture %q has %d layers (at most 10000)", s.Name, len(s.Layers))
	}
	for i, d := range s.Input {
		if d < 1 || d > 1<<16 {
			return nil, errorf("nn: architecture %q: input dimension %d is %d", s.Name, i, d)
		}
	}
	m := &Model{Spec: s, Preprocess: DefaultPreprocess(s.Input)}
	seen := map[string]bool{}
	in := s.Input
	var params int64
	acts := int64(in[0]) * int64(in[1]) * int64(in[2])
	tooBig := func(where string, shape [3]int) error {
		return errorf("nn: architecture %q: one image's activations add up to %d values by %s (%dx%dx%d), over the %d (1 GiB of float32) a model may need; give it a smaller input", s.Name, acts, where, shape[0], shape[1], shape[2], maxActivations)
	}
	if acts > maxActivations {
		return nil, tooBig("its input", in)
	}
	for i, ls := range s.Layers {
		if ls.Name == "" {
			return nil, errorf("nn: layer %d (%s) has no name", i, ls.Class)
		}
		if seen[ls.Name] {
			return nil, errorf("nn: layer name %q is used twice", ls.Name)
		}
		seen[ls.Name] = true
		split := ls.Class == "Dense" && i == len(s.Layers)-1 && ls.Config.Activation == "softmax"
		if split {
			ls.Config.Activation = "linear"
		}
		if need, ok := specParams(ls, in, budget-params); ok && need > budget-params {
			return nil, over(ls.Name)
		}
		l, err := newLayer(ls, in)
		if err != nil {
			return nil, err
		}
		out, err := l.OutputShape(in)
		if err != nil {
			return nil, err
		}
		if out[0] < 1 || out[1] < 1 || out[2] < 1 {
			return nil, errorf("nn: %s: output %dx%dx%d is empty for input %dx%dx%d", ls.Name, out[0], out[1], out[2], in[0], in[1], in[2])
		}
		n := int64(out[0]) * int64(out[1]) * int64(out[2])
		if split {
			n *= 2 // and the Softmax after it
		}
		if acts += n; acts > maxActivations {
			return nil, tooBig(ls.Name+"'s output", out)
		}
		if p, ok := l.(Parametric); ok {
			for _, q := range p.Params() {
				params += int64(len(q.Value))
			}
			if params > budget {
				return nil, over(ls.Name)
			}
		}
		m.Layers = append(m.Layers, l)
		m.Shapes = append(m.Shapes, out)
		m.classes = append(m.classes, ls.Class)
		if split {
			sm := ls.Name + "_softmax"
			if seen[sm] {
				return nil, errorf("nn: layer name %q is used twice", sm)
			}
			m.Layers = append(m.Layers, NewSoftmax(sm))
			m.Shapes = append(m.Shapes, out)
			m.classes = append(m.classes, "Softmax")
		}
		in = out
	}
	return m, nil
}

// BuildBuiltin builds a built-in architecture by name (see Builtin).
func BuildBuiltin(name string) (*Model, error) {
	s, err := Builtin(name)
	if err != nil {
		return nil, err
	}
	return Build(s)
}

// Clone returns a deep copy of m: the same architecture, classes and
// preprocessing, with every parameter copied, and fresh buffers (in
// inference mode, with no gradient buffers).
func (m *Model) Clone() (*Model, error) {
	cp, err := Build(m.Spec)
	if err != nil {
		return nil, err
	}
	cp.Classes = slices.Clone(m.Classes)
	cp.Preprocess = m.Preprocess
	src, dst := m.Params(), cp.Params()
	if len(src) != len(dst) {
		return nil, errorf("nn: model has %d parameters, its spec builds %d", len(src), len(dst))
	}
	for i, p := range src {
		if len(p.Value) != len(dst[i].Value) || p.Name != dst[i].Name {
			return nil, errorf("nn: parameter %s has %d values, its spec builds %s with %d", p.Name, len(p.Value), dst[i].Name, len(dst[i].Value))
		}
		copy(dst[i].Value, p.Value)
	}
	return cp, nil
}

// Index returns the index of the layer called name, or -1.
func (m *Model) Index(name string) int {
	for i, l := range m.Layers {
		if l.Name() == name {
			return i
		}
	}
	return -1
}

// Class returns layer i's Keras class name ("Conv2D", "BatchNormalization",
// ...; "Softmax" for the softmax split off a final Dense).
func (m *Model) Class(i int) string { return m.classes[i] }

// Logits returns the index of the layer whose output holds the scores
// before the final softmax: the layer before a final Softmax layer, or the
// last layer when the model does not end in one.
func (m *Model) Logits() int {
	last := len(m.Layers) - 1
	if _, ok := m.Layers[last].(*SoftmaxLayer); ok && last > 0 {
		return last - 1
	}
	return last
}

// Params returns every parameter in layer order (Keras's variable order
// inside each layer), batch-norm moving statistics included.
//
// The slice is shared: do not modify it.
func (m *Model) Params() []*Param {
	if m.params == nil {
		for _, l := range m.Layers {
			if p, ok := l.(Parametric); ok {
				m.params = append(m.params, p.Params()...)
			}
		}
	}
	return m.params
}

// Param returns the parameter with the given full name, or nil.
func (m *Model) Param(name string) *Param {
	for _, p := range m.Params() {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// CountParams returns the number of trainable values and of other values
// (batch-norm moving statistics).
func (m *Model) CountParams() (trainable, other int) {
	for _, p := range m.Params() {
		if p.Trainable {
			trainable += len(p.Value)
		} else {
			other += len(p.Value)
		}
	}
	return
}

// SetTraining switches batch-norm and dropout layers between training and
// inference, and allocates (on) or drops (off) the parameter gradient
// buffers of trainable parameters.
func (m *Model) SetTraining(on bool) {
	for _, l := range m.Layers {
		if t, ok := l.(Trainable); ok {
			t.SetTraining(on)
		}
	}
	for _, p := range m.Params() {
		switch {
		case on && p.Trainable && p.Grad == nil:
			p.Grad = make([]float32, len(p.Value))
		case !on:
			p.Grad = nil
		}
	}
}

// ZeroGrad clears the parameter gradient buffers (allocation-free: it is
// called every training step).
func (m *Model) ZeroGrad() {
	for _, p := range m.Params() {
		clear(p.Grad)
	}
}

// InputShape returns the per-sample input shape (H, W, C).
func (m *Model) InputShape() [3]int { return m.Spec.Input }

// NewInput returns a zeroed input batch of n samples.
func (m *Model) NewInput(n int) *Tensor {
	s := m.Spec.Input
	return NewTensor(n, s[0], s[1], s[2])
}

// Forward runs the whole model on x, (N, H, W, C), and returns the last
// layer's output (the probabilities for a softmax classifier). x must not
// change until Backward has run.
func (m *Model) Forward(x *Tensor) *Tensor {
	return m.ForwardTo(x, len(m.Layers)-1)
}

// ForwardTo runs layers 0..last and returns the output of layer last.
func (m *Model) ForwardTo(x *Tensor, last int) *Tensor {
	in := m.Spec.Input
	if x.Shape[1] != in[0] || x.Shape[2] != in[1] || x.Shape[3] != in[2] {
		panic(sprintf("nn: model input %v, want Nx%dx%dx%d", x, in[0], in[1], in[2]))
	}
	m.keepOutputs()
	m.x = x
	m.passes++
	y := x
	for i := 0; i <= last; i++ {
		if i < last && m.foldsBN(i, y) {
			y = m.bnPool(i, y)
			m.outs[i], m.folded[i] = nil, true
			i++
		} else {
			y = m.forwardLayer(i, y)
		}
		m.outs[i], m.folded[i] = y, false
	}
	return y
}

// keepOutputs allocates the per-layer records of a pass.
func (m *Model) keepOutputs() {
	if m.outs == nil {
		m.outs = make([]*Tensor, len(m.Layers))
		m.grads = make([]*Tensor, len(m.Layers))
		m.folded = make([]bool, len(m.Layers))
	}
}

// foldBNPool is whether ForwardTo applies an inference BatchNorm followed
// by a 2x2, stride-2 max-pool in the pool's rows, two input rows at a
// time, instead of writing the BatchNorm's whole output (bnPool). Under
// wasm, where a page's first pass pays for every fresh page of memory
// (MAVIS at 224x224: 16 MB fewer, of 46), and a pass runs on one thread.
// Natively the two layers keep their own passes, split over the workers.
var foldBNPool = runtime.GOARCH == "wasm"

// foldsBN reports whether ForwardTo folds layer i, a BatchNorm, into the
// max-pool after it for input x.
func (m *Model) foldsBN(i int, x *Tensor) bool {
	if !foldBNPool || m.rs.rule != Gradient {
		return false
	}
	b, ok := m.Layers[i].(*BatchNorm)
	if !ok || b.Training || x.Shape[3] != b.C {
		return false
	}
	p, ok := m.Layers[i+1].(*MaxPool2D)
	return ok && p.pools2x2(x.Shape)
}

// bnPool runs layers i (a BatchNorm at inference) and i+1 (a 2x2 max-pool)
// on x as their Forward passes would, without writing the BatchNorm's
// output: the pool reads it two rows at a time from a scratch buffer.
// The values, the pool's maxima and their positions are bit for bit those
// of the two passes; the BatchNorm's Backward finds what it needs (its
// input and scale).
func (m *Model) bnPool(i int, x *Tensor) *Tensor {
	b, p := m.Layers[i].(*BatchNorm), m.Layers[i+1].(*MaxPool2D)
	b.x = x
	b.inferenceScaleShift(b.s, b.t)
	return p.forwardScaled(x, b.s, b.t)
}

// Output returns the output of layer i from the last Forward. A
// BatchNorm's output that the pass folded into a pool (foldBNPool) is
// computed now, from its input, into the layer's own buffer.
func (m *Model) Output(i int) *Tensor {
	if m.folded[i] {
		in := m.x
		if i > 0 {
			in = m.Output(i - 1)
		}
		m.outs[i], m.folded[i] = m.Layers[i].Forward(in), false
	}
	return m.outs[i]
}

// Backward propagates dy, the gradient at the output of layer from, back
// through layers from, from-1, ..., stop, and returns the gradient at the
// input of layer stop (the model input when stop is 0). Gradients at the
// outputs of layers stop-1..from are then available from Grad. It must
// follow a Forward that reached layer from.
func (m *Model) Backward(dy *Tensor, from, stop int) *Tensor {
	if from < stop || stop < 0 || from >= len(m.Layers) {
		panic(sprintf("nn: Backward from layer %d to %d of %d", from, stop, len(m.Layers)))
	}
	if m.passes == m.scoresPass && m.passes > 0 {
		panic("nn: Backward after ForwardScores, whose convolutions round as Winograd's do: run ForwardTo first")
	}
	g := dy
	m.grads[from] = dy
	for i := from; i >= stop; i-- {
		g = m.backwardLayer(i, g)
		if i > 0 {
			m.grads[i-1] = g
		}
	}
	if stop == 0 {
		m.dx = g
	}
	return g
}

// Grad returns the gradient at the output of layer i from the last
// Backward that passed it.
func (m *Model) Grad(i int) *Tensor { return m.grads[i] }

// InputGrad returns the gradient at the model input from the last Backward
// that reached it.
func (m *Model) InputGrad() *Tensor { return m.dx }

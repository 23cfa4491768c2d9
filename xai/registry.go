package xai

import (
	"slices"
	"strings"

	"github.com/mavis-xai/mavis/nn"
)

// The method registry: every explainer registers one Method (its name,
// label, paper, family, parameters and a run function) from the file that
// implements it, and every caller (the browser worker, the explain
// command, the evaluation) goes through Methods, Lookup and
// Explainer.Explain instead of naming methods itself. Adding a method is
// one file in xai that calls register from an init function, plus its
// tests.

// Family groups methods by how they explain, for the page's grouping and
// the display rule (see Method.Display).
type Family string

const (
	// FamilyCAM weights the channels of a convolutional layer's output:
	// a coarse map at the layer's resolution.
	FamilyCAM Family = "cam"
	// FamilyGradient is a (possibly modified) gradient of the score with
	// respect to the input, at the input.
	FamilyGradient Family = "gradient"
	// FamilyPath integrates gradients along paths from reference inputs.
	FamilyPath Family = "path"
	// FamilyPerturbation changes the input and watches the score.
	FamilyPerturbation Family = "perturbation"
	// FamilyPropagation propagates relevance backwards with rules of its
	// own (DeepLIFT, LRP).
	FamilyPropagation Family = "propagation"
)

// Families lists the families in the order the page shows them.
var Families = []Family{FamilyCAM, FamilyGradient, FamilyPath, FamilyPerturbation, FamilyPropagation}

// Display is how a method's map is shown: the colour scale a person can
// read, as the field shows each kind of map.
type Display string

const (
	// DisplayMax scales a non-negative map by its maximum (0 to max): CAMs,
	// whose few strong regions are the point.
	DisplayMax Display = "max"
	// DisplayPercentile scales a non-negative map from 0 to a high
	// percentile of its values, so that a few hot pixels do not turn the
	// rest black (gradient magnitudes).
	DisplayPercentile Display = "percentile"
	// DisplaySigned shows a signed map on a diverging colormap centred on
	// zero, symmetric to a high percentile of |value|.
	DisplaySigned Display = "signed"
)

// Method describes one registered explanation method.
type Method struct {
	Name   string // registry name: "gradcam", "ig", ... (the page, -methods and file names use it)
	Label  string // display name: "Grad-CAM"
	Family Family
	// Paper cites the method's source: authors, title, venue and year.
	Paper string
	URL   string // the paper's address
	// Doc says in one line what the map shows and how to read its colours.
	Doc string
	// Display is how the display map is scaled and coloured.
	Display Display
	// Layer is true for methods that explain a layer's output (the CAM
	// family, and Guided Grad-CAM through its Grad-CAM): Request.Layer
	// names it, the last Conv2D by default.
	Layer bool
	// Default marks the methods computed when none are named: the page's
	// first maps and explain's default -methods, each fast enough for
	// every image.
	Default bool
	// Fast marks the methods that cost a few passes whatever the model
	// (not a pass per channel, sample, step or window): explain computes
	// them, with the Default ones, when no -methods are named.
	Fast bool
	// Seeded methods draw random numbers from Request.Seed: equal seeds
	// give equal maps.
	Seeded bool
	// Tunnel marks a method the noise tunnel (smoothgrad, smoothgradsq,
	// vargrad; tunnel.go) can wrap: it is deterministic and its Map is an
	// attribution at the input's resolution (H x W x C or H x W x 1).
	// Registering it adds its name to the tunnel methods' "wraps" choices.
	Tunnel bool
	// Params are the method's options, with defaults and bounds.
	Params []Param

	run   func(ex *Explainer, x *nn.Tensor, r *Request, v Values, dst *Result) error
	split *splitter // nil: the method cannot be split across workers
}

// Param is one option of a method.
type Param struct {
	Name  string    // option key and flag suffix: "steps" (explain's -ig-steps)
	Label string    // "Steps"
	Doc   string    // one line for --help and the page's tooltip
	Kind  ParamKind // int, float, choice or bool
	// Default is the value used when the option is not given: an int,
	// float64, string (one of Choices) or bool by Kind.
	Default any
	// Min and Max bound int and float values (inclusive).
	Min, Max float64
	// Choices lists a choice's values, the default first or anywhere.
	Choices []string
	// With, when set, is the choice option of the same method and its
	// values that this option applies with: the blur baseline's sigma has
	// With{"baseline", "blur"}. With the choice's other values the option
	// is ignored, and the page greys its control out and leaves it out of
	// a map's description.
	With *ParamWith
}

// ParamWith is a Param's With: a choice option and some of its values.
type ParamWith struct {
	Param  string
	Values []string
}

// ParamKind is the type of a Param's value.
type ParamKind string

const (
	Int    ParamKind = "int"
	Float  ParamKind = "float"
	Choice ParamKind = "choice"
	Bool   ParamKind = "bool"
)

// Request is one explanation to compute with Explainer.Explain.
type Request struct {
	Method string
	Target Target
	// Layer names the layer a layer-based method (Method.Layer) explains;
	// "" means the last Conv2D layer before the logits.
	Layer string
	// Options sets the method's parameters by name (Param.Name): ints or
	// float64s for int and float parameters (a float64 must be whole for
	// an int), strings for choices, bools (or 0 and 1) for bools. Missing
	// options take their defaults; unknown ones are an error.
	Options Options
	// Seed seeds the random numbers of Seeded methods (and of a noise
	// baseline).
	Seed uint64
	// Baseline, when not nil, is the reference input (1 x H x W x C) of
	// the methods that take one, instead of their baseline option.
	Baseline *nn.Tensor
	// Progress, when not nil, is called after every pass of a long method
	// with the number of passes done and their total.
	Progress func(done, total int)
	// Cancel, when not nil, stops a long method between passes (it then
	// returns Cancel's error).
	Cancel Canceller
}

// Options are a request's parameter values by name (see Request.Options).
type Options map[string]any

// Result is one explanation.
type Result struct {
	Method string
	Prediction
	// Layer is the layer explained (layer-based methods only).
	Layer string
	// Map is the method's map at its native resolution: a CAM's
	// unnormalised map at its layer's resolution (h x w x 1), an
	// input-space attribution (H x W x C), Saliency's max over channels
	// (H x W x 1), Occlusion's H x W x 1. The faithfulness metrics use it.
	Map Map
	// Display is the h x w x 1 map to show: Map itself when it has one
	// channel, else its channel sum (signed) or the method's reduction.
	Display Map
	// Zero reports a map that is zero everywhere (nothing supports the
	// target): it is shown as such, never as noise.
	Zero bool
	// Weights are a CAM's channel weights (one per channel of its layer).
	Weights []float32
	// Extras are further arrays a method returns (Saliency's signed
	// gradient "grad", Score-CAM's "scores", ...), written by explain as
	// <method>_<name>.npy.
	Extras []Extra
	// Check is the method's conservation property, when it has one
	// (Integrated Gradients' completeness, DeepLIFT's summation to delta,
	// LRP's relevance conservation).
	Check *Check
	// Values are the options as used, defaults included.
	Values Values
	// Passes is the number of forward (and backward) passes of one sample
	// the method ran.
	Passes int
}

// Extra is a named array of a Result.
type Extra struct {
	Name  string
	Shape []int
	Data  []float32
}

// Check is a conservation property of an attribution: its values should
// add up to Want.
type Check struct {
	// Name says which property: "completeness" (Integrated Gradients),
	// "summation to delta" (DeepLIFT), "relevance conservation" (LRP).
	Name string
	// Sum is Σ attributions (float64), Want the score difference it should
	// equal: Score(x) − Score(reference).
	Sum, Want float64
	// ScoreX and ScoreRef are the scores whose difference is Want.
	ScoreX, ScoreRef float64
	// Gap is Sum − Want, Rel the relative gap (RelativeGap).
	Gap, Rel float64
	// Threshold is the |Rel| above which the ranking flags the map.
	Threshold float64
	// Advice says what brings Rel within Threshold for this method (more
	// samples, another rule, ...), for the ranking to quote when the check
	// fails.
	Advice string
	// Layers, for a layer-by-layer property (LRP), give the relevance sum
	// at each layer's input, input first.
	Layers []LayerSum
}

// LayerSum is the sum of a relevance at one layer.
type LayerSum struct {
	Layer string
	Sum   float64
}

// Pass reports whether |Rel| is at most Threshold.
func (c *Check) Pass() bool { return c == nil || c.Rel >= -c.Threshold && c.Rel <= c.Threshold }

var registry []*Method

// register adds m to the registry. It panics on a duplicate or malformed
// entry (a programmer error, caught by any test that imports xai).
func register(m Method) {
	if m.Name == "" || m.Label == "" || m.run == nil || !slices.Contains(Families, m.Family) {
		panic("xai: register: method " + m.Name + " lacks a name, label, run function or known family")
	}
	for _, r := range registry {
		if r.Name == m.Name {
			panic("xai: register: method " + m.Name + " registered twice")
		}
	}
	for _, p := range m.Params {
		if err := p.check(); err != nil {
			panic("xai: register: method " + m.Name + ": " + err.Error())
		}
		if w := p.With; w != nil {
			i := slices.IndexFunc(m.Params, func(q Param) bool { return q.Name == w.Param })
			if i < 0 || m.Params[i].Kind != Choice || len(w.Values) == 0 ||
				slices.ContainsFunc(w.Values, func(c string) bool { return !slices.Contains(m.Params[i].Choices, c) }) {
				panic("xai: register: method " + m.Name + ": parameter " + p.Name + " applies with " + w.Param + " " + strings.Join(w.Values, ", ") + ", not a choice option of the method and its values")
			}
		}
	}
	registry = append(registry, &m)
	linkTunnel(&m)
	slices.SortFunc(registry, func(a, b *Method) int {
		if d := slices.Index(Families, a.Family) - slices.Index(Families, b.Family); d != 0 {
			return d
		}
		if a.Default != b.Default {
			if a.Default {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// Methods returns every registered method, grouped by family in the order
// of Families; within a family the Default methods come first, then the
// others, each by name (whatever order the files register in). The slice is a copy;
// the Methods are shared and must not be changed.
func Methods() []*Method { return slices.Clone(registry) }

// DefaultMethods returns the names of the Default methods, in Methods
// order.
func DefaultMethods() []string {
	var names []string
	for _, m := range registry {
		if m.Default {
			names = append(names, m.Name)
		}
	}
	return names
}

// QuickMethods returns the names of the Default and Fast methods, in
// Methods order: explain's default set.
func QuickMethods() []string {
	var names []string
	for _, m := range registry {
		if m.Default || m.Fast {
			names = append(names, m.Name)
		}
	}
	return names
}

// Lookup returns the method named name, or an error listing the methods.
func Lookup(name string) (*Method, error) {
	for _, m := range registry {
		if m.Name == name {
			return m, nil
		}
	}
	names := make([]string, len(registry))
	for i, m := range registry {
		names[i] = m.Name
	}
	return nil, errorf("xai: unknown method %q (want one of %s)", name, join(names, ", "))
}

// MethodLabel returns a method's display name ("Grad-CAM++" for
// "gradcampp"); unknown names are returned as they are.
func MethodLabel(name string) string {
	if m, err := Lookup(name); err == nil {
		return m.Label
	}
	return name
}

// Explain computes the explanation r asks for of x (1 x H x W x C).
func (ex *Explainer) Explain(x *nn.Tensor, r Request) (Result, error) {
	var res Result
	err := ex.ExplainTo(&res, x, r)
	return res, err
}

// ExplainTo is Explain writing into dst, reusing its maps' storage where
// the method allows.
func (ex *Explainer) ExplainTo(dst *Result, x *nn.Tensor, r Request) error {
	m, err := Lookup(r.Method)
	if err != nil {
		return err
	}
	v, err := m.Resolve(r.Options)
	if err != nil {
		return err
	}
	if err := ex.check(x, r.Target); err != nil {
		return err
	}
	if r.Baseline != nil && r.Baseline.Shape != x.Shape {
		return errorf("xai: baseline %v, want the input's shape %v", r.Baseline.Shape, x.Shape)
	}
	if err := cancelled(r.Cancel); err != nil {
		return err
	}
	keep := dst.Display.Data
	if len(keep) > 0 && len(dst.Map.Data) > 0 && &keep[0] == &dst.Map.Data[0] {
		keep = nil // the display was the map itself
	}
	*dst = Result{Method: m.Name, Values: v, Map: dst.Map, Prediction: dst.Prediction}
	dst.Display.Data = keep
	if err := m.run(ex, x, &r, v, dst); err != nil {
		return err
	}
	dst.Method, dst.Values = m.Name, v
	if len(dst.Display.Data) == 0 || dst.Display.H != dst.Map.H || dst.Display.W != dst.Map.W || dst.Display.C != 1 {
		displayTo(&dst.Display, dst.Map)
	}
	return nil
}

// displayTo writes the display map of m: m itself (shared) when it has one
// channel, else its signed channel sum, accumulated in float64.
func displayTo(dst *Map, m Map) {
	if m.C == 1 {
		*dst = m
		return
	}
	ReduceTo(dst, m, Sum)
}

func join(s []string, sep string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += sep
		}
		out += v
	}
	return out
}

// setPrediction copies p into the result, into the result's own storage
// (p may alias an explainer's buffers).
func (r *Result) setPrediction(p Prediction) {
	setPrediction(&r.Prediction, p.Target, p.Class, p.Probs, p.Logits, p.Score)
}

package main

import (
	"errors"
	"strconv"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

// ModelInfo describes a loaded model to the page, with everything the
// page builds its controls from: the registry's methods, the target
// scores, the colormaps, evaluate's defaults and the ranking's thresholds.
// The page holds no copy of any of them (api.d.ts ModelInfo).
type ModelInfo struct {
	Name       string
	Input      [3]int
	Classes    []nn.Class
	Preprocess nn.Preprocess
	Layers     []LayerInfo
	CAMLayer   string // the default layer of layer methods (the last Conv2D)
	Params     int

	Methods   []*xai.Method
	Scores    []xai.Score // the target scores, the default first
	Colormaps []*xai.Colormap
	// ScaleRules are the colour scales a person can choose (xai.ScaleRules);
	// Displays the kinds of map, each with its default rule and colormap.
	ScaleRules []xai.ScaleRule
	Displays   []xai.Display
	Metrics    MetricsInfo
}

// LayerInfo is one layer: its name, kind, output shape and whether layer
// methods may use it.
type LayerInfo struct {
	Name    string
	Kind    string
	Shape   [3]int
	Spatial bool
}

// MetricsInfo is what the faithfulness panel shows before any result:
// evaluate's defaults and bounds for this model, and the thresholds above
// which the ranking flags a method.
type MetricsInfo struct {
	Steps, MinSteps, MaxSteps int // deletion and insertion steps
	Patch                     int // the default patch side for this model's input
	Reference                 xai.Reference
	References                []xai.Reference
	Keep                      []float64 // the confidence drop's kept fractions
	GapThreshold              float64   // xai.GapThreshold
	SanityThreshold           float64   // xai.SanityThreshold
}

// modelInfo describes m.
func modelInfo(m *nn.Model) (ModelInfo, error) {
	logits := m.Logits()
	if sh := m.Shapes[logits]; sh[0] != 1 || sh[1] != 1 || sh[2] < 2 {
		return ModelInfo{}, errors.New("worker: the model's output is " + dims(sh[:]) + ", not a vector of class scores")
	}
	info := ModelInfo{Name: m.Spec.Name, Input: m.InputShape(), Classes: m.Classes, Preprocess: m.Preprocess,
		Methods: xai.Methods(), Scores: []xai.Score{xai.Logit, xai.Probability}, Colormaps: xai.Colormaps(),
		ScaleRules: xai.ScaleRules, Displays: xai.Displays,
		Metrics: MetricsInfo{Steps: xai.DefaultCurveSteps, MinSteps: 1, MaxSteps: maxEvalSteps, Patch: defaultPatch(m),
			Reference: xai.RISE, References: []xai.Reference{xai.RISE, xai.BlackReference, xai.BlurReference},
			Keep: xai.DefaultKeep(), GapThreshold: xai.GapThreshold, SanityThreshold: xai.SanityThreshold}}
	for len(info.Classes) < m.Shapes[logits][2] {
		n := len(info.Classes)
		info.Classes = append(info.Classes, nn.Class{ID: strconv.Itoa(n), Name: "class " + strconv.Itoa(n)})
	}
	for i, l := range m.Layers {
		sh := m.Shapes[i]
		kind := layerKind(l)
		sp := i < logits && (sh[0] > 1 || sh[1] > 1) && kind != "Dense" && kind != "Flatten"
		info.Layers = append(info.Layers, LayerInfo{Name: l.Name(), Kind: kind, Shape: sh, Spatial: sp})
		if kind == "Conv2D" && i < logits {
			info.CAMLayer = l.Name()
		}
	}
	t, o := m.CountParams()
	info.Params = t + o
	return info, nil
}

// defaultPatch is evaluate's patch side for m when the page gives none:
// the input's side / 28, at least 1 (a 28-by-28 grid of patches, chosen
// for speed in the browser).
func defaultPatch(m *nn.Model) int {
	in := m.InputShape()
	return max(1, min(in[0], in[1])/28)
}

// layerKind names a layer's type as the page shows it ("Conv2D").
func layerKind(l nn.Layer) string {
	switch l.(type) {
	case *nn.Conv2D:
		return "Conv2D"
	case *nn.BatchNorm:
		return "BatchNorm"
	case *nn.MaxPool2D:
		return "MaxPool2D"
	case *nn.Dropout:
		return "Dropout"
	case *nn.Flatten:
		return "Flatten"
	case *nn.Dense:
		return "Dense"
	case *nn.SoftmaxLayer:
		return "SoftmaxLayer"
	case *nn.ActivationLayer:
		return "ActivationLayer"
	}
	return "Layer"
}

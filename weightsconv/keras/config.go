package keras

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mavis-xai/mavis/nn"
)

// modelJSON is the outer object of a Keras model config.
type modelJSON struct {
	ClassName   string          `json:"class_name"`
	Config      json.RawMessage `json:"config"`
	BuildConfig *struct {
		InputShape []*int `json:"input_shape"`
	} `json:"build_config"`
}

type modelConfigJSON struct {
	Name            string      `json:"name"`
	Layers          []layerJSON `json:"layers"`
	BuildInputShape []*int      `json:"build_input_shape"`
	OutputLayers    any         `json:"output_layers"`
}

type layerJSON struct {
	ClassName    string          `json:"class_name"`
	Name         string          `json:"name"` // Functional models
	Config       layerConfigJSON `json:"config"`
	InboundNodes any             `json:"inbound_nodes"`
}

// layerConfigJSON holds the Keras configuration keys this package reads.
type layerConfigJSON struct {
	Name              string          `json:"name"`
	Filters           int             `json:"filters"`
	KernelSize        ints            `json:"kernel_size"`
	Strides           ints            `json:"strides"`
	Padding           string          `json:"padding"`
	DataFormat        *string         `json:"data_format"`
	DilationRate      ints            `json:"dilation_rate"`
	Groups            int             `json:"groups"`
	Activation        json.RawMessage `json:"activation"`
	UseBias           *bool           `json:"use_bias"`
	KernelRegularizer json.RawMessage `json:"kernel_regularizer"`
	Axis              ints            `json:"axis"`
	Momentum          float64         `json:"momentum"`
	Epsilon           float64         `json:"epsilon"`
	Center            *bool           `json:"center"`
	Scale             *bool           `json:"scale"`
	PoolSize          ints            `json:"pool_size"`
	Rate              float64         `json:"rate"`
	Seed              *int64          `json:"seed"`
	Units             int             `json:"units"`
	BatchShape        []*int          `json:"batch_shape"`
	BatchInputShape   []*int          `json:"batch_input_shape"`
	MaxValue          *float64        `json:"max_value"`      // ReLU
	NegativeSlope     *float64        `json:"negative_slope"` // ReLU
	Threshold         *float64        `json:"threshold"`      // ReLU
}

// ints reads a Keras int-or-list value such as kernel_size (3 or [3, 3]).
type ints []int

func (v *ints) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*v = nil
		return nil
	}
	if len(b) > 0 && b[0] == '[' {
		var l []int
		if err := json.Unmarshal(b, &l); err != nil {
			return err
		}
		*v = l
		return nil
	}
	var n int
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*v = ints{n}
	return nil
}

// ParseConfig translates a Keras model config (Keras 3 config.json, or the
// model_config attribute of a Keras 2 .h5 file) into an nn.Spec.
func ParseConfig(data []byte) (nn.Spec, error) {
	var m modelJSON
	if err := json.Unmarshal(data, &m); err != nil {
		return nn.Spec{}, fmt.Errorf("keras: model config: %v", err)
	}
	var mc modelConfigJSON
	if err := json.Unmarshal(m.Config, &mc); err != nil {
		return nn.Spec{}, fmt.Errorf("keras: model config of %s: %v", m.ClassName, err)
	}
	switch m.ClassName {
	case "Sequential":
	case "Functional", "Model":
		if err := checkChain(mc); err != nil {
			return nn.Spec{}, err
		}
	default:
		return nn.Spec{}, fmt.Errorf("keras: model class %q not supported (want Sequential, or Functional as a plain chain)", m.ClassName)
	}
	s := nn.Spec{Name: mc.Name}
	haveInput := false
	setInput := func(layer string, shape []*int) error {
		in, err := inputShape(layer, shape)
		if err != nil {
			return err
		}
		s.Input, haveInput = in, true
		return nil
	}
	for i, l := range mc.Layers {
		name := l.Config.Name
		if name == "" {
			name = l.Name
		}
		if name == "" {
			return nn.Spec{}, fmt.Errorf("keras: layer %d (%s) has no name", i, l.ClassName)
		}
		c := l.Config
		if !haveInput {
			if c.BatchShape != nil {
				if err := setInput(name, c.BatchShape); err != nil {
					return nn.Spec{}, err
				}
			} else if c.BatchInputShape != nil {
				if err := setInput(name, c.BatchInputShape); err != nil {
					return nn.Spec{}, err
				}
			}
		}
		if l.ClassName == "InputLayer" {
			if i != 0 {
				return nn.Spec{}, fmt.Errorf("keras: layer %q: InputLayer at position %d, want it first", name, i)
			}
			continue
		}
		ls, err := translate(l.ClassName, name, c)
		if err != nil {
			return nn.Spec{}, err
		}
		s.Layers = append(s.Layers, ls)
	}
	if !haveInput {
		shape := mc.BuildInputShape
		if shape == nil && m.BuildConfig != nil {
			shape = m.BuildConfig.InputShape
		}
		if shape == nil {
			return nn.Spec{}, fmt.Errorf("keras: model %q states no input shape (no InputLayer, batch_input_shape or build_input_shape)", mc.Name)
		}
		if err := setInput(mc.Name, shape); err != nil {
			return nn.Spec{}, err
		}
	}
	if len(s.Layers) == 0 {
		return nn.Spec{}, fmt.Errorf("keras: model %q has no layers", mc.Name)
	}
	return s, nil
}

func inputShape(layer string, shape []*int) ([3]int, error) {
	if len(shape) != 4 {
		return [3]int{}, fmt.Errorf("keras: layer %q: input shape of rank %d, want (batch, height, width, channels)", layer, len(shape))
	}
	var in [3]int
	for i, d := range shape[1:] {
		if d == nil || *d < 1 {
			return [3]int{}, fmt.Errorf("keras: layer %q: input shape %s must be fixed", layer, shapeString(shape))
		}
		in[i] = *d
	}
	return in, nil
}

func shapeString(shape []*int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		if d == nil {
			parts[i] = "None"
		} else {
			parts[i] = fmt.Sprint(*d)
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// translate turns one Keras layer into an nn layer entry.
func translate(class, name string, c layerConfigJSON) (nn.LayerSpec, error) {
	ls := nn.LayerSpec{Class: class, Name: name}
	bad := func(format string, args ...any) (nn.LayerSpec, error) {
		return nn.LayerSpec{}, fmt.Errorf("keras: layer %q (%s): %s", name, class, fmt.Sprintf(format, args...))
	}
	if c.DataFormat != nil && *c.DataFormat != "channels_last" {
		return bad("data_format %q not supported (want channels_last)", *c.DataFormat)
	}
	act, err := activation(c.Activation)
	if err != nil {
		return bad("%v", err)
	}
	if c.UseBias != nil && *c.UseBias {
		c.UseBias = nil // nn's default
	}
	switch class {
	case "Conv2D":
		for _, d := range c.DilationRate {
			if d != 1 {
				return bad("dilation_rate %v not supported", []int(c.DilationRate))
			}
		}
		if c.Groups > 1 {
			return bad("groups %d not supported", c.Groups)
		}
		l2, err := regularizer(c.KernelRegularizer)
		if err != nil {
			return bad("%v", err)
		}
		ls.Config = nn.LayerConfig{Filters: c.Filters, KernelSize: c.KernelSize, Strides: c.Strides,
			Padding: c.Padding, Activation: act, UseBias: c.UseBias, L2: l2}
	case "Dense":
		l2, err := regularizer(c.KernelRegularizer)
		if err != nil {
			return bad("%v", err)
		}
		ls.Config = nn.LayerConfig{Units: c.Units, Activation: act, UseBias: c.UseBias, L2: l2}
	case "BatchNormalization":
		if len(c.Axis) > 1 || (len(c.Axis) == 1 && c.Axis[0] != -1 && c.Axis[0] != 3) {
			return bad("axis %v not supported (want -1, the channels)", []int(c.Axis))
		}
		if (c.Center != nil && !*c.Center) || (c.Scale != nil && !*c.Scale) {
			return bad("center=false or scale=false not supported")
		}
		ls.Config = nn.LayerConfig{Epsilon: c.Epsilon, Momentum: c.Momentum}
	case "MaxPooling2D":
		ls.Config = nn.LayerConfig{PoolSize: c.PoolSize, Strides: c.Strides, Padding: c.Padding}
	case "Dropout":
		ls.Config = nn.LayerConfig{Rate: c.Rate}
		if c.Seed != nil && *c.Seed > 0 {
			ls.Config.Seed = uint64(*c.Seed)
		}
	case "Flatten":
	case "Activation":
		ls.Config = nn.LayerConfig{Activation: act}
	case "ReLU":
		for _, v := range []struct {
			key string
			p   *float64
		}{{"max_value", c.MaxValue}, {"negative_slope", c.NegativeSlope}, {"threshold", c.Threshold}} {
			if v.p != nil && *v.p != 0 {
				return bad("%s %g not supported (plain ReLU only)", v.key, *v.p)
			}
		}
	case "Softmax":
		ls.Config = nn.LayerConfig{Activation: "softmax"}
	default:
		return nn.LayerSpec{}, fmt.Errorf("keras: layer %q: class %s not supported (supported: InputLayer, Conv2D, BatchNormalization, MaxPooling2D, Dropout, Flatten, Dense, Activation (relu, linear, softmax), ReLU, Softmax)", name, class)
	}
	return ls, nil
}

// activation reads a Keras activation: a name, or a serialised object whose
// config is the name.
func activation(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return checkActivation(s)
	}
	var obj struct {
		ClassName string          `json:"class_name"`
		Config    json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", fmt.Errorf("activation %s not understood", raw)
	}
	if err := json.Unmarshal(obj.Config, &s); err == nil {
		return checkActivation(s)
	}
	return checkActivation(obj.ClassName)
}

func checkActivation(s string) (string, error) {
	switch strings.ToLower(s) {
	case "", "linear":
		return "linear", nil
	case "relu", "softmax":
		return strings.ToLower(s), nil
	}
	return "", fmt.Errorf("activation %q not supported (want linear, relu or softmax)", s)
}

// regularizer returns the L2 factor of a kernel regularizer (null, L2 or
// L1L2 with l1 = 0).
func regularizer(raw json.RawMessage) (float64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var r struct {
		ClassName string `json:"class_name"`
		Config    struct {
			L1 float64 `json:"l1"`
			L2 float64 `json:"l2"`
		} `json:"config"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return 0, fmt.Errorf("kernel_regularizer %s not understood", raw)
	}
	switch r.ClassName {
	case "L2", "l2", "L1L2":
		if r.Config.L1 != 0 {
			return 0, fmt.Errorf("L1 regularization (l1=%g) not supported", r.Config.L1)
		}
		return r.Config.L2, nil
	}
	return 0, fmt.Errorf("kernel_regularizer %s not supported (want L2)", r.ClassName)
}

// checkChain accepts a Functional model only when each layer takes exactly
// one input, the output of the layer listed before it, and the last layer is
// the only output.
func checkChain(mc modelConfigJSON) error {
	prev := ""
	for i, l := range mc.Layers {
		name := l.Name
		if name == "" {
			name = l.Config.Name
		}
		var nodes []any
		if l.InboundNodes != nil {
			var ok bool
			if nodes, ok = l.InboundNodes.([]any); !ok {
				return fmt.Errorf("keras: layer %q (%s): inbound_nodes not understood", name, l.ClassName)
			}
		}
		if i == 0 {
			if l.ClassName != "InputLayer" || len(nodes) != 0 {
				return fmt.Errorf("keras: layer %q (%s): a Functional model must start with its InputLayer", name, l.ClassName)
			}
			prev = name
			continue
		}
		if len(nodes) != 1 {
			return fmt.Errorf("keras: layer %q (%s) is called %d times; only a plain chain of layers is supported", name, l.ClassName, len(nodes))
		}
		srcs := sources(nodes[0], nil)
		if len(srcs) != 1 || srcs[0] != prev {
			return fmt.Errorf("keras: layer %q (%s) takes inputs %v, want only %q: only a plain chain of layers is supported", name, l.ClassName, srcs, prev)
		}
		prev = name
	}
	if outs := sources(mc.OutputLayers, nil); len(outs) != 1 || outs[0] != prev {
		return fmt.Errorf("keras: model outputs %v, want only the last layer %q", outs, prev)
	}
	return nil
}

// sources collects the layer names an inbound node refers to: Keras 2
// writes ["name", node, tensor, {kwargs}] lists, Keras 3 tensors carrying a
// keras_history ["name", node, tensor].
func sources(v any, out []string) []string {
	switch v := v.(type) {
	case []any:
		if len(v) >= 3 {
			if name, ok := v[0].(string); ok {
				if _, ok := v[1].(float64); ok {
					return append(out, name)
				}
			}
		}
		for _, x := range v {
			out = sources(x, out)
		}
	case map[string]any:
		if h, ok := v["keras_history"]; ok {
			return sources(h, out)
		}
		for _, k := range []string{"args", "config"} { // kwargs hold no tensors in a chain
			if x, ok := v[k]; ok {
				out = sources(x, out)
			}
		}
	}
	return out
}

package nn

import (
	"strings"

	"github.com/mavis-xai/mavis/internal/jsonv"
)

// Spec describes a sequential model: its input and one entry per layer,
// with Keras's class names and configuration keys, so that a Keras model
// config translates entry by entry. As JSON:
//
//	{
//	  "name": "mavis",
//	  "input": [224, 224, 3],
//	  "layers": [
//	    {"class": "Conv2D", "name": "conv2d", "config": {"filters": 64, "kernel_size": [3, 3],
//	        "strides": [1, 1], "padding": "same", "activation": "relu", "l2": 0.0001}},
//	    {"class": "BatchNormalization", "name": "batch_normalization", "config": {"epsilon": 0.001}},
//	    {"class": "MaxPooling2D", "name": "max_pooling2d", "config": {"pool_size": [2, 2]}},
//	    {"class": "Dropout", "name": "dropout", "config": {"rate": 0.2}},
//	    {"class": "Flatten", "name": "flatten"},
//	    {"class": "Dense", "name": "dense_2", "config": {"units": 5, "activation": "softmax"}}
//	  ]
//	}
//
// Supported classes and their keys (defaults as Keras):
//
//	Conv2D               filters, kernel_size, strides [1,1], padding "valid", activation "linear", use_bias true, l2 0
//	BatchNormalization   epsilon 0.001, momentum 0.99
//	MaxPooling2D         pool_size [2,2], strides = pool_size, padding "valid"
//	Dropout              rate, seed 0
//	Flatten              -
//	Dense                units, activation "linear", use_bias true, l2 0
//	Activation           activation "relu", "linear" or "softmax" (a separate step)
//	ReLU, Softmax        -
//
// Layer names must be unique; they name the weights ("conv2d/kernel").
type Spec struct {
	Name   string      `json:"name,omitempty"`
	Input  [3]int      `json:"input"` // height, width, channels
	Layers []LayerSpec `json:"layers"`
}

// LayerSpec is one layer of a Spec.
type LayerSpec struct {
	Class  string      `json:"class"`
	Name   string      `json:"name"`
	Config LayerConfig `json:"config,omitzero"`
}

// LayerConfig holds the Keras configuration keys a layer uses; see Spec.
type LayerConfig struct {
	Filters    int     `json:"filters,omitempty"`
	KernelSize []int   `json:"kernel_size,omitempty"`
	Strides    []int   `json:"strides,omitempty"`
	Padding    string  `json:"padding,omitempty"`
	Activation string  `json:"activation,omitempty"`
	UseBias    *bool   `json:"use_bias,omitempty"`
	L2         float64 `json:"l2,omitempty"`
	Units      int     `json:"units,omitempty"`
	PoolSize   []int   `json:"pool_size,omitempty"`
	Rate       float64 `json:"rate,omitempty"`
	Seed       uint64  `json:"seed,omitempty"`
	Epsilon    float64 `json:"epsilon,omitempty"`
	Momentum   float64 `json:"momentum,omitempty"`
}

// ParseSpec reads a Spec from JSON, refusing unknown keys.
func ParseSpec(data []byte) (Spec, error) {
	v, err := jsonv.Parse(data)
	if err == nil {
		var s Spec
		if s, err = decodeSpec(v); err == nil {
			return s, nil
		}
	}
	return Spec{}, errorf("nn: architecture spec: %v", err)
}

// pair reads a Keras (h, w) pair: [] gives def, [a] gives (a, a).
func pair(layer, key string, v []int, def int) (int, int, error) {
	switch len(v) {
	case 0:
		return def, def, nil
	case 1:
		v = []int{v[0], v[0]}
	case 2:
	default:
		return 0, 0, errorf("nn: %s: %s has %d values, want 2", layer, key, len(v))
	}
	if v[0] < 1 || v[1] < 1 || v[0] > 1<<16 || v[1] > 1<<16 {
		return 0, 0, errorf("nn: %s: %s %v out of range", layer, key, v)
	}
	return v[0], v[1], nil
}

const maxUnits = 1 << 20

// newLayer builds the layer an entry describes, for the given per-sample
// input shape.
func newLayer(ls LayerSpec, in [3]int) (Layer, error) {
	c := ls.Config
	bias := c.UseBias == nil || *c.UseBias
	act, err := ParseActivation(c.Activation)
	if err != nil {
		return nil, errorf("nn: %s: %v", ls.Name, strings.TrimPrefix(err.Error(), "nn: "))
	}
	switch ls.Class {
	case "Conv2D":
		kh, kw, err := pair(ls.Name, "kernel_size", c.KernelSize, 0)
		if err != nil {
			return nil, err
		}
		if kh == 0 {
			return nil, errorf("nn: %s: Conv2D needs kernel_size", ls.Name)
		}
		sh, sw, err := pair(ls.Name, "strides", c.Strides, 1)
		if err != nil {
			return nil, err
		}
		pad, err := ParsePadding(c.Padding)
		if err != nil {
			return nil, errorf("nn: %s: %v", ls.Name, strings.TrimPrefix(err.Error(), "nn: "))
		}
		if c.Filters < 1 || c.Filters > maxUnits {
			return nil, errorf("nn: %s: filters %d out of range", ls.Name, c.Filters)
		}
		if act == Softmax {
			return nil, errorf("nn: %s: softmax activation on Conv2D is not supported", ls.Name)
		}
		l := NewConv2D(ls.Name, in[2], c.Filters, kh, kw, sh, sw, pad, act, bias)
		l.Kernel.L2 = float32(c.L2)
		return l, nil
	case "BatchNormalization":
		eps, mom := c.Epsilon, c.Momentum
		if eps == 0 {
			eps = 1e-3
		}
		if mom == 0 {
			mom = 0.99
		}
		return NewBatchNorm(ls.Name, in[2], float32(eps), float32(mom)), nil
	case "MaxPooling2D":
		ph, pw, err := pair(ls.Name, "pool_size", c.PoolSize, 2)
		if err != nil {
			return nil, err
		}
		sh, sw, err := pair(ls.Name, "strides", c.Strides, 0)
		if err != nil {
			return nil, err
		}
		if sh == 0 {
			sh, sw = ph, pw
		}
		pad, err := ParsePadding(c.Padding)
		if err != nil {
			return nil, errorf("nn: %s: %v", ls.Name, strings.TrimPrefix(err.Error(), "nn: "))
		}
		return NewMaxPool2D(ls.Name, ph, pw, sh, sw, pad), nil
	case "Dropout":
		if c.Rate < 0 || c.Rate >= 1 {
			return nil, errorf("nn: %s: dropout rate %g outside [0, 1)", ls.Name, c.Rate)
		}
		return NewDropout(ls.Name, float32(c.Rate), c.Seed), nil
	case "Flatten":
		return NewFlatten(ls.Name), nil
	case "Dense":
		if c.Units < 1 || c.Units > maxUnits {
			return nil, errorf("nn: %s: units %d out of range", ls.Name, c.Units)
		}
		if in[0] != 1 || in[1] != 1 {
			return nil, errorf("nn: %s: Dense on a %dx%dx%d input needs a Flatten before it", ls.Name, in[0], in[1], in[2])
		}
		l := NewDense(ls.Name, in[2], c.Units, act, bias)
		l.Kernel.L2 = float32(c.L2)
		return l, nil
	case "Softmax":
		return NewSoftmax(ls.Name), nil
	case "Activation":
		if act == Softmax {
			return NewSoftmax(ls.Name), nil
		}
		return NewActivation(ls.Name, act), nil
	case "ReLU":
		return NewActivation(ls.Name, ReLU), nil
	}
	return nil, errorf("nn: %s: unsupported layer class %q (supported: Conv2D, BatchNormalization, MaxPooling2D, Dropout, Flatten, Dense, Activation, ReLU, Softmax)", ls.Name, ls.Class)
}

// Builtin returns a built-in architecture by name: "mavis" (the original
// MAVIS-XAI Tiny-ImageNet CNN) or "fashion" (the page's default model).
func Builtin(name string) (Spec, error) {
	// A switch, not a map: the linker then drops the specs (about 45 KB
	// of wasm) from programs that never call Builtin, such as the
	// browser's worker.
	switch name {
	case "mavis":
		return mavisSpec(), nil
	case "fashion":
		return fashionSpec(), nil
	}
	return Spec{}, errorf("nn: no built-in architecture %q (have %s)", name, strings.Join(BuiltinNames(), ", "))
}

// BuiltinNames lists the built-in architectures.
func BuiltinNames() []string { return []string{"fashion", "mavis"} }

// mavisSpec is the original model (shared/seed/NOTES.md), with Keras's
// automatic layer names so that Keras weight files map onto it by name.
func mavisSpec() Spec {
	s := Spec{Name: "mavis", Input: [3]int{224, 224, 3}}
	count := map[string]int{}
	name := func(base string) string {
		n := count[base]
		count[base]++
		if n == 0 {
			return base
		}
		return sprintf("%s_%d", base, n)
	}
	conv := func(filters int) {
		s.Layers = append(s.Layers,
			LayerSpec{Class: "Conv2D", Name: name("conv2d"), Config: LayerConfig{Filters: filters,
				KernelSize: []int{3, 3}, Strides: []int{1, 1}, Padding: "same", Activation: "relu", L2: 1e-4}},
			LayerSpec{Class: "BatchNormalization", Name: name("batch_normalization"), Config: LayerConfig{Epsilon: 1e-3, Momentum: 0.99}})
	}
	pool := func() {
		s.Layers = append(s.Layers, LayerSpec{Class: "MaxPooling2D", Name: name("max_pooling2d"),
			Config: LayerConfig{PoolSize: []int{2, 2}, Strides: []int{2, 2}, Padding: "valid"}})
	}
	drop := func(rate float64) {
		s.Layers = append(s.Layers, LayerSpec{Class: "Dropout", Name: name("dropout"), Config: LayerConfig{Rate: rate}})
	}
	dense := func(units int, act string, l2 float64) {
		s.Layers = append(s.Layers, LayerSpec{Class: "Dense", Name: name("dense"),
			Config: LayerConfig{Units: units, Activation: act, L2: l2}})
	}
	conv(64)
	pool()
	conv(64)
	pool()
	conv(64)
	pool()
	drop(0.2)
	conv(32)
	conv(32)
	pool()
	drop(0.2)
	conv(16)
	conv(16)
	pool()
	drop(0.2)
	conv(8)
	pool()
	drop(0.2)
	s.Layers = append(s.Layers, LayerSpec{Class: "Flatten", Name: name("flatten")})
	dense(160, "relu", 1e-4)
	s.Layers = append(s.Layers, LayerSpec{Class: "BatchNormalization", Name: name("batch_normalization"), Config: LayerConfig{Epsilon: 1e-3, Momentum: 0.99}})
	drop(0.3)
	dense(50, "relu", 1e-4)
	s.Layers = append(s.Layers, LayerSpec{Class: "BatchNormalization", Name: name("batch_normalization"), Config: LayerConfig{Epsilon: 1e-3, Momentum: 0.99}})
	drop(0.4)
	dense(5, "softmax", 0)
	return s
}

package nn

import (
	"math"
	"strconv"

	"github.com/mavis-xai/mavis/internal/jsonv"
)

// Writing the weights file's JSON (spec, classes, preprocess) by hand
// through internal/jsonv, byte for byte what encoding/json's Marshal writes
// (json_encode_test.go holds it to that): nn does not import encoding/json.

// marshalSpec writes s as json.Marshal does from its tags, refusing
// non-finite numbers as it does.
func marshalSpec(s Spec) ([]byte, error) {
	for _, l := range s.Layers {
		for _, v := range []float64{l.Config.L2, l.Config.Rate, l.Config.Epsilon, l.Config.Momentum} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, errorf("layer %q has the value %v, which JSON cannot hold", l.Name, v)
			}
		}
	}
	b := []byte{'{'}
	if s.Name != "" {
		b = jsonv.AppendKey(b, "name")
		b = jsonv.AppendString(b, s.Name)
	}
	b = jsonv.AppendKey(b, "input")
	b = jsonv.AppendInts(b, s.Input[:])
	b = jsonv.AppendKey(b, "layers")
	if s.Layers == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, l := range s.Layers {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			b = jsonv.AppendKey(b, "class")
			b = jsonv.AppendString(b, l.Class)
			b = jsonv.AppendKey(b, "name")
			b = jsonv.AppendString(b, l.Name)
			if c := l.Config; !c.isZero() {
				b = jsonv.AppendKey(b, "config")
				b = appendLayerConfig(b, c)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// isZero is what omitzero tests: every field zero, slices nil.
func (c LayerConfig) isZero() bool {
	return c.Filters == 0 && c.KernelSize == nil && c.Strides == nil && c.Padding == "" && c.Activation == "" &&
		c.UseBias == nil && c.L2 == 0 && c.Units == 0 && c.PoolSize == nil && c.Rate == 0 && c.Seed == 0 &&
		c.Epsilon == 0 && c.Momentum == 0
}

func appendLayerConfig(b []byte, c LayerConfig) []byte {
	b = append(b, '{')
	num := func(key string, v float64) {
		if v != 0 {
			b = jsonv.AppendKey(b, key)
			b = jsonv.AppendFloat(b, v)
		}
	}
	ints := func(key string, v []int) {
		if len(v) > 0 {
			b = jsonv.AppendKey(b, key)
			b = jsonv.AppendInts(b, v)
		}
	}
	str := func(key, v string) {
		if v != "" {
			b = jsonv.AppendKey(b, key)
			b = jsonv.AppendString(b, v)
		}
	}
	num("filters", float64(c.Filters))
	ints("kernel_size", c.KernelSize)
	ints("strides", c.Strides)
	str("padding", c.Padding)
	str("activation", c.Activation)
	if c.UseBias != nil {
		b = jsonv.AppendKey(b, "use_bias")
		b = strconv.AppendBool(b, *c.UseBias)
	}
	num("l2", c.L2)
	num("units", float64(c.Units))
	ints("pool_size", c.PoolSize)
	num("rate", c.Rate)
	if c.Seed != 0 {
		b = jsonv.AppendKey(b, "seed")
		b = strconv.AppendUint(b, c.Seed, 10)
	}
	num("epsilon", c.Epsilon)
	num("momentum", c.Momentum)
	return append(b, '}')
}

// marshalClasses writes classes as json.Marshal does.
func marshalClasses(cs []Class) []byte {
	if cs == nil {
		return []byte("null")
	}
	b := []byte{'['}
	for i, c := range cs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = jsonv.AppendString(b, c.ID)
		b = append(b, `,"name":`...)
		b = jsonv.AppendString(b, c.Name)
		b = append(b, '}')
	}
	return append(b, ']')
}

// marshalPreprocess writes p as json.Marshal does.
func marshalPreprocess(p Preprocess) []byte {
	b := []byte{'{'}
	for _, f := range []struct {
		key string
		v   int
	}{{"height", p.Height}, {"width", p.Width}, {"channels", p.Channels}} {
		b = jsonv.AppendKey(b, f.key)
		b = strconv.AppendInt(b, int64(f.v), 10)
	}
	for _, f := range []struct{ key, v string }{{"color", p.Color}, {"scale", p.Scale}, {"resize", p.Resize}, {"crop", p.Crop}} {
		b = jsonv.AppendKey(b, f.key)
		b = jsonv.AppendString(b, f.v)
	}
	return append(b, '}')
}

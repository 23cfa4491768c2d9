package nn

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/mavis-xai/mavis/internal/order"
)

// Writing the weights file's JSON (header, spec, classes, preprocess) by
// hand, byte for byte what encoding/json's Marshal writes (json_test.go
// holds it to that): nn then does not import encoding/json at all, whose
// package initialisation alone (with reflect and encoding/base64) would
// otherwise stay in the browser's worker.

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted as json.Marshal does: HTML-safe
// (<, > and & escaped), U+2028 and U+2029 escaped, invalid UTF-8 as
// \ufffd.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == '\\' || c == '"':
				b = append(b, '\\', c)
			case c == '\b':
				b = append(b, '\\', 'b')
			case c == '\f':
				b = append(b, '\\', 'f')
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < ' ' || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}

// appendJSONFloat appends a finite float64 as json.Marshal does (the ES6
// number format).
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSONInts appends an int slice (nil as null).
func appendJSONInts(b []byte, v []int) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(x), 10)
	}
	return append(b, ']')
}

// appendJSONKey appends ,"key": (no comma before the first member).
func appendJSONKey(b []byte, key string) []byte {
	if b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

// marshalStringMap writes a map of strings with sorted keys.
func marshalStringMap(m map[string]string) []byte {
	if m == nil {
		return []byte("null")
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	b := []byte{'{'}
	for i, k := range sortedStrings(keys) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, m[k])
	}
	return append(b, '}')
}

// sortedStrings returns s sorted.
func sortedStrings(s []string) []string {
	out := make([]string, len(s))
	for k, i := range order.Index(len(s), func(a, b int32) int {
		switch {
		case s[a] < s[b]:
			return -1
		case s[a] > s[b]:
			return 1
		}
		return 0
	}) {
		out[k] = s[i]
	}
	return out
}

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
		b = appendJSONKey(b, "name")
		b = appendJSONString(b, s.Name)
	}
	b = appendJSONKey(b, "input")
	b = appendJSONInts(b, s.Input[:])
	b = appendJSONKey(b, "layers")
	if s.Layers == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, l := range s.Layers {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			b = appendJSONKey(b, "class")
			b = appendJSONString(b, l.Class)
			b = appendJSONKey(b, "name")
			b = appendJSONString(b, l.Name)
			if c := l.Config; !c.isZero() {
				b = appendJSONKey(b, "config")
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
			b = appendJSONKey(b, key)
			b = appendJSONFloat(b, v)
		}
	}
	ints := func(key string, v []int) {
		if len(v) > 0 {
			b = appendJSONKey(b, key)
			b = appendJSONInts(b, v)
		}
	}
	str := func(key, v string) {
		if v != "" {
			b = appendJSONKey(b, key)
			b = appendJSONString(b, v)
		}
	}
	num("filters", float64(c.Filters))
	ints("kernel_size", c.KernelSize)
	ints("strides", c.Strides)
	str("padding", c.Padding)
	str("activation", c.Activation)
	if c.UseBias != nil {
		b = appendJSONKey(b, "use_bias")
		b = strconv.AppendBool(b, *c.UseBias)
	}
	num("l2", c.L2)
	num("units", float64(c.Units))
	ints("pool_size", c.PoolSize)
	num("rate", c.Rate)
	if c.Seed != 0 {
		b = appendJSONKey(b, "seed")
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
		b = appendJSONString(b, c.ID)
		b = append(b, `,"name":`...)
		b = appendJSONString(b, c.Name)
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
		b = appendJSONKey(b, f.key)
		b = strconv.AppendInt(b, int64(f.v), 10)
	}
	for _, f := range []struct{ key, v string }{{"color", p.Color}, {"scale", p.Scale}, {"resize", p.Resize}, {"crop", p.Crop}} {
		b = appendJSONKey(b, f.key)
		b = appendJSONString(b, f.v)
	}
	return append(b, '}')
}

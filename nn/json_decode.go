package nn

import (
	"errors"
	"math"
	"strconv"
)

// Decoding parsed JSON (json.go) into nn's structs by hand, with
// encoding/json's rules where they matter here: null leaves a field at its
// zero value, the last of repeated keys counts, and nothing unknown is
// accepted. Unlike json.Decoder.DisallowUnknownFields, keys match exactly
// (not case-insensitively), and an integer field takes any integral number
// within ±2^53 (encoding/json refuses 1e2 for an int, this accepts it as
// 100).

// errUnknownField is what a field callback returns for a key it does not
// know.
var errUnknownField = errors.New("unknown field")

// jsonFields calls f for every member of v in order, which must be an
// object (what names it in errors), refusing unknown keys. A repeated key
// is decoded again, so the last one counts, as in encoding/json.
func jsonFields(v any, what string, f func(key string, v any) error) error {
	o, ok := v.(jsonObject)
	if !ok {
		return errorf("%s is %s, want an object", what, jsonKind(v))
	}
	for _, m := range o {
		if err := f(m.Key, m.Value); err != nil {
			if err == errUnknownField {
				return errorf("unknown field %q in %s", m.Key, what)
			}
			return err
		}
	}
	return nil
}

// jsonKind names the kind of a parsed value for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case jsonObject:
		return "an object"
	}
	return "not JSON"
}

func jsonString(v any, what string) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	}
	return "", errorf("%s is %s, want a string", what, jsonKind(v))
}

func jsonFloat(v any, what string) (float64, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case float64:
		return x, nil
	}
	return 0, errorf("%s is %s, want a number", what, jsonKind(v))
}

// jsonInt takes an integral number of magnitude at most 2^53.
func jsonInt(v any, what string) (int, error) {
	f, err := jsonFloat(v, what)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, errorf("%s is %v, want an integer", what, f)
	}
	return int(f), nil
}

func jsonBool(v any, what string) (*bool, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case bool:
		return &x, nil
	}
	return nil, errorf("%s is %s, want true or false", what, jsonKind(v))
}

// jsonArray calls f for every element of v, which must be an array (or
// null, which has none).
func jsonArray(v any, what string, f func(i int, v any) error) error {
	if v == nil {
		return nil
	}
	a, ok := v.([]any)
	if !ok {
		return errorf("%s is %s, want an array", what, jsonKind(v))
	}
	for i, e := range a {
		if err := f(i, e); err != nil {
			return err
		}
	}
	return nil
}

// jsonInts decodes an array of integers (null gives nil).
func jsonInts(v any, what string) ([]int, error) {
	var s []int
	err := jsonArray(v, what, func(i int, e any) error {
		n, err := jsonInt(e, what)
		s = append(s, n)
		return err
	})
	if s == nil && err == nil && v != nil {
		s = []int{}
	}
	return s, err
}

// jsonStringMap decodes an object of strings.
func jsonStringMap(v any, what string) (map[string]string, error) {
	if v == nil {
		return nil, nil
	}
	m := map[string]string{}
	err := jsonFields(v, what, func(k string, e any) error {
		s, ok := e.(string)
		if !ok {
			return errorf("%s: %q is %s, want a string", what, k, jsonKind(e))
		}
		m[k] = s
		return nil
	})
	return m, err
}

// decodeSpec decodes a parsed architecture spec.
func decodeSpec(v any) (Spec, error) {
	var s Spec
	err := jsonFields(v, "the spec", func(k string, e any) (err error) {
		switch k {
		case "name":
			s.Name, err = jsonString(e, "name")
		case "input":
			var in []int
			if in, err = jsonInts(e, "input"); err == nil && e != nil {
				if len(in) != 3 {
					return errorf("input has %d values, want 3 (height, width, channels)", len(in))
				}
				s.Input = [3]int(in)
			}
		case "layers":
			err = jsonArray(e, "layers", func(i int, l any) error {
				ls, err := decodeLayerSpec(l, "layers["+strconv.Itoa(i)+"]")
				s.Layers = append(s.Layers, ls)
				return err
			})
		default:
			return errUnknownField
		}
		return err
	})
	return s, err
}

func decodeLayerSpec(v any, what string) (LayerSpec, error) {
	var ls LayerSpec
	err := jsonFields(v, what, func(k string, e any) (err error) {
		switch k {
		case "class":
			ls.Class, err = jsonString(e, what+".class")
		case "name":
			ls.Name, err = jsonString(e, what+".name")
		case "config":
			ls.Config, err = decodeLayerConfig(e, what+".config")
		default:
			return errUnknownField
		}
		return err
	})
	return ls, err
}

func decodeLayerConfig(v any, what string) (LayerConfig, error) {
	var c LayerConfig
	if v == nil {
		return c, nil
	}
	err := jsonFields(v, what, func(k string, e any) (err error) {
		w := what + "." + k
		switch k {
		case "filters":
			c.Filters, err = jsonInt(e, w)
		case "kernel_size":
			c.KernelSize, err = jsonInts(e, w)
		case "strides":
			c.Strides, err = jsonInts(e, w)
		case "padding":
			c.Padding, err = jsonString(e, w)
		case "activation":
			c.Activation, err = jsonString(e, w)
		case "use_bias":
			c.UseBias, err = jsonBool(e, w)
		case "l2":
			c.L2, err = jsonFloat(e, w)
		case "units":
			c.Units, err = jsonInt(e, w)
		case "pool_size":
			c.PoolSize, err = jsonInts(e, w)
		case "rate":
			c.Rate, err = jsonFloat(e, w)
		case "seed":
			var n int
			if n, err = jsonInt(e, w); err == nil && n < 0 {
				err = errorf("%s is %d, want a non-negative integer", w, n)
			}
			c.Seed = uint64(n)
		case "epsilon":
			c.Epsilon, err = jsonFloat(e, w)
		case "momentum":
			c.Momentum, err = jsonFloat(e, w)
		default:
			return errUnknownField
		}
		return err
	})
	return c, err
}

// decodeClasses decodes [{"id": ..., "name": ...}, ...].
func decodeClasses(v any) ([]Class, error) {
	if _, ok := v.([]any); !ok {
		return nil, errorf("classes are %s, want an array", jsonKind(v))
	}
	cs := []Class{}
	err := jsonArray(v, "classes", func(i int, e any) error {
		var c Class
		what := "class " + strconv.Itoa(i)
		err := jsonFields(e, what, func(k string, f any) (err error) {
			switch k {
			case "id":
				c.ID, err = jsonString(f, what+" id")
			case "name":
				c.Name, err = jsonString(f, what+" name")
			default:
				return errUnknownField
			}
			return err
		})
		cs = append(cs, c)
		return err
	})
	return cs, err
}

// decodePreprocess decodes a Preprocess object.
func decodePreprocess(v any) (Preprocess, error) {
	var p Preprocess
	err := jsonFields(v, "preprocess", func(k string, e any) (err error) {
		switch k {
		case "height":
			p.Height, err = jsonInt(e, k)
		case "width":
			p.Width, err = jsonInt(e, k)
		case "channels":
			p.Channels, err = jsonInt(e, k)
		case "color":
			p.Color, err = jsonString(e, k)
		case "scale":
			p.Scale, err = jsonString(e, k)
		case "resize":
			p.Resize, err = jsonString(e, k)
		case "crop":
			p.Crop, err = jsonString(e, k)
		default:
			return errUnknownField
		}
		return err
	})
	return p, err
}

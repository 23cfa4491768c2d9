package nn

import (
	"strconv"

	"github.com/mavis-xai/mavis/internal/jsonv"
)

// Decoding parsed JSON (internal/jsonv) into nn's structs by hand, with
// encoding/json's rules (see jsonv's decode.go): null leaves a field at its
// zero value, the last of repeated keys counts, and nothing unknown is
// accepted.

// decodeSpec decodes a parsed architecture spec.
func decodeSpec(v any) (Spec, error) {
	var s Spec
	err := jsonv.Fields(v, "the spec", func(k string, e any) (err error) {
		switch k {
		case "name":
			s.Name, err = jsonv.String(e, "name")
		case "input":
			var in []int
			if in, err = jsonv.Ints(e, "input"); err == nil && e != nil {
				if len(in) != 3 {
					return errorf("input has %d values, want 3 (height, width, channels)", len(in))
				}
				s.Input = [3]int(in)
			}
		case "layers":
			err = jsonv.Array(e, "layers", func(i int, l any) error {
				ls, err := decodeLayerSpec(l, "layers["+strconv.Itoa(i)+"]")
				s.Layers = append(s.Layers, ls)
				return err
			})
		default:
			return jsonv.ErrUnknownField
		}
		return err
	})
	return s, err
}

func decodeLayerSpec(v any, what string) (LayerSpec, error) {
	var ls LayerSpec
	err := jsonv.Fields(v, what, func(k string, e any) (err error) {
		switch k {
		case "class":
			ls.Class, err = jsonv.String(e, what+".class")
		case "name":
			ls.Name, err = jsonv.String(e, what+".name")
		case "config":
			ls.Config, err = decodeLayerConfig(e, what+".config")
		default:
			return jsonv.ErrUnknownField
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
	err := jsonv.Fields(v, what, func(k string, e any) (err error) {
		w := what + "." + k
		switch k {
		case "filters":
			c.Filters, err = jsonv.Int(e, w)
		case "kernel_size":
			c.KernelSize, err = jsonv.Ints(e, w)
		case "strides":
			c.Strides, err = jsonv.Ints(e, w)
		case "padding":
			c.Padding, err = jsonv.String(e, w)
		case "activation":
			c.Activation, err = jsonv.String(e, w)
		case "use_bias":
			c.UseBias, err = jsonv.Bool(e, w)
		case "l2":
			c.L2, err = jsonv.Float(e, w)
		case "units":
			c.Units, err = jsonv.Int(e, w)
		case "pool_size":
			c.PoolSize, err = jsonv.Ints(e, w)
		case "rate":
			c.Rate, err = jsonv.Float(e, w)
		case "seed":
			var n int
			if n, err = jsonv.Int(e, w); err == nil && n < 0 {
				err = errorf("%s is %d, want a non-negative integer", w, n)
			}
			c.Seed = uint64(n)
		case "epsilon":
			c.Epsilon, err = jsonv.Float(e, w)
		case "momentum":
			c.Momentum, err = jsonv.Float(e, w)
		default:
			return jsonv.ErrUnknownField
		}
		return err
	})
	return c, err
}

// decodeClasses decodes [{"id": ..., "name": ...}, ...].
func decodeClasses(v any) ([]Class, error) {
	if _, ok := v.([]any); !ok {
		return nil, errorf("classes are %s, want an array", jsonv.Kind(v))
	}
	cs := []Class{}
	err := jsonv.Array(v, "classes", func(i int, e any) error {
		var c Class
		what := "class " + strconv.Itoa(i)
		err := jsonv.Fields(e, what, func(k string, f any) (err error) {
			switch k {
			case "id":
				c.ID, err = jsonv.String(f, what+" id")
			case "name":
				c.Name, err = jsonv.String(f, what+" name")
			default:
				return jsonv.ErrUnknownField
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
	err := jsonv.Fields(v, "preprocess", func(k string, e any) (err error) {
		switch k {
		case "height":
			p.Height, err = jsonv.Int(e, k)
		case "width":
			p.Width, err = jsonv.Int(e, k)
		case "channels":
			p.Channels, err = jsonv.Int(e, k)
		case "color":
			p.Color, err = jsonv.String(e, k)
		case "scale":
			p.Scale, err = jsonv.String(e, k)
		case "resize":
			p.Resize, err = jsonv.String(e, k)
		case "crop":
			p.Crop, err = jsonv.String(e, k)
		default:
			return jsonv.ErrUnknownField
		}
		return err
	})
	return p, err
}

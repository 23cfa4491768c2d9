package main

import (
	"bytes"
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/weightsconv/keras"
)

// This file is the module's work in plain Go (main.go only moves values
// across the JS boundary), so that it is tested natively too.

// maxInput caps the Keras file the page converts: the file, its weights
// and the output are all held in the wasm heap (at most 4 GB, less in
// practice). Larger files are for bin/weightsconv.
const maxInput = 512 << 20

// request is convert's options object (api.d.ts: ConvertOptions).
type request struct {
	Name    string // the file's name, recorded as weightsconv records the input's base name
	Arch    string // a built-in architecture
	Spec    string // an nn spec (JSON text), pasted or read from a file
	Classes string // class names, one per line, typed or read from a file (keras.ParseClasses)
	Scale   string
	Resize  string
	Crop    string
}

// requestFields are the option names convert accepts, in request's order.
var requestFields = []string{"name", "arch", "spec", "classes", "scale", "resize", "crop"}

// set stores option name's value.
func (r *request) set(name, v string) {
	switch name {
	case "name":
		r.Name = v
	case "arch":
		r.Arch = v
	case "spec":
		r.Spec = v
	case "classes":
		r.Classes = v
	case "scale":
		r.Scale = v
	case "resize":
		r.Resize = v
	case "crop":
		r.Crop = v
	}
}

// checkSize refuses a file of n bytes over maxInput.
func checkSize(n int) error {
	if n > maxInput {
		return errors.New("convert: the file is " + strconv.Itoa(n>>20) + " MB; the page converts Keras files up to " +
			strconv.Itoa(maxInput>>20) + " MB: convert it with bin/weightsconv instead")
	}
	return nil
}

// convert converts a Keras file as weightsconv does (keras.Convert with the
// same options): the .safetensors bytes, and what they hold.
func convert(data []byte, r request) ([]byte, map[string]any, error) {
	if err := checkSize(len(data)); err != nil {
		return nil, nil, err
	}
	o := keras.Options{Source: baseName(r.Name), Arch: r.Arch, Scale: r.Scale, Resize: r.Resize, Crop: r.Crop}
	if strings.TrimSpace(r.Spec) != "" {
		o.Spec = []byte(r.Spec)
	}
	if strings.TrimSpace(r.Classes) != "" {
		cs, err := keras.ParseClasses(strings.NewReader(r.Classes), "the class names")
		if err != nil {
			return nil, nil, err
		}
		o.Classes = cs
	}
	c, err := keras.Convert(bytes.NewReader(data), int64(len(data)), o)
	if err != nil {
		return nil, nil, err
	}
	info := conversionInfo(c)
	info["fileName"] = keras.OutputName(cmp.Or(o.Source, "model"))
	return c.File, info, nil
}

// baseName is the last element of a path with / or \ separators, as
// filepath.Base gives weightsconv on Unix for a plain file name.
func baseName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	return name
}

// conversionInfo is the page's summary of a conversion (api.d.ts:
// ConversionInfo), the same facts weightsconv prints.
func conversionInfo(c *keras.Conversion) map[string]any {
	m := c.Model
	layers := make([]any, len(m.Layers))
	for i, l := range m.Layers {
		n := 0
		if p, ok := l.(nn.Parametric); ok {
			for _, q := range p.Params() {
				n += len(q.Value)
			}
		}
		layers[i] = map[string]any{"name": l.Name(), "class": m.Class(i), "output": shape(m.Shapes[i]), "params": n}
	}
	trainable, other := m.CountParams()
	p := m.Preprocess
	return map[string]any{
		"format":       string(c.Checkpoint.Format),
		"architecture": m.Spec.Name,
		"archFrom":     c.ArchFrom,
		"input":        shape(m.Spec.Input),
		"layers":       layers,
		"trainable":    trainable,
		"nonTrainable": other,
		"classes":      classes(m.Classes),
		"preprocess": map[string]any{"height": p.Height, "width": p.Width, "channels": p.Channels,
			"color": p.Color, "scale": p.Scale, "resize": p.Resize, "crop": p.Crop},
		"bytes": len(c.File),
	}
}

// inspect says what a Keras file holds before converting it (api.d.ts:
// Inspection): its format, whether it carries an architecture, its layers
// with weights, and which built-in architectures its weights fit.
func inspect(data []byte) (map[string]any, error) {
	if err := checkSize(len(data)); err != nil {
		return nil, err
	}
	ckpt, err := keras.Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	var layers []any
	for _, l := range ckpt.Layers {
		if len(l.Vars) == 0 {
			continue
		}
		vars := make([]any, len(l.Vars))
		for i, v := range l.Vars {
			vars[i] = map[string]any{"name": v.Name, "shape": ints(v.Shape)}
		}
		layers = append(layers, map[string]any{"name": l.Name, "vars": vars})
	}
	out := map[string]any{
		"format":          string(ckpt.Format),
		"hasArchitecture": ckpt.Spec != nil,
		"layers":          layers,
		"values":          int(ckpt.Values()),
		"fits":            fits(ckpt),
	}
	if ckpt.Spec != nil {
		out["architecture"] = ckpt.Spec.Name
	}
	return out, nil
}

// fits lists the built-in architectures whose every parameter the
// checkpoint's weights fill with the right shapes.
func fits(ckpt *keras.Checkpoint) []any {
	out := []any{}
	for _, name := range nn.BuiltinNames() {
		spec, err := nn.Builtin(name)
		if err != nil {
			continue
		}
		m, err := nn.BuildWithin(spec, ckpt.Values())
		if err == nil && ckpt.Load(m) == nil {
			out = append(out, name)
		}
	}
	return out
}

// architectures lists the built-in architectures (api.d.ts:
// Architecture): what the page offers for a weights-only file.
func architectures() []any {
	var out []any
	for _, name := range nn.BuiltinNames() {
		spec, err := nn.Builtin(name)
		if err != nil {
			continue
		}
		a := map[string]any{"name": name, "input": shape(spec.Input), "classes": nil}
		if cs := keras.BuiltinClasses(name); cs != nil {
			a["classes"] = classes(cs)
		}
		out = append(out, a)
	}
	return out
}

func classes(cs []nn.Class) []any {
	out := make([]any, len(cs))
	for i, c := range cs {
		out[i] = map[string]any{"id": c.ID, "name": c.Name}
	}
	return out
}

func shape(s [3]int) []any { return []any{s[0], s[1], s[2]} }

func ints(v []int) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

// unknownField returns the first name not in requestFields, or "".
func unknownField(names []string) string {
	for _, n := range names {
		if !slices.Contains(requestFields, n) {
			return n
		}
	}
	return ""
}

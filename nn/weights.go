package nn

import (
	"bytes"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/mavis-xai/mavis/internal/jsonv"
	"github.com/mavis-xai/mavis/internal/order"
)

// The weights file is a safetensors file (safetensors.go) that carries the
// whole model: tensors named by Param.Name ("conv2d/kernel",
// "batch_normalization/moving_mean") in their Keras shapes, stored as F32,
// and string metadata:
//
//	"format"      "mavis-xai/1"
//	"spec"        the architecture, nn.Spec as JSON
//	"classes"     [{"id": ..., "name": ...}, ...], one per output unit
//	"preprocess"  the Preprocess contract as JSON
//	"source", "created", ...  optional, free text (EncodeWith)
//
// Reading builds the architecture from the metadata spec with Build and
// requires every parameter it needs, with exactly its shape, and no other
// tensor. F64 tensors are accepted and rounded to float32. Values must be
// finite, and batch-norm moving variances non-negative. When "preprocess"
// is absent, DefaultPreprocess(spec.Input) applies; when "classes" is
// absent, the classes are "0", "1", ... named "class 0", "class 1", ...

// WeightsFormat is the value of the "format" metadata key.
const WeightsFormat = "mavis-xai/1"

// reservedMeta are the metadata keys that Encode writes itself.
var reservedMeta = []string{"format", "spec", "classes", "preprocess"}

// Encode writes m as a weights file to w.
func Encode(w io.Writer, m *Model) error {
	return EncodeWith(w, m, nil)
}

// EncodeWith is Encode with extra metadata entries; the reserved keys
// format, spec, classes and preprocess cannot be overridden.
func EncodeWith(w io.Writer, m *Model, extra map[string]string) error {
	meta := map[string]string{"format": WeightsFormat}
	for k, v := range extra {
		if slices.Contains(reservedMeta, k) {
			return errorf("nn: weights: metadata key %q is reserved", k)
		}
		meta[k] = v
	}
	spec, err := marshalSpec(m.Spec)
	if err != nil {
		return errorf("nn: weights: encoding spec: %v", err)
	}
	meta["spec"] = string(spec)
	if len(m.Classes) > 0 {
		if units := m.Shapes[len(m.Shapes)-1][2]; len(m.Classes) != units {
			return errorf("nn: weights: model has %d classes for %d outputs", len(m.Classes), units)
		}
		c := marshalClasses(m.Classes)
		meta["classes"] = string(c)
	}
	if err := checkPreprocessFor(m.Preprocess, m.Spec.Input); err != nil {
		return errorf("nn: weights: %s", strings.TrimPrefix(err.Error(), "nn: "))
	}
	p := marshalPreprocess(m.Preprocess)
	meta["preprocess"] = string(p)
	var out []stOut
	for _, q := range m.Params() {
		if err := checkValues(q.Name, q.Value); err != nil {
			return err
		}
		out = append(out, stOut{Name: q.Name, Shape: q.Shape, Data: q.Value})
	}
	return writeST(w, meta, out)
}

// Decode reads a weights file held in memory (in the browser, the bytes of
// a fetched or dropped file).
func Decode(data []byte) (*Model, error) {
	return ReadModel(bytes.NewReader(data), int64(len(data)))
}

// ReadModel reads a weights file of the given size from r. It validates the
// whole header, builds the architecture and matches every tensor to a
// parameter before it reads any values.
func ReadModel(r io.ReaderAt, size int64) (*Model, error) {
	h, err := readSTHeader(r, size)
	if err != nil {
		return nil, err
	}
	var values int64 // what the file holds; the architecture needs exactly this many
	for _, t := range h.Tensors {
		values += (t.End - t.Begin) / int64(stItemSize(t.DType))
	}
	m, err := modelFromMeta(h.Meta, values)
	if err != nil {
		return nil, err
	}
	params := m.Params()
	byName := make(map[string]stTensor, len(h.Tensors))
	for _, t := range h.Tensors {
		byName[t.Name] = t
	}
	var missing []string
	for _, p := range params {
		t, ok := byName[p.Name]
		if !ok {
			missing = append(missing, p.Name)
			continue
		}
		if !slices.Equal(t.Shape, p.Shape) {
			return nil, errorf("nn: weights: tensor %q has shape %v, architecture needs %v", p.Name, t.Shape, p.Shape)
		}
		delete(byName, p.Name)
	}
	if len(missing) > 0 {
		return nil, errorf("nn: weights: %d tensors the architecture needs are missing: %s", len(missing), nameList(missing))
	}
	if len(byName) > 0 {
		var names []string
		for name := range byName {
			names = append(names, name)
		}
		unknown := make([]string, len(names))
		for k, i := range order.Index(len(names), func(a, b int32) int { return strings.Compare(names[a], names[b]) }) {
			unknown[k] = names[i]
		}
		return nil, errorf("nn: weights: %d tensors are not parameters of architecture %q: %s", len(unknown), m.Spec.Name, nameList(unknown))
	}
	tensors := make(map[string]stTensor, len(h.Tensors))
	for _, t := range h.Tensors {
		tensors[t.Name] = t
	}
	buf := make([]byte, stChunk)
	for _, p := range params {
		if err := readSTValues(r, h, tensors[p.Name], p.Value, buf); err != nil {
			return nil, err
		}
		if err := checkValues(p.Name, p.Value); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// modelFromMeta builds the (zero-weight) model the metadata describes,
// refusing before allocating them an architecture with more parameter
// values than the file holds.
func modelFromMeta(meta map[string]string, values int64) (*Model, error) {
	if meta == nil {
		return nil, errorf("nn: weights: no __metadata__: not a %s weights file", WeightsFormat)
	}
	if f := meta["format"]; f != WeightsFormat {
		return nil, errorf("nn: weights: metadata format %q, want %q", f, WeightsFormat)
	}
	specJSON, ok := meta["spec"]
	if !ok {
		return nil, errorf("nn: weights: metadata has no spec")
	}
	spec, err := ParseSpec([]byte(specJSON))
	if err != nil {
		return nil, errorf("nn: weights: metadata spec: %s", strings.TrimPrefix(err.Error(), "nn: "))
	}
	m, err := BuildWithin(spec, values)
	if _, ok := err.(overBudget); ok {
		return nil, err
	} else if err != nil {
		return nil, errorf("nn: weights: metadata spec: %s", strings.TrimPrefix(err.Error(), "nn: "))
	}
	units := m.Shapes[len(m.Shapes)-1][2]
	if c, ok := meta["classes"]; ok {
		v, err := jsonv.Parse([]byte(c))
		if err == nil {
			m.Classes, err = decodeClasses(v)
		}
		if err != nil {
			return nil, errorf("nn: weights: metadata classes: %v", err)
		}
		if len(m.Classes) != units {
			return nil, errorf("nn: weights: metadata lists %d classes, the model has %d outputs", len(m.Classes), units)
		}
	} else {
		m.Classes = make([]Class, units)
		for i := range m.Classes {
			m.Classes[i] = Class{ID: strconv.Itoa(i), Name: "class " + strconv.Itoa(i)}
		}
	}
	if p, ok := meta["preprocess"]; ok {
		v, err := jsonv.Parse([]byte(p))
		var pp Preprocess
		if err == nil {
			pp, err = decodePreprocess(v)
		}
		if err != nil {
			return nil, errorf("nn: weights: metadata preprocess: %v", err)
		}
		if err := checkPreprocessFor(pp, spec.Input); err != nil {
			return nil, errorf("nn: weights: metadata %s", strings.TrimPrefix(err.Error(), "nn: "))
		}
		m.Preprocess = pp
	}
	return m, nil
}

// specParams is the number of parameter values the layer ls needs for
// input in, counted from its spec (limit+1 when it is over limit); ok is
// false when its spec is not valid, which newLayer then reports.
func specParams(ls LayerSpec, in [3]int, limit int64) (need int64, ok bool) {
	c := ls.Config
	bias := int64(0)
	if c.UseBias == nil || *c.UseBias {
		bias = 1
	}
	switch ls.Class {
	case "Conv2D":
		kh, kw, err := pair(ls.Name, "kernel_size", c.KernelSize, 0)
		if err != nil || c.Filters < 1 {
			return 0, false
		}
		need, ok = mulCap(limit, int64(kh), int64(kw), int64(in[2]), int64(c.Filters))
		need += bias * int64(c.Filters)
	case "Dense":
		if c.Units < 1 {
			return 0, false
		}
		need, ok = mulCap(limit, int64(in[2]), int64(c.Units))
		need += bias * int64(c.Units)
	case "BatchNormalization":
		need, ok = 4*int64(in[2]), true
	default:
		return 0, true
	}
	if !ok {
		return limit + 1, true
	}
	return need, true
}

// mulCap multiplies non-negative factors, reporting false when the product
// exceeds limit.
func mulCap(limit int64, factors ...int64) (int64, bool) {
	p := int64(1)
	for _, f := range factors {
		if f < 0 {
			return 0, false
		}
		if f != 0 && p > limit/f {
			return 0, false
		}
		p *= f
	}
	return p, true
}

// checkValues refuses non-finite values, and negative batch-norm moving
// variances (their square root is taken).
func checkValues(name string, v []float32) error {
	variance := strings.HasSuffix(name, "/moving_variance")
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return errorf("nn: weights: tensor %q value %d is %v", name, i, x)
		}
		if variance && x < 0 {
			return errorf("nn: weights: tensor %q value %d is %v, a variance must not be negative", name, i, x)
		}
	}
	return nil
}

// nameList quotes up to 5 names for an error message.
func nameList(names []string) string {
	q := make([]string, 0, 6)
	for i, n := range names {
		if i == 5 {
			q = append(q, sprintf("and %d more", len(names)-5))
			break
		}
		q = append(q, strconv.Quote(n))
	}
	return strings.Join(q, ", ")
}

// Metadata returns the metadata of a weights file held in memory (its
// format, spec, classes, preprocess, source, created ...), after
// validating the header.
func Metadata(data []byte) (map[string]string, error) {
	h, err := readSTHeader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	return h.Meta, nil
}

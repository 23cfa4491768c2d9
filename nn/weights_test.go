package nn

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// fillParams sets every parameter to seeded random values; moving variances
// are positive.
func fillParams(m *Model, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	for _, p := range m.Params() {
		for i := range p.Value {
			p.Value[i] = float32(rng.NormFloat64() * 0.1)
			if strings.HasSuffix(p.Name, "/moving_variance") || strings.HasSuffix(p.Name, "/gamma") {
				p.Value[i] = 0.5 + float32(rng.Float64())
			}
		}
	}
}

// tinySpec is a small architecture with every parameter kind, used to keep
// hostile files and fuzz seeds small.
const tinySpec = `{"name": "tiny", "input": [4, 4, 1], "layers": [
 {"class": "Conv2D", "name": "conv2d", "config": {"filters": 2, "kernel_size": [3, 3], "padding": "same", "activation": "relu"}},
 {"class": "BatchNormalization", "name": "batch_normalization"},
 {"class": "MaxPooling2D", "name": "max_pooling2d"},
 {"class": "Flatten", "name": "flatten"},
 {"class": "Dense", "name": "dense", "config": {"units": 3, "activation": "softmax"}}]}`

func tinyModel(t testing.TB) *Model {
	t.Helper()
	s, err := ParseSpec([]byte(tinySpec))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	fillParams(m, 7)
	m.Classes = []Class{{"a", "ant"}, {"b", "bee"}, {"c", "cat"}}
	return m
}

// TestWeightsDefaults loads a file without classes and preprocess metadata.
func TestWeightsDefaults(t *testing.T) {
	m := tinyModel(t)
	raw := buildST(t, map[string]string{"format": WeightsFormat, "spec": tinySpec}, tinyTensors(m))
	got, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := []Class{{"0", "class 0"}, {"1", "class 1"}, {"2", "class 2"}}
	if !slices.Equal(got.Classes, want) {
		t.Errorf("classes: got %v, want %v", got.Classes, want)
	}
	if got.Preprocess != DefaultPreprocess([3]int{4, 4, 1}) || got.Preprocess.Color != "grey" {
		t.Errorf("preprocess: got %+v, want the grey default", got.Preprocess)
	}
	// F64 tensors are accepted and rounded.
	ts := tinyTensors(m)
	for i := range ts {
		var b []byte
		for j := 0; j < len(ts[i].raw); j += 4 {
			v := math.Float32frombits(binary.LittleEndian.Uint32(ts[i].raw[j:]))
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(float64(v)))
		}
		ts[i].raw, ts[i].dtype = b, "F64"
	}
	got, err = Decode(buildST(t, tinyMeta(), ts))
	if err != nil {
		t.Fatal(err)
	}
	if k := got.Param("conv2d/kernel"); !slices.Equal(k.Value, m.Param("conv2d/kernel").Value) {
		t.Errorf("F64 kernel: got %v, want %v", k.Value, m.Param("conv2d/kernel").Value)
	}
}

// stTest is one tensor of a hand-built safetensors file.
type stTest struct {
	name    string
	dtype   string
	shape   any // usually []int; anything JSON for hostile shapes
	raw     []byte
	offsets []any // nil: computed contiguously
}

func tinyMeta() map[string]string {
	return map[string]string{"format": WeightsFormat, "spec": tinySpec,
		"classes":    `[{"id":"a","name":"ant"},{"id":"b","name":"bee"},{"id":"c","name":"cat"}]`,
		"preprocess": `{"height":4,"width":4,"channels":1,"color":"grey","scale":"0..1","resize":"nearest","crop":"none"}`}
}

func tinyTensors(m *Model) []stTest {
	var ts []stTest
	for _, p := range m.Params() {
		var b []byte
		for _, v := range p.Value {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		ts = append(ts, stTest{name: p.Name, dtype: "F32", shape: p.Shape, raw: b})
	}
	return ts
}

// buildST assembles a safetensors file from parts, independently of
// writeST.
func buildST(t testing.TB, meta map[string]string, ts []stTest) []byte {
	t.Helper()
	hdr := map[string]any{}
	if meta != nil {
		hdr["__metadata__"] = meta
	}
	var data []byte
	for _, x := range ts {
		off := x.offsets
		if off == nil {
			off = []any{len(data), len(data) + len(x.raw)}
		}
		hdr[x.name] = map[string]any{"dtype": x.dtype, "shape": x.shape, "data_offsets": off}
		data = append(data, x.raw...)
	}
	h, err := json.Marshal(hdr)
	if err != nil {
		t.Fatal(err)
	}
	return rawST(h, data)
}

func rawST(hdr, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	return append(append(b, hdr...), data...)
}

// hostileWeights returns a table of broken weights files, each with the
// error text it must produce.
func hostileWeights(t testing.TB) []struct {
	name string
	raw  []byte
	want string
} {
	m := tinyModel(t)
	edit := func(f func(meta map[string]string, ts []stTest) []stTest) []byte {
		ts := tinyTensors(m)
		meta := tinyMeta()
		ts = f(meta, ts)
		return buildST(t, meta, ts)
	}
	find := func(ts []stTest, name string) *stTest {
		for i := range ts {
			if ts[i].name == name {
				return &ts[i]
			}
		}
		t.Fatalf("no tensor %q", name)
		return nil
	}
	good := edit(func(_ map[string]string, ts []stTest) []stTest { return ts })
	hlen := binary.LittleEndian.Uint64(good)
	goodHdr, goodData := good[8:8+hlen], good[8+hlen:]
	return []struct {
		name string
		raw  []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"huge header length", append(binary.LittleEndian.AppendUint64(nil, 1<<62), "{}"...), "header length 4611686018427387904 over the 104857600-byte limit"},
		{"header longer than file", append(binary.LittleEndian.AppendUint64(nil, 1000), `{"a":1}`...), "header length 1000 but the file has only 7 bytes after it"},
		{"bad JSON", rawST([]byte(`{"__metadata__": {"format": `), nil), "bad header JSON"},
		{"not an object", rawST([]byte(`[1, 2, 3]`), nil), "not a JSON object"},
		{"junk after JSON", rawST(append(slices.Clone(goodHdr), "xx"...), goodData), "junk after the header JSON"},
		{"duplicate key", rawST([]byte(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`), make([]byte, 4)), `names "a" twice`},
		{"metadata not strings", rawST([]byte(`{"__metadata__":{"format":1}}`), nil), "__metadata__ is not a map of strings"},
		{"unknown entry field", rawST([]byte(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`), make([]byte, 4)), `tensor "a": bad entry`},
		{"cut short", rawST(goodHdr, goodData[:len(goodData)-100]), "the file ends 100 bytes too soon, so it was cut short"},
		{"offsets past the end", edit(func(_ map[string]string, ts []stTest) []stTest {
			last := &ts[len(ts)-1]
			n := len(goodData)
			last.offsets = []any{n - len(last.raw) + 4, n + 4}
			return ts
		}), "past the end of the"},
		{"overlapping tensors", edit(func(_ map[string]string, ts []stTest) []stTest {
			g := find(ts, "batch_normalization/gamma")
			b := find(ts, "batch_normalization/beta")
			start := 0
			for _, x := range ts {
				if x.name == g.name {
					break
				}
				start += len(x.raw)
			}
			b.offsets = []any{start, start + len(g.raw)}
			return ts
		}), "overlaps"},
		{"gap", edit(func(_ map[string]string, ts []stTest) []stTest {
			pos := 4
			for i := range ts {
				ts[i].offsets = []any{pos, pos + len(ts[i].raw)}
				pos += len(ts[i].raw)
			}
			ts[0].raw = append(make([]byte, 4), ts[0].raw...)
			return ts
		}), `gap of 4 bytes before tensor "conv2d/kernel" at 4`},
		{"uncovered bytes", rawST(goodHdr, append(slices.Clone(goodData), 0, 0, 0, 0)), "tensors cover"},
		{"wrong dtype", edit(func(_ map[string]string, ts []stTest) []stTest {
			find(ts, "dense/bias").dtype = "F16"
			return ts
		}), `tensor "dense/bias" has dtype "F16"`},
		{"byte length mismatch", edit(func(_ map[string]string, ts []stTest) []stTest {
			find(ts, "dense/bias").shape = []int{4}
			return ts
		}), `tensor "dense/bias" of shape [4] F32 needs 16 bytes`},
		{"end before begin", rawST([]byte(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`), make([]byte, 4)), "end before they begin"},
		{"negative dim", edit(func(_ map[string]string, ts []stTest) []stTest {
			find(ts, "dense/bias").shape = []int{-1, -3}
			return ts
		}), `tensor "dense/bias" has dimension -1`},
		{"huge dim", edit(func(_ map[string]string, ts []stTest) []stTest {
			find(ts, "dense/bias").shape = []any{1e12}
			return ts
		}), `tensor "dense/bias" has dimension 1e+12`},
		{"fractional dim", edit(func(_ map[string]string, ts []stTest) []stTest {
			find(ts, "dense/bias").shape = []any{1.5, 2}
			return ts
		}), `has dimension 1.5`},
		{"huge product", edit(func(_ map[string]string, ts []stTest) []stTest {
			find(ts, "dense/bias").shape = []int{65536, 65536, 65536}
			return ts
		}), "over 2^31 elements"},
		{"negative offset", edit(func(_ map[string]string, ts []stTest) []stTest {
			find(ts, "dense/bias").offsets = []any{-12, 0}
			return ts
		}), "data offset -12"},
		{"missing tensor", edit(func(_ map[string]string, ts []stTest) []stTest {
			return slices.DeleteFunc(ts, func(x stTest) bool { return x.name == "dense/bias" })
		}), `missing: "dense/bias"`},
		{"unknown tensor", edit(func(_ map[string]string, ts []stTest) []stTest {
			return append(ts, stTest{name: "extra/kernel", dtype: "F32", shape: []int{1}, raw: make([]byte, 4)})
		}), `not parameters of architecture "tiny": "extra/kernel"`},
		{"wrong shape", edit(func(_ map[string]string, ts []stTest) []stTest {
			find(ts, "conv2d/kernel").shape = []int{3, 3, 2, 1}
			return ts
		}), `tensor "conv2d/kernel" has shape [3 3 2 1], architecture needs [3 3 1 2]`},
		{"NaN weight", edit(func(_ map[string]string, ts []stTest) []stTest {
			k := find(ts, "conv2d/kernel")
			binary.LittleEndian.PutUint32(k.raw[8:], math.Float32bits(float32(math.NaN())))
			return ts
		}), `tensor "conv2d/kernel" value 2 is NaN`},
		{"negative variance", edit(func(_ map[string]string, ts []stTest) []stTest {
			v := find(ts, "batch_normalization/moving_variance")
			binary.LittleEndian.PutUint32(v.raw[4:], math.Float32bits(-1))
			return ts
		}), "value 1 is -1, a variance must not be negative"},
		{"no metadata", buildST(t, nil, tinyTensors(m)), "no __metadata__"},
		{"wrong format", edit(func(meta map[string]string, ts []stTest) []stTest {
			meta["format"] = "pt"
			return ts
		}), `metadata format "pt", want "mavis-xai/1"`},
		{"no spec", edit(func(meta map[string]string, ts []stTest) []stTest {
			delete(meta, "spec")
			return ts
		}), "metadata has no spec"},
		{"bad spec JSON", edit(func(meta map[string]string, ts []stTest) []stTest {
			meta["spec"] = `{"layers": 5}`
			return ts
		}), "metadata spec: architecture spec"},
		{"bad spec", edit(func(meta map[string]string, ts []stTest) []stTest {
			meta["spec"] = strings.Replace(tinySpec, `"filters": 2`, `"filters": -2`, 1)
			return ts
		}), "metadata spec: conv2d: filters -2 out of range"},
		{"spec far larger than the file", edit(func(meta map[string]string, ts []stTest) []stTest {
			meta["spec"] = strings.Replace(tinySpec, `"units": 3`, `"units": 1000000`, 1)
			return ts
		}), `needs over 1048631 parameter values by layer "dense", the file holds 55`},
		{"huge conv", edit(func(meta map[string]string, ts []stTest) []stTest {
			meta["spec"] = strings.Replace(tinySpec, `"filters": 2`, `"filters": 1000000, "kernel_size": [65536, 65536]`, 1)
			return ts
		}), `by layer "conv2d"`},
		{"class count", edit(func(meta map[string]string, ts []stTest) []stTest {
			meta["classes"] = `[{"id":"a","name":"ant"}]`
			return ts
		}), "lists 1 classes, the model has 3 outputs"},
		{"bad classes", edit(func(meta map[string]string, ts []stTest) []stTest {
			meta["classes"] = `{"id": 1}`
			return ts
		}), "metadata classes"},
		{"bad preprocess", edit(func(meta map[string]string, ts []stTest) []stTest {
			meta["preprocess"] = strings.Replace(tinyMeta()["preprocess"], `"scale":"0..1"`, `"scale":"-1..1"`, 1)
			return ts
		}), `unknown scale "-1..1"`},
		{"preprocess size", edit(func(meta map[string]string, ts []stTest) []stTest {
			meta["preprocess"] = strings.Replace(tinyMeta()["preprocess"], `"height":4`, `"height":8`, 1)
			return ts
		}), "produces 8x4x1, the model takes 4x4x1"},
	}
}

func TestDecodeHostile(t *testing.T) {
	m := tinyModel(t)
	if _, err := Decode(buildST(t, tinyMeta(), tinyTensors(m))); err != nil {
		t.Fatalf("the unmodified tiny file does not load: %v", err)
	}
	for _, tt := range hostileWeights(t) {
		got, err := Decode(tt.raw)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "nn: weights: ") {
			t.Errorf("%s: got error %v, want one containing %q", tt.name, err, tt.want)
		}
		if got != nil {
			t.Errorf("%s: got a model with the error", tt.name)
		}
	}
}

func TestEncodeRefuses(t *testing.T) {
	m := tinyModel(t)
	var buf bytes.Buffer
	if err := EncodeWith(&buf, m, map[string]string{"spec": "x"}); err == nil || !strings.Contains(err.Error(), `"spec" is reserved`) {
		t.Errorf("reserved key: got %v", err)
	}
	m.Classes = m.Classes[:2]
	if err := Encode(&buf, m); err == nil || !strings.Contains(err.Error(), "2 classes for 3 outputs") {
		t.Errorf("class count: got %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	m := tinyModel(f)
	var buf bytes.Buffer
	if err := Encode(&buf, m); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	for _, tt := range hostileWeights(f) {
		f.Add(tt.raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := Decode(raw)
		if err != nil {
			if got != nil || !strings.HasPrefix(err.Error(), "nn: ") {
				t.Fatalf("error %v with model %v", err, got != nil)
			}
			return
		}
		// Whatever loads must encode and load again to the same values.
		var out bytes.Buffer
		if err := Encode(&out, got); err != nil {
			t.Fatalf("re-encoding a loaded model: %v", err)
		}
		again, err := Decode(out.Bytes())
		if err != nil {
			t.Fatalf("reloading: %v", err)
		}
		for i, p := range got.Params() {
			if !slices.Equal(p.Value, again.Params()[i].Value) {
				t.Fatalf("param %s changed on the second round trip", p.Name)
			}
		}
	})
}

// TestDecodeAllocatesParamsOnce holds Decode to one allocation of a model's
// parameters: a file's architecture is checked against its weights while
// the model is built, not by building it twice, and its values are read
// through one buffer. (In the browser, wasm memory once grown is never
// given back, so a second copy of a large model's parameters stays.)
func TestDecodeAllocatesParamsOnce(t *testing.T) {
	s, err := ParseSpec([]byte(`{"name": "wide", "input": [1, 1, 1000], "layers": [
 {"class": "Flatten", "name": "flatten"},
 {"class": "Dense", "name": "dense", "config": {"units": 1000, "activation": "relu"}},
 {"class": "Dense", "name": "dense_1", "config": {"units": 10, "activation": "softmax"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	if err := Encode(&file, m); err != nil {
		t.Fatal(err)
	}
	trainable, other := m.CountParams()
	params := 4 * int64(trainable+other) // bytes of float32
	var got *Model
	alloc := int64(allocated(func() { got, err = Decode(file.Bytes()) }))
	if err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(got)
	// The parameters, plus the header's and the layers' small allocations.
	if alloc > params+params/8 {
		t.Errorf("Decode allocated %d bytes for a model of %d bytes of parameters, want at most %d", alloc, params, params+params/8)
	}
}

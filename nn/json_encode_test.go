package nn

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// jsonStrings are awkward strings for the encoder: HTML, control
// characters, invalid UTF-8, U+2028/2029, DEL.
var jsonStrings = []string{"", "plain", `q"b\s/`, "<a href=x>&amp;</a>", "\x00\x01\b\f\n\r\t\x1f\x7f",
	"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\xff\xfe bad \xc3", "\u2028\u2029", "n01443537"}

func TestJSONEncodeMatchesEncodingJSON(t *testing.T) {
	same := func(what string, got, want []byte, err error) {
		t.Helper()
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s:\ngot  %s (%v)\nwant %s", what, got, err, want)
		}
	}
	for _, s := range jsonStrings {
		want, err := json.Marshal(s)
		same("string "+s, appendJSONString(nil, s), want, err)
	}
	for _, f := range []float64{0, 1, -2.5, 1e-4, 1e-6, 9.99e-7, 1e-7, 1.5e-9, 1e20, 1e21, 1.25e22, -3e-300, math.MaxFloat64, 5e-324, 0.1, 123456789} {
		want, err := json.Marshal(f)
		same("float", appendJSONFloat(nil, f), want, err)
	}
	meta := map[string]string{"format": WeightsFormat, "b": "<x>", "a": "\u2028", "": "empty"}
	for _, m := range []map[string]string{meta, {}, nil} {
		want, err := json.Marshal(m)
		same("meta", marshalStringMap(m), want, err)
	}
	yes, no := true, false
	specs := []Spec{{}, {Name: "<n>", Input: [3]int{1, 2, 3}, Layers: []LayerSpec{}}, {Layers: []LayerSpec{
		{Class: "Conv2D", Name: "c\u00e9", Config: LayerConfig{Filters: 4, KernelSize: []int{3}, Strides: []int{}, UseBias: &no,
			L2: 1e-7, Seed: 1 << 60, Padding: "same", Activation: "relu"}},
		{Class: "Dense", Name: "d", Config: LayerConfig{Units: 3, UseBias: &yes, Rate: 0.25, Epsilon: 1e-3, Momentum: 0.99, PoolSize: []int{2, 2}}},
		{Class: "Flatten", Name: "f"},
		{Class: "Flatten", Name: "g", Config: LayerConfig{KernelSize: []int{}}},
	}}}
	for _, name := range BuiltinNames() {
		s, _ := Builtin(name)
		specs = append(specs, s)
	}
	for _, s := range specs {
		want, err := json.Marshal(s)
		got, gerr := marshalSpec(s)
		if gerr != nil {
			t.Errorf("spec %q: %v", s.Name, gerr)
		}
		same("spec "+s.Name, got, want, err)
	}
	bad := Spec{Layers: []LayerSpec{{Name: "x", Config: LayerConfig{Rate: math.NaN()}}}}
	if _, err := marshalSpec(bad); err == nil {
		t.Error("a NaN rate was encoded")
	}
	for _, cs := range [][]Class{nil, {}, {{ID: "a<", Name: "\xffb"}, {ID: "", Name: "c"}}} {
		want, err := json.Marshal(cs)
		same("classes", marshalClasses(cs), want, err)
	}
	for _, p := range []Preprocess{{}, DefaultPreprocess([3]int{224, 224, 3}), {Height: -1, Color: "&"}} {
		want, err := json.Marshal(p)
		same("preprocess", marshalPreprocess(p), want, err)
	}
}

// FuzzJSONString holds the string encoder to encoding/json and checks that
// the decoder reads back what json.Unmarshal reads.
func FuzzJSONString(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		got := appendJSONString(nil, s)
		if !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
		v, err := parseJSON(got)
		var w string
		json.Unmarshal(want, &w)
		if err != nil || v != w {
			t.Fatalf("%q: read back %q (%v), want %q", s, v, err, w)
		}
	})
}

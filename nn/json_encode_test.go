package nn

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// TestJSONEncodeMatchesEncodingJSON holds the hand-written encoders of
// Spec, Class and Preprocess to encoding/json's Marshal.
func TestJSONEncodeMatchesEncodingJSON(t *testing.T) {
	same := func(what string, got, want []byte, err error) {
		t.Helper()
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s:\ngot  %s (%v)\nwant %s", what, got, err, want)
		}
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

package keras

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/nn"
)

// tinySpec is the architecture of the tiny model in testdata (gen.py in
// ../hdf5/testdata writes it in every Keras format).
func tinySpec() nn.Spec {
	return nn.Spec{Name: "sequential", Input: [3]int{6, 6, 3}, Layers: []nn.LayerSpec{
		{Class: "Conv2D", Name: "conv2d", Config: nn.LayerConfig{Filters: 3, KernelSize: []int{3, 3}, Strides: []int{1, 1}, Padding: "same", Activation: "relu", L2: 1e-4}},
		{Class: "BatchNormalization", Name: "batch_normalization", Config: nn.LayerConfig{Epsilon: 1e-3, Momentum: 0.99}},
		{Class: "MaxPooling2D", Name: "max_pooling2d", Config: nn.LayerConfig{PoolSize: []int{2, 2}, Strides: []int{2, 2}, Padding: "valid"}},
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 4, Activation: "relu"}},
		{Class: "Dropout", Name: "dropout", Config: nn.LayerConfig{Rate: 0.5}},
		{Class: "Dense", Name: "dense_1", Config: nn.LayerConfig{Units: 3, Activation: "softmax"}},
	}}
}

type tinyExpected struct {
	Input  []float32 `json:"input"`
	Logits []float64 `json:"logits"`
	Probs  []float64 `json:"probs"`
}

func readExpected(t *testing.T) tinyExpected {
	b, err := os.ReadFile("testdata/tiny_expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var e tinyExpected
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// tinyWeight is gen.py's formula for element k of the array numbered arr
// (in Keras variable order over the whole model).
func tinyWeight(arr, k int, variance bool) float32 {
	w := float64(k%11-5)/10 + 0.01*float64(arr)
	if variance {
		w = math.Abs(w) + 0.5
	}
	return float32(w)
}

func TestTinyFormats(t *testing.T) {
	exp := readExpected(t)
	tests := []struct {
		file    string
		format  Format
		hasSpec bool
	}{
		{"tiny.weights.h5", Keras3Weights, false},
		{"tiny_ckptdeps.weights.h5", Keras3Weights, false},
		{"tiny.keras", Keras3Archive, true},
		{"tiny_keras2_split.h5", Keras2Weights, false},
		{"tiny_keras2_model.h5", Keras2Model, true},
	}
	for _, tt := range tests {
		c, err := ReadFile("testdata/" + tt.file)
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if c.Format != tt.format || (c.Spec != nil) != tt.hasSpec {
			t.Errorf("%s: format %q, spec %v; want %q, spec %v", tt.file, c.Format, c.Spec != nil, tt.format, tt.hasSpec)
		}
		spec := tinySpec()
		if c.Spec != nil {
			spec = *c.Spec
			if got, want := specJSON(t, spec), specJSON(t, tinySpec()); got != want {
				t.Errorf("%s: architecture\n%s\nwant\n%s", tt.file, got, want)
			}
		}
		m, err := nn.Build(spec)
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if err := c.Load(m); err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		for arr, p := range m.Params() {
			for k, v := range p.Value {
				if want := tinyWeight(arr, k, strings.HasSuffix(p.Name, "moving_variance")); v != want {
					t.Fatalf("%s: %s[%d] = %v, want %v", tt.file, p.Name, k, v, want)
				}
			}
		}
		x := m.NewInput(1)
		copy(x.Data, exp.Input)
		probs := m.Forward(x).Data
		logits := m.Output(m.Logits()).Data
		for i := range exp.Probs {
			if d := math.Abs(float64(probs[i]) - exp.Probs[i]); d > 1e-5 {
				t.Errorf("%s: probs[%d] = %v, want %v", tt.file, i, probs[i], exp.Probs[i])
			}
			if d := math.Abs(float64(logits[i]) - exp.Logits[i]); d > 1e-4*math.Max(1, math.Abs(exp.Logits[i])) {
				t.Errorf("%s: logits[%d] = %v, want %v", tt.file, i, logits[i], exp.Logits[i])
			}
		}
	}
}

func specJSON(t *testing.T, s nn.Spec) string {
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSplitLayerNames(t *testing.T) {
	c, err := ReadFile("testdata/tiny_keras2_split.h5")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range c.Layers {
		names = append(names, l.Name)
	}
	want := "conv2d batch_normalization max_pooling2d flatten dense dropout dense_1"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("layer order %q, want %q (from layer_names0 + layer_names1 + layer_names2)", got, want)
	}
	if v := c.Layers[0].Vars; len(v) != 2 || v[0].Name != "conv2d/kernel:0" || v[1].Name != "conv2d/bias:0" {
		t.Errorf("conv2d vars %+v", v)
	}
}

func TestLoadErrors(t *testing.T) {
	wider := tinySpec()
	wider.Layers[0].Config.Filters = 4
	noBias := tinySpec()
	f := false
	noBias.Layers[4].Config.UseBias = &f
	renamed := tinySpec()
	renamed.Layers[0].Name = "first_conv"
	extra := tinySpec()
	extra.Layers = append(extra.Layers[:6:6], nn.LayerSpec{Class: "Dense", Name: "dense_9", Config: nn.LayerConfig{Units: 3}}, extra.Layers[6])
	tests := []struct {
		file string
		spec nn.Spec
		want string
	}{
		{"tiny.weights.h5", wider, `layer "conv2d": variable 0 (conv2d/kernel) has shape [3 3 3 3] in the file (vars/0), the architecture wants [3 3 3 4]`},
		{"tiny_keras2_split.h5", wider, `layer "conv2d": variable 0 (conv2d/kernel) has shape [3 3 3 3] in the file (conv2d/kernel:0), the architecture wants [3 3 3 4]`},
		{"tiny.weights.h5", noBias, `layer "dense": the file's layer "dense" has 2 variables, the architecture's 1 (dense/kernel)`},
		{"tiny.weights.h5", renamed, `no weights for layer "first_conv"`},
		{"tiny_keras2_split.h5", renamed, ""}, // Keras 2 matches by position: fine
		{"tiny_keras2_split.h5", extra, "the file has 4 layers with weights (conv2d, batch_normalization, dense, dense_1), the architecture 5"},
	}
	for _, tt := range tests {
		c, err := ReadFile("testdata/" + tt.file)
		if err != nil {
			t.Fatal(err)
		}
		m, err := nn.Build(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		err = c.Load(m)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.file, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want it to contain %q", tt.file, err, tt.want)
		}
	}
}

func TestNotKeras(t *testing.T) {
	_, err := ReadFile("../hdf5/testdata/basic.h5")
	if err == nil || !strings.Contains(err.Error(), "not a Keras weights file") {
		t.Errorf("basic.h5: %v", err)
	}
	_, err = ReadFile("testdata/tiny_expected.json")
	if err == nil || !strings.HasPrefix(err.Error(), "hdf5: no HDF5 signature") {
		t.Errorf("json file: %v", err)
	}
}

package keras

import (
	"github.com/mavis-xai/mavis/nn"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Keras 3 Functional chain, as model.to_json() writes it (trimmed).
const functional3 = `{"class_name": "Functional", "config": {"name": "chain",
 "layers": [
  {"class_name": "InputLayer", "name": "input_layer", "config": {"batch_shape": [null, 8, 8, 1], "name": "input_layer"}, "inbound_nodes": []},
  {"class_name": "Conv2D", "name": "c", "config": {"name": "c", "filters": 2, "kernel_size": [3, 3], "padding": "valid", "activation": "relu"},
   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 8, 8, 1], "keras_history": ["input_layer", 0, 0]}}], "kwargs": {}}]},
  {"class_name": "Flatten", "name": "f", "config": {"name": "f"},
   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["c", 0, 0]}}], "kwargs": {}}]},
  {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 3, "activation": {"module": "keras.activations", "class_name": "function", "config": "softmax"}},
   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["f", 0, 0]}}], "kwargs": {"training": false}}]}],
 "input_layers": [["input_layer", 0, 0]], "output_layers": [["d", 0, 0]]}}`

// Keras 2 Functional chain.
const functional2 = `{"class_name": "Model", "config": {"name": "model",
 "layers": [
  {"class_name": "InputLayer", "name": "input_1", "config": {"batch_input_shape": [null, 8, 8, 1], "name": "input_1"}, "inbound_nodes": []},
  {"class_name": "Conv2D", "name": "c", "config": {"name": "c", "filters": 2, "kernel_size": 3, "activation": "linear",
   "kernel_regularizer": {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.01}}}, "inbound_nodes": [[["input_1", 0, 0, {}]]]},
  {"class_name": "Flatten", "name": "f", "config": {"name": "f"}, "inbound_nodes": [[["c", 0, 0, {}]]]},
  {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 3}, "inbound_nodes": [[["f", 0, 0, {}]]]}],
 "input_layers": [["input_1", 0, 0]], "output_layers": [["d", 0, 0]]}}`

func TestParseConfigChains(t *testing.T) {
	for _, cfg := range []string{functional3, functional2} {
		s, err := ParseConfig([]byte(cfg))
		if err != nil {
			t.Fatal(err)
		}
		if s.Input != [3]int{8, 8, 1} || len(s.Layers) != 3 || s.Layers[0].Class != "Conv2D" || s.Layers[2].Name != "d" {
			t.Errorf("spec %+v", s)
		}
	}
	s, _ := ParseConfig([]byte(functional2))
	if c := s.Layers[0].Config; len(c.KernelSize) != 1 || c.KernelSize[0] != 3 || c.L2 != 0.01 {
		t.Errorf("conv config %+v", c)
	}
	s, _ = ParseConfig([]byte(functional3))
	if a := s.Layers[2].Config.Activation; a != "softmax" {
		t.Errorf("serialised activation read as %q", a)
	}
}

func TestParseConfigRefusals(t *testing.T) {
	seq := func(layers string) string {
		return `{"class_name": "Sequential", "config": {"name": "s", "layers": [
		 {"class_name": "InputLayer", "config": {"batch_shape": [null, 8, 8, 3], "name": "in"}}, ` + layers + `]}}`
	}
	branch := strings.Replace(functional2, `"inbound_nodes": [[["f", 0, 0, {}]]]`, `"inbound_nodes": [[["f", 0, 0, {}], ["c", 0, 0, {}]]]`, 1)
	skip := strings.Replace(functional2, `"inbound_nodes": [[["f", 0, 0, {}]]]`, `"inbound_nodes": [[["c", 0, 0, {}]]]`, 1)
	tests := []struct {
		name, cfg, want string
	}{
		{"lstm", seq(`{"class_name": "LSTM", "config": {"name": "lstm", "units": 4}}`), `layer "lstm": class LSTM not supported`},
		{"add", seq(`{"class_name": "Add", "config": {"name": "add"}}`), `layer "add": class Add not supported`},
		{"tanh layer", seq(`{"class_name": "Activation", "config": {"name": "act", "activation": "tanh"}}`), `layer "act" (Activation): activation "tanh" not supported`},
		{"leaky relu", seq(`{"class_name": "ReLU", "config": {"name": "r", "negative_slope": 0.1}}`), `layer "r" (ReLU): negative_slope 0.1 not supported`},
		{"tanh", seq(`{"class_name": "Dense", "config": {"name": "d", "units": 2, "activation": "tanh"}}`), `layer "d" (Dense): activation "tanh" not supported`},
		{"dilation", seq(`{"class_name": "Conv2D", "config": {"name": "c", "filters": 2, "kernel_size": 3, "dilation_rate": [2, 2]}}`), `layer "c" (Conv2D): dilation_rate [2 2] not supported`},
		{"channels_first", seq(`{"class_name": "Conv2D", "config": {"name": "c", "filters": 2, "kernel_size": 3, "data_format": "channels_first"}}`), `data_format "channels_first" not supported`},
		{"bn axis", seq(`{"class_name": "BatchNormalization", "config": {"name": "bn", "axis": 1}}`), `layer "bn" (BatchNormalization): axis [1] not supported`},
		{"l1", seq(`{"class_name": "Dense", "config": {"name": "d", "units": 2, "kernel_regularizer": {"class_name": "L1L2", "config": {"l1": 0.1, "l2": 0}}}}`), `L1 regularization`},
		{"nested model", seq(`{"class_name": "Sequential", "config": {"name": "inner", "layers": []}}`), `layer "inner": class Sequential not supported`},
		{"branch", branch, `layer "d" (Dense) takes inputs [f c], want only "f"`},
		{"skip", skip, `layer "d" (Dense) takes inputs [c], want only "f"`},
		{"no input", `{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "Dense", "config": {"name": "d", "units": 2}}]}}`, `model "s" states no input shape`},
		{"vector input", `{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, 784], "name": "in"}}]}}`, `layer "in": input shape of rank 2`},
		{"subclassed", `{"class_name": "MyModel", "config": {}}`, `model class "MyModel" not supported`},
		{"not json", `{`, `keras: model config`},
	}
	for _, tt := range tests {
		_, err := ParseConfig([]byte(tt.cfg))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

// TestWasmBuild checks that the readers build for the browser.
func TestWasmBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds for js/wasm; skipped with -short")
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	cmd := exec.Command("go", "build", "-o", os.DevNull, "./weightsconv/hdf5", "./weightsconv/keras")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=js GOARCH=wasm go build: %v\n%s", err, out)
	}
}

// TestParseConfigActivationLayers checks that standalone ReLU and
// Activation layers translate and build.
func TestParseConfigActivationLayers(t *testing.T) {
	cfg := `{"class_name": "Sequential", "config": {"name": "s", "layers": [
		{"class_name": "InputLayer", "config": {"batch_shape": [null, 6, 6, 1], "name": "in"}},
		{"class_name": "Conv2D", "config": {"name": "c", "filters": 2, "kernel_size": 3}},
		{"class_name": "ReLU", "config": {"name": "r", "max_value": null, "negative_slope": 0.0, "threshold": 0.0}},
		{"class_name": "Activation", "config": {"name": "lin", "activation": "linear"}},
		{"class_name": "Flatten", "config": {"name": "f"}},
		{"class_name": "Dense", "config": {"name": "d", "units": 3}},
		{"class_name": "Activation", "config": {"name": "sm", "activation": "softmax"}}]}}`
	s, err := ParseConfig([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.Build(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Class(1) + "," + m.Class(2) + "," + m.Class(5); got != "ReLU,Activation,Activation" {
		t.Errorf("classes %s", got)
	}
	if m.Logits() != 4 {
		t.Errorf("Logits() = %d, want 4", m.Logits())
	}
}

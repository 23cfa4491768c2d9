package main

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

// sameJSON checks that v's hand-written value (values.go) is the JSON
// encoding/json makes of v from its struct tags, the contract api.d.ts
// documents.
func sameJSON(t *testing.T, name string, v valuer) {
	t.Helper()
	wb, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	gb, err := json.Marshal(v.value())
	if err != nil {
		t.Fatalf("%s value: %v", name, err)
	}
	var want, got any
	if err := json.Unmarshal(wb, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(gb, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\ngot  %s\nwant %s", name, gb, wb)
	}
}

func TestValuesMatchJSON(t *testing.T) {
	var s session
	info, err := s.load(testModel(t))
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "ModelInfo", info)
	sameJSON(t, "ModelInfo (nil slices)", ModelInfo{})
	_, pix := rgba()
	p, err := s.predict(pix, 24, 24)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "Prediction", p)
	one := 1
	for _, o := range []Options{
		{Method: "gradcam"},
		{Method: "gradcampp", Class: &one, Score: "probability"},
		{Method: "saliency", Samples: 3, Noise: 0.1, Seed: 2},
		{Method: "saliency"},
		{Method: "ig", Steps: 8, Baseline: "blur", Sigma: 2},
	} {
		e, _, _, err := s.explain(o, func(int, int) {})
		if err != nil {
			t.Fatal(err)
		}
		sameJSON(t, "Explanation "+o.Method, e)
	}
	sameJSON(t, "Explanation (zero)", Explanation{})
	sameJSON(t, "Memory", memory(false))
	r, err := s.evaluate(context.Background(), EvalOptions{Steps: 3, Sanity: true, Seed: 4,
		Box: &xai.Box{X0: 1, Y0: 2, X1: 8, Y1: 9}}, func(int, int) {})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Methods) != 4 || r.Methods[0].Sanity == nil || r.Methods[0].Metrics.Pointing == nil {
		t.Fatalf("evaluation lacks what the test covers: %+v", r)
	}
	sameJSON(t, "Evaluation", r)
	sameJSON(t, "Evaluation (zero)", Evaluation{})
}

func TestDecodeOptionsMatchesJSON(t *testing.T) {
	for _, in := range []string{
		`{}`, `null`,
		`{"method":"ig","class":2,"score":"probability","layer":"conv2d","posNorm":true,"samples":4,"noise":0.2,
		  "seed":9007199254740992,"steps":50,"baseline":"blur","sigma":5,"rule":"trapezoid"}`,
		`{"method":"gradcam","class":null,"steps":null,"unknown":[1,2]}`,
		`{"class":-1}`,
	} {
		var want Options
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatal(err)
		}
		var tree any
		json.Unmarshal([]byte(in), &tree)
		got, err := decodeOptions(tree)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v (%v), want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{
		`{"steps":8,"patch":2,"reference":"blur","box":{"x0":1,"y0":2,"x1":5,"y1":6},"tolerance":3,"sanity":true,"seed":5}`,
		`{"box":null}`, `{}`,
	} {
		var want EvalOptions
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatal(err)
		}
		var tree any
		json.Unmarshal([]byte(in), &tree)
		got, err := decodeEvalOptions(tree)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v (%v), want %+v", in, got, err, want)
		}
	}
	// What encoding/json refused is refused, with the field named.
	for _, tt := range []struct {
		in, want string
		eval     bool
	}{
		{`{"steps":"8"}`, "worker: explain options: steps must be a number", false},
		{`{"steps":1.5}`, "worker: explain options: steps must be a whole number", false},
		{`{"class":true}`, "worker: explain options: class must be a number", false},
		{`{"seed":-1}`, "worker: explain options: seed must be a whole number from 0 to 2^53", false},
		{`{"posNorm":1}`, "worker: explain options: posNorm must be true or false", false},
		{`{"method":3}`, "worker: explain options: method must be a string", false},
		{`[1]`, "worker: explain options must be an object", false},
		{`{"box":[1,2,3,4]}`, "worker: evaluate options: box must be an object", true},
		{`{"box":{"x0":"1"}}`, "worker: evaluate options: box: x0 must be a number", true},
		{`{"sanity":"yes"}`, "worker: evaluate options: sanity must be true or false", true},
	} {
		var tree any
		if err := json.Unmarshal([]byte(tt.in), &tree); err != nil {
			t.Fatal(err)
		}
		var err, jerr error
		if tt.eval {
			_, err = decodeEvalOptions(tree)
			jerr = json.Unmarshal([]byte(tt.in), new(EvalOptions))
		} else {
			_, err = decodeOptions(tree)
			jerr = json.Unmarshal([]byte(tt.in), new(Options))
		}
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v, want %q", tt.in, err, tt.want)
		}
		if jerr == nil {
			t.Errorf("%s: encoding/json accepts it", tt.in)
		}
	}
}

func TestLayerKind(t *testing.T) {
	m, err := nn.Build(nn.Spec{Input: [3]int{8, 8, 1}, Layers: []nn.LayerSpec{
		{Class: "Conv2D", Name: "c", Config: nn.LayerConfig{Filters: 2, KernelSize: []int{3, 3}}},
		{Class: "BatchNormalization", Name: "b"},
		{Class: "ReLU", Name: "r"},
		{Class: "MaxPooling2D", Name: "p"},
		{Class: "Dropout", Name: "d", Config: nn.LayerConfig{Rate: 0.1}},
		{Class: "Flatten", Name: "f"},
		{Class: "Dense", Name: "y", Config: nn.LayerConfig{Units: 2, Activation: "softmax"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range m.Layers {
		if got, want := layerKind(l), strings.TrimPrefix(fmt.Sprintf("%T", l), "*nn."); got != want {
			t.Errorf("layer %s: kind %q, want %q", l.Name(), got, want)
		}
	}
}

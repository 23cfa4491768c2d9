package nn

import (
	"bytes"
	"encoding/json"
	"image"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestMavisBuilds(t *testing.T) {
	m, err := BuildBuiltin("mavis")
	if err != nil {
		t.Fatal(err)
	}
	tr, other := m.CountParams()
	if tr != 132461 || other != 1012 {
		t.Errorf("mavis parameters: got %d trainable + %d other, want 132461 + 1012", tr, other)
	}
	x := m.NewInput(1)
	for i := range x.Data {
		x.Data[i] = float32(i % 255)
	}
	y := m.Forward(x)
	if y.Shape != [4]int{1, 1, 1, 5} {
		t.Fatalf("output shape %v, want 1x1x1x5", y)
	}
	var s float32
	for _, v := range y.Data {
		s += v
	}
	if s < 0.999 || s > 1.001 {
		t.Errorf("softmax sums to %g", s)
	}
	if got, want := m.Class(m.Logits()+1), "Softmax"; got != want {
		t.Errorf("class of the split softmax %q, want %q", got, want)
	}
	if got, want := m.Class(1), "BatchNormalization"; got != want {
		t.Errorf("class of layer 1 %q, want %q", got, want)
	}
	if got := m.Layers[m.Logits()].Name(); got != "dense_2" {
		t.Errorf("logits layer %q, want dense_2", got)
	}
	if i := m.Index("conv2d_7"); i < 0 || m.Shapes[i] != [3]int{7, 7, 8} {
		t.Errorf("conv2d_7 at %d", i)
	}
	dy := NewTensor(1, 1, 1, 5)
	dy.Data[2] = 1
	dx := m.Backward(dy, m.Logits(), 0)
	if dx.Shape != x.Shape {
		t.Errorf("input gradient %v, want %v", dx, x)
	}
}

func TestSpecJSONRoundTrip(t *testing.T) {
	s, err := Builtin("mavis")
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseSpec(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, back) {
		t.Errorf("spec changed in a JSON round trip:\n%s", data)
	}
}

func TestBadSpecs(t *testing.T) {
	tests := []struct {
		json, want string
	}{
		{`{"input":[8,8,3],"layers":[]}`, "no layers"},
		{`{"input":[8,8,3],"layers":[{"class":"Conv2D","name":"c","config":{"filters":4}}]}`, "needs kernel_size"},
		{`{"input":[8,8,3],"layers":[{"class":"LSTM","name":"l"}]}`, `unsupported layer class "LSTM"`},
		{`{"input":[8,8,3],"layers":[{"class":"Flatten","name":"f"},{"class":"Flatten","name":"f"}]}`, `"f" is used twice`},
		{`{"input":[8,8,3],"layers":[{"class":"Dense","name":"d","config":{"units":3}}]}`, "needs a Flatten"},
		{`{"input":[2,2,3],"layers":[{"class":"Conv2D","name":"c","config":{"filters":4,"kernel_size":[3,3]}}]}`, "smaller than kernel 3x3"},
		{`{"input":[8,8,3],"layers":[{"class":"Conv2D","name":"c","config":{"filters":4,"kernel_size":[3,3],"padding":"full"}}]}`, `padding "full"`},
		{`{"input":[8,8,3],"layers":[{"class":"Conv2D","name":"c","config":{"filters":4,"kernel_size":[3,3],"activation":"gelu"}}]}`, `activation "gelu"`},
		{`{"input":[8,8,3],"layers":[{"class":"Dropout","name":"d","config":{"rate":1.5}}]}`, "rate 1.5"},
		{`{"input":[0,8,3],"layers":[{"class":"Flatten","name":"f"}]}`, "input dimension 0 is 0"},
		{`{"input":[8,8,3],"layers":[{"class":"Flatten","name":"f","config":{"filterz":3}}]}`, "unknown field"},
		{`{"input":[8,8,3],"layers":[{"class":"Conv2D","name":"c","config":{"filters":4,"kernel_size":[3,3,3]}}]}`, "kernel_size has 3 values"},
		// One image's activations over 2^28 values: the input alone
		// (16384*16384*3 = 805,306,368), or the input and a layer's output
		// (8192*8192*3 + 8192*8192*64 = 4,496,293,888), a small file's
		// (a few weights) all the same.
		{`{"input":[16384,16384,3],"layers":[{"class":"Flatten","name":"f"}]}`, "add up to 805306368 values by its input (16384x16384x3), over the 268435456"},
		{`{"input":[8192,8192,3],"layers":[{"class":"Conv2D","name":"c","config":{"filters":64,"kernel_size":[3,3],"padding":"same"}}]}`, "add up to 4496293888 values by c's output (8192x8192x64)"},
		// 4096*4096 = 16,777,216 pixels: the input (x3) and c (x8) add up
		// to 184,549,376 values, under; c2 (x8 more) brings them to
		// 318,767,104, over (TestBuildActivationBudget builds the first two).
		{`{"input":[4096,4096,3],"layers":[{"class":"Conv2D","name":"c","config":{"filters":8,"kernel_size":[1,1]}},{"class":"Conv2D","name":"c2","config":{"filters":8,"kernel_size":[1,1]}}]}`, "add up to 318767104 values by c2's output (4096x4096x8)"},
	}
	for _, tt := range tests {
		s, err := ParseSpec([]byte(tt.json))
		if err == nil {
			_, err = Build(s)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.json, err, tt.want)
		}
	}
}

// TestTensorOnlyModel checks that a model whose input is neither RGB nor
// grey saves and loads (Color "none") and refuses images clearly.
func TestTensorOnlyModel(t *testing.T) {
	s, err := ParseSpec([]byte(`{"input":[4,4,2],"layers":[{"class":"Flatten","name":"f"},{"class":"Dense","name":"d","config":{"units":3}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	if m.Preprocess.Color != "none" {
		t.Fatalf("default preprocess color %q, want none", m.Preprocess.Color)
	}
	var buf bytes.Buffer
	if err := Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	back, err := Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	_, err = ImageInput(image.NewGray(image.Rect(0, 0, 4, 4)), back.Preprocess)
	if err == nil || !strings.Contains(err.Error(), "2-channel tensors") {
		t.Errorf("ImageInput on a 2-channel model: %v", err)
	}
}

// TestClone checks that a clone computes what the original does, bit for
// bit, and shares none of its storage.
func TestClone(t *testing.T) {
	m, err := BuildBuiltin("fashion")
	if err != nil {
		t.Fatal(err)
	}
	Init(m, 7)
	m.Classes = make([]Class, 10)
	m.Classes[3] = Class{ID: "3", Name: "renamed"}
	m.Preprocess.Scale = "unit"
	cp, err := m.Clone()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cp.Classes, m.Classes) || cp.Preprocess != m.Preprocess || !reflect.DeepEqual(cp.Spec, m.Spec) {
		t.Errorf("clone: classes %v, preprocess %+v; want %v, %+v", cp.Classes, cp.Preprocess, m.Classes, m.Preprocess)
	}
	x := m.NewInput(2)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range x.Data {
		x.Data[i] = rng.Float32()
	}
	want := slices.Clone(m.Forward(x).Data)
	if got := cp.Forward(x).Data; !slices.Equal(got, want) {
		t.Errorf("clone's output %v, original's %v", got[:10], want[:10])
	}
	for _, p := range cp.Params() {
		clear(p.Value)
	}
	cp.Classes[3].Name = "changed"
	if got := m.Forward(x).Data; !slices.Equal(got, want) || m.Classes[3].Name != "renamed" {
		t.Error("changing the clone changed the original")
	}
}

// TestBuildActivationBudget builds the largest model of TestBadSpecs's
// budget cases that fits (184,549,376 values of activations, under 2^28)
// and checks the budget's arithmetic by hand: the 8 more channels of a
// second 1x1 conv are refused (TestBadSpecs).
func TestBuildActivationBudget(t *testing.T) {
	s, err := ParseSpec([]byte(`{"input":[4096,4096,3],"layers":[{"class":"Conv2D","name":"c","config":{"filters":8,"kernel_size":[1,1]}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(s)
	if err != nil {
		t.Fatalf("a model whose activations add up to 184,549,376 values: %v", err)
	}
	if got := m.Shapes[0]; got != [3]int{4096, 4096, 8} {
		t.Errorf("c's output %v, want 4096x4096x8", got)
	}
	if n := 4096*4096*3 + 4096*4096*8; n != 184549376 || n > maxActivations || n+4096*4096*8 <= maxActivations {
		t.Errorf("the budget's arithmetic: %d values, budget %d", n, maxActivations)
	}
}

// TestBuildParamBudget: Build refuses an architecture of over 2^30
// parameters before allocating the layer that goes over (this one's Dense
// would take 16 GB), and BuildWithin one that needs more than its file
// holds (plus 2^20 of slack), naming the layer.
func TestBuildParamBudget(t *testing.T) {
	s, err := ParseSpec([]byte(`{"name":"wide","input":[1,1,65536],"layers":[{"class":"Flatten","name":"f"},{"class":"Dense","name":"d","config":{"units":65536}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	alloc := allocated(func() { _, err = Build(s) })
	if err == nil || err.Error() != `nn: architecture "wide" has over 2^30 parameters` {
		t.Errorf("Build of 2^32 parameters: %v", err)
	}
	if alloc > 1<<20 {
		t.Errorf("Build allocated %d bytes before refusing", alloc)
	}
	s.Layers[1].Config.Units = 16 // 1,048,592 values
	if _, err := BuildWithin(s, 1); err == nil || err.Error() != `nn: weights: architecture "wide" needs over 1048577 parameter values by layer "d", the file holds 1` {
		t.Errorf("BuildWithin over the file's values: %v", err)
	}
	m, err := BuildWithin(s, 16)
	if err != nil {
		t.Fatalf("BuildWithin within the slack: %v", err)
	}
	if tr, other := m.CountParams(); tr+other != 65536*16+16 {
		t.Errorf("%d parameters, want %d", tr+other, 65536*16+16)
	}
}

// allocated is the number of bytes f allocates on the heap (the tests of
// this package run one at a time).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

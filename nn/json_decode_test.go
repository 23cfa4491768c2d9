package nn

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/internal/jsonv"
)

// TestSpecDecodeMatchesEncodingJSON holds the hand decoder of Spec to
// encoding/json with DisallowUnknownFields on specs both accept, and
// checks the refusals.
func TestSpecDecodeMatchesEncodingJSON(t *testing.T) {
	var inputs []string
	for _, name := range BuiltinNames() {
		s, _ := Builtin(name)
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, string(b))
	}
	inputs = append(inputs,
		`{"input":[8,8,3],"layers":[{"class":"Conv2D","name":"c","config":{"filters":4,"kernel_size":[3],"use_bias":false,"seed":7,"l2":1e-4}}]}`,
		`{"name":null,"input":[1,2,3],"layers":null}`,
		`{"input":[1,2,3],"layers":[{"class":"Dense","name":"d","config":null},{"class":"Flatten","name":"f","config":{}}]}`,
		`{"input":[1,2,3],"layers":[{"class":"Dense","name":"d","config":{"units":3,"units":5,"strides":[]}}]}`,
	)
	for _, in := range inputs {
		got, err := ParseSpec([]byte(in))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		var want Spec
		dec := json.NewDecoder(strings.NewReader(in))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("%s: encoding/json: %v", in, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\ngot  %+v\nwant %+v", in, got, want)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{`[]`, "nn: architecture spec: the spec is an array, want an object"},
		{`{"input":[1,2],"layers":[]}`, "input has 2 values, want 3"},
		{`{"input":[1,2,3.5],"layers":[]}`, "input is 3.5, want an integer"},
		{`{"input":[1,2,3],"layers":[{"class":"Dense","name":"d","config":{"units":"3"}}]}`, "layers[0].config.units is a string, want a number"},
		{`{"input":[1,2,3],"layers":[{"class":"Dense","name":"d","config":{"use_bias":1}}]}`, "layers[0].config.use_bias is a number, want true or false"},
		{`{"input":[1,2,3],"layers":[{"class":"Dropout","name":"d","config":{"seed":-1}}]}`, "layers[0].config.seed is -1, want a non-negative integer"},
		{`{"input":[1,2,3],"layers":[{"klass":"Dense"}]}`, `unknown field "klass" in layers[0]`},
		{`{"input":[1,2,3],"layers":{}}`, "layers is an object, want an array"},
		{`{"input":[1,2,3],"layers":[]} {}`, "after the top-level value"},
	} {
		if _, err := ParseSpec([]byte(tt.in)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.in, err, tt.want)
		}
	}
}

func TestClassesAndPreprocessDecode(t *testing.T) {
	cs := `[{"id":"n01443537","name":"goldfish"},{"id":"b","name":"b\u00e9e"}]`
	v, err := jsonv.Parse([]byte(cs))
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeClasses(v)
	var want []Class
	if err2 := json.Unmarshal([]byte(cs), &want); err != nil || err2 != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("classes: got %v (%v), want %v (%v)", got, err, want, err2)
	}
	p := DefaultPreprocess([3]int{224, 224, 3})
	b, _ := json.Marshal(p)
	v, _ = jsonv.Parse(b)
	if gp, err := decodePreprocess(v); err != nil || gp != p {
		t.Errorf("preprocess: got %+v (%v), want %+v", gp, err, p)
	}
	for _, tt := range []struct{ in, want string }{
		{`{"id":"a"}`, "classes are an object, want an array"},
		{`[{"id":1}]`, "class 0 id is a number, want a string"},
		{`[{"id":"a","label":"x"}]`, `unknown field "label" in class 0`},
		{`["a"]`, "class 0 is a string, want an object"},
	} {
		v, _ := jsonv.Parse([]byte(tt.in))
		if _, err := decodeClasses(v); err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v, want %q", tt.in, err, tt.want)
		}
	}
	v, _ = jsonv.Parse([]byte(`{"height":"4"}`))
	if _, err := decodePreprocess(v); err == nil || err.Error() != "height is a string, want a number" {
		t.Errorf("preprocess height string: error %v", err)
	}
}

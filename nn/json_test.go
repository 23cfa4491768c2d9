package nn

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// jsonCases are inputs for the decoder, valid and not; they seed FuzzJSON.
var jsonCases = []string{
	`null`, `true`, `false`, `0`, `-0`, `1`, `-1.5e3`, `1E+2`, `0.000001`, `123456789012345678901234567890`,
	`1e308`, `1e309`, `-1e400`, `4.9e-324`, `1e-400`, `01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`, `0x10`, `NaN`, `Infinity`,
	`""`, `"a"`, `"\"\\\/\b\f\n\r\t"`, `"\u00e9\u20AC"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ude00"`, `"\ud83d\u0041"`,
	`"\ud83d\ud83d\ude00"`, `"\u12"`, `"\x"`, "\"\x01\"", "\"\xff\xfe\"", "\"caf\xc3\xa9\"", "\"\xe2\x82\"", `"abc`,
	`[]`, `[1,2,3]`, `[1,]`, `[,1]`, `[1 2]`, `[`, `[[[[]]]]`, ` [ 1 , "x" , null ] `,
	`{}`, `{"a":1}`, `{"a":1,"a":2}`, `{"a":{"b":[1,{"c":null}]}}`, `{"a"}`, `{"a":}`, `{a:1}`, `{"a":1,}`, `{"a":1 "b":2}`,
	`{"a":1}}`, `{"a":1} x`, `{"a":1}   `, "\t\n\r {}\n", ``, ` `, `tru`, `nul`, `truex`, `[true,false,null]`,
	`{"__metadata__":{"format":"mavis-xai/1"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}`,
}

// standard turns a parsed value into what json.Unmarshal gives: objects as
// maps, the last of repeated keys winning.
func standard(v any) any {
	switch x := v.(type) {
	case jsonObject:
		m := make(map[string]any, len(x))
		for _, e := range x {
			m[e.Key] = standard(e.Value)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = standard(e)
		}
		return s
	}
	return v
}

// checkJSON compares parseJSON with encoding/json on one input.
func checkJSON(t *testing.T, data []byte) {
	got, err := parseJSON(data)
	if errors.Is(err, errJSONDepth) {
		return // deeper than we allow; encoding/json goes to 10000
	}
	var want any
	werr := json.Unmarshal(data, &want)
	if (err == nil) != (werr == nil) {
		t.Fatalf("%q: error %v, encoding/json: %v", data, err, werr)
	}
	if err != nil {
		if !strings.Contains(err.Error(), "at byte ") {
			t.Errorf("%q: error %q names no offset", data, err)
		}
		return
	}
	if g := standard(got); !reflect.DeepEqual(g, want) {
		t.Fatalf("%q: got %#v, encoding/json %#v", data, g, want)
	}
}

func TestJSONMatchesEncodingJSON(t *testing.T) {
	for _, c := range jsonCases {
		checkJSON(t, []byte(c))
	}
}

func FuzzJSON(f *testing.F) {
	for _, c := range jsonCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkJSON(t, data)
	})
}

func TestJSONDetails(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want any
		err  string
	}{
		{`{"b":1,"a":2,"b":3}`, jsonObject{{"b", 1.0}, {"a", 2.0}, {"b", 3.0}}, ""},
		{`"\ud83d\u0041"`, "\uFFFDA", ""},
		{"\"\xff\"", "\uFFFD", ""},
		{`[1,]`, nil, "invalid character ']' looking for a value at byte 3"},
		{`{"a":1} x`, nil, "invalid character 'x' after the top-level value at byte 8"},
		{`1e999`, nil, "number 1e999 out of range at byte 0"},
		{`"abc`, nil, "unterminated string starting at byte 0"},
		{"\"\xff", nil, "unterminated string starting at byte 0"},
		{strings.Repeat("[", maxJSONDepth+1), nil, "nested too deeply: over 256 levels at byte 256"},
		{strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth), nil, ""},
	} {
		got, err := parseJSON([]byte(tt.in))
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if tt.want != nil && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

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
	v, err := parseJSON([]byte(cs))
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
	v, _ = parseJSON(b)
	if gp, err := decodePreprocess(v); err != nil || gp != p {
		t.Errorf("preprocess: got %+v (%v), want %+v", gp, err, p)
	}
	for _, tt := range []struct{ in, want string }{
		{`{"id":"a"}`, "classes are an object, want an array"},
		{`[{"id":1}]`, "class 0 id is a number, want a string"},
		{`[{"id":"a","label":"x"}]`, `unknown field "label" in class 0`},
		{`["a"]`, "class 0 is a string, want an object"},
	} {
		v, _ := parseJSON([]byte(tt.in))
		if _, err := decodeClasses(v); err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v, want %q", tt.in, err, tt.want)
		}
	}
	v, _ = parseJSON([]byte(`{"height":"4"}`))
	if _, err := decodePreprocess(v); err == nil || err.Error() != "height is a string, want a number" {
		t.Errorf("preprocess height string: error %v", err)
	}
}

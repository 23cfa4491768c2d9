package jsonv

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// jsonCases are inputs for the decoder, valid and not; they seed FuzzParse.
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
	case Object:
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

// checkJSON compares Parse with encoding/json on one input.
func checkJSON(t *testing.T, data []byte) {
	got, err := Parse(data)
	if errors.Is(err, ErrDepth) {
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

func TestParseMatchesEncodingJSON(t *testing.T) {
	for _, c := range jsonCases {
		checkJSON(t, []byte(c))
	}
}

func FuzzParse(f *testing.F) {
	for _, c := range jsonCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkJSON(t, data)
	})
}

func TestParseDetails(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want any
		err  string
	}{
		{`{"b":1,"a":2,"b":3}`, Object{{"b", 1.0}, {"a", 2.0}, {"b", 3.0}}, ""},
		{`"\ud83d\u0041"`, "\uFFFDA", ""},
		{"\"\xff\"", "\uFFFD", ""},
		{`[1,]`, nil, "invalid character ']' looking for a value at byte 3"},
		{`{"a":1} x`, nil, "invalid character 'x' after the top-level value at byte 8"},
		{`1e999`, nil, "number 1e999 out of range at byte 0"},
		{`"abc`, nil, "unterminated string starting at byte 0"},
		{"\"\xff", nil, "unterminated string starting at byte 0"},
		{strings.Repeat("[", MaxDepth+1), nil, "nested too deeply: over 256 levels at byte 256"},
		{strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth), nil, ""},
	} {
		got, err := Parse([]byte(tt.in))
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

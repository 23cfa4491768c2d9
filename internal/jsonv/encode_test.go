package jsonv

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

func TestEncodeMatchesEncodingJSON(t *testing.T) {
	same := func(what string, got, want []byte, err error) {
		t.Helper()
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s:\ngot  %s (%v)\nwant %s", what, got, err, want)
		}
	}
	for _, s := range jsonStrings {
		want, err := json.Marshal(s)
		same("string "+s, AppendString(nil, s), want, err)
	}
	for _, f := range []float64{0, 1, -2.5, 1e-4, 1e-6, 9.99e-7, 1e-7, 1.5e-9, 1e20, 1e21, 1.25e22, -3e-300, math.MaxFloat64, 5e-324, 0.1, 123456789} {
		want, err := json.Marshal(f)
		same("float", AppendFloat(nil, f), want, err)
	}
	meta := map[string]string{"format": "mavis-xai/1", "b": "<x>", "a": "\u2028", "": "empty"}
	for _, m := range []map[string]string{meta, {}, nil} {
		want, err := json.Marshal(m)
		same("meta", MarshalStringMap(m), want, err)
	}
}

// FuzzAppendString holds the string encoder to encoding/json and checks that
// the decoder reads back what json.Unmarshal reads.
func FuzzAppendString(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		got := AppendString(nil, s)
		if !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
		v, err := Parse(got)
		var w string
		json.Unmarshal(want, &w)
		if err != nil || v != w {
			t.Fatalf("%q: read back %q (%v), want %q", s, v, err, w)
		}
	})
}

package jsonv

import (
	"errors"
	"math"

	"github.com/mavis-xai/mavis/internal/printf"
)

// Decoding parsed values (parse.go) into Go structs by hand, field by field,
// with encoding/json's rules where they matter here: null leaves a field at its
// zero value, the last of repeated keys counts, and nothing unknown is
// accepted. Unlike json.Decoder.DisallowUnknownFields, keys match exactly
// (not case-insensitively), and an integer field takes any integral number
// within ±2^53 (encoding/json refuses 1e2 for an int, this accepts it as
// 100).

// ErrUnknownField is what a field callback returns for a key it does not
// know.
var ErrUnknownField = errors.New("unknown field")

// Fields calls f for every member of v in order, which must be an
// object (what names it in errors), refusing unknown keys. A repeated key
// is decoded again, so the last one counts, as in encoding/json.
func Fields(v any, what string, f func(key string, v any) error) error {
	o, ok := v.(Object)
	if !ok {
		return printf.Errorf("%s is %s, want an object", what, Kind(v))
	}
	for _, m := range o {
		if err := f(m.Key, m.Value); err != nil {
			if err == ErrUnknownField {
				return printf.Errorf("unknown field %q in %s", m.Key, what)
			}
			return err
		}
	}
	return nil
}

// Kind names the kind of a parsed value for error messages ("a number").
func Kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case Object:
		return "an object"
	}
	return "not JSON"
}

// String decodes a string (null gives "").
func String(v any, what string) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	}
	return "", printf.Errorf("%s is %s, want a string", what, Kind(v))
}

// Float decodes a number (null gives 0).
func Float(v any, what string) (float64, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case float64:
		return x, nil
	}
	return 0, printf.Errorf("%s is %s, want a number", what, Kind(v))
}

// Int decodes an integral number of magnitude at most 2^53 (null gives 0).
func Int(v any, what string) (int, error) {
	f, err := Float(v, what)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, printf.Errorf("%s is %v, want an integer", what, f)
	}
	return int(f), nil
}

// Bool decodes true or false (null gives nil).
func Bool(v any, what string) (*bool, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case bool:
		return &x, nil
	}
	return nil, printf.Errorf("%s is %s, want true or false", what, Kind(v))
}

// Array calls f for every element of v, which must be an array (or
// null, which has none).
func Array(v any, what string, f func(i int, v any) error) error {
	if v == nil {
		return nil
	}
	a, ok := v.([]any)
	if !ok {
		return printf.Errorf("%s is %s, want an array", what, Kind(v))
	}
	for i, e := range a {
		if err := f(i, e); err != nil {
			return err
		}
	}
	return nil
}

// Ints decodes an array of integers (null gives nil).
func Ints(v any, what string) ([]int, error) {
	var s []int
	err := Array(v, what, func(i int, e any) error {
		n, err := Int(e, what)
		s = append(s, n)
		return err
	})
	if s == nil && err == nil && v != nil {
		s = []int{}
	}
	return s, err
}

// StringMap decodes an object of strings.
func StringMap(v any, what string) (map[string]string, error) {
	if v == nil {
		return nil, nil
	}
	m := map[string]string{}
	err := Fields(v, what, func(k string, e any) error {
		s, ok := e.(string)
		if !ok {
			return printf.Errorf("%s: %q is %s, want a string", what, k, Kind(e))
		}
		m[k] = s
		return nil
	})
	return m, err
}

package printf

import (
	"errors"
	"fmt"
	"io"
	"math"
	"testing"
)

// shape is a Stringer on a pointer (a nil one panics in String, as
// *nn.Tensor's does); activation and padding are Stringers on integers,
// as nn's enums are.
type shape struct{ dims [4]int }

func (s *shape) String() string {
	return fmt.Sprintf("%dx%dx%dx%d", s.dims[0], s.dims[1], s.dims[2], s.dims[3])
}

type activation int

func (a activation) String() string { return [...]string{"linear", "relu"}[a] }

type padding int

func (p padding) String() string { return [...]string{"valid", "same"}[p] }

// TestErrorfMatchesFmt holds Errorf and Sprintf to package fmt, the
// independent truth, on every verb, flag and type they document.
func TestErrorfMatchesFmt(t *testing.T) {
	tens := &shape{[4]int{1, 2, 3, 4}}
	for _, tt := range []struct {
		format string
		args   []any
	}{
		{"plain text", nil},
		{"nn: %s: input %v, want %d channels", []any{"conv", tens, 3}},
		{"%d %d %d %d %d", []any{-1, int8(-8), int16(16), int32(-32), int64(1 << 40)}},
		{"%d %d %d %d %d %v", []any{uint(1), uint8(8), uint16(16), uint32(32), uint64(1 << 63), uint64(7)}},
		{"%v %g %v %g", []any{0.1, 1e21, float32(0.1), float32(3e-9)}},
		{"%v %v %v %v", []any{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1)}},
		{"%.3f %.2f %.0f %f", []any{1.23456, -0.005, 2.5, 1.0 / 3}},
		{"%+.0f%% %+.0f%% %+.3f %+v %+d % d", []any{12.4, -3.0, math.Inf(1), 2.0, 5, 7}},
		{"%+.0f %+.0f % f % f %+v %f", []any{math.NaN(), math.Inf(-1), math.Inf(1), math.NaN(), math.NaN(), math.Inf(1)}},
		{"%.3g %.1g", []any{123456.0, 0.05}},
		{"%q %q %s %v", []any{"a\"b\n", "\xff", "héllo", "x"}},
		{"%t %v", []any{true, false}},
		{"%v %s %q", []any{io.EOF, io.EOF, io.EOF}},
		{"%v %v %d %v", []any{[]int{1, 2, 3}, []int(nil), []int{4}, [3]int{224, 224, 3}}},
		{"%v %v", []any{[2]int{1, 2}, [4]int{1, 2, 3, 4}}},
		{"%v %q %s", []any{[]float64{0.5, 1e-7}, []string{"a", "b"}, []string{"c"}}},
		{"%v %v", []any{nil, error(nil)}},
		{"%v %s", []any{activation(1), padding(1)}},
		{"%v %s", []any{(*shape)(nil), (*shape)(nil)}},
		{"trailing %", nil},
		{"missing %d %s", []any{1}},
	} {
		want := fmt.Sprintf(tt.format, tt.args...)
		if got := Sprintf(tt.format, tt.args...); got != want {
			t.Errorf("Sprintf(%q): got %q, want %q", tt.format, got, want)
		}
		if got := Errorf(tt.format, tt.args...).Error(); got != want {
			t.Errorf("Errorf(%q): got %q, want %q", tt.format, got, want)
		}
	}
}

func TestErrorfWraps(t *testing.T) {
	err := Errorf("nn: reading %d bytes: %w", 8, io.ErrUnexpectedEOF)
	want := fmt.Errorf("nn: reading %d bytes: %w", 8, io.ErrUnexpectedEOF)
	if err.Error() != want.Error() {
		t.Errorf("got %q, want %q", err, want)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("errors.Is(%v, io.ErrUnexpectedEOF) = false", err)
	}
	if errors.Unwrap(Errorf("nn: %v", io.EOF)) != nil {
		t.Errorf("a %%v directive wrapped its error; only %%w should")
	}
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGenerated fails when a checked-in file of wasm/simd differs from
// what the generator writes: run go generate ./wasm/simd.
func TestGenerated(t *testing.T) {
	for name, want := range files() {
		got, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Errorf("%v (run go generate ./wasm/simd)", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("wasm/simd/%s differs from the generator's output: run go generate ./wasm/simd", name)
		}
	}
}

// TestDeterministic checks that two runs of the generator write the same
// bytes (no map order or other chance in the output).
func TestDeterministic(t *testing.T) {
	a, b := files(), files()
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s differs between two runs", name)
		}
	}
}

// TestLEB128 checks the encoders against the specification's examples
// and the edges of the 7-bit groups.
func TestLEB128(t *testing.T) {
	for _, tt := range []struct {
		v    uint64
		want []byte
	}{
		{0, []byte{0}}, {127, []byte{0x7f}}, {128, []byte{0x80, 0x01}}, {624485, []byte{0xe5, 0x8e, 0x26}},
		{0xe6, []byte{0xe6, 0x01}}, // f32x4.mul's SIMD opcode
	} {
		if got := uleb(tt.v); !bytes.Equal(got, tt.want) {
			t.Errorf("uleb(%d) = %x, want %x", tt.v, got, tt.want)
		}
	}
	for _, tt := range []struct {
		v    int64
		want []byte
	}{
		{0, []byte{0}}, {63, []byte{0x3f}}, {64, []byte{0xc0, 0x00}}, {-1, []byte{0x7f}}, {-64, []byte{0x40}},
		{-65, []byte{0xbf, 0x7f}}, {-123456, []byte{0xc0, 0xbb, 0x78}},
	} {
		if got := sleb(tt.v); !bytes.Equal(got, tt.want) {
			t.Errorf("sleb(%d) = %x, want %x", tt.v, got, tt.want)
		}
	}
}

// TestSmallModule checks the encoding of a one-function module byte by
// byte against the binary format (sections 1, 2, 3, 7, 10, then the name
// section): (func (export "one") (result i32) i32.const 1).
func TestSmallModule(t *testing.T) {
	m := &module{memModule: "env", memName: "memory"}
	f := m.newFunc("one", "", i32)
	f.i32Const(1)
	got := m.encode()
	want := []byte{
		0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
		0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, // type section: () -> i32
		0x02, 0x0f, 0x01, 0x03, 'e', 'n', 'v', 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00, 0x00, // import env.memory {min 0}
		0x03, 0x02, 0x01, 0x00, // function section: type 0
		0x07, 0x07, 0x01, 0x03, 'o', 'n', 'e', 0x00, 0x00, // export "one" = func 0
		0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x01, 0x0b, // code: no locals, i32.const 1, end
	}
	if len(got) < len(want) || !bytes.Equal(got[:len(want)], want) {
		t.Fatalf("module:\n got %x\nwant %x (then the name section)", got, want)
	}
	if got[len(want)] != 0 {
		t.Errorf("section after the code section has id %d, want 0 (custom: name)", got[len(want)])
	}
}

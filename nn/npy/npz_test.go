//go:build !js

package npy

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestNpzRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.npz")
	in := []Array{
		{Name: "probs", Shape: []int{5}, Data: []float32{0.1, 0.2, 0.3, 0.25, 0.15}},
		{Name: "map", Shape: []int{2, 2}, Data: []float32{1, -2, 3, -4}},
		{Name: "empty", Shape: []int{0}, Data: []float32{}},
	}
	if err := WriteNpz(path, in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadNpz(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("got %d arrays, want %d", len(out), len(in))
	}
	for i := range in {
		if out[i].Name != in[i].Name || !slices.Equal(out[i].Shape, in[i].Shape) || !slices.Equal(out[i].Data, in[i].Data) {
			t.Errorf("array %d: got %+v, want %+v", i, out[i], in[i])
		}
	}
	if err := WriteNpz(path, []Array{{Name: "a", Shape: []int{1}, Data: []float32{1}}, {Name: "a", Shape: []int{1}, Data: []float32{1}}}); err == nil || !strings.Contains(err.Error(), `"a" used twice`) {
		t.Errorf("duplicate names: got %v", err)
	}
	// A failing write must not clobber the good archive.
	if err := WriteNpz(path, []Array{{Name: "bad", Shape: []int{3}, Data: []float32{1}}}); err == nil || !strings.Contains(err.Error(), `array "bad"`) {
		t.Errorf("bad array: got %v", err)
	}
	if again, err := ReadNpz(path); err != nil || len(again) != 3 {
		t.Errorf("archive after failed write: %d arrays, %v", len(again), err)
	}
}

// TestReadNpzCompressed reads a deflated archive, as savez_compressed writes.
func TestReadNpzCompressed(t *testing.T) {
	var npy bytes.Buffer
	if err := Encode(&npy, []int{3}, []float32{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "c.npz")
	writeZip(t, path, map[string][]byte{"x.npy": npy.Bytes()}, zip.Deflate)
	out, err := ReadNpz(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Name != "x" || !slices.Equal(out[0].Data, []float32{1, 2, 3}) {
		t.Errorf("got %+v, want x = [1 2 3]", out)
	}
}

func TestReadNpzBroken(t *testing.T) {
	dir := t.TempDir()
	var fortran []byte
	for _, tt := range brokenNpy {
		if tt.name == "fortran" {
			fortran = tt.raw
		}
	}
	for _, tt := range []struct {
		name    string
		members map[string][]byte
		want    string
	}{
		{"not npy member", map[string][]byte{"readme.txt": []byte("hi")}, `member "readme.txt" is not a .npy array`},
		{"broken member", map[string][]byte{"x.npy": fortran}, `array "x": Fortran-order`},
	} {
		path := filepath.Join(dir, "b.npz")
		writeZip(t, path, tt.members, zip.Store)
		if _, err := ReadNpz(path); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.want)
		}
	}
	path := filepath.Join(dir, "junk.npz")
	os.WriteFile(path, []byte("not a zip"), 0o644)
	if _, err := ReadNpz(path); err == nil || !strings.HasPrefix(err.Error(), "nn: npz: ") {
		t.Errorf("not a zip: got %v", err)
	}
}

func writeZip(t *testing.T, path string, members map[string][]byte, method uint16) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, b := range members {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

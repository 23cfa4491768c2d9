//go:build !js

package nn

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWeightsRoundTrip(t *testing.T) {
	m, err := BuildBuiltin("mavis")
	if err != nil {
		t.Fatal(err)
	}
	fillParams(m, 42)
	m.Classes = []Class{{"n01443537", "goldfish"}, {"n01629819", "European fire salamander"},
		{"n01644900", "tailed frog"}, {"n01770393", "scorpion"}, {"n01855672", "goose"}}
	m.Preprocess.Crop = "center"
	path := filepath.Join(t.TempDir(), "mavis.safetensors")
	if err := SaveWith(path, m, map[string]string{"source": "test"}); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := m.Params()
	have := got.Params()
	if len(have) != len(want) {
		t.Fatalf("got %d params, want %d", len(have), len(want))
	}
	for i, p := range want {
		if have[i].Name != p.Name || !slices.Equal(have[i].Shape, p.Shape) || !slices.Equal(have[i].Value, p.Value) {
			t.Errorf("param %s differs after the round trip", p.Name)
		}
	}
	if !slices.Equal(got.Classes, m.Classes) || got.Preprocess != m.Preprocess || got.Spec.Name != "mavis" {
		t.Errorf("metadata: got classes %v preprocess %+v, want %v %+v", got.Classes, got.Preprocess, m.Classes, m.Preprocess)
	}
	raw, _ := os.ReadFile(path)
	meta, err := Metadata(raw)
	if err != nil || meta["source"] != "test" || meta["format"] != WeightsFormat {
		t.Errorf("Metadata: got %v, %v", meta, err)
	}
	// File size: 8 + header + 4 bytes per value.
	tr, other := m.CountParams()
	if n := binary.LittleEndian.Uint64(raw); int64(len(raw)) != 8+int64(n)+4*int64(tr+other) || n%8 != 0 {
		t.Errorf("file is %d bytes with a %d-byte header for %d values", len(raw), n, tr+other)
	}

	x := m.NewInput(1)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range x.Data {
		x.Data[i] = float32(rng.IntN(256))
	}
	a := m.Forward(x).Clone()
	b := got.Forward(x)
	if !slices.Equal(a.Data, b.Data) {
		t.Errorf("forward: got %v, want %v", b.Data, a.Data)
	}
}

func TestWeightsSaveAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	m := tinyModel(t)
	if err := Save(path, m); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(path)

	// An Encode error (a NaN weight) leaves the existing file alone.
	m.Param("dense/bias").Value[1] = float32(math.NaN())
	if err := Save(path, m); err == nil || !strings.Contains(err.Error(), `tensor "dense/bias" value 1 is NaN`) {
		t.Errorf("NaN weight: got %v", err)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, good) {
		t.Errorf("a failed Save changed the existing file")
	}
	m.Param("dense/bias").Value[1] = 0

	// A rename error (the target is a directory) leaves no temporary file.
	sub := filepath.Join(dir, "taken")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Save(sub, m); err == nil || !strings.HasPrefix(err.Error(), "nn: ") {
		t.Errorf("save over a directory: got %v", err)
	}
	// A missing directory fails before anything is written.
	if err := Save(filepath.Join(dir, "no", "such", "m.safetensors"), m); err == nil {
		t.Errorf("save into a missing directory: no error")
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"m.safetensors", "taken"}) {
		t.Errorf("directory after failed saves: %v, want [m.safetensors taken]", names)
	}
}

func TestLoadErrorsNameThePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.safetensors")
	os.WriteFile(path, []byte("short"), 0o644)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "too short") {
		t.Errorf("got %v", err)
	}
}

// TestLoadSaysWhatAFileIs: Load names the path, then what the file is
// (TestDecodeSaysWhatAFileIs has the cases).
func TestLoadSaysWhatAFileIs(t *testing.T) {
	data, err := os.ReadFile(filepath.FromSlash("../weightsconv/keras/testdata/tiny.weights.h5"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.weights.h5")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.HasPrefix(err.Error(), "nn: weights: "+path+": this is an HDF5 file") {
		t.Errorf("Load: got %v", err)
	}
}

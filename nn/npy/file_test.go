//go:build !js

package npy

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/internal/sharedtest"
)

// TestReadNpyFixtureProbs checks the (5,) probability vectors against the
// float64 values in manifest.json, rounded to float32 as the generator did.
func TestReadNpyFixtureProbs(t *testing.T) {
	dir := sharedtest.Fixtures(t)
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man struct {
		Images map[string]struct {
			Probs  []float64 `json:"probs"`
			Logits []float64 `json:"logits"`
		} `json:"images"`
	}
	if err := json.Unmarshal(raw, &man); err != nil {
		t.Fatal(err)
	}
	if len(man.Images) == 0 {
		t.Fatal("manifest lists no images")
	}
	for name, img := range man.Images {
		for file, want := range map[string][]float64{"probs.npy": img.Probs, "logits.npy": img.Logits} {
			shape, data, err := Read(filepath.Join(dir, name, file))
			if err != nil {
				t.Fatalf("%s/%s: %v", name, file, err)
			}
			if !reflect.DeepEqual(shape, []int{5}) {
				t.Errorf("%s/%s: shape got %v, want [5]", name, file, shape)
			}
			if len(data) != len(want) {
				t.Fatalf("%s/%s: %d values, want %d", name, file, len(data), len(want))
			}
			for i := range want {
				if data[i] != float32(want[i]) {
					t.Errorf("%s/%s[%d]: got %v, want %v", name, file, i, data[i], float32(want[i]))
				}
			}
		}
	}
}

// TestReadNpyFixtureShapes reads a 3-D, 2-D and 1-D fixture and checks the
// values against the raw bytes after the header, decoded independently.
func TestReadNpyFixtureShapes(t *testing.T) {
	dir := sharedtest.Fixtures(t)
	for _, tt := range []struct {
		file  string
		shape []int
	}{
		{"conv2d_7.npy", []int{7, 7, 8}},
		{"gradcam_logit.npy", []int{7, 7}},
		{"gradcam_logit_weights.npy", []int{8}},
		{"saliency_grad_logit.npy", []int{224, 224, 3}},
	} {
		path := filepath.Join(dir, "astronaut", tt.file)
		shape, data, err := Read(path)
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if !reflect.DeepEqual(shape, tt.shape) {
			t.Errorf("%s: shape got %v, want %v", tt.file, shape, tt.shape)
		}
		raw, _ := os.ReadFile(path)
		hlen := int(binary.LittleEndian.Uint16(raw[8:10]))
		body := raw[10+hlen:]
		if len(body) != 4*len(data) {
			t.Fatalf("%s: %d data bytes for %d values", tt.file, len(body), len(data))
		}
		for i, v := range data {
			if w := math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:])); math.Float32bits(w) != math.Float32bits(v) {
				t.Fatalf("%s[%d]: got %v, want %v", tt.file, i, v, w)
			}
		}
		x, err := AsTensor(shape, data)
		if err != nil {
			t.Fatal(err)
		}
		if tt.file == "conv2d_7.npy" && (x.Shape != [4]int{1, 7, 7, 8} || x.Data[x.Offset(0, 6, 5, 4)] != data[(6*7+5)*8+4]) {
			t.Errorf("conv2d_7 as tensor: shape %v, element (6,5,4) %v, want 1x7x7x8 and %v", x, x.Data[x.Offset(0, 6, 5, 4)], data[(6*7+5)*8+4])
		}
	}
}

// TestNpyRoundTrip writes and reads arrays of several ranks, including the
// empty and scalar cases, and checks the header numpy would write.
func TestNpyRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		shape []int
		hdr   string
	}{
		{[]int{5}, "'shape': (5,), }"},
		{[]int{7, 7, 8}, "'shape': (7, 7, 8), }"},
		{[]int{2, 3}, "'shape': (2, 3), }"},
		{[]int{}, "'shape': (), }"},
		{[]int{0, 4}, "'shape': (0, 4), }"},
		{[]int{1, 2, 3, 4, 5}, "'shape': (1, 2, 3, 4, 5), }"},
	} {
		n := 1
		for _, d := range tt.shape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(i)*0.37 - 3
		}
		if n > 2 {
			data[1] = float32(math.Inf(-1))
			data[2] = float32(math.SmallestNonzeroFloat32)
		}
		path := filepath.Join(dir, "a.npy")
		if err := Write(path, tt.shape, data); err != nil {
			t.Fatalf("%v: %v", tt.shape, err)
		}
		raw, _ := os.ReadFile(path)
		hlen := int(binary.LittleEndian.Uint16(raw[8:10]))
		if (10+hlen)%64 != 0 || raw[10+hlen-1] != '\n' || !strings.Contains(string(raw[10:10+hlen]), tt.hdr) {
			t.Errorf("%v: header %q (length %d) not aligned to 64, newline-terminated and containing %q", tt.shape, raw[10:10+hlen], hlen, tt.hdr)
		}
		shape, got, err := Read(path)
		if err != nil {
			t.Fatalf("%v: %v", tt.shape, err)
		}
		if !slices.Equal(shape, tt.shape) || !slices.Equal(got, data) {
			t.Errorf("round trip %v: got shape %v data %v, want %v", tt.shape, shape, got, data)
		}
	}
	if err := Write(filepath.Join(dir, "b.npy"), []int{2, 2}, []float32{1, 2, 3}); err == nil || !strings.Contains(err.Error(), "holds 4 values, data has 3") {
		t.Errorf("shape/data mismatch: got %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "b.npy")); !os.IsNotExist(err) {
		t.Errorf("failed write left a file behind: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries after one good and one bad write, want 1", len(ents))
	}
}

func TestReadNpyBroken(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range brokenNpy {
		path := filepath.Join(dir, "x.npy")
		if err := os.WriteFile(path, tt.raw, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := Read(path)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "nn: npy: ") {
			t.Errorf("%s: got error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
	if _, _, err := Read(filepath.Join(dir, "missing.npy")); err == nil || !strings.Contains(err.Error(), "missing.npy") {
		t.Errorf("missing file: got %v", err)
	}
}

package hdf5

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/internal/sharedtest"
)

const mavisSHA256 = "d439f5cf04bf3fe17058e8bee44fa311693b4c30f5267f742cc5b28bdfbb6c7d"

func mavisPath(t testing.TB) string {
	p := filepath.Join(sharedtest.Dir(t, sharedtest.Weights), "mavis", "tiny_imagenet_model.checkpoint.weights.h5")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != mavisSHA256 {
		t.Fatalf("sha256 of %s = %s, want %s", p, got, mavisSHA256)
	}
	return p
}

func TestMavisWeights(t *testing.T) {
	f, err := OpenFile(mavisPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	shapes := []struct {
		path  string
		shape []int
	}{
		{"layers/conv2d/vars/0", []int{3, 3, 3, 64}},
		{"layers/conv2d/vars/1", []int{64}},
		{"layers/batch_normalization/vars/3", []int{64}},
		{"layers/dense/vars/0", []int{72, 160}},
		{"layers/dense_2/vars/0", []int{50, 5}},
		{"layers/dense_2/vars/1", []int{5}},
	}
	for _, tt := range shapes {
		o, err := f.Lookup(tt.path)
		if err != nil {
			t.Fatalf("Lookup(%q): %v", tt.path, err)
		}
		d, ok := o.(*Dataset)
		if !ok {
			t.Fatalf("%s is %T, want *Dataset", tt.path, o)
		}
		if !equalInts(d.Shape, tt.shape) {
			t.Errorf("%s shape %v, want %v", tt.path, d.Shape, tt.shape)
		}
	}

	layers, err := f.Root().Group("layers")
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, name := range layers.Members() {
		vars, err := layers.Group(name + "/vars")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, v := range vars.Members() {
			d, err := vars.Dataset(v)
			if err != nil {
				t.Fatal(err)
			}
			x, err := d.ReadFloat32()
			if err != nil {
				t.Fatal(err)
			}
			if len(x) != d.Len() {
				t.Fatalf("%s: read %d values, want %d", d.Path(), len(x), d.Len())
			}
			total += len(x)
		}
	}
	if total != 133473 {
		t.Errorf("parameters over layers/*/vars = %d, want 133473", total)
	}

	// Walk everything, reading every dataset and attribute.
	n := 0
	err = f.Root().Walk(func(path string, o Object) error {
		n++
		if d, ok := o.(*Dataset); ok && strings.HasPrefix(d.Type.String(), "float") {
			if _, err := d.ReadFloat32(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Errorf("walked %d objects, want many more", n)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

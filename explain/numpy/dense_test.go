package numpy

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/nn/npy"
	"gorgonia.org/tensor"
)

// TestNpyGorgoniaInterop checks our reader and writer against gorgonia's
// independent implementation in both directions.
func TestNpyGorgoniaInterop(t *testing.T) {
	dir := t.TempDir()
	data := []float32{0.5, -1, 2.25, 3e-8, 7, 1e30}
	// gorgonia writes, we read.
	d := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking(slices.Clone(data)))
	var buf bytes.Buffer
	if err := d.WriteNpy(&buf); err != nil {
		t.Fatal(err)
	}
	// gorgonia's header lacks numpy's final newline, which numpy tolerates.
	raw := buf.Bytes()
	path := filepath.Join(dir, "g.npy")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	shape, got, err := npy.Read(path)
	if err != nil {
		t.Fatalf("reading gorgonia's file: %v", err)
	}
	if !slices.Equal(shape, []int{2, 3}) || !slices.Equal(got, data) {
		t.Errorf("gorgonia -> ours: got %v %v, want [2 3] %v", shape, got, data)
	}
	// We write, gorgonia reads.
	if err := npy.Write(path, []int{3, 2}, data); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var g tensor.Dense
	if err := g.ReadNpy(f); err != nil {
		t.Fatalf("gorgonia reading our file: %v", err)
	}
	if !slices.Equal([]int(g.Shape()), []int{3, 2}) || !slices.Equal(g.Float32s(), data) {
		t.Errorf("ours -> gorgonia: got %v %v, want [3 2] %v", g.Shape(), g.Float32s(), data)
	}
}

func TestDenseConversions(t *testing.T) {
	x := nn.NewTensor(2, 3, 4, 5)
	for i := range x.Data {
		x.Data[i] = float32(i) / 7
	}
	d := ToDense(x)
	if !slices.Equal([]int(d.Shape()), []int{2, 3, 4, 5}) {
		t.Fatalf("ToDense shape %v, want (2, 3, 4, 5)", d.Shape())
	}
	v, err := d.At(1, 2, 3, 4)
	if err != nil || v.(float32) != x.Data[x.Offset(1, 2, 3, 4)] {
		t.Errorf("ToDense At(1,2,3,4) = %v, %v; want %v", v, err, x.Data[x.Offset(1, 2, 3, 4)])
	}
	back, err := FromDense(d)
	if err != nil {
		t.Fatal(err)
	}
	if back.Shape != x.Shape || !slices.Equal(back.Data, x.Data) {
		t.Errorf("FromDense(ToDense(x)) differs: shape %v", back)
	}

	// A transposed (H, W) float64 grid: FromDense must follow the logical
	// order, not the storage order.
	g := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6}))
	if err := g.T(); err != nil {
		t.Fatal(err)
	}
	gt, err := FromDense(g)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{1, 4, 2, 5, 3, 6}; gt.Shape != [4]int{1, 3, 2, 1} || !slices.Equal(gt.Data, want) {
		t.Errorf("transposed grid: got %v %v, want 1x3x2x1 %v", gt, gt.Data, want)
	}

	for _, tt := range []struct {
		name string
		d    *tensor.Dense
		want [4]int
	}{
		{"vector", tensor.New(tensor.WithShape(5), tensor.WithBacking(make([]float32, 5))), [4]int{1, 1, 1, 5}},
		{"hwc", tensor.New(tensor.WithShape(7, 7, 8), tensor.WithBacking(make([]float32, 392))), [4]int{1, 7, 7, 8}},
		{"scalar", tensor.New(tensor.FromScalar(float32(2.5))), [4]int{1, 1, 1, 1}},
	} {
		got, err := FromDense(tt.d)
		if err != nil || got.Shape != tt.want {
			t.Errorf("%s: got %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	if _, err := FromDense(tensor.New(tensor.WithShape(2), tensor.WithBacking([]int{1, 2}))); err == nil {
		t.Errorf("int tensor: no error")
	}
	if _, err := FromDense(tensor.New(tensor.WithShape(1, 1, 1, 1, 2), tensor.WithBacking([]float32{1, 2}))); err == nil {
		t.Errorf("5-D tensor: no error")
	}
}

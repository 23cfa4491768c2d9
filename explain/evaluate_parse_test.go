package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/mavis-xai/mavis/xai"
)

func TestReadAnnotations(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "images"), 0o755)
	path := filepath.Join(dir, "val_annotations.txt")
	os.WriteFile(path, []byte("val_0.JPEG\tn01443537\t0\t10\t62\t63\n\nval_1.JPEG\tn01629819\t5 6 7 8\n"), 0o644)
	got, err := readAnnotations(path, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []evalImage{
		{path: filepath.Join(dir, "images", "val_0.JPEG"), label: "n01443537", box: &[4]int{0, 10, 62, 63}},
		{path: filepath.Join(dir, "images", "val_1.JPEG"), label: "n01629819", box: &[4]int{5, 6, 7, 8}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d images, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].path != want[i].path || got[i].label != want[i].label || *got[i].box != *want[i].box {
			t.Errorf("image %d: got %+v %v, want %+v %v", i, got[i], *got[i].box, want[i], *want[i].box)
		}
	}
}

// FuzzReadAnnotations: any annotation file gives images or an error,
// never a panic.
func FuzzReadAnnotations(f *testing.F) {
	for _, s := range []string{
		"val_0.JPEG\tn01443537\t0\t10\t62\t63\n",
		"a.png\tn0\t1\t2\t3\n",
		"a.png\tn0\t5\t2\t3\t4\n",
		"../x.png\tn0\t0\t0\t1\t1\n",
		"a.png n0 -1 0 1 1",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dir := t.TempDir()
		path := filepath.Join(dir, "val_annotations.txt")
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		imgs, err := readAnnotations(path, dir)
		if err != nil {
			return
		}
		for _, im := range imgs {
			if im.box == nil || im.box[2] < im.box[0] || im.box[3] < im.box[1] || filepath.Dir(im.path) != dir {
				t.Fatalf("accepted %+v from %q", im, s)
			}
		}
	})
}

func TestStatAndPoolSanity(t *testing.T) {
	s := statOf([]float64{1, 2, 3, 10})
	// mean 4, sample variance ((9 + 4 + 1 + 36)/3) = 50/3, median 2.5
	if s.Mean != 4 || math.Abs(s.SD-math.Sqrt(50.0/3)) > 1e-12 || s.Median != 2.5 || s.N != 4 {
		t.Errorf("statOf: %+v", s)
	}
	if s := statOf([]float64{7}); s.Mean != 7 || s.SD != 0 || s.Median != 7 {
		t.Errorf("statOf one value: %+v", s)
	}
	a := &xai.SanityResult{Layers: []string{"d", "c"}, Spearman: []float64{0.9, 0.3}, Threshold: 0.5}
	b := &xai.SanityResult{Layers: []string{"d", "c"}, Spearman: []float64{0.5, 0.1}, Threshold: 0.5}
	p := poolSanity([]*xai.SanityResult{a, b})
	// steps (0.7, 0.2), mean 0.45 <= 0.5: pass
	if math.Abs(p.Spearman[0]-0.7) > 1e-12 || math.Abs(p.Spearman[1]-0.2) > 1e-12 || math.Abs(p.Mean-0.45) > 1e-12 || !p.Pass {
		t.Errorf("pooled %+v", p)
	}
	if poolSanity(nil) != nil {
		t.Error("pooled nothing into something")
	}
}

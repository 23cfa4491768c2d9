//go:build !js

package keras

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/mavis-xai/mavis/internal/sharedtest"
	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/nn/imagefile"
	"github.com/mavis-xai/mavis/nn/npy"
)

// TestMavis converts the original Keras 3 weights onto the built-in mavis
// architecture and checks the probabilities of every fixture image against
// the float64 reference (shared/fixtures/README.md: probs max_abs 2e-5,
// identical argmax).
func TestMavis(t *testing.T) {
	dir := sharedtest.Dir(t, sharedtest.Weights, sharedtest.Manifest)
	c, err := ReadFile(filepath.Join(dir, "mavis", "tiny_imagenet_model.checkpoint.weights.h5"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Format != Keras3Weights || c.Spec != nil {
		t.Fatalf("format %q, spec %v", c.Format, c.Spec)
	}
	m, err := nn.BuildBuiltin("mavis")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Load(m); err != nil {
		t.Fatal(err)
	}
	if tr, other := m.CountParams(); tr != 132461 || other != 1012 {
		t.Errorf("parameters %d + %d, want 132461 + 1012", tr, other)
	}
	images, _ := filepath.Glob(filepath.Join(dir, "fixtures", "mavis", "*", "input.png"))
	if len(images) == 0 {
		t.Fatal("no fixture images")
	}
	x := m.NewInput(1)
	for _, img := range images {
		name := filepath.Base(filepath.Dir(img))
		if err := pngInput(img, x, m.Preprocess); err != nil {
			t.Fatal(err)
		}
		probs := m.Forward(x).Data
		_, want, err := npy.Read(filepath.Join(filepath.Dir(img), "probs.npy"))
		if err != nil {
			t.Fatal(err)
		}
		if len(want) != len(probs) {
			t.Fatalf("%s: %d probabilities, want %d", name, len(probs), len(want))
		}
		maxAbs := 0.0
		for i := range want {
			maxAbs = math.Max(maxAbs, math.Abs(float64(probs[i]-want[i])))
		}
		if maxAbs > 2e-5 {
			t.Errorf("%s: probs %v, want %v (max_abs %.3g > 2e-5)", name, probs, want, maxAbs)
		}
		if a, b := argmax(probs), argmax(want); a != b {
			t.Errorf("%s: argmax %d, want %d", name, a, b)
		}
	}
}

// pngInput decodes a fixture PNG with nn's image helpers into sample 0 of x
// under the model's preprocessing contract (224x224 RGB, raw 0..255: the
// PNG's bytes exactly).
func pngInput(path string, x *nn.Tensor, p nn.Preprocess) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	img, err := imagefile.Decode(f)
	if err != nil {
		return err
	}
	return nn.ImageInputTo(x, 0, img, p)
}

func argmax(v []float32) int {
	best := 0
	for i := range v {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}

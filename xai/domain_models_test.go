//go:build !js

package xai_test

import (
	"compress/gzip"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/internal/sharedtest"
	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

// The built-in models and their samples are in the repository (www/);
// the fixture photos in ../shared.

func builtinModel(t *testing.T, name string) *xai.Explainer {
	t.Helper()
	m, err := nn.Load(filepath.Join("..", "www", "models", name+".safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return xai.New(m)
}

func readImage(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func fit(t *testing.T, ex *xai.Explainer, img image.Image) (xai.Prediction, xai.Fit) {
	t.Helper()
	x, err := nn.ImageInput(img, ex.Model.Preprocess)
	if err != nil {
		t.Fatal(err)
	}
	p, f, err := ex.PredictFit(x, img)
	if err != nil {
		t.Fatal(err)
	}
	return p, f
}

// TestPredictFitFashion: the Fashion-MNIST model says that colour photos
// (a cat, a coffee cup, a rocket, the astronaut) are outside what it
// knows, each because it is in colour, and says nothing of its own
// samples (the first test image of each class), which it predicts as
// PredictFit does without the check.
func TestPredictFitFashion(t *testing.T) {
	ex := builtinModel(t, "fashion")
	photos, _ := filepath.Glob(filepath.Join("..", "www", "samples", "mavis", "*.jpg"))
	if len(photos) != 4 {
		t.Fatalf("%d photos in www/samples/mavis, want 4", len(photos))
	}
	// The fixtures' Chelsea too, when ../shared is there (the check above
	// runs without it).
	if root, err := sharedtest.Root(); err == nil {
		chelsea := filepath.Join(root, "fixtures", "mavis", "chelsea", "input.png")
		if _, err := os.Stat(chelsea); err == nil {
			photos = append(photos, chelsea)
		} else if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
	}
	for _, path := range photos {
		_, f := fit(t, ex, readImage(t, path))
		if !f.Outside || len(f.Problems) < 2 || !strings.Contains(f.Problems[0], "reads grey pictures and this one is in colour") {
			t.Errorf("%s: Outside %v, problems %q; want outside, for its colour", path, f.Outside, f.Problems)
		}
	}
	samples, _ := filepath.Glob(filepath.Join("..", "www", "samples", "*.png"))
	if len(samples) != 10 {
		t.Fatalf("%d Fashion samples, want 10", len(samples))
	}
	for _, path := range samples {
		img := readImage(t, path)
		p, f := fit(t, ex, img)
		if f.Outside || len(f.Problems) > 0 || f.Coloured != 0 || !f.Grey || f.Shift >= xai.FitShift || f.ShiftLayer == "" {
			t.Errorf("%s: %+v; want nothing flagged", path, f)
		}
		x, _ := nn.ImageInput(img, ex.Model.Preprocess)
		q, _ := ex.Predict(x)
		if p.Class != q.Class || !slices.Equal(p.Probs, q.Probs) {
			t.Errorf("%s: PredictFit class %d, Predict %d", path, p.Class, q.Class)
		}
	}
}

// TestPredictFitMAVIS: the original MAVIS model says the astronaut photo,
// which it calls a tailed frog with p 0.9999, is far from its training
// images and that its confidence does not make it right; a grey picture
// (a Fashion sample) is outside too; Chelsea the cat, a colour photo
// whose features lie near the training statistics, is not flagged, and
// the limits say the checks cannot tell a cat from the model's classes.
func TestPredictFitMAVIS(t *testing.T) {
	ex := builtinModel(t, "mavis")
	dir := filepath.Join("..", "www", "samples")
	p, f := fit(t, ex, readImage(t, filepath.Join(dir, "mavis", "astronaut.jpg")))
	if !f.Outside || f.Shift < 2*xai.FitShift || len(f.Problems) != 2 || !strings.Contains(f.Problems[0], "training standard deviations") ||
		!strings.Contains(f.Problems[1], "confidence does not make the answer right") {
		t.Errorf("astronaut (%s %.4f): %+v; want far, and the confidence called out", ex.Model.Class(p.Class), p.Probs[p.Class], f)
	}
	_, f = fit(t, ex, readImage(t, filepath.Join(dir, "trouser.png")))
	if !f.Outside || !strings.Contains(f.Problems[0], "reads colour pictures and this one is grey") {
		t.Errorf("a grey Fashion sample: %+v; want outside, for being grey", f)
	}
	_, f = fit(t, ex, readImage(t, filepath.Join(dir, "mavis", "chelsea.jpg")))
	if f.Outside || f.Shift >= xai.FitShift || !strings.Contains(f.Limits, "cannot tell whether the picture shows one of the model's classes") {
		t.Errorf("chelsea: %+v; want not flagged, and the limits said", f)
	}
}

// TestFitShiftFashionMNIST: no image of the Fashion-MNIST test set (never
// trained on) reaches FitShift with the page's Fashion model: the
// threshold does not call the model's own domain far. It needs Debian's
// dataset-fashion-mnist (.ci/run installs it).
func TestFitShiftFashionMNIST(t *testing.T) {
	path := "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
	f, err := os.Open(path)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v: install dataset-fashion-mnist", err)
		}
		t.Skipf("%v: apt-get install dataset-fashion-mnist to run this test", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	const n, side = 10000, 28
	if len(b) != 16+n*side*side {
		t.Fatalf("%s: %d bytes, want %d", path, len(b), 16+n*side*side)
	}
	ex := builtinModel(t, "fashion")
	x := ex.Model.NewInput(1)
	var shifts []float64
	for i := range n {
		for j := range side * side {
			x.Data[j] = float32(b[16+i*side*side+j]) / 255
		}
		_, fit, err := ex.PredictFit(x, nil)
		if err != nil {
			t.Fatal(err)
		}
		if fit.Outside {
			t.Errorf("test image %d: %+v; want inside", i, fit)
		}
		shifts = append(shifts, fit.Shift)
	}
	slices.Sort(shifts)
	t.Logf("feature shift over the %d test images: median %.3f, 99th percentile %.3f, max %.3f", n, shifts[n/2], shifts[n*99/100], shifts[n-1])
}

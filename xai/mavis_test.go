package xai_test

// Loading the real MAVIS model and the shared reference fixtures for the
// parity tests. The fixtures and weights live outside the repository in
// ../shared (relative to the repository root); tests skip when it is
// absent and fail when CI=true.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/mavis-xai/mavis/internal/sharedtest"
	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/nn/npy"
	"github.com/mavis-xai/mavis/weightsconv/hdf5"
)

var mavisOnce struct {
	sync.Once
	spec nn.Spec
	vals map[string][]float32
	err  error
}

// loadMAVIS builds the MAVIS model with the real weights, read from the
// Keras 3 checkpoint: layers/<name>/vars/<i> map to the layer's parameters
// in Keras order (kernel, bias; gamma, beta, moving_mean, moving_variance).
func loadMAVIS(t testing.TB) *nn.Model {
	t.Helper()
	dir := sharedtest.Dir(t, sharedtest.Weights)
	mavisOnce.Do(func() {
		mavisOnce.vals, mavisOnce.err = readWeights(filepath.Join(dir, "mavis", "tiny_imagenet_model.checkpoint.weights.h5"))
	})
	if mavisOnce.err != nil {
		t.Fatal(mavisOnce.err)
	}
	m, err := nn.BuildBuiltin("mavis")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		v, ok := mavisOnce.vals[p.Name]
		if !ok || len(v) != len(p.Value) {
			t.Fatalf("weights: %s: %d values in the file, want %d", p.Name, len(v), len(p.Value))
		}
		copy(p.Value, v)
	}
	return m
}

func readWeights(path string) (map[string][]float32, error) {
	f, err := hdf5.OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := nn.BuildBuiltin("mavis")
	if err != nil {
		return nil, err
	}
	vals := map[string][]float32{}
	for _, l := range m.Layers {
		pl, ok := l.(nn.Parametric)
		if !ok {
			continue
		}
		for i, p := range pl.Params() {
			name := fmt.Sprintf("layers/%s/vars/%d", l.Name(), i)
			o, err := f.Lookup(name)
			if err != nil {
				return nil, err
			}
			d, ok := o.(*hdf5.Dataset)
			if !ok {
				return nil, fmt.Errorf("%s is not a dataset", name)
			}
			if !slices.Equal(d.Shape, p.Shape) {
				return nil, fmt.Errorf("%s: shape %v, want %v", name, d.Shape, p.Shape)
			}
			v, err := d.ReadFloat32()
			if err != nil {
				return nil, err
			}
			vals[p.Name] = v
		}
	}
	return vals, nil
}

// manifest is the part of fixtures/mavis/manifest.json the tests use.
type manifest struct {
	Tolerances struct {
		Rules []struct {
			Files  []string `json:"files"`
			Metric string   `json:"metric"`
			Limit  float64  `json:"limit"`
		} `json:"rules"`
	} `json:"tolerances"`
	Images map[string]struct {
		ClassIndex   int       `json:"class_index"`
		OneMinusPC   float64   `json:"one_minus_p_c"`
		Saturated    bool      `json:"probability_target_saturated"`
		Logits       []float64 `json:"logits"`
		Completeness map[string]struct {
			ScoreX        float64 `json:"score_x"`
			ScoreBaseline float64 `json:"score_baseline"`
			BySteps       map[string]struct {
				SumAttributions float64 `json:"sum_attributions"`
			} `json:"by_steps"`
		} `json:"completeness"`
	} `json:"images"`
}

func readManifest(t testing.TB) (*manifest, string) {
	dir := sharedtest.Fixtures(t)
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if len(m.Images) == 0 || len(m.Tolerances.Rules) == 0 {
		t.Fatal("manifest.json: no images or no tolerance rules")
	}
	return &m, dir
}

// readInput reads input.png as the model input x[h,w,c] = byte value.
func readInput(t testing.TB, path string) *nn.Tensor {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	x := nn.NewTensor(1, b.Dy(), b.Dx(), 3)
	for h := range b.Dy() {
		for w := range b.Dx() {
			r, g, bl, _ := img.At(b.Min.X+w, b.Min.Y+h).RGBA()
			o := x.Offset(0, h, w, 0)
			x.Data[o], x.Data[o+1], x.Data[o+2] = float32(r>>8), float32(g>>8), float32(bl>>8)
		}
	}
	_ = image.Point{}
	return x
}

// readNpy reads a fixture's .npy file through os and npy.Decode (npy.Read
// is native-only; the tests may use os under js/wasm too).
func readNpy(path string) ([]float32, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	_, v, err := npy.Decode(bytes.NewReader(data), int64(len(data)))
	return v, err
}

package xai_test

// The fixture comparison shared by the parity tests (wave 1 natively,
// wave 2 natively and as js/wasm): the README's metrics, limits from
// manifest.json and the probability-target scale factor.

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mavis-xai/mavis/internal/sharedtest"
)

// fixture compares outputs with one image's reference files.
type fixture struct {
	t     *testing.T
	man   *manifest
	dir   string
	scale float64 // the probability-target factor max(1, 1e-4/(1-p_c)), or 1
}

// limit returns the manifest's limit for the file kind and metric (0 when
// no rule applies), scaled unless it is probs'.
func (f *fixture) limit(kind, metric string) float64 {
	for _, r := range f.man.Tolerances.Rules {
		if r.Metric == metric && slices.Contains(r.Files, kind) {
			if kind == "probs" {
				return r.Limit
			}
			return r.Limit * f.scale
		}
	}
	return 0
}

// check compares got with <file>.npy under every rule for kind and returns
// the reference.
func (f *fixture) check(kind, file string, got []float32) []float32 {
	t := f.t
	t.Helper()
	ref, err := readNpy(filepath.Join(f.dir, file+".npy"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ref) != len(got) {
		t.Errorf("%s: %d values, fixture has %d", file, len(got), len(ref))
		return ref
	}
	n := 0
	for _, r := range f.man.Tolerances.Rules {
		if !slices.Contains(r.Files, kind) {
			continue
		}
		n++
		v := metric(r.Metric, got, ref)
		lim := f.limit(kind, r.Metric)
		if !(v <= lim) {
			t.Errorf("%s: %s = %.4g, limit %.4g", file, r.Metric, v, lim)
		} else if testing.Verbose() {
			t.Logf("%s: %s = %.3g (limit %.3g)", file, r.Metric, v, lim)
		}
	}
	if n == 0 {
		t.Errorf("%s: manifest.json has no tolerance rule for %q", file, kind)
	}
	return ref
}

// metric computes the fixture README's metrics.
func metric(name string, got, ref []float32) float64 {
	return sharedtest.Metric(name, f64(got), f64(ref))
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func f32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func l2(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

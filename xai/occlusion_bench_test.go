//go:build !js

package xai_test

import (
	"path/filepath"
	"testing"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

// The occlusion benchmarks with the real MAVIS weights and a fixture
// image (nn.Delta's savings depend on how far a window's change spreads,
// which depends on the weights): BenchmarkOcclusionMAVIS against its peer
// BenchmarkForward169MAVIS, 169 full forward passes.

func BenchmarkOcclusionMAVIS(b *testing.B) {
	ex, x := mavisBench(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ex.Occlusion(x, xai.OcclusionOptions{Target: xai.Predicted()}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkForward169MAVIS(b *testing.B) {
	ex, x := mavisBench(b)
	b.ReportAllocs()
	for b.Loop() {
		for range 169 {
			if _, err := ex.Predict(x); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func mavisBench(b *testing.B) (*xai.Explainer, *nn.Tensor) {
	m := loadMAVIS(b)
	_, dir := readManifest(b)
	return xai.New(m), readInput(b, filepath.Join(dir, "chelsea", "input.png"))
}

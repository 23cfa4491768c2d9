package xai

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/mavis-xai/mavis/nn"
)

// benchMAVIS returns the MAVIS model with seeded random weights, a
// seeded random 224x224 input and its four maps (Grad-CAM, Grad-CAM++,
// Saliency, IG with 50 steps) for the predicted class.
func benchMAVIS(b *testing.B) (*nn.Model, *nn.Tensor, int, []Map) {
	b.Helper()
	m, err := nn.BuildBuiltin("mavis")
	if err != nil {
		b.Fatal(err)
	}
	nn.Init(m, 1)
	x := m.NewInput(1)
	rng := rand.New(rand.NewPCG(2, 2))
	for i := range x.Data {
		x.Data[i] = float32(255 * rng.Float64())
	}
	ex := New(m)
	maps, c := fourMaps(b, ex, x)
	return m, x, c, maps
}

func fourMaps(b *testing.B, ex *Explainer, x *nn.Tensor) ([]Map, int) {
	t := Predicted()
	gc, err := ex.GradCAM(x, CAMOptions{Target: t})
	if err != nil {
		b.Fatal(err)
	}
	t.Class = gc.Class
	pp, err := ex.GradCAMPlusPlus(x, CAMOptions{Target: t})
	if err != nil {
		b.Fatal(err)
	}
	sal, err := ex.Saliency(x, t)
	if err != nil {
		b.Fatal(err)
	}
	ig, err := ex.IntegratedGradients(x, IGOptions{Target: t, Steps: 50})
	if err != nil {
		b.Fatal(err)
	}
	return []Map{gc.Raw, pp.Raw, sal.Map, ig.Map}, gc.Class
}

// BenchmarkMetricsMAVIS4: deletion + insertion (32 steps, 66 images) and
// the three confidence images for the four maps: 276 images of MAVIS at
// 224x224 per iteration, by default through incremental passes
// (nn.Delta). Patch8 uses the page's 8-pixel patches; Full runs every
// image through the whole model, DefaultEvalBatch per pass (the way
// before nn.Delta).
func BenchmarkMetricsMAVIS4(b *testing.B)       { benchmarkMetricsMAVIS4(b, 0, 0) }
func BenchmarkMetricsMAVIS4Patch8(b *testing.B) { benchmarkMetricsMAVIS4(b, 8, 0) }
func BenchmarkMetricsMAVIS4Full(b *testing.B)   { benchmarkMetricsMAVIS4(b, 0, DefaultEvalBatch) }

func benchmarkMetricsMAVIS4(b *testing.B, patch, batch int) {
	m, x, c, maps := benchMAVIS(b)
	ev := NewEvaluator(m)
	ev.Batch = batch
	var r MapMetrics
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, mp := range maps {
			if err := ev.EvaluateTo(ctx, &r, x, mp, MetricsOptions{Class: c, Patch: patch}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkMapsMAVIS4 is the four maps themselves, the yardstick for
// the metrics (issue 7: metrics <= 2x the maps).
func BenchmarkMapsMAVIS4(b *testing.B) {
	m, x, _, _ := benchMAVIS(b)
	ex := New(m)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		fourMaps(b, ex, x)
	}
}

package xai_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

// The incremental deletion and insertion passes (nn.Delta, the default)
// are held to full batched passes (Evaluator.Batch > 0): the same curves,
// bit for bit, since both compute every logit with the same kernels.

// deltaMaps returns Grad-CAM, Saliency, a short IG and a random map of x
// for the predicted class, and that class.
func deltaMaps(t testing.TB, m *nn.Model, x *nn.Tensor, seed uint64) ([]xai.Map, []string, int) {
	t.Helper()
	ex := xai.New(m)
	gc, err := ex.GradCAM(x, xai.CAMOptions{Target: xai.Predicted()})
	if err != nil {
		t.Fatal(err)
	}
	tg := xai.Target{Class: gc.Class}
	sal, err := ex.Saliency(x, tg)
	if err != nil {
		t.Fatal(err)
	}
	ig, err := ex.IntegratedGradients(x, xai.IGOptions{Target: tg, Steps: 4})
	if err != nil {
		t.Fatal(err)
	}
	in := m.InputShape()
	rnd := xai.Map{H: in[0], W: in[1], C: 1, Data: make([]float32, in[0]*in[1])}
	rng := rand.New(rand.NewPCG(seed, 3))
	for i := range rnd.Data {
		rnd.Data[i] = float32(rng.Float64())
	}
	return []xai.Map{gc.Raw, sal.Map, ig.Map, rnd}, []string{"gradcam", "saliency", "ig", "random"}, gc.Class
}

// sameCurves fails when two results differ in any score or probability.
func sameCurves(t *testing.T, name string, got, want xai.MapMetrics) {
	t.Helper()
	eq := func(a, b []float64) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
				return false
			}
		}
		return true
	}
	if !eq(got.Deletion.Score, want.Deletion.Score) || !eq(got.Insertion.Score, want.Insertion.Score) {
		t.Errorf("%s: deletion %v, insertion %v; want %v, %v", name, got.Deletion.Score, got.Insertion.Score, want.Deletion.Score, want.Insertion.Score)
	}
	if got.Class != want.Class || got.Prob != want.Prob || got.Faithfulness != want.Faithfulness {
		t.Errorf("%s: class %d prob %v faithfulness %v; want %d, %v, %v", name, got.Class, got.Prob, got.Faithfulness, want.Class, want.Prob, want.Faithfulness)
	}
	for i := range want.Confidence {
		if got.Confidence[i] != want.Confidence[i] {
			t.Errorf("%s: confidence %+v, want %+v", name, got.Confidence[i], want.Confidence[i])
		}
	}
}

// randomModel returns the built-in model name with weights seeded by seed
// and a random input of it (0..255, seeded too).
func randomModel(t *testing.T, name string, seed uint64) (*nn.Model, *nn.Tensor) {
	t.Helper()
	m, err := nn.BuildBuiltin(name)
	if err != nil {
		t.Fatal(err)
	}
	nn.Init(m, seed)
	x := m.NewInput(1)
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range x.Data {
		x.Data[i] = float32(255 * rng.Float64())
	}
	return m, x
}

// checkIncremental evaluates every map with several options both ways.
func checkIncremental(t *testing.T, m *nn.Model, x *nn.Tensor, opts []xai.MetricsOptions) {
	t.Helper()
	maps, names, class := deltaMaps(t, m, x, 1)
	inc, full := xai.NewEvaluator(m), xai.NewEvaluator(m)
	full.Batch = 5
	ctx := context.Background()
	for _, o := range opts {
		o.Class = class
		for i, mp := range maps {
			want, err := full.Evaluate(ctx, x, mp, o)
			if err != nil {
				t.Fatal(err)
			}
			got, err := inc.Evaluate(ctx, x, mp, o)
			if err != nil {
				t.Fatal(err)
			}
			sameCurves(t, names[i], got, want)
		}
	}
}

func TestDeletionIncremental(t *testing.T) {
	m, x := randomModel(t, "fashion", 11)
	checkIncremental(t, m, x, []xai.MetricsOptions{
		{},
		{Steps: 7, Patch: 3, Logit: true},
		{Steps: 16, Reference: xai.BlackReference},
		{Steps: 5, Patch: 2, Reference: xai.BlurReference, Keep: []float64{0.5, 0.2, 0.9}},
	})
}

func TestDeletionIncrementalMAVISRandom(t *testing.T) {
	if testing.Short() {
		t.Skip("MAVIS at 224x224 in -short")
	}
	m, x := randomModel(t, "mavis", 12)
	checkIncremental(t, m, x, []xai.MetricsOptions{{Steps: 4, Patch: 8}})
}

// TestDeletionIncrementalCancel: the incremental sweep reports progress
// per image and stops at the next image once ctx is done.
func TestDeletionIncrementalCancel(t *testing.T) {
	m, err := nn.BuildBuiltin("fashion")
	if err != nil {
		t.Fatal(err)
	}
	nn.Init(m, 13)
	x := m.NewInput(1)
	for i := range x.Data {
		x.Data[i] = float32(i % 255)
	}
	mp := xai.Map{H: 28, W: 28, C: 1, Data: x.Data}
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err = xai.NewEvaluator(m).Evaluate(ctx, x, mp, xai.MetricsOptions{Steps: 4, Progress: func(done, total int) {
		calls++
		if done != 1 || total != 13 {
			t.Errorf("progress %d/%d, want 1/13", done, total)
		}
		cancel()
	}})
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Errorf("canceled after %d images: %v", calls, err)
	}
}

// TestEvaluatorKeptReferences: an Evaluator keeps its deletion and
// insertion references for the next map of the same image, and makes them
// again for another image (one pixel apart), another blur or another
// reference: each result equals a fresh Evaluator's, bit for bit.
func TestEvaluatorKeptReferences(t *testing.T) {
	m, x := randomModel(t, "fashion", 13)
	y := &nn.Tensor{Shape: x.Shape, Data: append([]float32(nil), x.Data...)}
	y.Data[14*28+14] += 40
	maps, names, class := deltaMaps(t, m, x, 2)
	ev := xai.NewEvaluator(m)
	ctx := context.Background()
	for _, c := range []struct {
		what string
		x    *nn.Tensor
		o    xai.MetricsOptions
	}{
		{"first", x, xai.MetricsOptions{}},
		{"same image", x, xai.MetricsOptions{}},
		{"another image", y, xai.MetricsOptions{}},
		{"the first again", x, xai.MetricsOptions{}},
		{"another blur", x, xai.MetricsOptions{BlurSigma: 2}},
		{"blur reference", x, xai.MetricsOptions{BlurSigma: 2, Reference: xai.BlurReference}},
	} {
		for i, mp := range maps {
			c.o.Class, c.o.Steps = class, 6
			got, err := ev.Evaluate(ctx, c.x, mp, c.o)
			if err != nil {
				t.Fatal(err)
			}
			want, err := xai.NewEvaluator(m).Evaluate(ctx, c.x, mp, c.o)
			if err != nil {
				t.Fatal(err)
			}
			sameCurves(t, c.what+", "+names[i], got, want)
		}
	}
}

package xai

// Benchmarks: each explainer end to end on the MAVIS architecture at
// 224x224, batch 1, with seeded random weights (the cost does not depend
// on the values). Run natively and as js/wasm under node:
//
//	go test -run '^$' -bench . -benchtime 3x ./xai
//	PATH=$PATH:$(go env GOROOT)/lib/wasm GOOS=js GOARCH=wasm go test -run '^$' -bench . -benchtime 3x ./xai

import (
	"image"
	"math/rand/v2"
	"testing"

	"github.com/mavis-xai/mavis/internal/cputime"
	"github.com/mavis-xai/mavis/nn"
)

func benchSetup(b *testing.B) (*Explainer, *nn.Tensor) {
	b.Helper()
	m, err := nn.BuildBuiltin("mavis")
	if err != nil {
		b.Fatal(err)
	}
	nn.Init(m, 1)
	x := m.NewInput(1)
	rng := rand.New(rand.NewPCG(2, 3))
	for i := range x.Data {
		x.Data[i] = float32(rng.IntN(256))
	}
	return New(m), x
}

// reportCPU reports the CPU time per op since cpu0 (from cputime.Seconds) as
// "cpu-ms/op": on this shared machine the ratios between methods are
// steadier in CPU time than in ns/op.
func reportCPU(b *testing.B, cpu0 float64) {
	if cpu0 == 0 {
		return
	}
	if d := cputime.Seconds() - cpu0; d > 0 {
		b.ReportMetric(d*1e3/float64(b.N), "cpu-ms/op")
	}
}

func BenchmarkGradCAM(b *testing.B) {
	ex, x := benchSetup(b)
	b.ReportAllocs()
	cpu0 := cputime.Seconds()
	for b.Loop() {
		if _, err := ex.GradCAM(x, CAMOptions{Target: Predicted()}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0)
}

// BenchmarkGradCAMAfterPredict is Grad-CAM of the image just predicted, as
// the page runs it: from the prediction's forward pass (Predict keeps it;
// nn.Model.ForwardAgain). The other benchmarks never predict first: each of
// their calls runs its own forward pass.
func BenchmarkGradCAMAfterPredict(b *testing.B) {
	ex, x := benchSetup(b)
	if _, err := ex.Predict(x); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ex.GradCAM(x, CAMOptions{Target: Predicted()}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGradCAMPlusPlus(b *testing.B) {
	ex, x := benchSetup(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ex.GradCAMPlusPlus(x, CAMOptions{Target: Predicted()}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSaliency(b *testing.B) {
	ex, x := benchSetup(b)
	var s SaliencyMap
	b.ReportAllocs()
	for b.Loop() {
		if err := ex.SaliencyTo(&s, x, Predicted()); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkIG(b *testing.B, steps, batch int) {
	ex, x := benchSetup(b)
	ex.Batch = batch
	var a Attribution
	b.ReportAllocs()
	for b.Loop() {
		if err := ex.IntegratedGradientsTo(&a, x, IGOptions{Target: Predicted(), Steps: steps}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIG50(b *testing.B)        { benchmarkIG(b, 50, DefaultBatch) }
func BenchmarkIG50Batch5(b *testing.B)  { benchmarkIG(b, 50, 5) }
func BenchmarkIG50Batch10(b *testing.B) { benchmarkIG(b, 50, 10) }

func BenchmarkSmoothGrad25(b *testing.B) {
	ex, x := benchSetup(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ex.SmoothGrad(x, SmoothGradOptions{Target: Predicted(), Samples: 25, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOcclusion runs the fixtures' occlusion (169 windows of 32x32 at
// stride 16) through nn.Delta; BenchmarkForward169 is its peer, 169 full
// forward passes (the target: Occlusion within 0.3x of it).
func BenchmarkOcclusion(b *testing.B) {
	ex, x := benchSetup(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ex.Occlusion(x, OcclusionOptions{Target: Predicted()}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkForward169(b *testing.B) {
	ex, x := benchSetup(b)
	b.ReportAllocs()
	for b.Loop() {
		for range 169 {
			if _, err := ex.Predict(x); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkPredict is one forward pass to the logits: the unit of
// Score-CAM's and Ablation-CAM's cost (at most channels + 1 of them).
func BenchmarkPredict(b *testing.B) {
	ex, x := benchSetup(b)
	b.ReportAllocs()
	cpu0 := cputime.Seconds()
	for b.Loop() {
		if _, err := ex.Predict(x); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0)
}

// BenchmarkPredictFit is the page's predict: Predict and the input's fit
// (PredictFit: the source image's colour and the BatchNorm feature shift).
func BenchmarkPredictFit(b *testing.B) {
	ex, x := benchSetup(b)
	in := ex.Model.InputShape()
	src := image.NewNRGBA(image.Rect(0, 0, in[1], in[0]))
	for i := range src.Pix {
		src.Pix[i] = uint8(x.Data[i/4*in[2]%len(x.Data)])
	}
	b.ReportAllocs()
	cpu0 := cputime.Seconds()
	for b.Loop() {
		if _, _, err := ex.PredictFit(x, src); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0)
}

// benchmarkMethod runs a registered method through ExplainTo at the
// default layer (conv2d_7: 8 channels).
func benchmarkMethod(b *testing.B, name string) { benchmarkMethodOptions(b, name, nil) }

// benchmarkMethodOptions is benchmarkMethod with options.
func benchmarkMethodOptions(b *testing.B, name string, o Options) {
	ex, x := benchSetup(b)
	var r Result
	b.ReportAllocs()
	cpu0 := cputime.Seconds()
	for b.Loop() {
		if err := ex.ExplainTo(&r, x, Request{Method: name, Target: Predicted(), Options: o}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0)
}

func BenchmarkHiResCAM(b *testing.B)     { benchmarkMethod(b, "hirescam") }
func BenchmarkXGradCAM(b *testing.B)     { benchmarkMethod(b, "xgradcam") }
func BenchmarkLayerCAM(b *testing.B)     { benchmarkMethod(b, "layercam") }
func BenchmarkEigenCAM(b *testing.B)     { benchmarkMethod(b, "eigencam") }
func BenchmarkEigenGradCAM(b *testing.B) { benchmarkMethod(b, "eigengradcam") }
func BenchmarkScoreCAM(b *testing.B)     { benchmarkMethod(b, "scorecam") }
func BenchmarkRISE100(b *testing.B)      { benchmarkMethodOptions(b, "rise", Options{"masks": 100}) }
func BenchmarkAblationCAM(b *testing.B)  { benchmarkMethod(b, "ablationcam") }

func BenchmarkGuidedBackprop(b *testing.B) { benchmarkMethod(b, "guidedbackprop") }
func BenchmarkDeconvnet(b *testing.B)      { benchmarkMethod(b, "deconvnet") }
func BenchmarkGuidedGradCAM(b *testing.B)  { benchmarkMethod(b, "guidedgradcam") }
func BenchmarkDeepLIFT(b *testing.B)       { benchmarkMethod(b, "deeplift") }

func BenchmarkLRP(b *testing.B) { benchmarkMethod(b, "lrp") } // z+

func BenchmarkLRPEpsilon(b *testing.B) {
	benchmarkMethodOptions(b, "lrp", Options{"rule": "epsilon"})
}

func BenchmarkLRPAlphaBeta(b *testing.B) {
	benchmarkMethodOptions(b, "lrp", Options{"rule": "alpha-beta"})
}

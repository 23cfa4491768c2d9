package main

// Benchmarks of the worker's calls on MAVIS (www/models/mavis.safetensors)
// and a 224x224 image, the Go side of the page's predict and explain: run
// them under node, with the SIMD128 kernels, as the page runs them:
//
//	GOEXPERIMENT=simd GOOS=js GOARCH=wasm go test -exec "$PWD/wasm/simd/exec/go_js_wasm_exec" ./wasm/worker -run '^$' -bench . -benchtime 20x

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// benchSession loads MAVIS and predicts a seeded 224x224 photo-like image
// (a smooth colour gradient with noise); it returns the session and the
// image's pixels.
func benchSession(b *testing.B) (*session, []byte) {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "www", "models", "mavis.safetensors"))
	if err != nil {
		b.Fatal(err)
	}
	s := &session{}
	if _, err := s.load(data); err != nil {
		b.Fatal(err)
	}
	const w, h = 224, 224
	pix := make([]byte, 4*w*h)
	rng := rand.New(rand.NewPCG(4, 5))
	for y := range h {
		for x := range w {
			o := 4 * (y*w + x)
			pix[o], pix[o+1], pix[o+2], pix[o+3] = byte(x+rng.IntN(32)), byte(y+rng.IntN(32)), byte((x+y)/2), 255
		}
	}
	if _, err := s.predict(pix, w, h); err != nil {
		b.Fatal(err)
	}
	return s, pix
}

// BenchmarkSessionPredict is the page's predict after decoding: the input,
// its view, the forward pass and the input-fit check.
func BenchmarkSessionPredict(b *testing.B) {
	s, pix := benchSession(b)
	for b.Loop() {
		if _, err := s.predict(pix, 224, 224); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkSessionExplain(b *testing.B, method string) {
	s, _ := benchSession(b)
	o := opts(method)
	for b.Loop() {
		if _, err := s.explain(o, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSessionGradCAM and BenchmarkSessionSaliency explain the image
// just predicted, from the prediction's forward pass, map display and
// scales included, as the page's explain calls.
func BenchmarkSessionGradCAM(b *testing.B)  { benchmarkSessionExplain(b, "gradcam") }
func BenchmarkSessionSaliency(b *testing.B) { benchmarkSessionExplain(b, "saliency") }

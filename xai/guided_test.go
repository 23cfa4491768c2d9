package xai

// Guided backpropagation, the deconvnet and Guided Grad-CAM on a network
// worked by hand. The MAVIS fixtures (fixture_wave2_test.go) hold them to
// the float64 reference.

import (
	"math"
	"testing"

	"github.com/mavis-xai/mavis/nn"
)

// poolNet: a 1x1 convolution with weight 1 and a ReLU (A = relu(x)), a
// 2x2 max-pool and a dense layer, class 0's weights (1, −1, 2, 0.5) on the
// four pooled values (top left, top right, bottom left, bottom right).
//
//	x =  1  2  0  3     relu(x) pooled:  4 (at row 1, col 0)   3 (row 0, col 3)
//	     4  0  1  1                      0 (row 2, col 0: an    6 (row 3, col 3)
//	    −1 −3  5  2                        all-zero window's
//	    −2 −4  0  6                        first element)
//
// z_0 = 4 − 3 + 0 + 3 = 4, z_1 = 0: class 0 is predicted.
func poolNet(t testing.TB) (*nn.Model, *nn.Tensor) {
	m := tinyModel(t, [3]int{4, 4, 1}, []nn.LayerSpec{
		{Class: "Conv2D", Name: "conv", Config: nn.LayerConfig{Filters: 1, KernelSize: []int{1, 1}, Activation: "relu"}},
		{Class: "MaxPooling2D", Name: "pool"},
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 2, Activation: "softmax"}},
	}, map[string][]float32{
		"conv/kernel":  {1},
		"dense/kernel": {1, 0, -1, 0, 2, 0, 0.5, 0},
	})
	return m, input(4, 4, 1,
		1, 2, 0, 3,
		4, 0, 1, 1,
		-1, -3, 5, 2,
		-2, -4, 0, 6)
}

// The gradient reaching the pool's winners is class 0's weights,
// (1, −1, 2, 0.5); each rule decides what passes the convolution's ReLU
// (the 1x1 kernel of weight 1 then copies it to the pixel):
//
//	gradient: 1 at (1,0), −1 at (0,3), 0 at (2,0) (u = −1 ≤ 0), 0.5 at (3,3)
//	guided:   1, 0 (negative), 0 (inactive), 0.5
//	deconv:   1, 0 (negative), 2 (positive: the forward pass does not mask), 0.5
//
// Grad-CAM at the pool (2x2): w = mean(1, −1, 2, 0.5) = 0.625, raw =
// 0.625·(4, 3, 0, 6) = (2.5, 1.875, 0, 3.75); Guided Grad-CAM multiplies
// each pixel by its 2x2 block's raw value: 1·2.5 at (1,0), 0.5·3.75 at
// (3,3).
func TestGuidedHandWorked(t *testing.T) {
	m, x := poolNet(t)
	ex := New(m)
	for _, tt := range []struct {
		method string
		want   []float32
	}{
		{"guidedbackprop", []float32{
			0, 0, 0, 0,
			1, 0, 0, 0,
			0, 0, 0, 0,
			0, 0, 0, 0.5,
		}},
		{"deconvnet", []float32{
			0, 0, 0, 0,
			1, 0, 0, 0,
			2, 0, 0, 0,
			0, 0, 0, 0.5,
		}},
		{"guidedgradcam", []float32{
			0, 0, 0, 0,
			2.5, 0, 0, 0,
			0, 0, 0, 0,
			0, 0, 0, 1.875,
		}},
	} {
		r, err := ex.Explain(x, Request{Method: tt.method, Target: Predicted(), Layer: "pool"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Class != 0 || r.Score != 4 || r.Map.H != 4 || r.Map.W != 4 || r.Map.C != 1 {
			t.Fatalf("%s: class %d score %g map %v, want class 0, score 4, 4x4x1", tt.method, r.Class, r.Score, r.Map)
		}
		near(t, tt.method, r.Map.Data, tt.want, 1e-6)
		near(t, tt.method+" display", r.Display.Data, tt.want, 1e-6) // |v|, one channel
		if tt.method == "guidedgradcam" {
			if r.Layer != "pool" || len(r.Extras) != 1 {
				t.Fatalf("guidedgradcam: layer %q extras %v", r.Layer, r.Extras)
			}
			near(t, "guidedgradcam's gradcam", r.Extras[0].Data, []float32{2.5, 1.875, 0, 3.75}, 1e-6)
		}
	}
	// The model is back on the ordinary gradient: Saliency's signed
	// gradient has the −1 the guided rules dropped.
	s, err := ex.Saliency(x, Predicted())
	if err != nil {
		t.Fatal(err)
	}
	near(t, "saliency after guided", s.Grad.Data, []float32{
		0, 0, 0, -1,
		1, 0, 0, 0,
		0, 0, 0, 0,
		0, 0, 0, 0.5,
	}, 1e-6)
}

// TestGuidedGradCAMBlocks: the nearest upsampling maps a h' x w' map onto
// an H x W input by ⌊h·h'/H⌋, also when the sizes do not divide: a 3x3
// pool output of a 7x7 input sends rows 0-2 to cell 0, 3-4 to 1, 5-6 to 2,
// which are not the pool's own windows (rows 0-1, 2-3, 4-5).
func TestGuidedGradCAMBlocks(t *testing.T) {
	m := tinyModel(t, [3]int{7, 7, 1}, []nn.LayerSpec{
		{Class: "Conv2D", Name: "conv", Config: nn.LayerConfig{Filters: 1, KernelSize: []int{1, 1}, Activation: "relu"}},
		{Class: "MaxPooling2D", Name: "pool"},
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 1}},
	}, map[string][]float32{"conv/kernel": {1}, "dense/kernel": {1, 1, 1, 1, 1, 1, 1, 1, 1}})
	// x = 49 − (7h + w), decreasing: each window's maximum is its top-left
	// pixel (2i, 2j), and only those nine pixels get a guided gradient, 1.
	x := nn.NewTensor(1, 7, 7, 1)
	for i := range x.Data {
		x.Data[i] = float32(49 - i)
	}
	winner := func(h, w int) bool { return h%2 == 0 && w%2 == 0 && h < 6 && w < 6 }
	for _, tt := range []struct {
		layer string
		want  func(h, w int) float32
	}{
		// At conv (7x7, the input's size): the gradient is 1 at the nine
		// winners, so w = 9/49 and raw = (9/49)·x, each pixel its own cell.
		{"conv", func(h, w int) float32 { return float32(9) / 49 * float32(49-7*h-w) }},
		// At the pool (3x3): w = mean of nine ones = 1, raw = the pooled
		// values 49 − 14i − 2j; pixel (h, w) takes cell (⌊3h/7⌋, ⌊3w/7⌋),
		// so the winner (2, 4) reads cell (0, 1) = 47, not its own window.
		{"pool", func(h, w int) float32 {
			i, j := 3*h/7, 3*w/7
			return float32(49 - 14*i - 2*j)
		}},
	} {
		r, err := New(m).Explain(x, Request{Method: "guidedgradcam", Target: Predicted(), Layer: tt.layer})
		if err != nil {
			t.Fatal(err)
		}
		for h := range 7 {
			for w := range 7 {
				want := float32(0)
				if winner(h, w) {
					want = tt.want(h, w)
				}
				if got := r.Map.Data[h*7+w]; math.Abs(float64(got-want)) > 1e-5 {
					t.Errorf("layer %s: (%d,%d) = %g, want %g", tt.layer, h, w, got, want)
				}
			}
		}
	}
	if r, _ := New(m).Explain(x, Request{Method: "guidedgradcam", Target: Predicted()}); r.Layer != "conv" {
		t.Errorf("default layer %q, want the last Conv2D", r.Layer)
	}
}

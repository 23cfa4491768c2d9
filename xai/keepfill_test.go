package xai

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/nn"
)

// TestKeepFill: the confidence scores' fill, worked by hand on the
// quadrant model (z_0 = Σ of the top-left 4x4 pixels' channel sums / 255,
// z_1 = 30) with a uniform image of value 200: z_0 = 16·600/255 ≈ 37.65,
// p_0 = σ(z_0 − 30). Keeping nothing on black gives z_0 = 0, p_0 =
// σ(−30), a drop of almost 100%; on the blurred image, which for a
// uniform image is the image itself, p_0 stays σ(7.65) and nothing drops.
func TestKeepFill(t *testing.T) {
	m := quadrantModel(t)
	x := nn.NewTensor(1, 8, 8, 3)
	for i := range x.Data {
		x.Data[i] = 200
	}
	mp := NewMap(8, 8, 1)
	for i := range mp.Data {
		mp.Data[i] = float32(i)
	}
	sig := func(z float64) float64 { return 1 / (1 + math.Exp(-z)) }
	p := sig(16*600.0/255 - 30)
	for _, tt := range []struct {
		fill     Reference
		nothing  float64 // p_0 keeping nothing
		dropNone float64
	}{
		{RISE, sig(-30), (p - sig(-30)) / p},
		{BlackReference, sig(-30), (p - sig(-30)) / p},
		{BlurReference, p, 0},
	} {
		r, err := NewEvaluator(m).Evaluate(context.Background(), x, mp, MetricsOptions{Class: 0, Steps: 2, Keep: []float64{0, 1}, KeepFill: tt.fill})
		if err != nil {
			t.Fatal(err)
		}
		c := r.Confidence
		if math.Abs(c[0].Prob-tt.nothing) > 1e-6 || math.Abs(c[0].Drop-tt.dropNone) > 1e-6 || math.Abs(c[1].Prob-p) > 1e-6 || c[1].Drop != 0 {
			t.Errorf("fill %v: kept 0%%: p %v drop %v, want %v %v; kept 100%%: p %v drop %v, want %v 0",
				tt.fill, c[0].Prob, c[0].Drop, tt.nothing, tt.dropNone, c[1].Prob, c[1].Drop, p)
		}
	}
	if _, err := NewEvaluator(m).Evaluate(context.Background(), x, mp, MetricsOptions{Class: 0, KeepFill: Reference(9)}); err == nil || !strings.Contains(err.Error(), "unknown fill 9") {
		t.Errorf("unknown fill: %v", err)
	}
}

// TestBaselineTo: black is zeros; blurring a uniform image leaves it as
// it is; a destination of another shape is an error, not a panic.
func TestBaselineTo(t *testing.T) {
	p := nn.DefaultPreprocess([3]int{6, 5, 2})
	x := nn.NewTensor(1, 6, 5, 2)
	for i := range x.Data {
		x.Data[i] = 37
	}
	dst := nn.NewTensor(1, 6, 5, 2)
	if err := BaselineTo(dst, x, Baseline{Kind: Blur, Sigma: 2}, p); err != nil {
		t.Fatal(err)
	}
	for i, v := range dst.Data {
		if math.Abs(float64(v)-37) > 1e-4 {
			t.Fatalf("blurred uniform image: value %d is %v, want 37", i, v)
		}
	}
	if err := BaselineTo(dst, x, Baseline{Kind: Black}, p); err != nil {
		t.Fatal(err)
	}
	for i, v := range dst.Data {
		if v != 0 {
			t.Fatalf("black: value %d is %v", i, v)
		}
	}
	if err := BaselineTo(nn.NewTensor(1, 5, 6, 2), x, Baseline{Kind: Black}, p); err == nil || !strings.Contains(err.Error(), "same shape") {
		t.Errorf("shape mismatch: %v", err)
	}
}

package xai_test

// LRP on the real MAVIS model: relevance conservation layer by layer for
// the z+ and alpha-beta rules, on every fixture image and both targets;
// and LRP-0 (epsilon 0) against Gradient × Input, which it equals on a
// ReLU network.
//
// z+ drops the relevance of a unit without a positive contribution, and
// alpha-beta that of a unit without contributions of both signs. Past the
// first layer every MAVIS unit has both (its inputs come through batch
// normalisations), so relevance is conserved exactly, up to float32
// rounding. In the first layer a unit whose 3x3x3 window of pixels is all
// black (zero) has no contribution at all, and its relevance (from the
// bias alone) is dropped: astronaut has such windows. So the first layer
// must conserve relevance on an image without them, and on an image with
// them once its pixels are raised to at least 1.

import (
	"maps"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

func TestLRPConservationMAVIS(t *testing.T) {
	man, dir := readManifest(t)
	ex := xai.New(loadMAVIS(t))
	names := slices.Sorted(maps.Keys(man.Images))
	const tol = 1e-4
	worst := 0.0
	for _, name := range names {
		x := readInput(t, filepath.Join(dir, name, "input.png"))
		for _, kind := range []xai.Score{xai.Logit, xai.Probability} {
			if testing.Short() && kind != xai.Logit {
				continue
			}
			tg := xai.Target{Class: -1, Kind: kind}
			black := blackWindows(x)
			for _, o := range []xai.Options{{"rule": "z+"}, {"rule": "alpha-beta", "alpha": 2.0}} {
				for _, lifted := range []bool{false, true} {
					if lifted && black == 0 {
						continue // nothing dropped to begin with
					}
					in := x
					if lifted {
						in = liftBlack(x)
					}
					r, err := ex.Explain(in, xai.Request{Method: "lrp", Target: tg, Options: o})
					if err != nil {
						t.Fatal(err)
					}
					c := r.Check
					if c.Want != r.Score {
						t.Fatalf("%s %s %v: relevance put in %g for score %g", name, kind, o["rule"], c.Want, r.Score)
					}
					// The worst layer, and the first layer's share apart.
					lw, first := 0.0, math.Abs(c.Layers[0].Sum-c.Layers[1].Sum)/math.Abs(c.Want)
					for _, l := range c.Layers[1:] {
						lw = max(lw, math.Abs(l.Sum-c.Want)/math.Abs(c.Want))
					}
					if lifted || black == 0 {
						lw = max(lw, first)
					}
					worst = max(worst, lw)
					t.Logf("%s %s %s (black windows %d, lifted %v): Σ R(input) %.8g, R(logit) %.8g, worst layer %.2e, first layer drops %.2e",
						name, kind, o["rule"], black, lifted, c.Sum, c.Want, lw, first)
					if !(lw <= tol) {
						for _, l := range c.Layers {
							t.Logf("    %-24s %.8g", l.Layer, l.Sum)
						}
						t.Errorf("%s %s %s (lifted %v): relevance not conserved: a layer's sum is %.2e off the logit's %.8g", name, kind, o["rule"], lifted, lw, c.Want)
					}
				}
			}
			if kind != xai.Logit {
				continue
			}
			lrp0, err := ex.Explain(x, xai.Request{Method: "lrp", Target: tg, Options: xai.Options{"rule": "epsilon", "epsilon": 0.0}})
			if err != nil {
				t.Fatal(err)
			}
			ixg, err := ex.Explain(x, xai.Request{Method: "inputxgrad", Target: tg})
			if err != nil {
				t.Fatal(err)
			}
			d := metric("rel_l2", lrp0.Map.Data, ixg.Map.Data)
			t.Logf("%s: LRP-0 vs Gradient × Input: rel_l2 %.2e (Σ %.6g and %.6g)", name, d, lrp0.Check.Sum, sum64(ixg.Map.Data))
			if !(d <= 1e-3) {
				t.Errorf("%s: LRP-0 differs from Gradient × Input: rel_l2 %.3g", name, d)
			}
		}
	}
	t.Logf("worst layer sum off the logit's relevance (where the rule drops nothing): %.2e (limit %g)", worst, tol)
}

// blackWindows counts the positions of the first convolution (3x3,
// 'same') whose window holds no non-zero pixel value.
func blackWindows(x *nn.Tensor) int {
	H, W, C := x.Shape[1], x.Shape[2], x.Shape[3]
	n := 0
	for h := range H {
		for w := range W {
			zero := true
			for dh := -1; dh <= 1 && zero; dh++ {
				for dw := -1; dw <= 1 && zero; dw++ {
					if h+dh < 0 || h+dh >= H || w+dw < 0 || w+dw >= W {
						continue
					}
					for c := range C {
						zero = zero && x.Data[x.Offset(0, h+dh, w+dw, c)] == 0
					}
				}
			}
			if zero {
				n++
			}
		}
	}
	return n
}

// liftBlack returns x with every value below 1 raised to 1.
func liftBlack(x *nn.Tensor) *nn.Tensor {
	y := nn.NewTensor(x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3])
	for i, v := range x.Data {
		y.Data[i] = max(v, 1)
	}
	return y
}

func sum64(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x)
	}
	return s
}

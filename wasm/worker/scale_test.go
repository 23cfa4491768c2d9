package main

import (
	"bytes"
	"image"
	"image/color"
	"math"
	"slices"
	"testing"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

// hotWeights are the class-0 weights of hotModel, one per input pixel: small
// varied values, 1e-4 to 8e-4 with alternating signs, and one pixel (hot)
// of 5, 10^4 times the rest. On a linear model, Saliency is |w| (the
// gradient of the logit is w), so its map is these values' magnitudes: a map
// with one hot pixel.
func hotWeights(n, hot int) []float32 {
	w := make([]float32, n)
	for i := range w {
		w[i] = 1e-4 * float32(1+(i*7)%8) * float32(1-2*(i%2))
	}
	w[hot] = 5
	return w
}

// hotModel returns a linear model of a side x side grey image: a 1x1
// convolution with weight 1 (a layer for the CAM methods), then a Dense
// layer whose class-0 weights are w and class-1 weights zero, with biases 1
// and 0.
func hotModel(t testing.TB, side int, w []float32) *nn.Model {
	t.Helper()
	m, err := nn.Build(nn.Spec{Name: "hot", Input: [3]int{side, side, 1}, Layers: []nn.LayerSpec{
		{Class: "Conv2D", Name: "conv", Config: nn.LayerConfig{Filters: 1, KernelSize: []int{1, 1}}},
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 2}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		clear(p.Value)
		switch p.Name {
		case "conv/kernel":
			p.Value[0] = 1
		case "dense/kernel": // (side*side) x 2, row-major
			for i, v := range w {
				p.Value[2*i] = v
			}
		case "dense/bias":
			p.Value[0] = 1
		}
	}
	m.Classes = []nn.Class{{ID: "hot", Name: "hot"}, {ID: "cold", Name: "cold"}}
	m.Preprocess.Scale = "0..1"
	return m
}

// nearestRank is the p-th percentile of v by nearest rank (the rank
// round(p/100·(n−1)) of the sorted values), as Smilkov et al.'s
// percentile clipping and numpy's percentile(..., method="nearest") take it.
func nearestRank(v []float32, p float64) float32 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[int(math.Round(p/100*float64(len(s)-1)))]
}

// TestExplainScales: the worker sends each map's colour scale under every
// rule a person can choose, so that the page shows the map with one hot
// pixel as structure: under the default rule (the 99th percentile for
// gradient and signed maps) the top of the scale is the 99th percentile of
// the values and nearly every pixel reaches a tenth of it; under max the
// top is the hot pixel and nearly none does.
func TestExplainScales(t *testing.T) {
	const side = 16
	w := hotWeights(side*side, 8*side+5)
	var b bytes.Buffer
	if err := nn.Encode(&b, hotModel(t, side, w)); err != nil {
		t.Fatal(err)
	}
	var s session
	info, err := s.load(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(info.ScaleRules, []xai.ScaleRule{"max", "p99.5", "p99", "p98"}) {
		t.Errorf("scale rules %v", info.ScaleRules)
	}
	img := image.NewNRGBA(image.Rect(0, 0, side, side))
	for i := range side * side {
		img.SetNRGBA(i%side, i/side, color.NRGBA{128, 128, 128, 255})
	}
	p, err := s.predict(img.Pix, side, side)
	if err != nil || p.Class != 0 {
		t.Fatalf("predict: class %d, %v; want class 0 (logit 1 + Σ w·x)", p.Class, err)
	}
	for _, tt := range []struct {
		method  string
		display xai.Display
	}{{"saliency", xai.DisplayPercentile}, {"ig", xai.DisplaySigned}} {
		e, err := s.explain(opts(tt.method), func(int, int) {})
		if err != nil {
			t.Fatal(err)
		}
		if tt.method == "saliency" {
			for i, v := range e.Map {
				if want := float32(math.Abs(float64(w[i]))); v != want {
					t.Fatalf("saliency[%d] = %g, want |w| = %g (a linear model)", i, v, want)
				}
			}
		}
		if e.Display != tt.display || len(e.Scales) != len(xai.ScaleRules) {
			t.Fatalf("%s: display %q with %d scales, want %q and %d", tt.method, e.Display, len(e.Scales), tt.display, len(xai.ScaleRules))
		}
		abs := make([]float32, len(e.Map))
		for i, v := range e.Map {
			abs[i] = float32(math.Abs(float64(v)))
		}
		for i, sc := range e.Scales {
			r := xai.ScaleRules[i]
			top := nearestRank(abs, r.Percentile())
			want := DisplayScale{Rule: r, Lo: 0, Hi: top, Above: r != xai.ScaleMax}
			if tt.display == xai.DisplaySigned {
				want.Lo, want.Below = -top, r != xai.ScaleMax && slices.Min(e.Map) < -top
			}
			if sc != want {
				t.Errorf("%s, %s: scale %+v, want %+v", tt.method, r, sc, want)
			}
			// How many pixels reach a tenth of the scale's top (in
			// magnitude): the structure a person sees.
			lit := 0
			for _, v := range abs {
				if v >= sc.Hi/10 {
					lit++
				}
			}
			f := float64(lit) / float64(len(abs))
			if r == xai.ScaleMax && f > 0.01 || r != xai.ScaleMax && f < 0.9 {
				t.Errorf("%s, %s: %.1f%% of the pixels reach a tenth of the scale", tt.method, r, 100*f)
			}
		}
	}
}

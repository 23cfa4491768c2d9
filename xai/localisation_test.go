package xai

import (
	"math"
	"slices"
	"testing"
)

// TestGiniEntropyKnownAnswers: Hurley and Rickard's Gini index is 1 − 1/n
// for a one-hot vector and 0 for a uniform one; the entropy of the
// normalised |v| is 0 and ln n.
func TestGiniEntropyKnownAnswers(t *testing.T) {
	for _, n := range []int{1, 2, 7, 49, 50176} {
		one, uni := make([]float32, n), make([]float32, n)
		one[n/2] = -3 // the sign does not matter: |v|
		for i := range uni {
			uni[i] = 0.25
		}
		for _, tt := range []struct {
			name      string
			got, want float64
		}{
			{"gini one-hot", Gini(one), 1 - 1/float64(n)},
			{"gini uniform", Gini(uni), 0},
			{"entropy one-hot", Entropy(one), 0},
			{"entropy uniform", Entropy(uni), math.Log(float64(n))},
		} {
			if math.Abs(tt.got-tt.want) > 1e-9*max(1, math.Abs(tt.want)) {
				t.Errorf("n=%d %s: got %v, want %v", n, tt.name, tt.got, tt.want)
			}
		}
	}
	// Hand-worked: |v| = (0, 1, 1, 2), ‖v‖₁ = 4, n = 4:
	// G = 1 − 2 [0·3.5 + ¼·2.5 + ¼·1.5 + ½·0.5]/4 = 1 − 2(1.25)/4 = 0.375
	// H = −(2·¼ ln ¼ + ½ ln ½) = 1.5 ln 2
	v := []float32{2, 0, -1, 1}
	if g := Gini(v); math.Abs(g-0.375) > 1e-12 {
		t.Errorf("Gini(%v) = %v, want 0.375", v, g)
	}
	if h := Entropy(v); math.Abs(h-1.5*math.Ln2) > 1e-12 {
		t.Errorf("Entropy(%v) = %v, want %v", v, h, 1.5*math.Ln2)
	}
	if g, h := Gini(make([]float32, 5)), Entropy(make([]float32, 5)); g != 0 || h != 0 {
		t.Errorf("zero map: Gini %v Entropy %v, want 0 0", g, h)
	}
	// NaNs count as 0, −0 as +0, an infinity makes the map uniform (0),
	// and the sum runs over |v| sorted as float64 values, ties in any
	// order: the definition, written out here.
	nan, inf, negz := float32(math.NaN()), float32(math.Inf(1)), float32(math.Copysign(0, -1))
	w := []float32{0.5, nan, -0.5, negz, 3, 1e-40, -2, 0.5, nan, 7}
	c := make([]float64, len(w))
	var sum float64
	for i, x := range w {
		if x == x {
			c[i] = math.Abs(float64(x))
		}
		sum += c[i]
	}
	slices.Sort(c)
	var g float64
	for k, a := range c {
		g += a / sum * (float64(len(c)-k) - 0.5)
	}
	if got, want := Gini(w), 1-2*g/float64(len(c)); math.Float64bits(got) != math.Float64bits(want) {
		t.Errorf("Gini(%v) = %v, want %v", w, got, want)
	}
	if g := Gini([]float32{1, inf, 2}); g != 0 {
		t.Errorf("Gini with +Inf = %v, want 0", g)
	}
}

// TestLocalisationKnownAnswers: a map entirely inside the box scores 1 on
// both, entirely outside 0 on both.
func TestLocalisationKnownAnswers(t *testing.T) {
	box := Box{X0: 2, Y0: 1, X1: 5, Y1: 4} // columns 2..4, rows 1..3 of 8x6
	inside := evMap(6, 8, []float32{
		0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 1, 2, 1, 0, 0, 0,
		0, 0, 2, 5, 2, 0, 0, 0,
		0, 0, 1, 2, 1, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0,
	})
	outside := evMap(6, 8, []float32{
		3, 1, 0, 0, 0, 0, 0, 0,
		1, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 2, 1,
		0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, -9, 0, 0, 0, 0, 0, // negative relevance does not count
	})
	half := evMap(6, 8, []float32{
		0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 3, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 3,
	})
	for _, tt := range []struct {
		name string
		m    Map
		tol  int
		hit  bool
		mass float64
	}{
		{"inside", inside, 0, true, 1},
		{"outside", outside, 0, false, 0},
		{"outside, max 2 px away, tolerance 2", outside, 2, true, 0},
		{"half (first maximum inside)", half, 0, true, 0.5},
	} {
		hit, err := PointingGame(tt.m, 6, 8, box, tt.tol)
		if err != nil {
			t.Fatal(err)
		}
		mass, err := RelevanceMass(tt.m, 6, 8, box)
		if err != nil {
			t.Fatal(err)
		}
		if hit != tt.hit || math.Abs(mass-tt.mass) > 1e-12 {
			t.Errorf("%s: pointing %v mass %v, want %v %v", tt.name, hit, mass, tt.hit, tt.mass)
		}
	}
	// The same through Evaluate, with a 3-channel map summed over channels.
	m := evLinear(t, 6, 8, make([]float32, 48), 0)
	ev := NewEvaluator(m)
	x := evTensor(6, 8, 1, make([]float32, 48))
	in3 := NewMap(6, 8, 3)
	for p, v := range inside.Data {
		in3.Data[3*p], in3.Data[3*p+1], in3.Data[3*p+2] = v, -v, v // sums to v
	}
	r, err := ev.Evaluate(t.Context(), x, in3, MetricsOptions{Class: 0, Steps: 2, Box: &box})
	if err != nil {
		t.Fatal(err)
	}
	if r.Pointing == nil || !*r.Pointing || r.Mass == nil || *r.Mass != 1 {
		t.Errorf("Evaluate with a box: pointing %v mass %v, want true 1", r.Pointing, r.Mass)
	}
	for _, b := range []Box{{0, 0, 9, 1}, {3, 3, 3, 4}, {-1, 0, 1, 1}} {
		if _, err := PointingGame(inside, 6, 8, b, 0); err == nil {
			t.Errorf("box %v accepted on 8x6", b)
		}
	}
}

func TestScaleBox(t *testing.T) {
	for _, tt := range []struct {
		x0, y0, x1, y1, iw, ih, w, h int
		want                         Box
	}{
		{0, 0, 63, 63, 64, 64, 224, 224, Box{0, 0, 224, 224}},
		{10, 20, 29, 39, 64, 64, 224, 224, Box{35, 70, 105, 140}},
		{5, 5, 5, 5, 64, 64, 32, 32, Box{2, 2, 3, 3}},
	} {
		got, err := ScaleBox(tt.x0, tt.y0, tt.x1, tt.y1, tt.iw, tt.ih, tt.w, tt.h)
		if err != nil || got != tt.want {
			t.Errorf("ScaleBox(%d,%d,%d,%d on %dx%d to %dx%d) = %v, %v, want %v", tt.x0, tt.y0, tt.x1, tt.y1, tt.iw, tt.ih, tt.w, tt.h, got, err, tt.want)
		}
	}
	if _, err := ScaleBox(0, 0, 64, 10, 64, 64, 224, 224); err == nil {
		t.Error("box past the image accepted")
	}
}

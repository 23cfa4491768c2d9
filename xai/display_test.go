package xai

import (
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestParseScaleRule(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want ScaleRule
		err  bool
	}{
		{"", ScaleDefault, false}, {"default", ScaleDefault, false}, {"max", ScaleMax, false}, {"MAX", ScaleMax, false},
		{"p99.5", ScaleP995, false}, {"99.5", ScaleP995, false}, {"99.5%", ScaleP995, false},
		{"p99", ScaleP99, false}, {"99", ScaleP99, false}, {"98", ScaleP98, false}, {"p98", ScaleP98, false},
		{"97", "", true}, {"percentile", "", true}, {"p", "", true},
	} {
		got, err := ParseScaleRule(tt.in)
		if (err != nil) != tt.err || !tt.err && got != tt.want {
			t.Errorf("ParseScaleRule(%q) = %q, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
	for _, r := range ScaleRules {
		if got, err := ParseScaleRule(string(r)); err != nil || got != r {
			t.Errorf("ParseScaleRule(%q) = %q, %v: does not round-trip", r, got, err)
		}
	}
	if l := ScaleP995.Label(); l != "99.5th percentile" {
		t.Errorf("label %q", l)
	}
}

// TestDisplayScale: hand-worked scales for each kind and rule.
func TestDisplayScale(t *testing.T) {
	ramp := NewMap(10, 10, 1) // 1, 2, ..., 100
	for i := range ramp.Data {
		ramp.Data[i] = float32(i + 1)
	}
	signed := NewMap(10, 20, 1) // −100..−1, 1..100
	for i := range 100 {
		signed.Data[i], signed.Data[100+i] = -float32(i+1), float32(i+1)
	}
	shifted := Map{H: 1, W: 4, C: 1, Data: []float32{-2, 0, 1, 6}}
	zeroButOne := NewMap(10, 10, 1)
	zeroButOne.Data[37] = 5
	for _, tt := range []struct {
		name string
		m    Map
		d    Display
		r    ScaleRule
		want Scale
	}{
		// Nearest rank: the p-th percentile of n values is the value at
		// index round(p/100·(n−1)) of the sorted values.
		{"ramp max", ramp, DisplayPercentile, ScaleMax, Scale{0, 100}},
		{"ramp p99.5", ramp, DisplayPercentile, ScaleP995, Scale{0, 100}}, // round(98.505) = 99
		{"ramp p99", ramp, DisplayPercentile, ScaleP99, Scale{0, 99}},     // round(98.01) = 98
		{"ramp p98", ramp, DisplayPercentile, ScaleP98, Scale{0, 98}},     // round(97.02) = 97
		{"ramp default", ramp, DisplayPercentile, ScaleDefault, Scale{0, 99}},
		{"CAM default is the max", ramp, DisplayMax, ScaleDefault, Scale{0, 100}},
		{"CAM p98", ramp, DisplayMax, ScaleP98, Scale{0, 98}},
		// |value| of 200 values: 1, 1, 2, 2, ..., 100, 100; p99 index
		// round(0.99·199) = 197: 99.
		{"signed p99", signed, DisplaySigned, ScaleP99, Scale{-99, 99}},
		{"signed max", signed, DisplaySigned, ScaleMax, Scale{-100, 100}},
		{"negative values lower the bottom", shifted, DisplayMax, ScaleMax, Scale{-2, 6}},
		// 99% of the map is 0: the percentile is 0, so the max shows the
		// one pixel.
		{"zero but one", zeroButOne, DisplayPercentile, ScaleP99, Scale{0, 5}},
		{"zero but one, signed", zeroButOne, DisplaySigned, ScaleP99, Scale{-5, 5}},
		{"all zero", NewMap(3, 3, 1), DisplayPercentile, ScaleP99, Scale{0, 0}},
	} {
		if got := DisplayScale(tt.m, tt.d, tt.r); got != tt.want {
			t.Errorf("%s: DisplayScale = %v, want %v", tt.name, got, tt.want)
		}
	}
	if !DisplayScale(NewMap(3, 3, 1), DisplaySigned, ScaleDefault).Flat() {
		t.Error("all-zero signed map: scale not flat")
	}
	if r := DisplayMax.DefaultRule(); r != ScaleMax {
		t.Errorf("CAM default rule %q", r)
	}
	for _, d := range []Display{DisplayPercentile, DisplaySigned} {
		if r := d.DefaultRule(); r != ScaleP99 {
			t.Errorf("%s default rule %q", d, r)
		}
	}
	if !DisplaySigned.Colormap().Diverging || DisplayMax.Colormap().Diverging || DisplayPercentile.Colormap().Diverging {
		t.Error("only signed maps get a diverging colormap by default")
	}
}

// TestOneHotPixel: a gradient map whose largest value is 10⁴ times the
// rest shows the rest under the default rule (most pixels not at the
// colormap's bottom colour), and not under ScaleMax.
func TestOneHotPixel(t *testing.T) {
	const n = 32
	m := NewMap(n, n, 1)
	for i := range m.Data {
		// small, varied values: 1e-4 .. 8e-4
		m.Data[i] = 1e-4 * float32(1+(i*7)%8)
	}
	m.Data[n*n/2+5] = 5
	s := NewMap(n, n, 1) // signed: the same with alternating signs
	for i, v := range m.Data {
		s.Data[i] = v * float32(1-2*(i%2))
	}
	for _, tt := range []struct {
		name    string
		m       Map
		d       Display
		r       ScaleRule
		atLeast float64 // fraction of pixels not at the bottom (signed: zero) colour
		atMost  float64
	}{
		{"gradient, default", m, DisplayPercentile, ScaleDefault, 0.9, 1},
		{"gradient, max", m, DisplayPercentile, ScaleMax, 0, 0.01},
		{"signed, default", s, DisplaySigned, ScaleDefault, 0.9, 1},
		{"signed, max", s, DisplaySigned, ScaleMax, 0, 0.01},
	} {
		cm := tt.d.Colormap()
		img := image.NewRGBA(image.Rect(0, 0, n, n))
		HeatmapTo(img, tt.m, cm, DisplayScale(tt.m, tt.d, tt.r))
		bottom := cm.At(0)
		if tt.d == DisplaySigned {
			bottom = cm.At(0.5)
		}
		other := 0
		for y := range n {
			for x := range n {
				if img.RGBAAt(x, y) != bottom {
					other++
				}
			}
		}
		f := float64(other) / (n * n)
		if f < tt.atLeast || f > tt.atMost {
			t.Errorf("%s: %.1f%% of the pixels differ from the bottom colour %v, want %.0f%% to %.0f%%",
				tt.name, 100*f, bottom, 100*tt.atLeast, 100*tt.atMost)
		}
	}
	// The hot pixel itself is at the top colour.
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	HeatmapTo(img, m, Inferno, DisplayScale(m, DisplayPercentile, ScaleDefault))
	if got := img.RGBAAt(5, n/2); got != Inferno.At(1) {
		t.Errorf("hot pixel %v, want the top colour %v", got, Inferno.At(1))
	}
}

// TestDisplaysCoverMethods: every registered method's Display kind is in
// Displays (the page offers a colormap and scale per kind from it), once.
func TestDisplaysCoverMethods(t *testing.T) {
	seen := map[Display]int{}
	for _, d := range Displays {
		seen[d]++
		if seen[d] > 1 {
			t.Errorf("Displays lists %q twice", d)
		}
	}
	for _, m := range Methods() {
		if seen[m.Display] == 0 {
			t.Errorf("%s: display %q is not in Displays %v", m.Name, m.Display, Displays)
		}
	}
}

// TestSelectNth holds selectNth to a sort (the independent truth) at every
// index of small slices and at the display rules' ranks of large ones, on
// random values, many ties, sorted, reversed and constant data.
func TestSelectNth(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	gen := map[string]func(i, n int) float32{
		"random":   func(i, n int) float32 { return rng.Float32() },
		"ties":     func(i, n int) float32 { return float32(rng.IntN(3)) },
		"sorted":   func(i, n int) float32 { return float32(i) },
		"reversed": func(i, n int) float32 { return float32(n - i) },
		"constant": func(i, n int) float32 { return 0 },
		"organ":    func(i, n int) float32 { return float32(min(i, n-i)) },
	}
	for name, g := range gen {
		for _, n := range []int{1, 2, 3, 10, 57, 50176} {
			data := make([]float32, n)
			for i := range data {
				data[i] = g(i, n)
			}
			sorted := slices.Clone(data)
			slices.Sort(sorted)
			ks := []int{0, n - 1, n / 2}
			if n < 100 {
				ks = ks[:0]
				for k := range n {
					ks = append(ks, k)
				}
			}
			for _, p := range []float64{98, 99, 99.5} {
				ks = append(ks, int(math.Round(p/100*float64(n-1))))
			}
			for _, k := range ks {
				s := slices.Clone(data)
				if got := selectNth(s, k); got != sorted[k] {
					t.Errorf("%s, n=%d: selectNth(k=%d) = %g, want %g", name, n, k, got, sorted[k])
				}
				slices.Sort(s)
				if !slices.Equal(s, sorted) {
					t.Fatalf("%s, n=%d: selectNth changed the values, not only their order", name, n)
				}
			}
		}
	}
}

// TestFminFmax: fmin and fmax against the builtins min and max, bit for
// bit, over every pair of special and ordinary values (NaNs compared as
// NaNs).
func TestFminFmax(t *testing.T) {
	nan := float32(math.NaN())
	negZero := float32(math.Copysign(0, -1))
	vals := []float32{0, negZero, 1, -1, 2.5, -2.5, float32(math.Inf(1)), float32(math.Inf(-1)), nan, math.SmallestNonzeroFloat32, math.MaxFloat32}
	same := func(a, b float32) bool {
		return (a != a && b != b) || math.Float32bits(a) == math.Float32bits(b)
	}
	for _, a := range vals {
		for _, b := range vals {
			if got, want := fmin(a, b), min(a, b); !same(got, want) {
				t.Errorf("fmin(%v, %v) = %v, want %v", a, b, got, want)
			}
			if got, want := fmax(a, b), max(a, b); !same(got, want) {
				t.Errorf("fmax(%v, %v) = %v, want %v", a, b, got, want)
			}
		}
	}
}

// TestDisplayScales: every rule at once, in any order and with repeats,
// against a sorted copy of the values (the nearest rank read off it), on
// random maps with NaNs, ties and negative values, signed and not.
func TestDisplayScales(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	rules := []ScaleRule{ScaleP99, ScaleMax, ScaleP98, ScaleDefault, ScaleP995, ScaleP98}
	for trial := range 60 {
		n := 1 + rng.IntN(3000)
		m := NewMap(1, n, 1)
		for i := range m.Data {
			switch rng.IntN(10) {
			case 0:
				m.Data[i] = float32(math.NaN())
			case 1, 2:
				m.Data[i] = float32(rng.IntN(3)) // ties
			default:
				m.Data[i] = float32(rng.NormFloat64() * 5)
			}
		}
		if trial%3 == 0 { // non-negative
			for i, v := range m.Data {
				m.Data[i] = float32(math.Abs(float64(v)))
			}
		}
		rng.Shuffle(len(rules), func(i, j int) { rules[i], rules[j] = rules[j], rules[i] })
		for _, d := range Displays {
			var vals []float32
			for _, v := range m.Data {
				if v == v {
					if d == DisplaySigned {
						v = float32(math.Abs(float64(v)))
					}
					vals = append(vals, v)
				}
			}
			slices.Sort(vals)
			got := DisplayScales(m, d, rules)
			for i, r := range rules {
				var want Scale
				if len(vals) > 0 {
					if r == ScaleDefault {
						r = d.DefaultRule()
					}
					hi := vals[len(vals)-1]
					top := vals[int(math.Round(r.Percentile()/100*float64(len(vals)-1)))]
					if d == DisplaySigned {
						if want = (Scale{-top, top}); want.Flat() {
							want = Scale{-hi, hi}
						}
					} else {
						lo := min(vals[0], 0)
						if !(top > lo) {
							top = hi
						}
						want = Scale{lo, top}
					}
				}
				if got[i] != want {
					t.Fatalf("trial %d, %s, rule %q of %v: %v, want %v", trial, d, rules[i], rules, got[i], want)
				}
				if one := DisplayScale(m, d, rules[i]); one != got[i] {
					t.Fatalf("trial %d, %s, rule %q: DisplayScale %v, DisplayScales %v", trial, d, rules[i], one, got[i])
				}
			}
		}
	}
}

// TestReduceMaxAbs: ReduceTo's MaxAbs equals maxAbsTo (whose fmax is held
// to the builtin above), NaNs and signed zeros included.
func TestReduceMaxAbs(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	m := NewMap(5, 7, 3)
	for i := range m.Data {
		switch rng.IntN(8) {
		case 0:
			m.Data[i] = float32(math.NaN())
		case 1:
			m.Data[i] = float32(math.Copysign(0, -1))
		default:
			m.Data[i] = float32(rng.NormFloat64())
		}
	}
	var got, want Map
	ReduceTo(&got, m, MaxAbs)
	maxAbsTo(&want, m)
	for i := range want.Data {
		if g, w := got.Data[i], want.Data[i]; math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
			t.Errorf("pixel %d: %v, want %v", i, g, w)
		}
	}
}

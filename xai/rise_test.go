package xai

// RISE: the masks' geometry worked by hand and against the formula
// computed naively, the map of a model that sums one region's pixels, the
// keep-everything case, seeding and splits. They run natively and as
// js/wasm.

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/nn"
)

// TestRISEMaskHandWorked: a 2x2 grid on a 4x4 image has cells of C = 2
// pixels, upsampled to (2+1)·2 = 6: pixel a samples the grid at
// (a + 0.5)/3 − 0.5 = −1/3, 0, 1/3, 2/3, 1, 4/3, i.e. (clamped) weights
// on cell 1 of 0, 0, 1/3, 2/3, 1, 1. With cells (row-major) 1 0 / 1 0 the
// mask's columns at shift dx are 1 − that weight at dx..dx+3.
func TestRISEMaskHandWorked(t *testing.T) {
	var m riseMask
	m.setup(4, 4, 2, 0.5)
	ry := []axisTap{{0, 1, 0}, {0, 1, 0}, {0, 1, 1.0 / 3}, {0, 1, 2.0 / 3}, {1, 1, 0}, {1, 1, 0}}
	if len(m.ry) != 6 || m.ch != 2 {
		t.Fatalf("%d taps, cell %d; want 6 and 2", len(m.ry), m.ch)
	}
	for a, tp := range m.ry {
		if tp.i0 != ry[a].i0 || tp.i1 != ry[a].i1 || math.Abs(tp.f-ry[a].f) > 1e-15 {
			t.Errorf("tap %d: %+v, want %+v", a, tp, ry[a])
		}
	}
	// Draw masks until one has the grid 1 0 / 1 0 and check its columns.
	col := []float64{1, 1, 2.0 / 3, 1.0 / 3, 0, 0}
	dst := make([]float32, 16)
	found := false
	for i := range 200 {
		m.maskTo(dst, 3, i)
		if !slices.Equal(m.grid, []float64{1, 0, 1, 0}) {
			continue
		}
		found = true
		// The shift is the stream's draw after the grid's four.
		var pcg rand.PCG
		seedStream(&pcg, 3, riseTag, i)
		r := rand.New(&pcg)
		for range 4 {
			r.Float64()
		}
		r.IntN(2)
		dx := r.IntN(2)
		for y := range 4 {
			for x := range 4 {
				if d := math.Abs(float64(dst[y*4+x]) - col[x+dx]); d > 1e-7 {
					t.Fatalf("mask %d (dx %d): row %d = %v, want %v", i, dx, y, dst[y*4:y*4+4], col[dx:dx+4])
				}
			}
		}
	}
	if !found {
		t.Fatal("no mask with cells 1 0 / 1 0 in 200 draws")
	}
}

// TestRISEMaskNaive: every mask value is the bilinear formula evaluated
// directly, for non-square inputs and grids that do not divide them.
func TestRISEMaskNaive(t *testing.T) {
	for _, tt := range []struct{ h, w, s int }{{13, 9, 3}, {8, 8, 7}, {5, 11, 1}, {224, 224, 7}} {
		var m riseMask
		m.setup(tt.h, tt.w, tt.s, 0.4)
		dst := make([]float32, tt.h*tt.w)
		for i := range 3 {
			m.maskTo(dst, 8, i)
			var pcg rand.PCG
			seedStream(&pcg, 8, riseTag, i)
			r := rand.New(&pcg)
			g := make([]float64, tt.s*tt.s)
			for j := range g {
				if r.Float64() < 0.4 {
					g[j] = 1
				}
			}
			ch, cw := (tt.h+tt.s-1)/tt.s, (tt.w+tt.s-1)/tt.s
			dy, dx := r.IntN(ch), r.IntN(cw)
			at := func(a, n int) (int, int, float64) {
				src := (float64(a)+0.5)*float64(tt.s)/float64(n) - 0.5
				src = math.Max(0, math.Min(src, float64(tt.s-1)))
				i0 := int(math.Floor(src))
				return i0, min(i0+1, tt.s-1), src - float64(i0)
			}
			for y := range tt.h {
				y0, y1, fy := at(y+dy, (tt.s+1)*ch)
				for x := range tt.w {
					x0, x1, fx := at(x+dx, (tt.s+1)*cw)
					v := (1-fy)*((1-fx)*g[y0*tt.s+x0]+fx*g[y0*tt.s+x1]) + fy*((1-fx)*g[y1*tt.s+x0]+fx*g[y1*tt.s+x1])
					if d := math.Abs(float64(dst[y*tt.w+x]) - v); d > 1e-6 {
						t.Fatalf("%+v mask %d (%d,%d): %v, want %v", tt, i, y, x, dst[y*tt.w+x], v)
					}
				}
			}
		}
	}
}

// regionModel scores class 0 as the sum of the pixels of rows 2..7,
// columns 2..7 of a 32x32x1 input (class 1: 0).
func regionModel(t testing.TB) *nn.Model {
	k := make([]float32, 32*32*2)
	for y := 2; y < 8; y++ {
		for x := 2; x < 8; x++ {
			k[(y*32+x)*2] = 1
		}
	}
	return tinyModel(t, [3]int{32, 32, 1}, []nn.LayerSpec{
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 2}},
	}, map[string][]float32{"dense/kernel": k})
}

// TestRISERegion: the score is the sum of region R's pixels (36 of them,
// all 1), so f(x ⊙ M) = Σ_{q∈R} M_q and E[Map_j] = Σ_{q∈R} E[M_q M_j] / p.
// The map peaks on R. A pixel at least 20 rows or columns from R (grid 4,
// cells of 8 upsampled to 40/4 = 10 pixels: no grid cell reaches both)
// has a mask independent of R's, so E[Map_j] = 36 p² / p = 36 p there.
func TestRISERegion(t *testing.T) {
	x := nn.NewTensor(1, 32, 32, 1)
	for i := range x.Data {
		x.Data[i] = 1
	}
	const p = 0.5
	r, err := New(regionModel(t)).RISE(x, RISEOptions{Target: Target{Class: 0}, Masks: 4000, Grid: 4, P: p, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	in := func(y, x int) bool { return y >= 2 && y < 8 && x >= 2 && x < 8 }
	var inSum, farSum float64
	var far int
	best := 0
	for j, v := range r.Map.Data {
		y, x := j/32, j%32
		if v > r.Map.Data[best] {
			best = j
		}
		switch {
		case in(y, x):
			inSum += float64(v)
		case y >= 27 || x >= 27:
			farSum += float64(v)
			far++
		}
	}
	if by, bx := best/32, best%32; !in(by, bx) {
		t.Errorf("the map peaks at (%d, %d), outside the region", by, bx)
	}
	inMean, farMean := inSum/36, farSum/float64(far)
	t.Logf("mean over R %.3f, far from R %.3f (expected %g)", inMean, farMean, 36*p)
	if math.Abs(farMean-36*p) > 0.05*36*p {
		t.Errorf("far from R the map is %.3f, want %g ± 5%%", farMean, 36*p)
	}
	if inMean < 1.3*farMean {
		t.Errorf("mean over R %.3f, far %.3f: R does not stand out", inMean, farMean)
	}
}

// TestRISEKeepAll: with p = 1 every mask keeps everything, so the map is
// Score(x) everywhere.
func TestRISEKeepAll(t *testing.T) {
	m := reluNet(t)
	x := reluInput()
	r, err := New(m).Explain(x, Request{Method: "rise", Target: Target{Class: -1, Kind: Probability}, Options: Options{"masks": 9, "p": 1.0}})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "p = 1", r.Map.Data, slices.Repeat([]float32{float32(r.Score)}, 36), 1e-7)
	if r.Passes != 10 || r.Map.C != 1 {
		t.Errorf("passes %d map %v, want 10 and 6x6x1", r.Passes, r.Map)
	}
}

// TestRISESeededSplit: equal seeds give equal maps, whatever the batch
// (the masks are the same; the model's rounding may differ) or the split
// across workers (bitwise); other seeds other maps.
func TestRISESeededSplit(t *testing.T) {
	m := reluNet(t)
	x := reluInput()
	req := Request{Method: "rise", Target: Predicted(), Options: Options{"masks": 12, "grid": 3}, Seed: 5}
	whole, err := New(m).Explain(x, req)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := New(m).Explain(x, req)
	if !slices.Equal(whole.Map.Data, again.Map.Data) {
		t.Error("the same seed gave different maps")
	}
	ex := New(m)
	ex.Batch = 5
	batched, err := ex.Explain(x, req)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "batch 5", batched.Map.Data, whole.Map.Data, 1e-6*maxAbs(whole.Map.Data))
	other := req
	other.Seed = 6
	if o, _ := New(m).Explain(x, other); maxDiff(o.Map.Data, whole.Map.Data) == 0 {
		t.Error("seeds 5 and 6 gave the same map")
	}
	n, _ := New(m).Evaluations(req)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, split := range splits(n) {
		got := combineSplit(t, m, x, req, whole.Class, split, rng)
		if !slices.Equal(got.Map.Data, whole.Map.Data) || got.Class != whole.Class || got.Score != whole.Score {
			t.Errorf("split %v: the map differs from the whole", split)
		}
	}
}

func TestRISEErrors(t *testing.T) {
	m := reluNet(t)
	x := reluInput()
	for _, tt := range []struct {
		o    RISEOptions
		want string
	}{
		{RISEOptions{Masks: -1}, "xai: rise masks -1 out of range 1..100000"},
		{RISEOptions{Grid: 2000}, "xai: rise grid 2000 out of range 1..1024"},
		{RISEOptions{P: 1.5}, "xai: rise p 1.5 out of range (0, 1]"},
		{RISEOptions{Masks: 4, Cancel: &cancelAfter{n: 2}}, "xai: rise stopped after 2 of 5 images: stop"},
	} {
		tt.o.Target = Predicted()
		if _, err := New(m).RISE(x, tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.o, err, tt.want)
		}
	}
	if err := New(m).PartTo(new(Part), x, Request{Method: "rise", Target: Predicted(), Options: Options{"masks": 4}}, 1, 3); err == nil ||
		!strings.Contains(err.Error(), "exclude x (evaluation 0), so they need the class") {
		t.Errorf("a part without x or class: %v", err)
	}
}

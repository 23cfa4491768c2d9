package xai

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/nn"
)

// TestSpearmanHandWorked: ranks with ties averaged, then Pearson.
func TestSpearmanHandWorked(t *testing.T) {
	for _, tt := range []struct {
		name string
		a, b []float64
		want float64
	}{
		{"identical", []float64{1, 2, 3, 4}, []float64{10, 20, 30, 40}, 1},
		{"reversed", []float64{1, 2, 3, 4}, []float64{4, 3, 2, 1}, -1},
		{"monotone, not linear", []float64{1, 2, 3, 4}, []float64{1, 8, 27, 1000}, 1},
		// a ranks (1, 2, 3, 4, 5); b = (1, 3, 2, 5, 4) ranks the same:
		// Σd² = 0+1+1+1+1 = 4, ρ = 1 − 6·4/(5·24) = 0.8.
		{"no ties", []float64{1, 2, 3, 4, 5}, []float64{1, 3, 2, 5, 4}, 0.8},
		// b = (5, 5, 1, 2) ranks (3.5, 3.5, 1, 2); a = (1, 2, 3, 4):
		// centred ranks a (−1.5, −.5, .5, 1.5), b (1, 1, −1.5, −.5);
		// Σ = −1.5 − .5 − .75 − .75 = −3.5; Σa² = 5, Σb² = 4.5;
		// ρ = −3.5 / √22.5.
		{"ties", []float64{1, 2, 3, 4}, []float64{5, 5, 1, 2}, -3.5 / math.Sqrt(22.5)},
		{"constant", []float64{1, 2, 3}, []float64{7, 7, 7}, 0},
		{"one value", []float64{1}, []float64{2}, 0},
	} {
		if got := Spearman(tt.a, tt.b); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := ranks([]float64{3, 1, 3, 3, 0}); !slices.Equal(got, []float64{4, 2, 4, 4, 1}) {
		t.Errorf("ranks: got %v, want [4 2 4 4 1]", got)
	}
	// The definition, pair by pair: rank_i = 1 + #{v_j < v_i} + (#{v_j =
	// v_i} − 1)/2, NaN as −Inf, −0 equal to +0, over signs, infinities,
	// subnormals and ties.
	nan, inf, negz := math.NaN(), math.Inf(1), math.Copysign(0, -1)
	v := []float64{2, -3, nan, 0, negz, inf, -inf, 5e-324, -5e-324, 2, -3, nan, 0.5, -0.5, 1e300}
	r := rand.New(rand.NewPCG(3, 5))
	for range 200 {
		v = append(v, float64(r.IntN(9)-4)/2)
	}
	got := ranks(v)
	for i, x := range v {
		var less, same int
		for _, y := range v {
			switch xi, yj := nanLow(x), nanLow(y); {
			case yj < xi:
				less++
			case yj == xi:
				same++
			}
		}
		if want := 1 + float64(less) + float64(same-1)/2; got[i] != want {
			t.Errorf("rank of v[%d] = %v: %v, want %v", i, x, got[i], want)
		}
	}
}

// sanityModel is a small random CNN (MAVIS's layer kinds at 16x16).
func sanityModel(t testing.TB) *nn.Model {
	t.Helper()
	conv := func(name string, f int) nn.LayerSpec {
		return nn.LayerSpec{Class: "Conv2D", Name: name, Config: nn.LayerConfig{Filters: f, KernelSize: []int{3, 3}, Padding: "same", Activation: "relu"}}
	}
	m, err := nn.Build(nn.Spec{Name: "sanity", Input: [3]int{16, 16, 3}, Layers: []nn.LayerSpec{
		conv("conv2d", 8),
		{Class: "BatchNormalization", Name: "bn"},
		{Class: "MaxPooling2D", Name: "pool"},
		conv("conv2d_1", 8),
		{Class: "MaxPooling2D", Name: "pool_1"},
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 16, Activation: "relu"}},
		{Class: "Dense", Name: "dense_1", Config: nn.LayerConfig{Units: 3, Activation: "softmax"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	nn.Init(m, 42)
	return m
}

func sanityInput() *nn.Tensor {
	x := nn.NewTensor(1, 16, 16, 3)
	for h := range 16 {
		for w := range 16 {
			for c := range 3 {
				// a bright disc on a gradient, so edges exist
				v := float64(8*w + 4*c)
				if (h-8)*(h-8)+(w-6)*(w-6) < 20 {
					v = 230
				}
				x.Data[x.Offset(0, h, w, c)] = float32(v)
			}
		}
	}
	return x
}

// edgeMap is Adebayo et al.'s control: the Sobel gradient magnitude of
// the input, summed over channels. It ignores the model entirely.
func edgeMap(ex *Explainer, x *nn.Tensor, _ Target) (Map, error) {
	H, W, C := x.Shape[1], x.Shape[2], x.Shape[3]
	m := NewMap(H, W, 1)
	at := func(h, w, c int) float64 {
		h, w = min(max(h, 0), H-1), min(max(w, 0), W-1)
		return float64(x.Data[x.Offset(0, h, w, c)])
	}
	for h := range H {
		for w := range W {
			var s float64
			for c := range C {
				gx := at(h-1, w+1, c) + 2*at(h, w+1, c) + at(h+1, w+1, c) - at(h-1, w-1, c) - 2*at(h, w-1, c) - at(h+1, w-1, c)
				gy := at(h+1, w-1, c) + 2*at(h+1, w, c) + at(h+1, w+1, c) - at(h-1, w-1, c) - 2*at(h-1, w, c) - at(h-1, w+1, c)
				s += math.Hypot(gx, gy)
			}
			m.Data[h*W+w] = float32(s)
		}
	}
	return m, nil
}

func saliencyMap(ex *Explainer, x *nn.Tensor, t Target) (Map, error) {
	s, err := ex.Saliency(x, t)
	return s.Map, err
}

func TestRandomisationCheck(t *testing.T) {
	m := sanityModel(t)
	before := make([][]float32, 0)
	for _, p := range m.Params() {
		before = append(before, slices.Clone(p.Value))
	}
	x := sanityInput()
	ctx := context.Background()
	sal, err := RandomisationCheck(ctx, m, x, saliencyMap, SanityOptions{Target: Predicted(), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	wantLayers := []string{"dense_1", "dense", "conv2d_1", "conv2d"}
	if !slices.Equal(sal.Layers, wantLayers) || len(sal.Spearman) != 4 {
		t.Fatalf("cascade %v (%d correlations), want %v", sal.Layers, len(sal.Spearman), wantLayers)
	}
	if !sal.Pass || sal.Mean > SanityThreshold {
		t.Errorf("saliency failed the randomisation check: %+v", sal)
	}
	// With every layer random the map has nothing left in common.
	if last := sal.Spearman[3]; math.Abs(last) > 0.5 {
		t.Errorf("saliency of the fully random model correlates %.3f with the original", last)
	}
	edge, err := RandomisationCheck(ctx, m, x, edgeMap, SanityOptions{Target: Predicted(), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if edge.Pass || edge.Mean != 1 {
		t.Errorf("edge detector passed the randomisation check: %+v", edge)
	}
	for i, p := range m.Params() {
		if !slices.Equal(p.Value, before[i]) {
			t.Fatalf("the check changed the caller's %s", p.Name)
		}
	}
	// Seeded: the same seed gives the same correlations; Steps limits.
	again, err := RandomisationCheck(ctx, m, x, saliencyMap, SanityOptions{Target: Predicted(), Seed: 1, Steps: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again.Spearman, sal.Spearman[:2]) {
		t.Errorf("reseeded check %v, want %v", again.Spearman, sal.Spearman[:2])
	}
	if testing.Verbose() {
		t.Logf("saliency: %v mean %.3f; edge: %v", sal.Spearman, sal.Mean, edge.Spearman)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := RandomisationCheck(cctx, m, x, saliencyMap, SanityOptions{Target: Predicted()}); err == nil {
		t.Error("canceled check succeeded")
	}

	// In place: the same correlations as on a copy, and the caller's
	// weights back bit for bit, also after a cancel part way and after an
	// error from the map.
	in, err := RandomisationCheck(ctx, m, x, saliencyMap, SanityOptions{Target: Predicted(), Seed: 1, InPlace: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(in.Spearman, sal.Spearman) || in.Mean != sal.Mean || !slices.Equal(in.Layers, sal.Layers) {
		t.Errorf("in place %v (mean %v), on a copy %v (%v)", in.Spearman, in.Mean, sal.Spearman, sal.Mean)
	}
	unchanged := func(what string) {
		t.Helper()
		for i, p := range m.Params() {
			if !slices.Equal(p.Value, before[i]) {
				t.Fatalf("%s: the in-place check left the caller's %s changed", what, p.Name)
			}
		}
	}
	unchanged("after a full check")
	cctx, cancel = context.WithCancel(ctx)
	calls := 0
	_, err = RandomisationCheck(cctx, m, x, func(ex *Explainer, x *nn.Tensor, t Target) (Map, error) {
		if calls++; calls == 3 { // the second randomised layer's map: two layers are random now
			cancel()
		}
		return saliencyMap(ex, x, t)
	}, SanityOptions{Target: Predicted(), Seed: 1, InPlace: true})
	if err == nil || !strings.Contains(err.Error(), "stopped after 2 of 4 steps") {
		t.Errorf("cancelled in-place check: %v", err)
	}
	unchanged("after a cancel")
	calls = 0
	_, err = RandomisationCheck(ctx, m, x, func(ex *Explainer, x *nn.Tensor, t Target) (Map, error) {
		if calls++; calls == 2 {
			return Map{}, errors.New("no map")
		}
		return saliencyMap(ex, x, t)
	}, SanityOptions{Target: Predicted(), Seed: 1, InPlace: true})
	if err == nil || err.Error() != "no map" {
		t.Errorf("in-place check whose map fails: %v", err)
	}
	unchanged("after an error")
}

package xai

// Known answers for the faithfulness metrics: hand-worked deletion and
// insertion curves of a linear model, and models whose true relevance is
// known by construction (only one quadrant of the image matters), where
// the true map must beat a random map and its own inverse.

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/nn"
)

// evLinear builds z_0 = Σ_p w_p x_p, z_1 = b1 over an h x w x 1 input,
// with a softmax on top (so Forward gives probabilities).
func evLinear(t testing.TB, h, w int, wt []float32, b1 float32) *nn.Model {
	t.Helper()
	m, err := nn.Build(nn.Spec{Name: "linear", Input: [3]int{h, w, 1}, Layers: []nn.LayerSpec{
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 2, Activation: "softmax"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(wt) != h*w {
		t.Fatalf("%d weights for %dx%d", len(wt), h, w)
	}
	k := m.Param("dense/kernel").Value
	for i, v := range wt {
		k[2*i] = v
	}
	m.Param("dense/bias").Value[1] = b1
	return m
}

func evTensor(h, w, c int, v []float32) *nn.Tensor {
	x := nn.NewTensor(1, h, w, c)
	copy(x.Data, v)
	return x
}

func evMap(h, w int, v []float32) Map {
	m := NewMap(h, w, 1)
	copy(m.Data, v)
	return m
}

func evClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values %v, want %d %v", what, len(got), got, len(want), want)
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
}

// TestDeletionHandWorked: z_0 = 4a + 3b + 2c + d on the 2x2 image
// (a b / c d) = (1 1 / 1 1), black reference, logit score, 4 steps.
//
//	deletion  (remove a, b, c, d in turn): 10, 6, 3, 1, 0   AUC = ¼(8 + 4.5 + 2 + 0.5) = 3.75
//	insertion (insert a, b, c, d in turn):  0, 4, 7, 9, 10  AUC = ¼(2 + 5.5 + 8 + 9.5) = 6.25
//
// The map ranks a > b > c > d; its inverse reverses the order:
//
//	deletion 10, 9, 7, 4, 0   AUC = ¼(9.5 + 8 + 5.5 + 2) = 6.25
//	insertion 0, 1, 3, 6, 10  AUC = ¼(0.5 + 2 + 4.5 + 8) = 3.75
func TestDeletionHandWorked(t *testing.T) {
	m := evLinear(t, 2, 2, []float32{4, 3, 2, 1}, 0)
	x := evTensor(2, 2, 1, []float32{1, 1, 1, 1})
	fr := []float64{0, 0.25, 0.5, 0.75, 1}
	for _, tt := range []struct {
		name           string
		m              Map
		del, ins       []float64
		delAUC, insAUC float64
	}{
		{"true", evMap(2, 2, []float32{4, 3, 2, 1}), []float64{10, 6, 3, 1, 0}, []float64{0, 4, 7, 9, 10}, 3.75, 6.25},
		{"inverse", evMap(2, 2, []float32{-4, -3, -2, -1}), []float64{10, 9, 7, 4, 0}, []float64{0, 1, 3, 6, 10}, 6.25, 3.75},
		// A 1x1 map upsampled is constant: ties go in row-major order,
		// which here is the true order.
		{"constant", evMap(1, 1, []float32{7}), []float64{10, 6, 3, 1, 0}, []float64{0, 4, 7, 9, 10}, 3.75, 6.25},
	} {
		for _, batch := range []int{1, 3, 8} {
			ev := NewEvaluator(m)
			ev.Batch = batch
			r, err := ev.Evaluate(context.Background(), x, tt.m, MetricsOptions{Class: 0, Logit: true, Steps: 4, Reference: BlackReference})
			if err != nil {
				t.Fatal(err)
			}
			evClose(t, tt.name+" deletion", r.Deletion.Score, tt.del, 1e-5)
			evClose(t, tt.name+" insertion", r.Insertion.Score, tt.ins, 1e-5)
			evClose(t, tt.name+" fractions", r.Deletion.Fraction, fr, 0)
			evClose(t, tt.name+" AUCs", []float64{r.Deletion.AUC, r.Insertion.AUC, r.Faithfulness},
				[]float64{tt.delAUC, tt.insAUC, tt.insAUC - tt.delAUC}, 1e-5)
			if r.Score != "logit" || r.Class != 0 || r.Steps != 4 || r.Patch != 1 || r.Reference != "black" {
				t.Errorf("%s: result header %+v", tt.name, r)
			}
		}
	}
}

// TestDeletionPatchesAndSteps: a 4x4 image in 2x2 patches with z_0 the
// sum of the top-left patch; 2 steps over 4 patches remove 0, 2 and 4
// patches. With the probability score, p_0 = σ(z_0 − 2).
func TestDeletionPatchesAndSteps(t *testing.T) {
	w := []float32{
		1, 1, 0, 0,
		1, 1, 0, 0,
		0, 0, 0, 0,
		0, 0, 0, 0,
	}
	m := evLinear(t, 4, 4, w, 2)
	x := evTensor(4, 4, 1, []float32{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1})
	// The map puts the top-left patch second among patches: it ranks the
	// top-right patch first, then top-left (ties in patch order).
	mp := evMap(4, 4, []float32{
		1, 1, 5, 5,
		1, 1, 5, 5,
		1, 1, 0, 0,
		1, 1, 0, 0,
	})
	ev := NewEvaluator(m)
	r, err := ev.Evaluate(context.Background(), x, mp, MetricsOptions{Class: 0, Steps: 2, Patch: 2, Reference: BlackReference})
	if err != nil {
		t.Fatal(err)
	}
	sig := func(z float64) float64 { return 1 / (1 + math.Exp(-z)) }
	// Deletion: 0 patches (z=4), 2 patches (top-right, top-left: z=0), 4.
	evClose(t, "deletion", r.Deletion.Score, []float64{sig(2), sig(-2), sig(-2)}, 1e-6)
	// Insertion on black: nothing (z=0), top-right and top-left (z=4), all.
	evClose(t, "insertion", r.Insertion.Score, []float64{sig(-2), sig(2), sig(2)}, 1e-6)
	evClose(t, "fraction", r.Insertion.Fraction, []float64{0, 0.5, 1}, 0)
	if r.Prob != sig(2) || r.Score != "probability" {
		t.Errorf("Prob %v score %q, want %v probability", r.Prob, r.Score, sig(2))
	}
	// Keeping the top 25% (1 patch: top-right) drops p from σ(2) to σ(−2);
	// 50% keeps top-left too: no drop, no raise.
	want := []Confidence{
		{Keep: 0.1, Prob: sig(-2), Drop: (sig(2) - sig(-2)) / sig(2)}, // round(0.4) = 0 patches
		{Keep: 0.25, Prob: sig(-2), Drop: (sig(2) - sig(-2)) / sig(2)},
		{Keep: 0.5, Prob: sig(2)},
	}
	for i, c := range r.Confidence {
		if c.Keep != want[i].Keep || math.Abs(c.Prob-want[i].Prob) > 1e-6 || math.Abs(c.Drop-want[i].Drop) > 1e-6 || c.Raise {
			t.Errorf("confidence %d: got %+v, want %+v", i, c, want[i])
		}
	}
}

// quadrantModel looks only at the top-left quadrant of an 8x8x3 image
// through a small convolution (so the map's resolution and the model's
// structure are realistic): conv 3x3 'same' with ReLU, one filter summing
// the three channels of the centre pixel, then a dense layer whose weights
// are 1/255 on the top-left 4x4 positions and 0 elsewhere. Only the
// top-left quadrant can change the score, by construction.
func quadrantModel(t testing.TB) *nn.Model {
	t.Helper()
	m, err := nn.Build(nn.Spec{Name: "quadrant", Input: [3]int{8, 8, 3}, Layers: []nn.LayerSpec{
		{Class: "Conv2D", Name: "conv", Config: nn.LayerConfig{Filters: 1, KernelSize: []int{3, 3}, Padding: "same", Activation: "relu"}},
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 2, Activation: "softmax"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	k := m.Param("conv/kernel").Value // (3, 3, 3, 1)
	for c := range 3 {
		k[(1*3+1)*3+c] = 1
	}
	d := m.Param("dense/kernel").Value // (64, 2)
	for h := range 4 {
		for w := range 4 {
			d[2*(h*8+w)] = 1.0 / 255
		}
	}
	m.Param("dense/bias").Value[1] = 30 // z_0 − z_1 is about +8 for the test image, −30 for black
	return m
}

func TestTrueRelevanceBeatsRandomAndInverse(t *testing.T) {
	m := quadrantModel(t)
	rng := rand.New(rand.NewPCG(7, 7))
	x := nn.NewTensor(1, 8, 8, 3)
	// An object in the top-left quadrant (values 150..255) on a darker
	// background (0..100).
	for h := range 8 {
		for w := range 8 {
			for c := range 3 {
				v := 100 * rng.Float64()
				if h < 4 && w < 4 {
					v = 150 + 105*rng.Float64()
				}
				x.Data[x.Offset(0, h, w, c)] = float32(v)
			}
		}
	}
	// The true relevance of each pixel is its contribution to z_0:
	// Σ_c x[h,w,c]/255 in the quadrant, 0 outside. The low-resolution
	// version (2x2, as a CAM gives) marks the quadrant.
	truth := NewMap(8, 8, 1)
	for h := range 4 {
		for w := range 4 {
			for c := range 3 {
				truth.Data[h*8+w] += x.Data[x.Offset(0, h, w, c)] / 255
			}
		}
	}
	inverse := NewMap(8, 8, 1)
	for i, v := range truth.Data {
		inverse.Data[i] = -v
	}
	coarse := evMap(2, 2, []float32{1, 0, 0, 0})
	ev := NewEvaluator(m)
	for _, ref := range []Reference{RISE, BlackReference, BlurReference} {
		for _, patch := range []int{1, 2} {
			o := MetricsOptions{Class: 0, Steps: 16, Patch: patch, Reference: ref}
			eval := func(mp Map) MapMetrics {
				r, err := ev.Evaluate(context.Background(), x, mp, o)
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			tr, co, inv := eval(truth), eval(coarse), eval(inverse)
			// Random maps: the true map must beat every one of 5.
			for s := range 5 {
				rnd := NewMap(8, 8, 1)
				r2 := rand.New(rand.NewPCG(uint64(s), 99))
				for i := range rnd.Data {
					rnd.Data[i] = float32(r2.Float64())
				}
				rr := eval(rnd)
				if testing.Verbose() && s == 0 {
					t.Logf("%v patch %d: random map faithfulness %.4f", ref, patch, rr.Faithfulness)
				}
				if !(tr.Deletion.AUC < rr.Deletion.AUC && tr.Insertion.AUC > rr.Insertion.AUC) {
					t.Errorf("%v patch %d: true map deletion %.4f insertion %.4f, random %d: %.4f %.4f",
						ref, patch, tr.Deletion.AUC, tr.Insertion.AUC, s, rr.Deletion.AUC, rr.Insertion.AUC)
				}
				if !(co.Faithfulness > rr.Faithfulness) {
					t.Errorf("%v patch %d: coarse 2x2 map faithfulness %.4f <= random %d's %.4f", ref, patch, co.Faithfulness, s, rr.Faithfulness)
				}
			}
			if !(tr.Deletion.AUC < inv.Deletion.AUC && tr.Insertion.AUC > inv.Insertion.AUC) {
				t.Errorf("%v patch %d: true map deletion %.4f insertion %.4f, inverse %.4f %.4f",
					ref, patch, tr.Deletion.AUC, tr.Insertion.AUC, inv.Deletion.AUC, inv.Insertion.AUC)
			}
			if testing.Verbose() {
				t.Logf("%v patch %d: faithfulness true %.4f coarse %.4f inverse %.4f", ref, patch, tr.Faithfulness, co.Faithfulness, inv.Faithfulness)
			}
			// With the same reference for both curves, the inverse order
			// makes deletion the slow curve: a negative score.
			if !(tr.Faithfulness > 0.3 && (ref == RISE || inv.Faithfulness < 0)) {
				t.Errorf("%v patch %d: faithfulness true %.4f, inverse %.4f", ref, patch, tr.Faithfulness, inv.Faithfulness)
			}
		}
	}
}

func TestEvaluateErrorsAndCancel(t *testing.T) {
	m := evLinear(t, 2, 2, []float32{4, 3, 2, 1}, 0)
	x := evTensor(2, 2, 1, []float32{1, 1, 1, 1})
	ev := NewEvaluator(m)
	good := evMap(2, 2, []float32{1, 2, 3, 4})
	for _, tt := range []struct {
		name string
		x    *nn.Tensor
		m    Map
		o    MetricsOptions
		want string
	}{
		{"input", nn.NewTensor(1, 3, 3, 1), good, MetricsOptions{}, "input 1x3x3x1, want 1x2x2x1"},
		{"empty map", x, Map{}, MetricsOptions{}, "map 0x0x0 is empty"},
		{"short map", x, Map{H: 2, W: 2, C: 1, Data: []float32{1}}, MetricsOptions{}, "holds 1 values, want 4"},
		{"class", x, good, MetricsOptions{Class: 5}, "target class 5 out of range"},
		{"steps", x, good, MetricsOptions{Steps: -1}, "-1 deletion steps"},
		{"patch", x, good, MetricsOptions{Patch: 3}, "patch size 3 out of range 1..2"},
		{"keep", x, good, MetricsOptions{Keep: []float64{1.5}}, "kept fraction 1.5 outside [0, 1]"},
		{"box", x, good, MetricsOptions{Box: &Box{0, 0, 3, 1}}, "box (0,0)-(3,1) is empty or outside the 2x2 input"},
		{"sigma", x, good, MetricsOptions{BlurSigma: -1}, "blur sigma -1 out of range"},
		{"reference", x, good, MetricsOptions{Reference: 9}, "unknown deletion reference 9"},
	} {
		_, err := ev.Evaluate(context.Background(), tt.x, tt.m, tt.o)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	ev.Batch = 2
	calls := 0
	_, err := ev.Evaluate(ctx, x, good, MetricsOptions{Steps: 4, Progress: func(done, total int) {
		calls++
		if done != 2 || total != 13 {
			t.Errorf("progress %d/%d, want 2/13", done, total)
		}
		cancel()
	}})
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Errorf("canceled after %d passes: %v", calls, err)
	}
}

func TestEvaluateAllocations(t *testing.T) {
	m := quadrantModel(t)
	x := nn.NewTensor(1, 8, 8, 3)
	for i := range x.Data {
		x.Data[i] = float32(i % 251)
	}
	mp := evMap(2, 2, []float32{1, 0.5, 0.25, 0})
	ev := NewEvaluator(m)
	var r MapMetrics
	o := MetricsOptions{Class: 0, Steps: 8, Reference: BlackReference}
	ctx := context.Background()
	if err := ev.EvaluateTo(ctx, &r, x, mp, o); err != nil {
		t.Fatal(err)
	}
	n := testing.AllocsPerRun(5, func() { ev.EvaluateTo(ctx, &r, x, mp, o) })
	// Gini's sorted copy aside, nothing is allocated per call (black
	// reference; the blur allocates its scratch).
	if n > 1 {
		t.Errorf("%v allocations per EvaluateTo, want at most 1", n)
	}
}

func TestParseReference(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Reference
	}{{"", RISE}, {"rise", RISE}, {"Black", BlackReference}, {"blur", BlurReference}} {
		got, err := ParseReference(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseReference(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
	if _, err := ParseReference("grey"); err == nil {
		t.Error("ParseReference(grey) succeeded")
	}
	// Options travel as JSON from the page's worker.
	var o MetricsOptions
	if err := json.Unmarshal([]byte(`{"class": 3, "steps": 16, "reference": "blur", "box": {"x0": 1, "y0": 2, "x1": 5, "y1": 6}}`), &o); err != nil {
		t.Fatal(err)
	}
	if o.Class != 3 || o.Steps != 16 || o.Reference != BlurReference || o.Box == nil || *o.Box != (Box{1, 2, 5, 6}) {
		t.Errorf("options from JSON: %+v", o)
	}
	if b, err := json.Marshal(MetricsOptions{Reference: BlackReference}); err != nil || !strings.Contains(string(b), `"reference":"black"`) {
		t.Errorf("options to JSON: %s, %v", b, err)
	}
	if err := json.Unmarshal([]byte(`{"reference": "grey"}`), &o); err == nil {
		t.Error("reference grey accepted from JSON")
	}
}

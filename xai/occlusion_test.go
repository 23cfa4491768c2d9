package xai

// Occlusion: a hand-worked map on a linear model, every window's score
// difference against full forward passes computed here from the
// definition (nn.Delta must give their bits), the clamped window of a
// small input, splits across workers (bitwise), and errors. They run
// natively and as js/wasm.

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/nn"
)

// sumModel scores class 0 as 0.5 Σ x over a 4x4x1 input (class 1: 0).
func sumModel(t testing.TB) *nn.Model {
	k := make([]float32, 32)
	for p := range 16 {
		k[2*p] = 0.5
	}
	return tinyModel(t, [3]int{4, 4, 1}, []nn.LayerSpec{
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 2}},
	}, map[string][]float32{"dense/kernel": k})
}

// TestOcclusionHandWorked: with a linear score and a black fill, hiding a
// window lowers the score by the window's share a = 0.5 x:
//
//	a = 1 0 0  2     2x2 windows, stride 1: 3x3 windows, d_w = Σ a over w:
//	    0 3 0  0       4 3  2
//	    0 0 0  0       3 3  0
//	    4 0 0 -1       4 0 -1
//
// and each pixel gets the mean d_w of the 1, 2 or 4 windows covering it.
func TestOcclusionHandWorked(t *testing.T) {
	x := input(4, 4, 1,
		2, 0, 0, 4,
		0, 6, 0, 0,
		0, 0, 0, 0,
		8, 0, 0, -2)
	r, err := New(sumModel(t)).Explain(x, Request{Method: "occlusion", Target: Target{Class: 0}, Options: Options{"window": 2, "stride": 1}})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "occlusion", r.Map.Data, []float32{
		4, 3.5, 2.5, 2,
		3.5, 3.25, 2, 1,
		3.5, 2.5, 0.5, -0.5,
		4, 2, -0.5, -1,
	}, 1e-6)
	near(t, "diffs", r.Extras[0].Data, []float32{4, 3, 2, 3, 3, 0, 4, 0, -1}, 1e-6)
	if r.Map.C != 1 || r.Passes != 10 || r.Score != 9 || !slices.Equal(r.Extras[0].Shape, []int{3, 3}) {
		t.Errorf("map %v passes %d score %g diffs %v; want 4x4x1, 10, 9, 3x3", r.Map, r.Passes, r.Score, r.Extras[0].Shape)
	}
	// The mean fill (1.125) hides a window's a − 0.5·1.125 per pixel.
	r, err = New(sumModel(t)).Explain(x, Request{Method: "occlusion", Target: Target{Class: 0}, Options: Options{"window": 2, "stride": 1, "fill": "mean"}})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "mean fill", r.Extras[0].Data, []float32{1.75, 0.75, -0.25, 0.75, 0.75, -2.25, 1.75, -2.25, -3.25}, 1e-6)
}

// occlusionOracle computes every window's d_w with full forward passes
// (Predict), straight from the definition: the windows' origins, the fill,
// and d_w for the target.
func occlusionOracle(t *testing.T, m *nn.Model, x *nn.Tensor, tg Target, win, stride int, fill []float32) (diffs []float64, rows, cols int) {
	t.Helper()
	ex := New(m)
	H, W, C := x.Shape[1], x.Shape[2], x.Shape[3]
	wh, ww := min(win, H), min(win, W)
	axis := func(n, w int) []int {
		var o []int
		for v := 0; v+w <= n; v += stride {
			o = append(o, v)
		}
		if o[len(o)-1]+w < n {
			o = append(o, n-w)
		}
		return o
	}
	ys, xs := axis(H, wh), axis(W, ww)
	p0, err := ex.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	c := tg.Class
	if c < 0 {
		c = p0.Class
	}
	value := func(p Prediction) float64 {
		if tg.Kind == Logit {
			return p.Logits[c]
		}
		var rest float64
		for j, q := range p.Probs {
			if j != c {
				rest += q
			}
		}
		return -rest
	}
	v0 := value(p0)
	for _, oy := range ys {
		for _, ox := range xs {
			xw := x.Clone()
			for h := oy; h < oy+wh; h++ {
				for w := ox; w < ox+ww; w++ {
					for ch := range C {
						i := (h*W+w)*C + ch
						xw.Data[i] = fill[i]
					}
				}
			}
			p, err := ex.Predict(xw)
			if err != nil {
				t.Fatal(err)
			}
			diffs = append(diffs, v0-value(p))
		}
	}
	return diffs, len(ys), len(xs)
}

// TestOcclusionDeltaExact: on a network with convolutions and max-pooling,
// each window's d_w through nn.Delta equals the full forward passes' bit
// for bit, for strides that do and do not reach the last row, both
// targets and every fill.
func TestOcclusionDeltaExact(t *testing.T) {
	m := reluNet(t)
	x := reluInput()
	H, W, C := 6, 6, 2
	mean := make([]float32, len(x.Data))
	for ch := range C {
		var s float64
		for p := range H * W {
			s += float64(x.Data[p*C+ch])
		}
		for p := range H * W {
			mean[p*C+ch] = float32(s / float64(H*W))
		}
	}
	blur := nn.Tensor{Shape: x.Shape, Data: make([]float32, len(x.Data))}
	gaussianBlurTo(&blur, x, 1.5)
	fills := map[OcclusionFill][]float32{FillBlack: make([]float32, len(x.Data)), FillMean: mean, FillBlur: blur.Data}
	for _, tt := range []struct {
		win, stride int
		fill        OcclusionFill
		tg          Target
		rows        int
	}{
		{2, 2, FillBlack, Predicted(), 3},
		{3, 2, FillBlack, Target{Class: -1, Kind: Probability}, 3}, // origins 0, 2, then 3
		{4, 3, FillMean, Target{Class: 2}, 2},                      // 0, then 2
		{1, 1, FillBlur, Target{Class: 1, Kind: Probability}, 6},
		{6, 1, FillBlack, Predicted(), 1},
	} {
		want, rows, cols := occlusionOracle(t, m, x, tt.tg, tt.win, tt.stride, fills[tt.fill])
		ex := New(m)
		r, err := ex.Occlusion(x, OcclusionOptions{Target: tt.tg, Window: tt.win, Stride: tt.stride, Fill: tt.fill, Sigma: 1.5})
		if err != nil {
			t.Fatal(err)
		}
		if rows != tt.rows || r.Rows != rows || r.Cols != cols || r.Evaluations != rows*cols+1 {
			t.Fatalf("%+v: %dx%d windows, %d evaluations; the oracle has %dx%d, want %d rows", tt, r.Rows, r.Cols, r.Evaluations, rows, cols, tt.rows)
		}
		if !slices.Equal(r.Diffs, want) {
			t.Errorf("%+v: d_w through nn.Delta\n%v\nfull forward passes\n%v", tt, r.Diffs, want)
		}
		if maxAbs(r.Map.Data) == 0 {
			t.Errorf("%+v: an all-zero map", tt)
		}
		// Each pixel: the mean of the covering windows' d_w.
		wh := min(tt.win, H)
		ys := make([]int, 0)
		for k := range rows {
			ys = append(ys, min(k*tt.stride, H-wh))
		}
		for h := range H {
			for w := range W {
				var s float64
				n := 0
				for i, oy := range ys {
					for j, ox := range ys[:cols] {
						if h >= oy && h < oy+wh && w >= ox && w < ox+wh {
							s += want[i*cols+j]
							n++
						}
					}
				}
				if got := r.Map.Data[h*W+w]; n == 0 || got != float32(s/float64(n)) {
					t.Fatalf("%+v: Map[%d,%d] = %v, want the mean of %d windows %v", tt, h, w, got, n, s/float64(n))
				}
			}
		}
	}
}

// TestOcclusionClampsWindow: a window larger than the input covers all of
// it (the registry's default 32 on a 6x6 input): one window, a constant
// map of Score(x) − Score(fill), and the values report the window used.
func TestOcclusionClampsWindow(t *testing.T) {
	m := reluNet(t)
	x := reluInput()
	r, err := New(m).Explain(x, Request{Method: "occlusion", Target: Predicted()})
	if err != nil {
		t.Fatal(err)
	}
	black := nn.NewTensor(1, 6, 6, 2)
	ex := New(m)
	pb, _ := ex.Predict(black)
	want := float32(r.Logits[r.Class] - pb.Logits[r.Class])
	near(t, "clamped", r.Map.Data, slices.Repeat([]float32{want}, 36), 0)
	if want == 0 || r.Values.Int("window") != 6 || r.Values.Int("stride") != 16 || r.Passes != 2 {
		t.Errorf("d = %g, values %v, passes %d; want d ≠ 0, window 6, stride 16, 2 passes", want, r.Values, r.Passes)
	}
}

// TestOcclusionSplit: windows split into parts computed by separate
// explainers and combined in any order give the whole map, bitwise.
func TestOcclusionSplit(t *testing.T) {
	m := reluNet(t)
	x := reluInput()
	for _, req := range []Request{
		{Method: "occlusion", Target: Predicted(), Options: Options{"window": 2, "stride": 1}},
		{Method: "occlusion", Target: Target{Class: -1, Kind: Probability}, Options: Options{"window": 3, "stride": 2, "fill": "blur", "sigma": 2.0}},
	} {
		whole, err := New(m).Explain(x, req)
		if err != nil {
			t.Fatal(err)
		}
		n, err := New(m).Evaluations(req)
		if err != nil || n != whole.Passes {
			t.Fatalf("Evaluations: %d, %v; want %d", n, err, whole.Passes)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		for _, split := range splits(n) {
			got := combineSplit(t, m, x, req, whole.Class, split, rng)
			if !slices.Equal(got.Map.Data, whole.Map.Data) || !slices.Equal(got.Extras[0].Data, whole.Extras[0].Data) ||
				got.Class != whole.Class || got.Score != whole.Score || !slices.Equal(got.Probs, whole.Probs) || got.Display.C != 1 {
				t.Errorf("%v: split result differs from the whole (class %d/%d score %v/%v)", split, got.Class, whole.Class, got.Score, whole.Score)
			}
		}
	}
}

// TestOcclusionPartsOneExplainer: the parts a pool's worker computes one
// after the other (ascending ranges with the other workers' between, an
// earlier one, another fill, another image, new parameters, a cancelled
// part) equal those of fresh explainers bit for bit, and a part of the
// same image starts with an Update from where the last one left off
// rather than a full pass.
func TestOcclusionPartsOneExplainer(t *testing.T) {
	// reluNet on 16x16 (on 6x6 two windows dirty nearly every block of the
	// convolution, which Delta then runs whole).
	m := reluNetOf(t, 16, 16)
	x, x2 := reluInputOf(16, 16), reluInputOf(16, 16)
	x2.Data[17] += 3
	a := Request{Method: "occlusion", Target: Target{Class: 1}, Options: Options{"window": 2, "stride": 1}}
	b := Request{Method: "occlusion", Target: Target{Class: 2, Kind: Probability}, Options: Options{"window": 3, "stride": 2, "fill": "blur", "sigma": 2.0}}
	ex := New(m)
	for _, tt := range []struct {
		name   string
		x      *nn.Tensor
		req    Request
		lo, hi int
		bias   float32 // added to the first layer's first bias before the part
		cancel int     // the part is cancelled before its pass cancel−1 (0: not)
		full   bool    // the part's first pass is a full one
	}{
		{"first", x, a, 0, 5, 0, 0, true},
		{"next", x, a, 9, 14, 0, 0, false},
		{"later", x, a, 120, 126, 0, 0, false},
		{"earlier", x, a, 3, 6, 0, 0, false},
		{"another fill", x, b, 2, 5, 0, 0, false},
		{"another image", x2, a, 4, 8, 0, 0, false},
		{"new parameters", x2, a, 0, 3, 0.25, 0, true},
		{"cancelled", x, a, 100, 120, 0, 5, false},
		{"after the cancel", x, a, 200, 206, 0, 0, false},
		{"cancelled before its first pass", x, a, 50, 60, 0, 1, false},
		{"after that cancel", x, a, 30, 33, 0, 0, false},
	} {
		if tt.bias != 0 {
			m.Params()[1].Value[0] += tt.bias
		}
		r := tt.req
		if tt.cancel > 0 {
			r.Cancel = &cancelAfter{n: tt.cancel - 1}
			if err := ex.PartTo(new(Part), tt.x, r, tt.lo, tt.hi); !errors.Is(err, errStop) {
				t.Fatalf("%s: %v, want it cancelled", tt.name, err)
			}
			continue
		}
		var got, want Part
		if err := ex.PartTo(&got, tt.x, r, tt.lo, tt.hi); err != nil {
			t.Fatal(err)
		}
		full := ex.occ.firstWork == 1
		if err := New(m).PartTo(&want, tt.x, r, tt.lo, tt.hi); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Sum, want.Sum) {
			t.Errorf("%s: part %d..%d: %v, a fresh explainer's %v", tt.name, tt.lo, tt.hi, got.Sum, want.Sum)
		}
		if full != tt.full {
			t.Errorf("%s: part %d..%d began with a full pass: %v, want %v (work %.2f)", tt.name, tt.lo, tt.hi, full, tt.full, ex.occ.firstWork)
		}
	}
}

type cancelAfter struct{ n int }

var errStop = errors.New("stop")

func (c *cancelAfter) Err() error {
	c.n--
	if c.n < 0 {
		return errStop
	}
	return nil
}

func TestOcclusionErrors(t *testing.T) {
	m := reluNet(t)
	x := reluInput()
	req := Request{Method: "occlusion", Target: Predicted(), Options: Options{"window": 2, "stride": 2}}
	for _, tt := range []struct {
		lo, hi int
		class  int
		want   string
	}{
		{0, 11, -1, "occlusion evaluations 0..11 are not a non-empty range within 0..10"},
		{3, 3, 0, "occlusion evaluations 3..3 are not"},
		{2, 5, -1, "exclude x (evaluation 0), so they need the class"},
	} {
		r := req
		r.Target.Class = tt.class
		if err := New(m).PartTo(new(Part), x, r, tt.lo, tt.hi); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("PartTo(%d, %d): %v, want %q", tt.lo, tt.hi, err, tt.want)
		}
	}
	part := func(class, lo, hi int) *Part {
		r := req
		r.Target.Class = class
		p := new(Part)
		if err := New(m).PartTo(p, x, r, lo, hi); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b := part(0, 0, 4), part(0, 4, 10)
	short := *b
	short.Sum = short.Sum[:2]
	for _, tt := range []struct {
		name  string
		class int
		parts []*Part
		want  string
	}{
		{"gap", 0, []*Part{a}, "no occlusion part starts at evaluation 4 of 0..10"},
		{"overlap", 0, []*Part{a, b, part(0, 3, 10)}, "3 occlusion parts, of which 2 cover"},
		{"classes", 0, []*Part{a, part(1, 4, 10)}, "the occlusion parts explain classes 0 and 1"},
		{"asked", 1, []*Part{a, b}, "an occlusion part explains class 0, want 1"},
		{"length", 0, []*Part{a, &short}, "xai: occlusion part 4..10 holds 2 values, want 6"},
	} {
		r := req
		r.Target.Class = tt.class
		var res Result
		if err := New(m).CombineTo(&res, x, r, tt.parts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	o := OcclusionOptions{Target: Predicted(), Window: 2, Stride: 2, Cancel: &cancelAfter{n: 3}}
	if _, err := New(m).Occlusion(x, o); !errors.Is(err, errStop) || !strings.Contains(err.Error(), "occlusion stopped after 3 of 10 passes") {
		t.Errorf("cancelled: %v", err)
	}
	if _, err := ParseOcclusionFill("grey"); err == nil || err.Error() != `xai: unknown occlusion fill "grey" (want black, blur or mean)` {
		t.Errorf("ParseOcclusionFill(grey): %v", err)
	}
}

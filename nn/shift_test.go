package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestBatchNormShift: the shift of a hand-made BatchNorm input, worked by
// hand. Channel 0 has moving mean 1 and variance 4 − ε (so σ = 2), channel
// 1 mean 0 and variance 1 − ε; the input's two positions are (3, 1) and
// (1, −1): z = (1, 1) and (0, −1), mean square 3/4.
func TestBatchNormShift(t *testing.T) {
	b := NewBatchNorm("bn", 2, 1e-3, 0.99)
	b.Mean.Value[0], b.Var.Value[0] = 1, 4-1e-3
	b.Var.Value[1] = 1 - 1e-3
	in := &Tensor{Shape: [4]int{1, 1, 2, 2}, Data: []float32{3, 1, 1, -1}}
	if got, want := b.Shift(in), math.Sqrt(0.75); math.Abs(got-want) > 1e-6 {
		t.Errorf("Shift = %v, want %v", got, want)
	}
}

// TestBatchNormShiftChannels: the shift over 5 and 7 channels (a tail of
// one and three after the groups of four), 64 channels, and an input of
// more than one wasm piece (64 Ki values), against the definition in
// float64.
func TestBatchNormShiftChannels(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, tt := range []struct{ h, w, c int }{{3, 4, 7}, {3, 4, 5}, {3, 4, 64}, {40, 41, 48}} {
		b := NewBatchNorm("bn", tt.c, 1e-3, 0.99)
		for k := range tt.c {
			b.Mean.Value[k], b.Var.Value[k] = float32(r.NormFloat64()), float32(0.1+r.Float64())
		}
		in := NewTensor(1, tt.h, tt.w, tt.c)
		var want float64
		for i := range in.Data {
			in.Data[i] = float32(2 * r.NormFloat64())
			k := i % tt.c
			z := (float64(in.Data[i]) - float64(b.Mean.Value[k])) / math.Sqrt(float64(b.Var.Value[k])+float64(b.Epsilon))
			want += z * z
		}
		want = math.Sqrt(want / float64(len(in.Data)))
		if got := b.Shift(in); math.Abs(got-want) > 1e-6*want {
			t.Errorf("%dx%dx%d: Shift = %v, want %v", tt.h, tt.w, tt.c, got, want)
		}
	}
}

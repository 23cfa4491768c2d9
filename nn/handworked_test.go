package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// A conv -> ReLU -> max-pool -> batch-norm chain on a 3x3 image, worked by
// hand. The kernel is the discrete Laplacian, applied as a cross-correlation
// with 'same' zero padding:
//
//	x = 1 2 3    K = 0  1 0    conv(x) =   2   1  -4
//	    4 5 6        1 -4 1               -3   0  -7
//	    7 8 9        0  1 0              -16 -11 -22
//
// ReLU keeps 2 and 1; the 2x2 'valid' pool (3 -> 1) takes max(2, 1, 0, 0) = 2
// from the top-left window; batch-norm with gamma 2, beta 1, mean 1,
// variance 3 and epsilon 1e-3 gives 2*s + 1 - s with s = 2/sqrt(3.001).
// Backward from dy = 1: the pool sends s to position (0,0) only, ReLU passes
// it, and the input gradient is K centred on (0,0) times s.
func TestHandWorkedChain(t *testing.T) {
	conv := NewConv2D("conv", 1, 1, 3, 3, 1, 1, Same, ReLU, true)
	copy(conv.Kernel.Value, []float32{0, 1, 0, 1, -4, 1, 0, 1, 0})
	pool := NewMaxPool2D("pool", 2, 2, 2, 2, Valid)
	bn := NewBatchNorm("bn", 1, 1e-3, 0.99)
	bn.Gamma.Value[0], bn.Beta.Value[0], bn.Mean.Value[0], bn.Var.Value[0] = 2, 1, 1, 3

	x := &Tensor{Shape: [4]int{1, 3, 3, 1}, Data: []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}}
	c := conv.Forward(x)
	wantConv := []float32{
		2, 1, 0,
		0, 0, 0,
		0, 0, 0,
	}
	for i, v := range wantConv {
		if c.Data[i] != v {
			t.Fatalf("conv+relu[%d] = %g, want %g (all: %v)", i, c.Data[i], v, c.Data)
		}
	}
	p := pool.Forward(c)
	if p.Shape != [4]int{1, 1, 1, 1} || p.Data[0] != 2 {
		t.Fatalf("pool = %v %v, want 1x1x1x1 [2]", p, p.Data)
	}
	y := bn.Forward(p)
	s := 2 / math.Sqrt(3.001)
	if got, want := float64(y.Data[0]), s+1; math.Abs(got-want) > 1e-6 {
		t.Fatalf("bn = %g, want %g", got, want)
	}

	dy := &Tensor{Shape: [4]int{1, 1, 1, 1}, Data: []float32{1}}
	dx := conv.Backward(pool.Backward(bn.Backward(dy)))
	wantDx := []float64{
		-4, 1, 0,
		1, 0, 0,
		0, 0, 0,
	}
	for i, v := range wantDx {
		if math.Abs(float64(dx.Data[i])-v*s) > 1e-6 {
			t.Errorf("dx[%d] = %g, want %g", i, dx.Data[i], v*s)
		}
	}
}

// TestMaxPoolTies checks the tie rule: the first maximum in row-major order
// (top-left, top-right, bottom-left, bottom-right) gets the whole gradient.
func TestMaxPoolTies(t *testing.T) {
	tests := []struct {
		window []float32 // 2x2, row-major
		want   int       // index that receives the gradient
	}{
		{[]float32{3, 3, 3, 1}, 0},
		{[]float32{1, 3, 3, 3}, 1},
		{[]float32{1, 0, 3, 3}, 2},
		{[]float32{0, 0, 0, 0}, 0},
		{[]float32{-1, -2, -3, -0.5}, 3},
	}
	for _, tt := range tests {
		pool := NewMaxPool2D("pool", 2, 2, 2, 2, Valid)
		x := &Tensor{Shape: [4]int{1, 2, 2, 1}, Data: tt.window}
		pool.Forward(x)
		dx := pool.Backward(&Tensor{Shape: [4]int{1, 1, 1, 1}, Data: []float32{5}})
		for i, v := range dx.Data {
			want := float32(0)
			if i == tt.want {
				want = 5
			}
			if v != want {
				t.Errorf("window %v: dx = %v, want the gradient at %d", tt.window, dx.Data, tt.want)
				break
			}
		}
	}
}

// TestWindow checks Keras's output sizes and 'same' padding split.
func TestWindow(t *testing.T) {
	tests := []struct {
		n, k, s     int
		pad         Padding
		out, before int
	}{
		{224, 3, 1, Same, 224, 1},
		{7, 2, 2, Valid, 3, 0},
		{6, 3, 2, Same, 3, 0}, // total padding 1: all of it after
		{5, 3, 2, Same, 3, 1},
		{5, 4, 1, Same, 5, 1}, // total 3: 1 before, 2 after
		{2, 3, 1, Valid, 0, 0},
	}
	for _, tt := range tests {
		out, before := window(tt.n, tt.k, tt.s, tt.pad)
		if out != tt.out || before != tt.before {
			t.Errorf("window(%d, %d, %d, %v) = %d, %d, want %d, %d", tt.n, tt.k, tt.s, tt.pad, out, before, tt.out, tt.before)
		}
	}
}

// TestPool2x2MatchesGeneral holds the 2x2 fast path to the general loop on
// inputs full of ties (small integers) and odd sizes.
func TestPool2x2MatchesGeneral(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, s := range [][4]int{{2, 7, 7, 3}, {1, 8, 6, 5}, {3, 5, 9, 1}} {
		x := NewTensor(s[0], s[1], s[2], s[3])
		for i := range x.Data {
			x.Data[i] = float32(rng.IntN(3))
		}
		m := NewMaxPool2D("p", 2, 2, 2, 2, Valid)
		oh, ow := s[1]/2, s[2]/2
		n := s[0] * oh * ow * s[3]
		y1, a1 := make([]float32, n), make([]int32, n)
		y2, a2 := make([]float32, n), make([]int32, n)
		pool2x2To(y1, a1, x.Data, s[0], s[1], s[2], s[3], oh, ow)
		m.poolTo(y2, a2, x.Data, s[0], s[1], s[2], s[3], oh, ow, 0, 0)
		for i := range y1 {
			if y1[i] != y2[i] || a1[i] != a2[i] {
				t.Fatalf("shape %v element %d: fast (%g at %d), general (%g at %d)", s, i, y1[i], a1[i], y2[i], a2[i])
			}
		}
	}
}

// TestUniformInputBitEqual: every position of a 'valid' convolution over a
// constant image sees the same window, so its outputs must be bit-equal,
// whichever tile (full or edge: the position counts are odd) computed it. Max-pool ties in uniform
// regions and at the all-zero Integrated-Gradients baseline depend on it.
func TestUniformInputBitEqual(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, s := range [][2]int{{3, 64}, {16, 8}, {64, 64}, {32, 16}} {
		in, out := s[0], s[1]
		for _, hw := range []int{9, 13, 31} { // 49, 121, 841 positions
			c := NewConv2D("c", in, out, 3, 3, 1, 1, Valid, ReLU, true)
			for i := range c.Kernel.Value {
				c.Kernel.Value[i] = rng.Float32()*2 - 1
			}
			for i := range c.Bias.Value {
				c.Bias.Value[i] = rng.Float32()
			}
			x := NewTensor(1, hw, hw, in)
			for i := range x.Data {
				x.Data[i] = 0.37
			}
			y := c.Forward(x)
			ref := y.Data[:out]
			for h := range hw - 2 {
				for w := range hw - 2 {
					got := y.Data[y.Offset(0, h, w, 0):][:out]
					for o := range out {
						if math.Float32bits(got[o]) != math.Float32bits(ref[o]) {
							t.Fatalf("in %d out %d size %d: position (%d,%d) channel %d = %g, position (0,0) = %g", in, out, hw, h, w, o, got[o], ref[o])
						}
					}
				}
			}
		}
	}
}

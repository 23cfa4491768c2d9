package nn

import (
	"math"
	"testing"
)

// TestSGDMomentumL2HandWorked follows two steps of Keras's SGD by hand:
// w = (1, -2), L2 0.5, data gradient (0.3, 0.1) both times, lr 0.1,
// momentum 0.9.
//
//	step 1: g = (0.3+1, 0.1-2) = (1.3, -1.9); v = (-0.13, 0.19); w = (0.87, -1.81)
//	step 2: g = (0.3+0.87, 0.1-1.81) = (1.17, -1.71)
//	        v = 0.9·(-0.13, 0.19) - 0.1·(1.17, -1.71) = (-0.234, 0.342)
//	        w = (0.636, -1.468)
func TestSGDMomentumL2HandWorked(t *testing.T) {
	p := &Param{Name: "d/kernel", Shape: []int{2}, Value: []float32{1, -2}, Grad: make([]float32, 2), Trainable: true, L2: 0.5}
	frozen := &Param{Name: "bn/moving_mean", Shape: []int{1}, Value: []float32{7}, Grad: nil}
	o := &SGD{LR: 0.1, Momentum: 0.9}
	want := [][]float32{{0.87, -1.81}, {0.636, -1.468}}
	for step, w := range want {
		copy(p.Grad, []float32{0.3, 0.1})
		o.Step([]*Param{p, frozen})
		for i := range w {
			if math.Abs(float64(p.Value[i]-w[i])) > 1e-6 {
				t.Errorf("step %d: w[%d] got %v, want %v", step+1, i, p.Value[i], w[i])
			}
		}
	}
	if frozen.Value[0] != 7 {
		t.Errorf("non-trainable parameter changed to %v", frozen.Value[0])
	}
	if v := o.Velocity[0]; math.Abs(float64(v[0]+0.234)) > 1e-6 || math.Abs(float64(v[1]-0.342)) > 1e-6 {
		t.Errorf("velocity got %v, want [-0.234 0.342]", v)
	}
}

// TestAdamFirstStep: after one step Adam's bias-corrected update is
// lr·m/(sqrt(v)+ε) with m = g, v = g², so every weight moves by lr·sign(g)
// up to ε. Hand-worked for g = (0.3, -0.1), lr 0.01: the move is
// 0.01·0.3/(0.3+1e-7) = 0.0099999967.
func TestAdamFirstStep(t *testing.T) {
	p := &Param{Name: "d/kernel", Shape: []int{2}, Value: []float32{1, -2}, Grad: []float32{0.3, -0.1}, Trainable: true}
	o := NewAdam(0.01)
	o.Step([]*Param{p})
	want := []float64{1 - 0.01*0.3/(0.3+1e-7), -2 + 0.01*0.1/(0.1+1e-7)}
	for i, w := range want {
		if math.Abs(float64(p.Value[i])-w) > 1e-6 {
			t.Errorf("w[%d] got %v, want %v", i, p.Value[i], w)
		}
	}
	if o.T != 1 {
		t.Errorf("step count %d, want 1", o.T)
	}
}

func TestL2Penalty(t *testing.T) {
	ps := []*Param{
		{Value: []float32{1, -2}, L2: 0.5},  // 0.5·5 = 2.5
		{Value: []float32{3}, L2: 0},        // none
		{Value: []float32{0.5, 0.5}, L2: 2}, // 2·0.5 = 1
	}
	if got := L2Penalty(ps); math.Abs(got-3.5) > 1e-12 {
		t.Errorf("got %v, want 3.5", got)
	}
}

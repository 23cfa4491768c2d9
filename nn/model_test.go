package nn

import "testing"

func TestMavisBuilds(t *testing.T) {
	m, err := BuildBuiltin("mavis")
	if err != nil {
		t.Fatal(err)
	}
	tr, other := m.CountParams()
	if tr != 132461 || other != 1012 {
		t.Errorf("mavis parameters: got %d trainable + %d other, want 132461 + 1012", tr, other)
	}
	x := m.NewInput(1)
	for i := range x.Data {
		x.Data[i] = float32(i % 255)
	}
	y := m.Forward(x)
	if y.Shape != [4]int{1, 1, 1, 5} {
		t.Fatalf("output shape %v, want 1x1x1x5", y)
	}
	var s float32
	for _, v := range y.Data {
		s += v
	}
	if s < 0.999 || s > 1.001 {
		t.Errorf("softmax sums to %g", s)
	}
	if got := m.Layers[m.Logits()].Name(); got != "dense_2" {
		t.Errorf("logits layer %q, want dense_2", got)
	}
	if i := m.Index("conv2d_7"); i < 0 || m.Shapes[i] != [3]int{7, 7, 8} {
		t.Errorf("conv2d_7 at %d", i)
	}
	dy := NewTensor(1, 1, 1, 5)
	dy.Data[2] = 1
	dx := m.Backward(dy, m.Logits(), 0)
	if dx.Shape != x.Shape {
		t.Errorf("input gradient %v, want %v", dx, x)
	}
}

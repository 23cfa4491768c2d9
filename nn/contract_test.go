package nn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// The layer contract, checked for every layer by checkLayer (in the style of
// gonum's testblas): Backward's input and parameter gradients agree with
// central finite differences of a random linear loss L = Σ w·y accumulated in
// float64, ⟨J·v, w⟩ = ⟨v, Jᵀ·w⟩ for a random direction v, and a batch of N
// gives the same outputs as N single runs.

// loss returns Σ w[i]*y[i] in float64.
func loss(y *Tensor, w []float64) float64 {
	var s float64
	for i, v := range y.Data {
		s += w[i] * float64(v)
	}
	return s
}

func randTensor(rng *rand.Rand, s [4]int, lo, hi float32) *Tensor {
	t := NewTensor(s[0], s[1], s[2], s[3])
	for i := range t.Data {
		t.Data[i] = lo + (hi-lo)*rng.Float32()
	}
	return t
}

// fdGrad returns the central difference dL/dv with step h, and whether the
// loss is smooth there: a kink (a ReLU sign or a max-pool winner changing
// inside [v-h, v+h]) shows as disagreement with the difference at step h/2,
// while on smooth stretches the two agree to O(h²).
func fdGrad(f func() float64, v *float32, h float32) (float64, bool) {
	central := func(h float32) float64 {
		old := *v
		*v = old + h
		lp := f()
		*v = old - h
		lm := f()
		*v = old
		return (lp - lm) / (2 * float64(*v+h-*v))
	}
	d1, d2 := central(h), central(h/2)
	return d2, math.Abs(d1-d2) <= 5e-4*(1+math.Abs(d2))
}

// checkLayer checks l's gradients at a random input of shape s.
func checkLayer(t *testing.T, l Layer, s [4]int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, uint64(s[1]*100+s[3])))
	x := randTensor(rng, s, -1, 1)
	var params []*Param
	if p, ok := l.(Parametric); ok {
		for _, q := range p.Params() {
			if q.Trainable {
				q.Grad = make([]float32, len(q.Value))
				params = append(params, q)
			}
		}
	}
	y := l.Forward(x)
	w := make([]float64, y.Len())
	dy := NewTensor(y.Shape[0], y.Shape[1], y.Shape[2], y.Shape[3])
	for i := range w {
		w[i] = rng.Float64()*2 - 1
		dy.Data[i] = float32(w[i])
	}
	dx := l.Backward(dy).Clone()
	f := func() float64 { return loss(l.Forward(x), w) }

	const h = 1e-2
	check := func(what string, vals, grads []float32) {
		t.Helper()
		skipped, checked := 0, 0
		var num, den float64
		step := max(1, len(vals)/60)
		for i := 0; i < len(vals); i += step {
			d, smooth := fdGrad(f, &vals[i], h)
			if !smooth {
				skipped++
				continue
			}
			checked++
			e := d - float64(grads[i])
			num += e * e
			den += d * d
			if math.Abs(e) > 2e-3*(1+math.Abs(d)) {
				t.Errorf("%s: %s[%d]: backward %g, finite difference %g", l.Name(), what, i, grads[i], d)
			}
		}
		if checked == 0 || skipped > checked/4+1 {
			t.Errorf("%s: %s: %d elements checked, %d skipped at kinks", l.Name(), what, checked, skipped)
		}
	}
	check("dx", x.Data, dx.Data)
	for _, p := range params {
		check(p.Name, p.Value, append([]float32(nil), p.Grad...))
		p.Grad = nil
	}

	// ⟨J·v, w⟩ by a directional difference, ⟨v, Jᵀ·w⟩ from Backward.
	v := randTensor(rng, s, -1, 1)
	xp, xm := x.Clone(), x.Clone()
	const eps = 1e-3
	for i := range v.Data {
		xp.Data[i] += eps * v.Data[i]
		xm.Data[i] -= eps * v.Data[i]
	}
	jv := (loss(l.Forward(xp), w) - loss(l.Forward(xm), w)) / (2 * eps)
	var vjw float64
	for i := range v.Data {
		vjw += float64(v.Data[i]) * float64(dx.Data[i])
	}
	if math.Abs(jv-vjw) > 1e-2*(1+math.Abs(jv)) {
		t.Errorf("%s: <Jv,w> = %g, <v,J'w> = %g", l.Name(), jv, vjw)
	}
}

// checkBatch checks that a batch of n gives the outputs of n single runs.
func checkBatch(t *testing.T, l Layer, s [4]int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(2, 3))
	x := randTensor(rng, s, -1, 1)
	y := l.Forward(x).Clone()
	for n := range s[0] {
		one := &Tensor{Shape: [4]int{1, s[1], s[2], s[3]}, Data: x.Sample(n)}
		yn := l.Forward(one)
		for i, v := range yn.Data {
			if got := y.Sample(n)[i]; math.Abs(float64(got-v)) > 1e-5*(1+math.Abs(float64(v))) {
				t.Fatalf("%s: batch sample %d element %d: %g, single run %g", l.Name(), n, i, got, v)
			}
		}
	}
}

func randomize(l Layer, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	p, ok := l.(Parametric)
	if !ok {
		return
	}
	for _, q := range p.Params() {
		for i := range q.Value {
			q.Value[i] = rng.Float32()*2 - 1
		}
		if strings.HasSuffix(q.Name, "moving_variance") {
			for i := range q.Value {
				q.Value[i] = 0.5 + rng.Float32()
			}
		}
	}
}

func TestLayerContract(t *testing.T) {
	bnTrain := NewBatchNorm("bn_train", 3, 1e-3, 0.99)
	bnTrain.SetTraining(true)
	tests := []struct {
		l     Layer
		shape [4]int
	}{
		{NewConv2D("conv_same_relu", 3, 4, 3, 3, 1, 1, Same, ReLU, true), [4]int{2, 5, 6, 3}},
		{NewConv2D("conv_valid_stride2", 2, 3, 3, 2, 2, 2, Valid, Linear, true), [4]int{1, 7, 6, 2}},
		{NewConv2D("conv_same_stride2_nobias", 2, 3, 3, 3, 2, 2, Same, Linear, false), [4]int{2, 6, 5, 2}},
		{NewConv2D("conv_1x1", 4, 2, 1, 1, 1, 1, Same, ReLU, true), [4]int{1, 3, 3, 4}},
		{NewBatchNorm("bn_infer", 3, 1e-3, 0.99), [4]int{2, 3, 4, 3}},
		{bnTrain, [4]int{3, 2, 2, 3}},
		{NewMaxPool2D("pool_valid", 2, 2, 2, 2, Valid), [4]int{2, 7, 7, 3}},
		{NewMaxPool2D("pool_same_3x3_s2", 3, 3, 2, 2, Same), [4]int{1, 5, 6, 2}},
		{NewDropout("dropout_infer", 0.5, 1), [4]int{2, 3, 3, 2}},
		{NewFlatten("flatten"), [4]int{2, 3, 3, 2}},
		{NewDense("dense_relu", 6, 5, ReLU, true), [4]int{3, 1, 1, 6}},
		{NewDense("dense_linear", 6, 4, Linear, false), [4]int{2, 1, 1, 6}},
		{NewDense("dense_softmax", 6, 4, Softmax, true), [4]int{2, 1, 1, 6}},
		{NewSoftmax("softmax"), [4]int{2, 1, 1, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.l.Name(), func(t *testing.T) {
			randomize(tt.l, 11)
			if _, err := tt.l.OutputShape([3]int{tt.shape[1], tt.shape[2], tt.shape[3]}); err != nil {
				t.Fatal(err)
			}
			checkLayer(t, tt.l, tt.shape)
			if tt.l != bnTrain {
				checkBatch(t, tt.l, tt.shape)
			}
		})
	}
}

// TestDropoutTraining checks inverted dropout: kept elements are scaled by
// 1/(1-rate), the drop fraction is near the rate, Backward applies the same
// mask, and the same seed repeats the same mask.
func TestDropoutTraining(t *testing.T) {
	mask := func() []float32 {
		d := NewDropout("d", 0.25, 42)
		d.SetTraining(true)
		x := NewTensor(1, 40, 50, 5)
		for i := range x.Data {
			x.Data[i] = 2
		}
		y := d.Forward(x).Clone()
		dy := NewTensor(1, 40, 50, 5)
		for i := range dy.Data {
			dy.Data[i] = 3
		}
		dx := d.Backward(dy)
		zeros := 0
		for i, v := range y.Data {
			switch v {
			case 0:
				zeros++
				if dx.Data[i] != 0 {
					t.Fatalf("element %d dropped forward but gradient %g", i, dx.Data[i])
				}
			case 2 / 0.75:
				if dx.Data[i] != 3/0.75 {
					t.Fatalf("element %d kept, gradient %g, want 4", i, dx.Data[i])
				}
			default:
				t.Fatalf("element %d: %g, want 0 or %g", i, v, 2/0.75)
			}
		}
		if f := float64(zeros) / float64(len(y.Data)); math.Abs(f-0.25) > 0.02 {
			t.Errorf("dropped fraction %.3f, want 0.25", f)
		}
		return y.Data
	}
	a, b := mask(), mask()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different masks at %d", i)
		}
	}
}

// TestBatchNormMoving checks the moving-statistics update of training mode
// against a hand computation: batch mean 2.5 and biased variance 1.25 of
// {1,2,3,4}, momentum 0.9, from mean 0 and variance 1.
func TestBatchNormMoving(t *testing.T) {
	b := NewBatchNorm("bn", 1, 1e-3, 0.9)
	b.SetTraining(true)
	x := &Tensor{Shape: [4]int{4, 1, 1, 1}, Data: []float32{1, 2, 3, 4}}
	y := b.Forward(x)
	if got, want := b.Mean.Value[0], float32(0.25); math.Abs(float64(got-want)) > 1e-6 {
		t.Errorf("moving mean %g, want %g", got, want)
	}
	if got, want := b.Var.Value[0], float32(0.9+0.1*1.25); math.Abs(float64(got-want)) > 1e-6 {
		t.Errorf("moving variance %g, want %g", got, want)
	}
	want := (1 - 2.5) / math.Sqrt(1.25+1e-3)
	if math.Abs(float64(y.Data[0])-want) > 1e-5 {
		t.Errorf("y[0] = %g, want %g", y.Data[0], want)
	}
}

func TestActivationLayers(t *testing.T) {
	for _, l := range []Layer{NewActivation("relu", ReLU), NewActivation("linear", Linear)} {
		t.Run(l.Name(), func(t *testing.T) {
			checkLayer(t, l, [4]int{2, 3, 3, 2})
			checkBatch(t, l, [4]int{2, 3, 3, 2})
		})
	}
	s, err := ParseSpec([]byte(`{"input":[4,4,1],"layers":[
		{"class":"Conv2D","name":"c","config":{"filters":2,"kernel_size":[3,3]}},
		{"class":"ReLU","name":"r"},{"class":"Activation","name":"a","config":{"activation":"linear"}},
		{"class":"Flatten","name":"f"},{"class":"Dense","name":"d","config":{"units":3}},
		{"class":"Activation","name":"s","config":{"activation":"softmax"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Logits(); got != 4 {
		t.Errorf("Logits() = %d, want 4 (the Dense before the softmax Activation)", got)
	}
	if _, ok := m.Layers[1].(*ActivationLayer); !ok {
		t.Errorf("ReLU built as %T", m.Layers[1])
	}
}

package nn

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// forwardFromModel is a small CNN with every kind of layer between a
// convolution and the logits, seeded weights and nonzero biases and
// batch-norm statistics, so that ReLUs cut and pools choose.
func forwardFromModel(t *testing.T) *Model {
	t.Helper()
	m, err := Build(Spec{Name: "from", Input: [3]int{8, 8, 3}, Layers: []LayerSpec{
		{Class: "Conv2D", Name: "c1", Config: LayerConfig{Filters: 4, KernelSize: []int{3, 3}, Padding: "same", Activation: "relu"}},
		{Class: "BatchNormalization", Name: "bn1"},
		{Class: "MaxPooling2D", Name: "p1", Config: LayerConfig{PoolSize: []int{2, 2}}},
		{Class: "Conv2D", Name: "c2", Config: LayerConfig{Filters: 3, KernelSize: []int{3, 3}, Padding: "same", Activation: "relu"}},
		{Class: "Dropout", Name: "drop", Config: LayerConfig{Rate: 0.5}},
		{Class: "Flatten", Name: "flat"},
		{Class: "Dense", Name: "d", Config: LayerConfig{Units: 5, Activation: "softmax"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	Init(m, 7)
	rng := rand.New(rand.NewPCG(7, 8))
	for _, p := range m.Params() {
		switch {
		case strings.HasSuffix(p.Name, "bias"), p.Name == "bn1/beta", p.Name == "bn1/moving_mean":
			for i := range p.Value {
				p.Value[i] = float32(rng.Float64()*0.4 - 0.1)
			}
		case p.Name == "bn1/gamma", p.Name == "bn1/moving_variance":
			for i := range p.Value {
				p.Value[i] = float32(0.5 + rng.Float64())
			}
		}
	}
	return m
}

func randomInput(m *Model, n int, seed uint64) *Tensor {
	x := m.NewInput(n)
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range x.Data {
		x.Data[i] = float32(rng.Float64()*2 - 1)
	}
	return x
}

// TestForwardFrom checks that running the layers after layer l on a copy
// of its output gives the full pass's outputs bit for bit, at every l and
// batch size, and that a Backward stopping at l+1 gives the full pass's
// gradient at layer l's output.
func TestForwardFrom(t *testing.T) {
	m := forwardFromModel(t)
	last := m.Logits()
	for _, n := range []int{1, 3} {
		x := randomInput(m, n, uint64(n))
		want := m.ForwardTo(x, last).Clone()
		outs := make([]*Tensor, last+1)
		for i := range outs {
			outs[i] = m.Output(i).Clone()
		}
		dy := NewTensor(n, 1, 1, 5)
		for i := range dy.Data {
			dy.Data[i] = float32(i%5) - 2
		}
		m.Backward(dy, last, 0)
		grads := make([]*Tensor, last+1)
		for i := range grads {
			grads[i] = m.Grad(i).Clone()
		}
		if got := m.ForwardFrom(x.Clone(), 0, last); !slices.Equal(got.Data, want.Data) {
			t.Errorf("batch %d: ForwardFrom(x, 0, %d) = %v, want ForwardTo's %v", n, last, got.Data, want.Data)
		}
		for l := 0; l < last; l++ {
			got := m.ForwardFrom(outs[l].Clone(), l+1, last)
			if got.Shape != want.Shape || !slices.Equal(got.Data, want.Data) {
				t.Errorf("batch %d: from %s: logits %v, want %v", n, m.Layers[l+1].Name(), got.Data, want.Data)
			}
			for i := l + 1; i <= last; i++ {
				if !slices.Equal(m.Output(i).Data, outs[i].Data) {
					t.Errorf("batch %d: from %s: output of %s differs from the full pass's", n, m.Layers[l+1].Name(), m.Layers[i].Name())
				}
			}
			m.Backward(dy, last, l+1)
			if !slices.Equal(m.Grad(l).Data, grads[l].Data) {
				t.Errorf("batch %d: from %s: gradient at %s's output differs from the full pass's", n, m.Layers[l+1].Name(), m.Layers[l].Name())
			}
		}
	}
}

// TestForwardFromChanged zeroes channel k of a convolution's output in one
// sample of a batch and runs the rest of the network from there. The truth
// is a second model whose convolution has channel k's kernel and bias set
// to zero: its ReLU output there is 0, the rest is unchanged.
func TestForwardFromChanged(t *testing.T) {
	m := forwardFromModel(t)
	last := m.Logits()
	x := randomInput(m, 1, 9)
	for _, layer := range []string{"c1", "c2"} {
		l := m.Index(layer)
		conv := m.Layers[l].(*Conv2D)
		m.ForwardTo(x, l)
		a := m.Output(l)
		per := a.SampleLen()
		batch := NewTensor(conv.Out, a.Shape[1], a.Shape[2], a.Shape[3])
		for k := range conv.Out {
			s := batch.Sample(k)
			copy(s, a.Data[:per])
			for p := k; p < per; p += conv.Out {
				s[p] = 0
			}
		}
		full := m.ForwardTo(x, last).Clone()
		got := m.ForwardFrom(batch, l+1, last).Clone()
		changed := 0
		for k := range conv.Out {
			if !slices.Equal(got.Sample(k), full.Data) {
				changed++
			}
			ref := forwardFromModel(t)
			rc := ref.Layers[l].(*Conv2D)
			for i := k; i < len(rc.Kernel.Value); i += conv.Out {
				rc.Kernel.Value[i] = 0
			}
			rc.Bias.Value[k] = 0
			want := ref.ForwardTo(x, last)
			if g := got.Sample(k); !slices.Equal(g, want.Data) {
				t.Errorf("%s channel %d zeroed: logits %v, want %v", layer, k, g, want.Data)
			}
		}
		if changed < 2 {
			t.Errorf("%s: zeroing a channel changed the logits %d times: the test needs live channels", layer, changed)
		}
	}
}

func TestForwardFromPanics(t *testing.T) {
	m := forwardFromModel(t)
	for _, tt := range []struct {
		name        string
		a           *Tensor
		first, last int
		want        string
	}{
		{"wrong shape", NewTensor(1, 8, 8, 3), 3, 5, "ForwardFrom: input 1x8x8x3 to layer c2, want Nx4x4x4"},
		{"backwards", NewTensor(1, 4, 4, 4), 3, 2, "ForwardFrom layer 3 to 2 of 8"},
		{"past the end", NewTensor(1, 4, 4, 4), 3, 8, "ForwardFrom layer 3 to 8 of 8"},
	} {
		func() {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tt.want) {
					t.Errorf("%s: panic %v, want %q", tt.name, r, tt.want)
				}
			}()
			m.ForwardFrom(tt.a, tt.first, tt.last)
		}()
	}
}

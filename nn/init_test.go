package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestFans(t *testing.T) {
	for _, tt := range []struct {
		shape       []int
		fanIn, fout int
	}{
		{[]int{3, 3, 16, 32}, 144, 288},
		{[]int{1568, 64}, 1568, 64},
		{[]int{10}, 10, 10},
	} {
		in, out := fans(tt.shape)
		if in != tt.fanIn || out != tt.fout {
			t.Errorf("fans(%v) got (%d, %d), want (%d, %d)", tt.shape, in, out, tt.fanIn, tt.fout)
		}
	}
}

// TestGlorotUniformMoments: uniform on [-a, a] has variance a²/3, with
// a = sqrt(6/(fan_in+fan_out)); 30000 draws hold the variance within 3%.
func TestGlorotUniformMoments(t *testing.T) {
	p := newParam("d", "kernel", true, 300, 100)
	GlorotUniform(p, rand.New(rand.NewPCG(1, 2)))
	a := math.Sqrt(6.0 / 400)
	var s, s2, mx float64
	for _, v := range p.Value {
		x := float64(v)
		s += x
		s2 += x * x
		mx = max(mx, math.Abs(x))
	}
	n := float64(len(p.Value))
	if mx > a || mx < 0.99*a {
		t.Errorf("max |w| %v, want just under %v", mx, a)
	}
	if mean := s / n; math.Abs(mean) > 0.01*a {
		t.Errorf("mean %v, want ~0", mean)
	}
	if v := s2 / n; math.Abs(v-a*a/3) > 0.03*a*a/3 {
		t.Errorf("variance %v, want %v", v, a*a/3)
	}
}

func TestInitSeeded(t *testing.T) {
	build := func(seed uint64) *Model {
		m, err := BuildBuiltin("fashion")
		if err != nil {
			t.Fatal(err)
		}
		Init(m, seed)
		return m
	}
	a, b, c := build(7), build(7), build(8)
	for i, p := range a.Params() {
		q, r := b.Params()[i], c.Params()[i]
		if !slices.Equal(p.Value, q.Value) {
			t.Errorf("%s differs between two runs with seed 7", p.Name)
		}
		if len(p.Shape) > 1 && slices.Equal(p.Value, r.Value) {
			t.Errorf("%s is the same for seeds 7 and 8", p.Name)
		}
	}
	if bn := a.Param("batch_normalization/gamma"); bn.Value[0] != 1 {
		t.Errorf("gamma %v, want 1", bn.Value[0])
	}
}

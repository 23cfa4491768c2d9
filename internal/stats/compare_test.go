package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// synthetic returns per-method scores on n images where the truth is
// known: every image has a difficulty shared by all methods (paired
// data), and method m adds shift[m] and its own noise (sd 0.2).
// copyOf[m] ≥ 0 makes method m an exact copy of method copyOf[m].
func synthetic(seed uint64, n int, shift []float64, copyOf []int) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 99))
	base := make([]float64, n)
	for i := range base {
		base[i] = rng.NormFloat64()
	}
	x := make([][]float64, len(shift))
	for m := range x {
		if copyOf != nil && copyOf[m] >= 0 {
			x[m] = slices.Clone(x[copyOf[m]])
			continue
		}
		x[m] = make([]float64, n)
		for i := range x[m] {
			x[m][i] = base[i] + shift[m] + 0.2*rng.NormFloat64()
		}
	}
	return x
}

// TestCompareKnownTruth: method 0 is better by 0.3 on every image; 1 and
// 2 are drawn alike; 3 is an exact copy of 1. Over 20 data sets the
// comparison must always say that 0 is better than each of the others
// and that 1 and 3 are indistinguishable, and may call 1 and 2 different
// only as often as the family-wise error rate allows (about 1 in 20;
// the test allows 2).
func TestCompareKnownTruth(t *testing.T) {
	const alpha = 0.05
	var falseAlarms int
	for seed := range uint64(20) {
		x := synthetic(seed, 300, []float64{0.3, 0, 0, 0}, []int{-1, -1, -1, 1})
		c, err := Compare(x, alpha)
		if err != nil {
			t.Fatal(err)
		}
		if c.Best != 0 || !slices.Equal(c.Top, []int{0}) || c.Order[0] != 0 {
			t.Errorf("seed %d: best %d, top %v, order %v, want 0, [0], 0 first", seed, c.Best, c.Top, c.Order)
		}
		for _, b := range []int{1, 2, 3} {
			pr := c.Pair(0, b)
			if pr.Better != 0 || pr.PHolm > alpha || pr.RankBiserial < 0.5 || math.Abs(pr.MedianDiff-0.3) > 0.06 {
				t.Errorf("seed %d: 0 vs %d: better %d, Holm p %.3g, rank-biserial %.3f, median difference %.3f; want 0, ≤ %v, > 0.5, 0.3 ± 0.06",
					seed, b, pr.Better, pr.PHolm, pr.RankBiserial, pr.MedianDiff, alpha)
			}
		}
		if pr := c.Pair(1, 3); pr.Better != -1 || pr.N != 0 || pr.Zeros != 300 || !math.IsNaN(pr.P) {
			t.Errorf("seed %d: a method and its copy: %+v, want indistinguishable, 300 zero differences, P NaN", seed, pr)
		}
		if c.Pair(1, 2).Better != -1 {
			falseAlarms++
		}
	}
	t.Logf("methods drawn alike called different in %d of 20 data sets", falseAlarms)
	if falseAlarms > 2 {
		t.Errorf("methods drawn alike called different in %d of 20 data sets, want at most 2", falseAlarms)
	}
}

// TestCompareTiedTop: two methods drawn alike lead a third by 0.3; the
// top group holds both, the higher mean first.
func TestCompareTiedTop(t *testing.T) {
	x := synthetic(5, 300, []float64{0, 0.3, 0.3}, nil)
	c, err := Compare(x, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{1, 2}
	if c.Mean[2] > c.Mean[1] {
		want = []int{2, 1}
	}
	if c.Best != want[0] || !slices.Equal(c.Top, want) || c.Order[2] != 0 {
		t.Errorf("best %d, top %v, order %v; want %d, %v, 0 last (means %v)", c.Best, c.Top, c.Order, want[0], want, c.Mean)
	}
	if pr := c.Pair(1, 2); pr.Better != -1 {
		t.Errorf("1 vs 2: better %d (Holm p %.3g), want indistinguishable", pr.Better, pr.PHolm)
	}
}

// TestCompareMeanDisagrees: method 0 loses 0.1 to method 1 on 90 images
// and wins by 5 on 10, so its mean is higher (by 0.41) but the signed-rank
// test, which weighs how often and by how much in rank, says method 1 is
// better: W+ = 91 + … + 100 = 955, W− = 1 + … + 90 = 4095. The best is
// then method 1, the higher mean among the methods nothing beats.
func TestCompareMeanDisagrees(t *testing.T) {
	x := synthetic(1, 100, []float64{0, 0}, []int{-1, 0})
	for i := range x[0] {
		x[0][i] -= 0.1
		if i%10 == 0 {
			x[0][i] += 5.1 + float64(i)/1000 // distinct differences
		}
	}
	c, err := Compare(x, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	pr := c.Pair(0, 1)
	if pr.WPlus != 955 || pr.WMinus != 4095 || pr.Better != 1 {
		t.Errorf("0 vs 1: W+ %v W− %v better %d, want 955 4095 1", pr.WPlus, pr.WMinus, pr.Better)
	}
	if c.Order[0] != 0 || c.Best != 1 || !slices.Equal(c.Top, []int{1}) {
		t.Errorf("order %v best %d top %v, want 0 first by mean, best 1, top [1]", c.Order, c.Best, c.Top)
	}
}

// TestCompareMissing: the pairs use the images both methods have; a
// method with no score is ordered last and is in no top group.
func TestCompareMissing(t *testing.T) {
	x := synthetic(2, 100, []float64{0.3, 0, 0}, nil)
	for i := 0; i < 10; i++ {
		x[0][i] = math.NaN()   // images 0..9
		x[1][i+5] = math.NaN() // images 5..14
	}
	for i := range x[2] {
		x[2][i] = math.NaN()
	}
	c, err := Compare(x, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	pr := c.Pair(0, 1)
	if pr.N+pr.Zeros != 85 || pr.Missing != 15 || pr.Better != 0 {
		t.Errorf("0 vs 1: %d pairs, %d missing, better %d; want 85, 15, 0", pr.N+pr.Zeros, pr.Missing, pr.Better)
	}
	if pr := c.Pair(2, 0); pr.Missing != 100 || !math.IsNaN(pr.P) || !math.IsNaN(pr.PHolm) || pr.Better != -1 {
		t.Errorf("2 vs 0: %+v, want 100 missing, P NaN, indistinguishable", pr)
	}
	if !math.IsNaN(c.Mean[2]) || c.Order[2] != 2 || c.Best != 0 || !slices.Equal(c.Top, []int{0}) {
		t.Errorf("means %v order %v best %d top %v, want mean 2 NaN and last, best 0, top [0]", c.Mean, c.Order, c.Best, c.Top)
	}
	// Holm counted the one pair with a p-value: its adjusted p is its p.
	if pr := c.Pair(0, 1); pr.PHolm != pr.P {
		t.Errorf("Holm p %v, want P %v (one test in the family)", pr.PHolm, pr.P)
	}
}

// TestComparePairs checks the lookup and orientation of pairs and the
// Holm adjustment over the whole family.
func TestComparePairs(t *testing.T) {
	x := synthetic(3, 40, []float64{0, 0.1, 0.2, 0.3, 0.4}, nil)
	c, err := Compare(x, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Pairs) != 10 {
		t.Fatalf("%d pairs, want 10", len(c.Pairs))
	}
	var ps []float64
	for _, pr := range c.Pairs {
		ps = append(ps, pr.P)
	}
	holm := Holm(ps)
	for k, pr := range c.Pairs {
		if pr.PHolm != holm[k] {
			t.Errorf("pair %d-%d: Holm p %v, want %v", pr.A, pr.B, pr.PHolm, holm[k])
		}
	}
	for a := range 5 {
		for b := range 5 {
			if a == b {
				continue
			}
			pr, want := c.Pair(a, b), Wilcoxon(x[a], x[b])
			if pr.A != a || pr.B != b || pr.SignedRank != want {
				t.Errorf("Pair(%d, %d) = %+v, want A %d B %d and %+v", a, b, pr, a, b, want)
			}
		}
	}
}

// TestCompareEdges checks empty and single-row inputs and the errors.
func TestCompareEdges(t *testing.T) {
	c, err := Compare(nil, 0.05)
	if err != nil || c.Best != -1 || len(c.Pairs) != 0 || len(c.Top) != 0 {
		t.Errorf("no rows: %+v, %v; want best −1, no pairs", c, err)
	}
	c, err = Compare([][]float64{{1, 2}}, 0.05)
	if err != nil || c.Best != 0 || !slices.Equal(c.Top, []int{0}) {
		t.Errorf("one row: %+v, %v; want best 0, top [0]", c, err)
	}
	for _, tt := range []struct {
		name   string
		scores [][]float64
		alpha  float64
		want   string
	}{
		{"alpha 0", nil, 0, "stats: compare: significance level 0 is not in (0, 1)"},
		{"alpha 5", nil, 5, "significance level 5"},
		{"alpha NaN", nil, math.NaN(), "significance level NaN"},
		{"infinite", [][]float64{{1, math.Inf(1)}, {1, 2}}, 0.05, "stats: compare: row 0, column 1 is +Inf"},
	} {
		if _, err := Compare(tt.scores, tt.alpha); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

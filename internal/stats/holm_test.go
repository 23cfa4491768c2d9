package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestHolmHandWorked checks Holm's adjustment on small lists done by hand.
func TestHolmHandWorked(t *testing.T) {
	nan := math.NaN()
	for _, tt := range []struct {
		name    string
		p, want []float64
	}{
		// Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 =
		// 0.04 → raised to the running maximum 0.06.
		{"four", []float64{0.01, 0.04, 0.03, 0.005}, []float64{0.03, 0.06, 0.06, 0.02}},
		// 0.04·2 = 0.08, then 0.045·1 = 0.045 < 0.08: monotone, 0.08.
		{"running max", []float64{0.045, 0.04}, []float64{0.08, 0.08}},
		// 0.3·3 = 0.9, 0.5·2 = 1, 0.6·1 → 1: capped at 1.
		{"cap", []float64{0.6, 0.3, 0.5}, []float64{1, 0.9, 1}},
		// NaN is not a test: m = 2.
		{"NaN", []float64{0.01, nan, 0.02}, []float64{0.02, nan, 0.02}},
		{"ties", []float64{0.01, 0.01}, []float64{0.02, 0.02}},
		{"one", []float64{0.2}, []float64{0.2}},
		{"empty", nil, []float64{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := slices.Clone(tt.p)
			got := Holm(p)
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if !near(got[i], tt.want[i], 1e-15) {
					t.Errorf("got %v, want %v", got, tt.want)
					break
				}
			}
			if !slices.EqualFunc(p, tt.p, func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }) {
				t.Errorf("Holm modified its input: %v, was %v", p, tt.p)
			}
		})
	}
}

// TestHolmFamilyWise checks the point of Holm's method: with every null
// true (independent uniform p-values), some adjusted p-value is at most
// alpha in at most about alpha of the families (the bound is alpha plus
// three binomial standard errors), where unadjusted p-values would give
// 1 − 0.95^10 ≈ 40%.
func TestHolmFamilyWise(t *testing.T) {
	const families, m, alpha = 4000, 10, 0.05
	rng := rand.New(rand.NewPCG(1979, 0))
	p := make([]float64, m)
	var any int
	for range families {
		for i := range p {
			p[i] = rng.Float64()
		}
		if slices.Min(Holm(p)) <= alpha {
			any++
		}
	}
	rate := float64(any) / families
	t.Logf("family-wise error rate %.4f at alpha %v", rate, alpha)
	if tol := 3 * math.Sqrt(alpha*(1-alpha)/families); rate > alpha+tol {
		t.Errorf("family-wise error rate %.4f, want at most %v + %.4f", rate, alpha, tol)
	}
}

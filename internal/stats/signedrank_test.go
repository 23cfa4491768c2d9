package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestWilcoxonHandWorked checks the signed-rank statistic and p-value on
// small samples worked out by hand.
func TestWilcoxonHandWorked(t *testing.T) {
	for _, tt := range []struct {
		name          string
		d             []float64
		n, zeros      int
		wPlus, wMinus float64
		exact         bool
		p, rb         float64
	}{
		// |d| = 1 2 3 4 5 ranks 1..5; W− = 1 (the −1), W+ = 14. Subsets of
		// {1..5} summing to at most 1: {} and {1}, so Pr(W ≤ 1) = 2/32 and
		// P = 4/32. Rank-biserial (14 − 1)/15.
		{"n=5", []float64{-1, 2, 3, 4, 5}, 5, 0, 14, 1, true, 4.0 / 32, 13.0 / 15},
		// All six positive: W− = 0, Pr(W ≤ 0) = 1/64, P = 2/64.
		{"n=6 all positive", []float64{0.5, 1.5, 2.5, 3.5, 4.5, 5.5}, 6, 0, 21, 0, true, 2.0 / 64, 1},
		// W− = 3 (the −3): subsets of {1..8} summing to at most 3 are {},
		// {1}, {2}, {3}, {1,2}: Pr(W ≤ 3) = 5/256, P = 10/256.
		{"n=8", []float64{1, 2, -3, 4, 5, 6, 7, 8}, 8, 0, 33, 3, true, 10.0 / 256, 30.0 / 36},
		// The zeros are dropped, leaving the n=5 case (with signs
		// flipped: W+ = 1, W− = 14).
		{"zeros dropped", []float64{0, 1, -2, 0, -3, -4, -5, 0}, 5, 3, 1, 14, true, 4.0 / 32, -13.0 / 15},
		// W+ = 10.5 = N(N+1)/4 exactly: P = 1 (2 Pr(W ≤ 10) > 1).
		{"centre", []float64{1, -2, -3, 4, 5, -6}, 6, 0, 10, 11, true, 1, -1.0 / 21},
		// One difference: W ∈ {0, 1} with probability 1/2 each, P = 1.
		{"n=1", []float64{2}, 1, 0, 1, 0, true, 1, 1},
		// Ties force the normal approximation. |d| = 1 1 2 2 2 3 get ranks
		// 1.5 1.5 4 4 4 6; W+ = 19.5, W− = 1.5. μ = 6·7/4 = 10.5,
		// σ² = 6·7·13/24 − ((2³−2) + (3³−3))/48 = 22.75 − 0.625 = 22.125,
		// z = (9 − 0.5)/√22.125 = 1.80708, P = erfc(z/√2) = 0.0707499
		// (scipy.stats.wilcoxon(d, method="approx", correction=True):
		// 0.07074986707637762).
		{"ties", []float64{1, -1, 2, 2, 2, 3}, 6, 0, 19.5, 1.5, false, 0.07074986707637762, 18.0 / 21},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := Wilcoxon(tt.d, make([]float64, len(tt.d)))
			if r.N != tt.n || r.Zeros != tt.zeros || r.WPlus != tt.wPlus || r.WMinus != tt.wMinus || r.Exact != tt.exact {
				t.Errorf("got N=%d zeros=%d W+=%v W−=%v exact=%v, want %d %d %v %v %v",
					r.N, r.Zeros, r.WPlus, r.WMinus, r.Exact, tt.n, tt.zeros, tt.wPlus, tt.wMinus, tt.exact)
			}
			if !near(r.P, tt.p, 1e-12) {
				t.Errorf("P = %.17g, want %.17g", r.P, tt.p)
			}
			if !near(r.RankBiserial, tt.rb, 1e-12) {
				t.Errorf("rank-biserial = %v, want %v", r.RankBiserial, tt.rb)
			}
		})
	}
}

// TestWilcoxonTiesZ checks the approximation's statistic on the tied
// hand-worked case, and that swapping x and y only flips signs.
func TestWilcoxonTiesZ(t *testing.T) {
	d := []float64{1, -1, 2, 2, 2, 3}
	zero := make([]float64, len(d))
	r, s := Wilcoxon(d, zero), Wilcoxon(zero, d)
	if want := 8.5 / math.Sqrt(22.125); !near(r.Z, want, 1e-12) {
		t.Errorf("Z = %v, want %v", r.Z, want)
	}
	if s.Z != -r.Z || s.P != r.P || s.WPlus != r.WMinus || s.RankBiserial != -r.RankBiserial || s.MedianDiff != -r.MedianDiff {
		t.Errorf("swapped: %+v, want the mirror of %+v", s, r)
	}
	if r.MedianDiff != 2 {
		t.Errorf("median difference = %v, want 2", r.MedianDiff)
	}
}

// TestWilcoxonScipy holds Wilcoxon to scipy.stats.wilcoxon (Debian
// bookworm's python3-scipy 1.10.1), run by testdata/wilcoxon_ref.py,
// which printed these rows: statistic min(W+, W−), two-sided p-value and,
// for the approximation (method="approx", correction=True), z. The exact
// cases are scipy's default; "zeros dropped" is scipy on the non-zero
// differences (its default turns to the approximation when there are
// zeros).
func TestWilcoxonScipy(t *testing.T) {
	for _, tt := range []struct {
		name    string
		x, y    []float64 // y nil: zero
		stat, p float64
		z       float64 // 0: exact
	}{
		{"exact n=10",
			[]float64{
				-0.431, 0.063, 1.394, 0.476, 1.526, 1.807, -0.444, 2.017, 0.404, 3.094,
			},
			[]float64{
				-1.46, 0.302, 0.893, -0.039, 0.896, 0.114, -1.277, 0.056, -0.53, 2.972,
			},
			2.0, 0.005859375, 0.0},
		{"exact n=50",
			[]float64{
				-0.524, -0.561, 1.205, 1.691, 2.443, 0.387, 1.078, 0.187, 0.578, -1.279,
				1.739, 0.277, 0.927, 1.446, 1.339, -0.314, 2.518, 1.757, 1.5, 0.34,
				-0.604, -0.63, 0.792, 1.161, 0.297, 2.829, 1.301, 1.999, 1.907, -0.07,
				1.994, 1.45, -0.269, 1.723, 2.072, 1.977, 2.052, -0.41, 0.753, 0.454,
				1.054, 1.106, 2.126, 1.752, 0.171, 1.901, 2.626, 1.306, -0.506, 0.355,
			},
			[]float64{
				-0.744, 0.662, 0.943, 2.564, 1.25, -0.697, 0.754, 1.042, -0.111, -1.042,
				2.027, -1.233, 1.284, 2.423, 0.149, -2.492, 0.509, 0.576, -0.992, 0.296,
				-3.179, -3.128, 0.734, 0.348, 1.184, 3.455, 0.335, 2.763, 1.292, -0.933,
				1.454, 0.072, -2.626, 1.127, 0.65, 0.063, 2.089, -0.161, 2.766, -0.398,
				-0.423, 0.245, -0.401, -0.206, -1.074, 1.51, 3.077, 0.767, -1.438, -0.009,
			},
			266.0, 0.00021178724761483636, 0.0},
		{"zeros dropped, exact",
			[]float64{
				0.525, 0.445, 0.0, -0.88, 0.512, 0.0, 1.526, 1.534, 0.602, 0.0,
				-0.342, 1.999,
			},
			nil,
			7.0, 0.07421875, 0.0},
		{"approx n=60",
			[]float64{
				0.381, -0.536, 0.492, 0.952, 1.229, -0.565, 1.391, 0.093, -0.284, 1.44,
				0.889, 0.945, 0.4, -1.525, 0.729, 0.829, 0.155, 1.96, 0.403, 1.97,
				1.462, -0.39, -0.543, -0.03, 0.239, 0.977, -0.31, -0.756, 2.43, 0.33,
				0.586, 2.045, 0.42, -2.008, 0.785, -0.312, 1.303, -1.485, 0.5, 1.116,
				1.728, 1.285, 1.253, 0.313, 0.297, -0.68, 1.28, 1.868, 0.928, -0.547,
				-1.078, -0.195, 1.888, 0.49, -0.644, -0.031, 1.141, -0.329, -0.15, -0.213,
			},
			nil,
			477.0, 0.0012787734583926528, -3.220701313211598},
		{"approx ties and zeros n=25",
			[]float64{
				-0.3, 2.5, -0.2, 0.0, 1.8, 0.5, 0.2, 0.0, 0.6, 0.4,
				0.1, 0.2, 0.7, 2.3, 0.2, 1.4, 0.4, -0.4, -0.6, 0.9,
				-0.7, 1.0, 0.2, 2.3, -0.5,
			},
			nil,
			60.5, 0.018988740032191618, -2.345751948560703},
		{"approx ties n=80 null",
			[]float64{
				1.2, 1.5, 0.9, -0.4, 0.4, 0.2, -0.1, 1.0, 0.0, 0.3,
				1.2, 0.0, -0.3, 0.3, -0.4, -2.2, -0.4, -0.1, -1.1, -1.8,
				0.5, -0.6, 0.7, 0.5, 1.6, 0.7, 1.0, 1.4, -0.3, 1.2,
				1.3, -1.7, -1.0, 0.2, 1.8, -0.2, -1.2, -1.5, 0.4, 0.3,
				-0.6, 0.4, -0.3, 1.2, -1.3, -0.4, 1.2, -0.6, -0.8, -0.2,
				1.9, 0.3, 1.4, -0.9, -0.2, 0.7, 0.3, -0.5, -2.2, 0.6,
				0.8, 0.5, -1.7, -1.4, -0.6, -1.0, 1.1, -1.1, -0.3, -1.1,
				-1.7, 1.0, 0.2, -0.7, 0.0, -2.2, 1.6, -1.0, -1.9, -1.1,
			},
			nil,
			1427.5, 0.7088425062968473, -0.37341109071757767},
	} {
		t.Run(tt.name, func(t *testing.T) {
			y := tt.y
			if y == nil {
				y = make([]float64, len(tt.x))
			}
			r := Wilcoxon(tt.x, y)
			if got := min(r.WPlus, r.WMinus); got != tt.stat {
				t.Errorf("statistic = %v, want %v", got, tt.stat)
			}
			if n := float64(r.N); r.WPlus+r.WMinus != n*(n+1)/2 {
				t.Errorf("W+ + W− = %v, want N(N+1)/2 = %v", r.WPlus+r.WMinus, n*(n+1)/2)
			}
			if r.Exact != (tt.z == 0) {
				t.Errorf("exact = %v, want %v", r.Exact, tt.z == 0)
			}
			if !near(r.P, tt.p, 1e-10) {
				t.Errorf("P = %.17g, want %.17g", r.P, tt.p)
			}
			if !near(math.Abs(r.Z), math.Abs(tt.z), 1e-10) {
				t.Errorf("|Z| = %v, want %v", math.Abs(r.Z), math.Abs(tt.z))
			}
		})
	}
}

// TestSignedRankCDF checks the exact null distribution against the
// counts of subsets of {1..4} by sum, 1 1 1 2 2 2 2 2 1 1 1 for sums
// 0..10 (OEIS A053632, row 4), and that the distribution is symmetric
// and sums to 1 for a larger n.
func TestSignedRankCDF(t *testing.T) {
	counts := []float64{1, 1, 1, 2, 2, 2, 2, 2, 1, 1, 1}
	var cum float64
	for w, c := range counts {
		cum += c
		if got := signedRankCDF(4, w); got != cum/16 {
			t.Errorf("Pr(W ≤ %d | n=4) = %v, want %v", w, got, cum/16)
		}
	}
	const n = 40
	top := n * (n + 1) / 2
	for _, w := range []int{0, 100, 409, 410} {
		// Pr(W ≤ w) = Pr(W ≥ top − w) = 1 − Pr(W ≤ top − w − 1).
		if a, b := signedRankCDF(n, w), 1-signedRankCDF(n, top-w-1); !near(a, b, 1e-12) {
			t.Errorf("n=%d: Pr(W ≤ %d) = %v, 1 − Pr(W ≤ %d) = %v", n, w, a, top-w-1, b)
		}
	}
	if got := signedRankCDF(n, top); got != 1 {
		t.Errorf("Pr(W ≤ %d) = %v, want 1", top, got)
	}
}

// TestExactMeetsApprox checks that at ExactMax differences, where Wilcoxon
// switches from the exact p-value to the normal approximation, the two
// agree within 0.004 for every statistic (the largest gap, 0.0033, is at
// W = 560, P ≈ 0.5), and within 0.001 where P ≤ 0.1 (0.00093).
func TestExactMeetsApprox(t *testing.T) {
	n := float64(ExactMax)
	mu, sd := n*(n+1)/4, math.Sqrt(n*(n+1)*(2*n+1)/24)
	for w := 0; float64(w) <= mu; w++ {
		exact := min(1, 2*signedRankCDF(ExactMax, w))
		approx := min(1, math.Erfc(max(mu-float64(w)-0.5, 0)/sd/math.Sqrt2))
		tol := 0.004
		if exact <= 0.1 {
			tol = 0.001
		}
		if math.Abs(exact-approx) > tol {
			t.Errorf("W = %d of %d: exact P %.5f, approximate %.5f, want within %v", w, ExactMax, exact, approx, tol)
		}
	}
}

// TestWilcoxonNull checks that under a true null (differences symmetric
// about zero) the test rejects at most about alpha of the time, exact and
// approximate, with ties. The bound is alpha plus three binomial standard
// errors.
func TestWilcoxonNull(t *testing.T) {
	const reps, alpha = 2000, 0.05
	tol := 3 * math.Sqrt(alpha*(1-alpha)/reps)
	for _, tt := range []struct {
		name  string
		n     int
		round float64 // round the differences to this step (ties); 0: none
		exact bool
	}{
		{"exact n=20", 20, 0, true},
		{"approx n=80", 80, 0, false},
		{"approx n=40 ties", 40, 0.5, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(15, uint64(tt.n)))
			x, y := make([]float64, tt.n), make([]float64, tt.n)
			var rejected int
			for range reps {
				for i := range x {
					x[i] = rng.NormFloat64()
					if tt.round > 0 {
						x[i] = math.Round(x[i]/tt.round) * tt.round
					}
				}
				r := Wilcoxon(x, y)
				if r.Exact != tt.exact {
					t.Fatalf("exact = %v, want %v", r.Exact, tt.exact)
				}
				if r.P <= alpha {
					rejected++
				}
			}
			rate := float64(rejected) / reps
			t.Logf("false-positive rate %.4f at alpha %v over %d samples", rate, alpha, reps)
			if rate > alpha+tol {
				t.Errorf("false-positive rate %.4f, want at most %.2f + %.4f", rate, alpha, tol)
			}
			if rate < alpha/3 {
				t.Errorf("false-positive rate %.4f: far below alpha %.2f, the test has lost its power", rate, alpha)
			}
		})
	}
}

// TestWilcoxonMissing checks that NaN pairs are skipped and counted.
func TestWilcoxonMissing(t *testing.T) {
	nan := math.NaN()
	x := []float64{1, nan, 3, 4, 5, 6, math.Inf(1)}
	y := []float64{2, 0, nan, 0, 0, 0, math.Inf(1)}
	r := Wilcoxon(x, y)
	// d = −1 4 5 6 over the usable pairs; Inf − Inf is NaN: missing.
	if r.N != 4 || r.Missing != 3 || r.WMinus != 1 || r.WPlus != 9 {
		t.Errorf("got N=%d missing=%d W+=%v W−=%v, want 4 3 9 1", r.N, r.Missing, r.WPlus, r.WMinus)
	}
	if r.MedianDiff != 4.5 {
		t.Errorf("median difference %v, want 4.5", r.MedianDiff)
	}
	for _, tt := range []struct {
		name string
		x, y []float64
	}{
		{"empty", nil, nil},
		{"all NaN", []float64{nan, 1}, []float64{0, nan}},
		{"all equal", []float64{1, 2}, []float64{1, 2}},
	} {
		r := Wilcoxon(tt.x, tt.y)
		if r.N != 0 || !math.IsNaN(r.P) || !math.IsNaN(r.RankBiserial) {
			t.Errorf("%s: got N=%d P=%v r=%v, want 0, NaN, NaN", tt.name, r.N, r.P, r.RankBiserial)
		}
	}
}

// near reports whether a and b agree to the relative (or, near zero,
// absolute) tolerance tol; NaN equals NaN.
func near(a, b, tol float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= tol*max(1, math.Abs(b))
}

package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestBootstrapScipy holds the percentile and BCa intervals to
// scipy.stats.bootstrap (Debian bookworm's python3-scipy 1.10.1) on a
// skewed sample, as printed by testdata/bootstrap_ref.py: 4,000,000
// resamples each with random_state 1 and 2, whose bounds agreed to 0.003;
// the references are their means. With 200,000 resamples here the Monte
// Carlo error is about 0.007, and the tolerance, 0.03 (0.08 standard
// errors of the mean), is well below the gap between the two methods
// (0.11 at the lower bound, 0.29 at the upper).
func TestBootstrapScipy(t *testing.T) {
	x := []float64{0.955, 0.896, 0.214, 1.662, 2.676, 0.8, 3.843, 0.24, 1.298, 2.769,
		0.315, 0.497, 7.511, 0.221, 1.249, 0.486, 3.11, 0.408, 0.737, 0.519}
	const tol = 0.03
	for _, tt := range []struct {
		name   string
		bca    bool
		lo, hi float64
	}{
		// percentile seed 1: 0.86305 2.36015; seed 2: 0.86285 2.35815
		{"percentile", false, (0.86305 + 0.86285) / 2, (2.36015 + 2.35815) / 2},
		// BCa seed 1: 0.96985 2.64605; seed 2: 0.9695 2.64305
		{"BCa", true, (0.96985 + 0.9695) / 2, (2.64605 + 2.64305) / 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			iv, err := Bootstrap{Resamples: 200_000, Seed: 1, BCa: tt.bca}.Mean(x)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: [%.5f, %.5f], scipy [%.5f, %.5f]", tt.name, iv.Lo, iv.Hi, tt.lo, tt.hi)
			if !near(iv.Mean, 1.5203, 1e-12) || iv.N != 20 || iv.Missing != 0 {
				t.Errorf("mean %v N %d missing %d, want 1.5203 20 0", iv.Mean, iv.N, iv.Missing)
			}
			if math.Abs(iv.Lo-tt.lo) > tol || math.Abs(iv.Hi-tt.hi) > tol {
				t.Errorf("interval [%.5f, %.5f], want [%.5f, %.5f] ± %v", iv.Lo, iv.Hi, tt.lo, tt.hi, tol)
			}
		})
	}
}

// TestBootstrapExhaustive checks the Monte Carlo intervals against the
// ideal bootstrap of a sample of five, whose resampled mean takes each of
// the 5⁵ = 3125 ordered resamples with probability 1/3125: the percentile
// bounds are its α/2 and 1 − α/2 quantiles, and the BCa bounds its
// quantiles at levels computed here from that distribution (z0) and from
// the leave-one-out means (a, by the jackknife formula of Efron and
// Tibshirani 1993, ch. 14). A bound drawn from B
// resamples must lie between the ideal quantiles at levels q ± 4√(q(1 −
// q)/B).
func TestBootstrapExhaustive(t *testing.T) {
	x := []float64{1, 2, 4, 7, 11}
	n := len(x)
	var means []float64 // every ordered resample's mean
	for code := range 3125 {
		var s float64
		for c, j := code, 0; j < n; c, j = c/n, j+1 {
			s += x[c%n]
		}
		means = append(means, s/float64(n))
	}
	slices.Sort(means)
	ideal := func(q float64) float64 { // the q-quantile: smallest v with F(v) ≥ q
		return means[max(0, int(math.Ceil(q*float64(len(means))))-1)]
	}
	theta := 5.0
	// BCa's levels from the ideal distribution and the jackknife.
	var below float64
	for _, m := range means {
		if m < theta {
			below++
		} else if m == theta {
			below += 0.5
		}
	}
	z0 := normalQuantile(below / float64(len(means)))
	loo := make([]float64, n) // the leave-one-out means
	for i := range x {
		for j, v := range x {
			if j != i {
				loo[i] += v / float64(n-1)
			}
		}
	}
	var jack, num, den float64
	for _, l := range loo {
		jack += l / float64(n)
	}
	for _, l := range loo {
		num += (jack - l) * (jack - l) * (jack - l)
		den += (jack - l) * (jack - l)
	}
	a := num / (6 * math.Pow(den, 1.5))
	bcaLevel := func(q float64) float64 {
		z := z0 + normalQuantile(q)
		return normalCDF(z0 + z/(1-a*z))
	}
	const B = 100_000
	for _, bca := range []bool{false, true} {
		iv, err := Bootstrap{Resamples: B, Seed: 7, BCa: bca}.Mean(x)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range []struct {
			got, q float64
		}{{iv.Lo, 0.025}, {iv.Hi, 0.975}} {
			if bca {
				b.q = bcaLevel(b.q)
			}
			tol := 4 * math.Sqrt(b.q*(1-b.q)/B)
			if lo, hi := ideal(b.q-tol), ideal(b.q+tol); b.got < lo || b.got > hi {
				t.Errorf("BCa %v: bound %v at level %.4f, want within the ideal [%v, %v]", bca, b.got, b.q, lo, hi)
			}
		}
		t.Logf("BCa %v: [%v, %v] (z0 %.4f, a %.4f)", bca, iv.Lo, iv.Hi, z0, a)
	}
}

// TestBootstrapCoverage checks that the 95% interval covers the true mean
// of the distribution the sample was drawn from at about the nominal
// rate, over 1000 samples and seeds. For normal samples of 50 the
// percentile interval is about x̄ ± 1.96·s·√(49/50), whose coverage is
// Pr(|t₄₉| ≤ 1.96·√(49/50)) = 0.9419 (the percentile method's known
// small-sample shortfall): the test wants 0.9419 − 3 binomial standard
// errors to 0.95 + 3. For skewed (exponential) samples the percentile
// interval misses the mean more often above than below; BCa corrects
// for that (Efron 1987): the test wants its two miss rates closer to each
// other than the percentile interval's.
func TestBootstrapCoverage(t *testing.T) {
	const reps, n, level = 1000, 50, 0.95
	se := math.Sqrt(level * (1 - level) / reps)
	misses := func(bca bool, mu float64, draw func(*rand.Rand) float64) (below, above float64) {
		x := make([]float64, n)
		for s := range reps {
			rng := rand.New(rand.NewPCG(uint64(s), 1))
			for i := range x {
				x[i] = draw(rng)
			}
			iv, err := Bootstrap{Resamples: 1000, Seed: uint64(s), BCa: bca}.Mean(x)
			if err != nil {
				t.Fatal(err)
			}
			if mu < iv.Lo {
				below++
			}
			if mu > iv.Hi {
				above++
			}
		}
		return below / reps, above / reps
	}
	below, above := misses(false, 3, func(r *rand.Rand) float64 { return 3 + 2*r.NormFloat64() })
	cov := 1 - below - above
	t.Logf("percentile, normal: coverage %.4f (misses %.4f below, %.4f above)", cov, below, above)
	if cov < 0.9419-3*se || cov > level+3*se {
		t.Errorf("percentile coverage %.4f, want %.4f to %.4f", cov, 0.9419-3*se, level+3*se)
	}
	pb, pa := misses(false, 1, (*rand.Rand).ExpFloat64)
	bb, ba := misses(true, 1, (*rand.Rand).ExpFloat64)
	t.Logf("exponential: percentile misses %.4f below, %.4f above; BCa %.4f, %.4f", pb, pa, bb, ba)
	if math.Abs(ba-bb) >= math.Abs(pa-pb) {
		t.Errorf("BCa's misses %.4f below, %.4f above are no better balanced than the percentile interval's %.4f, %.4f", bb, ba, pb, pa)
	}
	if cov := 1 - bb - ba; cov < level-0.03 {
		t.Errorf("BCa coverage %.4f of the exponential mean, want at least %.2f", cov, level-0.03)
	}
}

// TestBootstrapEdges checks small, missing, constant and invalid inputs.
func TestBootstrapEdges(t *testing.T) {
	nan := math.NaN()
	for _, tt := range []struct {
		name       string
		x          []float64
		mean       float64
		lo, hi     float64
		n, missing int
	}{
		{"empty", nil, nan, nan, nan, 0, 0},
		{"all NaN", []float64{nan, nan}, nan, nan, nan, 0, 2},
		{"one", []float64{nan, 4, nan}, 4, nan, nan, 1, 2},
		{"constant", []float64{2.5, 2.5, nan, 2.5}, 2.5, 2.5, 2.5, 3, 1},
		// Two values: the resampled mean is 1, 1.5 or 2 with
		// probabilities 1/4, 1/2, 1/4, so the 95% interval is [1, 2].
		{"two", []float64{1, 2}, 1.5, 1, 2, 2, 0},
	} {
		for _, bca := range []bool{false, true} {
			iv, err := Bootstrap{BCa: bca}.Mean(tt.x)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if !near(iv.Mean, tt.mean, 0) || !near(iv.Lo, tt.lo, 0) || !near(iv.Hi, tt.hi, 0) || iv.N != tt.n || iv.Missing != tt.missing {
				t.Errorf("%s (BCa %v): got %+v, want mean %v [%v, %v] N %d missing %d", tt.name, bca, iv, tt.mean, tt.lo, tt.hi, tt.n, tt.missing)
			}
		}
	}
	for _, tt := range []struct {
		name string
		b    Bootstrap
		x    [][]float64
		want string
	}{
		{"level", Bootstrap{Level: 95}, nil, "confidence level 95 is not in (0, 1)"},
		{"negative level", Bootstrap{Level: -0.5}, nil, "confidence level -0.5"},
		{"NaN level", Bootstrap{Level: nan}, nil, "confidence level NaN"},
		{"resamples", Bootstrap{Resamples: -1}, nil, "-1 resamples is not in [1, 1000000]"},
		{"huge", Bootstrap{Resamples: 2_000_000}, nil, "2000000 resamples"},
		{"replicates", Bootstrap{Resamples: 1_000_000}, make([][]float64, 51), "51 rows x 1000000 resamples is too many"},
		{"infinite", Bootstrap{}, [][]float64{{1, 2}, {3, math.Inf(-1)}}, "row 1, column 1 is -Inf (only NaN may mark a missing value)"},
	} {
		_, err := tt.b.Means(tt.x)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "stats: ") {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

// TestRaggedPanics: rows of different lengths are a programmer's error.
func TestRaggedPanics(t *testing.T) {
	ragged := [][]float64{{1, 2, 3}, {1, 2}}
	for name, f := range map[string]func(){
		"Means":    func() { Bootstrap{}.Means(ragged) },
		"Compare":  func() { Compare(ragged, 0.05) },
		"Wilcoxon": func() { Wilcoxon(ragged[0], ragged[1]) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "differ in length") {
					t.Errorf("%s of ragged rows: recovered %v, want a panic saying the rows differ in length", name, r)
				}
			}()
			f()
		}()
	}
}

// TestQuantile checks the type-7 quantile against numpy.quantile's
// default (linear) on [1 2 3 4 10]: h = 4q, interpolated.
func TestQuantile(t *testing.T) {
	s := []float64{1, 2, 3, 4, 10}
	for _, tt := range []struct{ q, want float64 }{
		{0, 1}, {0.025, 1.1}, {0.25, 2}, {0.3, 2.2}, {0.9, 7.6}, {0.975, 9.4}, {1, 10},
	} {
		if got := quantile(s, tt.q); !near(got, tt.want, 1e-12) {
			t.Errorf("quantile(%v, %v) = %v, want %v", s, tt.q, got, tt.want)
		}
	}
}

// TestBootstrapJoint checks that an interval depends only on the data,
// the settings and the seed: the same seed gives the same interval,
// whether a row is bootstrapped alone or with others (the rows share
// each resample of columns), and another seed a different one.
func TestBootstrapJoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x, y := make([]float64, 200), make([]float64, 200)
	for i := range x {
		x[i], y[i] = rng.NormFloat64(), rng.ExpFloat64()
	}
	y[10], y[20] = math.NaN(), math.NaN()
	for _, bca := range []bool{false, true} {
		b := Bootstrap{Seed: 42, BCa: bca}
		alone, _ := b.Mean(x)
		again, _ := b.Mean(x)
		both, err := b.Means([][]float64{y, x})
		if err != nil {
			t.Fatal(err)
		}
		if alone != again || alone != both[1] {
			t.Errorf("BCa %v: seed 42 gave %+v, then %+v, and %+v beside another row", bca, alone, again, both[1])
		}
		b.Seed = 43
		other, _ := b.Mean(x)
		if other == alone {
			t.Errorf("BCa %v: seeds 42 and 43 gave the same interval %+v", bca, other)
		}
		// y's NaNs are skipped: its interval is about the mean of its 198
		// values ± 2 standard errors.
		iy := both[0]
		sd := 1 / math.Sqrt(198) // an exponential's standard deviation is its mean, 1
		if iy.N != 198 || iy.Missing != 2 || !(iy.Lo < iy.Mean && iy.Mean < iy.Hi) || math.Abs(iy.Hi-iy.Lo-2*1.96*sd) > sd {
			t.Errorf("BCa %v: row with NaNs: %+v, want N 198, 2 missing, about mean ± %.3f", bca, iy, 1.96*sd)
		}
	}
}

// BenchmarkBootstrap is the evaluation's full size: 20 methods' scores
// on 10,000 images, 2000 resamples.
func BenchmarkBootstrap(b *testing.B) {
	for _, tt := range []struct {
		name    string
		missing bool
		bca     bool
	}{{"10000x20", false, false}, {"10000x20/BCa", false, true}, {"10000x20/missing", true, false}} {
		b.Run(tt.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			x := make([][]float64, 20)
			for m := range x {
				x[m] = make([]float64, 10_000)
				for i := range x[m] {
					x[m][i] = rng.NormFloat64()
					if tt.missing && i%100 == m {
						x[m][i] = math.NaN()
					}
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := (Bootstrap{BCa: tt.bca}).Means(x); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package stats

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// DefaultLevel and DefaultResamples are what a zero Bootstrap uses: a 95%
// interval from 2000 resamples (Efron and Tibshirani 1993 advise 1000 or
// more for percentile and BCa intervals; with 2000, the Monte Carlo error
// of a bound is about 0.06 standard errors of the mean, √(0.025·0.975/B)
// / φ(1.96), for a normal mean).
const (
	DefaultLevel     = 0.95
	DefaultResamples = 2000
)

// maxResamples and maxReplicates bound the memory of a bootstrap: one
// float64 per resample and row.
const (
	maxResamples  = 1_000_000
	maxReplicates = 50_000_000
)

// Interval is a sample mean and its bootstrap confidence interval.
type Interval struct {
	Mean   float64 // mean of the non-NaN observations; NaN when there are none
	Lo, Hi float64 // the interval's bounds; NaN when N < 2
	N      int     // observations used
	// Missing counts the NaN observations, which were skipped.
	Missing int
}

// Bootstrap computes confidence intervals of means by the nonparametric
// bootstrap (Efron 1979, "Bootstrap methods: another look at the
// jackknife", Annals of Statistics 7(1)): the observations are resampled
// with replacement, Resamples times, and the interval is read off the
// distribution of the resampled means. The zero value gives a 95%
// percentile interval from DefaultResamples resamples, seeded with 0.
type Bootstrap struct {
	// Level is the confidence level, in (0, 1); 0 means DefaultLevel.
	Level float64
	// Resamples is the number of bootstrap resamples B, at most 1e6;
	// 0 means DefaultResamples.
	Resamples int
	// Seed seeds the resampling: the draws come from
	// math/rand/v2.NewPCG(Seed, 0), each index in [0, n) by Lemire's
	// multiply-and-reject method, so an interval depends only on the
	// data, Level, Resamples, BCa and Seed.
	Seed uint64
	// BCa selects the bias-corrected and accelerated interval (Efron
	// 1987, "Better bootstrap confidence intervals", JASA 82(397); Efron
	// and Tibshirani 1993, ch. 14) instead of the percentile interval
	// (Efron and Tibshirani 1993, ch. 13). BCa corrects the percentile
	// interval for the skewness of the mean's distribution; it is
	// second-order accurate where the percentile interval is first-order.
	BCa bool
}

// Mean returns the mean of the non-NaN values of x and its confidence
// interval. See Means.
func (b Bootstrap) Mean(x []float64) (Interval, error) {
	iv, err := b.Means([][]float64{x})
	if err != nil {
		return Interval{}, err
	}
	return iv[0], nil
}

// Means returns, for each row x[m] (for instance one method's scores,
// x[m][i] on image i), the mean of its non-NaN values and its confidence
// interval. The columns (images) are the units resampled, jointly: every
// row sees the same resample of columns, as the rows are paired
// observations of the same images. A resample's mean of a row with NaNs
// is the mean over the resampled columns where the row has a value (a
// ratio estimator); resamples with none are left out of that row's
// distribution.
//
// With n = 1 value the interval is NaN: one observation says nothing of
// the spread. With all values equal it is that value.
//
// The percentile interval is the α/2 and 1 − α/2 quantiles (α = 1 −
// Level) of the B resampled means, interpolated linearly between order
// statistics (numpy's default, Hyndman and Fan's type 7). BCa moves those
// quantile levels to Φ(z0 + (z0 + z)/(1 − a(z0 + z))) for z = Φ⁻¹(α/2)
// and Φ⁻¹(1 − α/2), with the bias correction z0 = Φ⁻¹(the proportion of
// resampled means below the sample mean, counting ties as a half) and the
// jackknife acceleration a = Σ(xᵢ − x̄)³ / (6 (Σ(xᵢ − x̄)²)^{3/2}) (Efron
// and Tibshirani's jackknife estimate of a, written out for the mean,
// whose leave-one-out estimates are x̄ − (xᵢ − x̄)/(n − 1)).
//
// Means returns an error for an invalid Level or Resamples, or an
// infinite value (only NaN marks a missing one). It panics if the rows
// differ in length.
func (b Bootstrap) Means(x [][]float64) ([]Interval, error) {
	level, B, err := b.params()
	if err != nil {
		return nil, err
	}
	if len(x)*B > maxReplicates {
		return nil, fmt.Errorf("stats: bootstrap: %d rows x %d resamples is too many (at most %d replicate means; use fewer resamples)", len(x), B, maxReplicates)
	}
	if len(x) == 0 {
		return nil, nil
	}
	for _, xm := range x {
		if len(xm) != len(x[0]) {
			panic("stats: Bootstrap.Means: rows differ in length")
		}
	}
	if err := checkFinite(x); err != nil {
		return nil, fmt.Errorf("stats: bootstrap: %w", err)
	}
	n := len(x[0])
	ivs := make([]Interval, len(x))
	var rows []bootRow // the rows with an interval to compute
	for m, xm := range x {
		iv := Interval{Mean: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
		var s float64
		for _, v := range xm {
			if math.IsNaN(v) {
				iv.Missing++
				continue
			}
			iv.N++
			s += v
		}
		if iv.N > 0 {
			iv.Mean = s / float64(iv.N)
		}
		ivs[m] = iv
		if iv.N >= 2 {
			rows = append(rows, newBootRow(m, xm, iv.Missing > 0, B))
		}
	}
	if len(rows) == 0 {
		return ivs, nil
	}
	// counts[i] is how often column i is drawn in one resample.
	counts := make([]float64, n)
	src := rand.NewPCG(b.Seed, 0)
	for r := range B {
		clear(counts)
		for range n {
			counts[uintN(src, uint64(n))]++
		}
		for k := range rows {
			rows[k].reps[r] = rows[k].mean(counts)
		}
	}
	for _, row := range rows {
		iv := &ivs[row.m]
		reps := slices.DeleteFunc(row.reps, math.IsNaN)
		slices.Sort(reps)
		qlo, qhi := (1-level)/2, (1+level)/2
		if b.BCa {
			qlo, qhi = bcaLevels(reps, iv.Mean, x[row.m], qlo, qhi)
		}
		iv.Lo, iv.Hi = quantile(reps, qlo), quantile(reps, qhi)
	}
	return ivs, nil
}

// params returns the level and resample count, defaults applied, or an
// error saying what is wrong.
func (b Bootstrap) params() (level float64, resamples int, err error) {
	level, resamples = b.Level, b.Resamples
	if level == 0 {
		level = DefaultLevel
	}
	if resamples == 0 {
		resamples = DefaultResamples
	}
	if !(level > 0 && level < 1) {
		return 0, 0, fmt.Errorf("stats: bootstrap: confidence level %v is not in (0, 1) (0.95 is a 95%% interval)", b.Level)
	}
	if resamples < 1 || resamples > maxResamples {
		return 0, 0, fmt.Errorf("stats: bootstrap: %d resamples is not in [1, %d]", b.Resamples, maxResamples)
	}
	return level, resamples, nil
}

// checkFinite returns an error naming the first infinite value of x.
func checkFinite(x [][]float64) error {
	for m, xm := range x {
		for i, v := range xm {
			if math.IsInf(v, 0) {
				return fmt.Errorf("row %d, column %d is %v (only NaN may mark a missing value)", m, i, v)
			}
		}
	}
	return nil
}

// bootRow is one row's data for the resampling: its values with NaN as 0,
// the 0/1 mask of its non-NaN values when it has NaNs (nil otherwise),
// and its B resampled means.
type bootRow struct {
	m       int
	v, mask []float64
	reps    []float64
	n       float64 // columns, for a row without NaNs
}

func newBootRow(m int, x []float64, hasMissing bool, resamples int) bootRow {
	r := bootRow{m: m, v: slices.Clone(x), reps: make([]float64, resamples), n: float64(len(x))}
	if hasMissing {
		r.mask = make([]float64, len(x))
		for i, v := range x {
			if math.IsNaN(v) {
				r.v[i] = 0
			} else {
				r.mask[i] = 1
			}
		}
	}
	return r
}

// mean returns the row's mean over a resample that draws column i
// counts[i] times; NaN when it draws none of the row's values.
func (r *bootRow) mean(counts []float64) float64 {
	s := dot(counts, r.v)
	if r.mask == nil {
		return s / r.n
	}
	c := dot(counts, r.mask)
	if c == 0 {
		return math.NaN()
	}
	return s / c
}

// dot returns Σ a[i]·b[i] for len(a) == len(b).
func dot(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// uintN returns a uniform integer in [0, n), n > 0, from src by Lemire's
// multiply-and-reject method ("Fast random integer generation in an
// interval", ACM TOMACS 29(1), 2019).
func uintN(src *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}

// bcaLevels returns the BCa quantile levels for the percentile levels
// qlo, qhi, given the sorted resampled means, the sample mean and the
// sample (whose NaNs are skipped).
func bcaLevels(reps []float64, mean float64, x []float64, qlo, qhi float64) (float64, float64) {
	B := float64(len(reps))
	var below float64
	for _, t := range reps {
		switch {
		case t < mean:
			below++
		case t == mean:
			below += 0.5
		}
	}
	// Keep z0 finite when every resampled mean falls on one side.
	z0 := normalQuantile(min(max(below/B, 0.5/B), 1-0.5/B))
	var m2, m3 float64
	for _, v := range x {
		if !math.IsNaN(v) {
			d := v - mean
			m2 += d * d
			m3 += d * d * d
		}
	}
	var a float64
	if m2 > 0 {
		a = m3 / (6 * math.Pow(m2, 1.5))
	}
	adjust := func(q float64) float64 {
		z := z0 + normalQuantile(q)
		den := 1 - a*z
		if den <= 0 { // past the pole of z/(1 − a z): the limit is ±∞
			if z < 0 {
				return 0
			}
			return 1
		}
		return normalCDF(z0 + z/den)
	}
	return adjust(qlo), adjust(qhi)
}

// quantile returns the q-quantile of the sorted s, interpolating
// linearly between order statistics (Hyndman and Fan's type 7, numpy's
// default): s[h] for h = (len(s) − 1)·q, fractional h interpolated. NaN
// when s is empty.
func quantile(s []float64, q float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	h := float64(len(s)-1) * min(max(q, 0), 1)
	i := int(h)
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[i] + (h-float64(i))*(s[i+1]-s[i])
}

// normalQuantile returns Φ⁻¹(p), the standard normal quantile.
func normalQuantile(p float64) float64 { return -math.Sqrt2 * math.Erfcinv(2*p) }

// normalCDF returns Φ(z), the standard normal distribution function.
func normalCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

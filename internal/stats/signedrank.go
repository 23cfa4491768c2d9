package stats

import (
	"cmp"
	"math"
	"slices"
)

// ExactMax is the largest number of non-zero differences for which
// Wilcoxon takes its p-value from the exact null distribution (when the
// differences have no ties); from there on, the normal approximation
// with continuity correction is within 0.004 of the exact p-value (0.001
// where P ≤ 0.1). It is scipy.stats.wilcoxon's limit.
const ExactMax = 50

// SignedRank is the result of Wilcoxon's signed-rank test of paired
// observations x, y (Wilcoxon 1945, "Individual comparisons by ranking
// methods", Biometrics Bulletin 1(6), the test for paired comparisons).
type SignedRank struct {
	// N is the number of pairs with a non-zero difference d = x − y:
	// the ranks' count. Zero differences are dropped before ranking
	// (Wilcoxon's convention, scipy's zero_method="wilcox"), and counted
	// in Zeros. Pairs whose difference is NaN (either value NaN, or both
	// the same infinity) are skipped and counted in Missing.
	N, Zeros, Missing int
	// WPlus is the sum of the ranks of |d| over the positive d (x > y),
	// WMinus over the negative ones; WPlus + WMinus = N(N+1)/2. Tied |d|
	// share their mean rank. scipy's two-sided statistic is
	// min(WPlus, WMinus).
	WPlus, WMinus float64
	// Exact is true when P comes from the exact null distribution: N ≤
	// ExactMax and no two |d| are equal. Otherwise P comes from the
	// normal approximation with the tie correction of the variance and a
	// continuity correction, and Z is its statistic.
	Exact bool
	// Z is (WPlus − N(N+1)/4) moved 0.5 towards zero (but not past it),
	// over the standard deviation of WPlus under the null; 0 when Exact.
	Z float64
	// P is the two-sided p-value; NaN when N = 0 (no evidence either way).
	P float64
	// RankBiserial is the matched-pairs rank-biserial correlation
	// (WPlus − WMinus)/(WPlus + WMinus) (Kerby 2014, "The simple
	// difference formula", Comprehensive Psychology 3, 11.IT.3.1): the
	// proportion of the rank sum favouring x minus the proportion
	// favouring y, in [−1, 1], positive when x tends to be larger. NaN
	// when N = 0.
	RankBiserial float64
	// MedianDiff is the median of x − y over the pairs not Missing, zero
	// differences included; NaN when there are none.
	MedianDiff float64
}

// Wilcoxon runs Wilcoxon's two-sided signed-rank test on the paired
// observations x[i], y[i] (for instance two methods' scores on image i):
// the null hypothesis is that x − y is symmetric about zero.
//
// Conventions, chosen to match scipy.stats.wilcoxon (and R's wilcox.test
// with paired=TRUE):
//   - zero differences are dropped before ranking (Wilcoxon 1945;
//     zero_method="wilcox"), not ranked as in Pratt (1959);
//   - with N ≤ ExactMax non-zero differences and no ties, P is exact:
//     P = min(1, 2·Pr(W ≤ min(WPlus, WMinus))), W having the distribution
//     of the sum of a random subset of {1, …, N}, each subset equally
//     likely. scipy 1.10's default also does this, except that it
//     switches to the approximation when any difference is zero (Wilcoxon
//     here drops the zeros and stays exact) and stays "exact" with tied
//     ranks (where that distribution no longer holds);
//   - otherwise P = min(1, erfc(z/√2)) with z = (|WPlus − N(N+1)/4| − ½)/σ
//     and σ² = N(N+1)(2N+1)/24 − Σ(t³ − t)/48 over the groups of t tied
//     |d|: the normal approximation with the tie correction and a
//     continuity correction (scipy's correction=True, R's correct=TRUE).
//     Where |WPlus − N(N+1)/4| < ½, scipy and R move the statistic past
//     zero and report P < 1; here P = 1.
//
// Ties are exact equality of |x − y| in float64. Wilcoxon panics if x and
// y differ in length.
func Wilcoxon(x, y []float64) SignedRank {
	if len(x) != len(y) {
		panic("stats: Wilcoxon: x and y differ in length")
	}
	var r SignedRank
	d := make([]float64, 0, len(x))
	for i := range x {
		di := x[i] - y[i]
		if math.IsNaN(di) {
			r.Missing++
			continue
		}
		d = append(d, di)
	}
	r.MedianDiff = median(d)
	nz := slices.DeleteFunc(d, func(v float64) bool { return v == 0 })
	r.N, r.Zeros = len(nz), len(d)-len(nz)
	if r.N == 0 {
		r.P, r.RankBiserial = math.NaN(), math.NaN()
		return r
	}
	ranks, ties := absRanks(nz)
	for i, di := range nz {
		if di > 0 {
			r.WPlus += ranks[i]
		} else {
			r.WMinus += ranks[i]
		}
	}
	n := float64(r.N)
	total := n * (n + 1) / 2
	r.RankBiserial = (r.WPlus - r.WMinus) / total
	if r.N <= ExactMax && ties == 0 {
		r.Exact = true
		r.P = min(1, 2*signedRankCDF(r.N, int(min(r.WPlus, r.WMinus))))
		return r
	}
	sd := math.Sqrt(n*(n+1)*(2*n+1)/24 - ties/48)
	dev := r.WPlus - total/2
	z := max(math.Abs(dev)-0.5, 0) / sd
	r.Z = math.Copysign(z, dev)
	r.P = min(1, math.Erfc(z/math.Sqrt2))
	return r
}

// absRanks returns the ranks (1-based, tied values sharing their mean
// rank) of |d| and the tie term Σ(t³ − t) over the groups of t equal
// values.
func absRanks(d []float64) (ranks []float64, ties float64) {
	idx := make([]int, len(d))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(math.Abs(d[a]), math.Abs(d[b])) })
	ranks = make([]float64, len(d))
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && math.Abs(d[idx[j]]) == math.Abs(d[idx[i]]) {
			j++
		}
		mid := float64(i+1+j) / 2 // mean of the ranks i+1 … j
		for _, k := range idx[i:j] {
			ranks[k] = mid
		}
		if t := float64(j - i); t > 1 {
			ties += t*t*t - t
		}
		i = j
	}
	return ranks, ties
}

// signedRankCDF returns Pr(W ≤ w) for W the sum of a uniformly random
// subset of {1, …, n}: the null distribution of WPlus without ties. The
// counts c[k] of subsets summing to k (k ≤ w) are built one element at a
// time (adding element j: c[k] += c[k−j]); they are integers below 2^n,
// exact in float64 for n ≤ 53.
func signedRankCDF(n, w int) float64 {
	if w < 0 {
		return 0
	}
	if w >= n*(n+1)/2 {
		return 1
	}
	c := make([]float64, w+1)
	c[0] = 1
	for j := 1; j <= n; j++ {
		for k := w; k >= j; k-- {
			c[k] += c[k-j]
		}
	}
	var s float64
	for _, ck := range c {
		s += ck
	}
	return s / math.Exp2(float64(n))
}

// median returns the median of v (the mean of the middle two for an even
// count), NaN when v is empty. It does not modify v.
func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	w := slices.Clone(v)
	slices.Sort(w)
	n := len(w)
	if n%2 == 1 {
		return w[n/2]
	}
	return (w[n/2-1] + w[n/2]) / 2
}

package stats

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Comparison compares rows of scores (methods) pairwise over their
// columns (images), higher scores being better. See Compare.
type Comparison struct {
	Alpha float64   // the family-wise error rate
	Mean  []float64 // each row's mean over its non-NaN scores (NaN: none)
	// Order is the rows by Mean, highest first; rows without a score
	// last; equal means in row order.
	Order []int
	// Pairs holds each unordered pair of rows once, A < B, in the order
	// (0,1), (0,2), …, (0,m−1), (1,2), …; Pair(a, b) finds one.
	Pairs []Pair
	// Best is the best row: the highest Mean among the rows that no other
	// row is significantly better than (if every row has a better one, a
	// cycle the pairwise tests can form, the highest Mean); −1 when no
	// row has a score.
	Best int
	// Top is Best and the rows statistically indistinguishable from it
	// (Holm-adjusted P above Alpha, or no non-zero difference), in
	// Order's order. A row sharing no column with Best is not in Top:
	// it was not compared.
	Top []int
}

// Pair is the paired comparison of rows A and B: Wilcoxon's signed-rank
// test of A − B over the columns where both have a score, with its
// effect sizes (SignedRank.RankBiserial, SignedRank.MedianDiff).
type Pair struct {
	A, B int
	SignedRank
	// PHolm is P adjusted by Holm over all the pairs of the comparison
	// (NaN when P is).
	PHolm float64
	// Better is the row (A or B) that is significantly better than the
	// other, PHolm ≤ Alpha, with the direction of the rank sums (A when
	// WPlus > WMinus); −1 when the two are statistically
	// indistinguishable.
	Better int
}

// Compare compares every pair of rows of scores, scores[m][i] being row
// m's score on column i (method m on image i; NaN when missing), higher
// being better (negate a score where lower is better, such as a deletion
// AUC). Each pair is tested with Wilcoxon over the columns both rows
// have, and the m(m−1)/2 p-values are adjusted together by Holm, so that
// the probability of calling any pair of equivalent methods different is
// at most alpha (0.05 is usual), however many methods there are. The
// direction of a difference is that of the rank sums.
//
// A statement such as "A is more faithful than B on this data" should be
// made only for a Pair whose Better is A; otherwise the data cannot tell
// A and B apart (at this alpha, with this many images), which is not the
// same as their being equal.
//
// The signed-rank test asks whether A − B leans to one side of zero in
// rank, not whether the mean difference is zero: a method that loses a
// little on most images and wins a lot on a few can have the higher mean
// and still be significantly worse. Order follows the means; Best and
// Top follow the tests.
//
// Compare returns an error for alpha outside (0, 1) or an infinite score.
// It panics if the rows differ in length.
func Compare(scores [][]float64, alpha float64) (*Comparison, error) {
	if !(alpha > 0 && alpha < 1) {
		return nil, fmt.Errorf("stats: compare: significance level %v is not in (0, 1) (0.05 is usual)", alpha)
	}
	if err := checkFinite(scores); err != nil {
		return nil, fmt.Errorf("stats: compare: %w", err)
	}
	for _, row := range scores {
		if len(row) != len(scores[0]) {
			panic("stats: Compare: rows differ in length")
		}
	}
	m := len(scores)
	c := &Comparison{Alpha: alpha, Mean: make([]float64, m), Order: make([]int, m), Best: -1}
	for k, row := range scores {
		c.Mean[k] = nanMean(row)
		c.Order[k] = k
	}
	slices.SortStableFunc(c.Order, func(a, b int) int { return byMeanDesc(c.Mean[a], c.Mean[b]) })
	var ps []float64
	for a := range m {
		for b := a + 1; b < m; b++ {
			r := Wilcoxon(scores[a], scores[b])
			c.Pairs = append(c.Pairs, Pair{A: a, B: b, SignedRank: r, Better: -1})
			ps = append(ps, r.P)
		}
	}
	for k, p := range Holm(ps) {
		pr := &c.Pairs[k]
		pr.PHolm = p
		if p <= alpha {
			pr.Better = pr.A
			if pr.WMinus > pr.WPlus {
				pr.Better = pr.B
			}
		}
	}
	c.Best = c.best()
	if c.Best < 0 {
		return c, nil
	}
	for _, k := range c.Order {
		if k == c.Best {
			c.Top = append(c.Top, k)
		} else if pr := c.Pair(c.Best, k); pr.Better < 0 && pr.N+pr.Zeros > 0 {
			c.Top = append(c.Top, k)
		}
	}
	return c, nil
}

// best returns the row of highest mean that no other row beats, or the
// row of highest mean if every row is beaten; −1 if no row has a score.
func (c *Comparison) best() int {
	if len(c.Order) == 0 || math.IsNaN(c.Mean[c.Order[0]]) {
		return -1
	}
	beaten := make([]bool, len(c.Mean))
	for _, pr := range c.Pairs {
		if pr.Better >= 0 {
			beaten[pr.A+pr.B-pr.Better] = true
		}
	}
	for _, k := range c.Order {
		if !beaten[k] && !math.IsNaN(c.Mean[k]) {
			return k
		}
	}
	return c.Order[0]
}

// Pair returns the comparison of rows a and b, oriented as a − b (when a >
// b, the stored pair with its rank sums, Z, RankBiserial and MedianDiff
// turned around). It panics if a == b or either is out of range.
func (c *Comparison) Pair(a, b int) Pair {
	m := len(c.Mean)
	if a == b || a < 0 || b < 0 || a >= m || b >= m {
		panic(fmt.Sprintf("stats: Comparison.Pair(%d, %d) of %d rows", a, b, m))
	}
	lo, hi := min(a, b), max(a, b)
	pr := c.Pairs[lo*(2*m-lo-1)/2+hi-lo-1] // pairs before row lo, then hi's place
	if a > b {
		pr.A, pr.B = a, b
		pr.WPlus, pr.WMinus = pr.WMinus, pr.WPlus
		pr.Z, pr.RankBiserial, pr.MedianDiff = -pr.Z, -pr.RankBiserial, -pr.MedianDiff
	}
	return pr
}

// nanMean returns the mean of the non-NaN values of v; NaN if none.
func nanMean(v []float64) float64 {
	var s, n float64
	for _, x := range v {
		if !math.IsNaN(x) {
			s += x
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / n
}

// byMeanDesc orders means highest first, NaN last.
func byMeanDesc(a, b float64) int {
	switch {
	case math.IsNaN(a) && math.IsNaN(b):
		return 0
	case math.IsNaN(a):
		return 1
	case math.IsNaN(b):
		return -1
	}
	return cmp.Compare(b, a)
}

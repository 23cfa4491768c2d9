package stats

import (
	"cmp"
	"math"
	"slices"
)

// Holm returns Holm's step-down adjusted p-values for a family of tests
// (Holm 1979, "A simple sequentially rejective multiple test procedure",
// Scandinavian Journal of Statistics 6(2)): with the m p-values sorted,
// p(1) ≤ … ≤ p(m),
//
//	adjusted p(i) = max over j ≤ i of min(1, (m − j + 1)·p(j)),
//
// returned in the order given. Rejecting the hypotheses whose adjusted
// p-value is at most alpha controls the family-wise error rate at alpha
// (the probability of any false rejection), under any dependence between
// the tests. It is R's p.adjust(p, "holm").
//
// NaN p-values (tests that could not be run) stay NaN and do not count in
// m. Holm does not modify p.
func Holm(p []float64) []float64 {
	adj := make([]float64, len(p))
	var idx []int
	for i, pi := range p {
		if math.IsNaN(pi) {
			adj[i] = math.NaN()
			continue
		}
		idx = append(idx, i)
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(p[a], p[b]) })
	m, run := len(idx), 0.0
	for j, i := range idx {
		run = max(run, min(1, float64(m-j)*p[i]))
		adj[i] = run
	}
	return adj
}

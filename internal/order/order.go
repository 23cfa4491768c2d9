// Package order sorts by index: Index returns the permutation that orders
// n elements, for any element type, through one instantiation of the
// generic sort.
package order

import "slices"

// Index returns 0..n-1 ordered by cmp, ties in index order (a stable
// sort). Every sort on the worker's path (nn's and xai's) sorts []int32
// with slices.SortFunc through it, so that the browser's worker links one
// instantiation of the generic sort instead of one per element type (each
// is 10-20 KB of wasm).
func Index(n int, cmp func(a, b int32) int) []int32 {
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		if c := cmp(a, b); c != 0 {
			return c
		}
		return int(a) - int(b)
	})
	return idx
}

package order

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestIndexIsStable holds Index to slices.SortStableFunc (the independent
// truth) on keys with many ties, and checks the hand-worked case.
func TestIndexIsStable(t *testing.T) {
	small := []int{3, 1, 3, 0, 1}
	if got, want := Index(len(small), func(a, b int32) int { return cmp.Compare(small[a], small[b]) }), []int32{3, 1, 4, 0, 2}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 7, 100, 1000} {
		keys := make([]int, n)
		for i := range keys {
			keys[i] = rng.IntN(n/3 + 1)
		}
		want := make([]int32, n)
		for i := range want {
			want[i] = int32(i)
		}
		slices.SortStableFunc(want, func(a, b int32) int { return cmp.Compare(keys[a], keys[b]) })
		got := Index(n, func(a, b int32) int { return cmp.Compare(keys[a], keys[b]) })
		if !slices.Equal(got, want) {
			t.Errorf("n=%d: got %v, want %v", n, got, want)
		}
	}
}

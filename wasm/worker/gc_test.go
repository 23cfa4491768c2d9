package main

import (
	"runtime"
	"runtime/debug"
	"testing"
)

var garbage []byte

// churn allocates mb MB of garbage, 1 MB at a time, and returns how many
// collections ran meanwhile.
func churn(mb int) uint32 {
	var st runtime.MemStats
	runtime.ReadMemStats(&st)
	n := st.NumGC
	for range mb {
		garbage = make([]byte, 1<<20)
		garbage[len(garbage)-1] = 1
	}
	garbage = nil
	runtime.ReadMemStats(&st)
	return st.NumGC - n
}

// held reports whether the collector is off, as holdGC leaves it.
func held() bool {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return gcHeld && p < 0
}

// TestHoldGC: while the collector is held, garbage piles up without a
// collection; releaseGC sets gcPercent's pacing, once.
func TestHoldGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	debug.SetGCPercent(100)
	runtime.GC()
	if n := churn(64); n == 0 {
		t.Fatalf("64 MB of garbage ran no collection with the default pacing: this test cannot tell a held collector")
	}

	holdGC()
	runtime.GC() // an explicit collection still runs; the heap starts from the live data
	if n := churn(64); n != 0 {
		t.Errorf("held: 64 MB of garbage ran %d collections, want 0", n)
	}

	releaseGC()
	releaseGC() // a second release changes nothing
	if p := debug.SetGCPercent(gcPercent); p != gcPercent {
		t.Errorf("released: GC percent %d, want %d", p, gcPercent)
	}
	if n := churn(64); n == 0 {
		t.Errorf("released: 64 MB of garbage ran no collection")
	}
}

// TestLoadingGC: the first model file up to holdModelMax loads with the
// collector held; a larger first file, or a second file, releases it.
func TestLoadingGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	for _, c := range []struct {
		sizes []int
		held  bool
	}{
		{[]int{544100}, true},
		{[]int{holdModelMax}, true},
		{[]int{holdModelMax + 1}, false},
		{[]int{544100, 544100}, false},
	} {
		holdGC()
		for _, n := range c.sizes {
			loadingGC(n)
		}
		if got := held(); got != c.held {
			t.Errorf("model files of %v bytes: collector held %v, want %v", c.sizes, got, c.held)
		}
		releaseGC()
	}
}

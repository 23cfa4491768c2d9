package main

import (
	"math"
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

// TestHoldGC: while the collector is held (from the worker's start to its
// first prediction) garbage piles up without a collection until the heap
// reaches bootHeapLimit; releaseGC gives back Go's defaults, once.
func TestHoldGC(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
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
	if n := churn(2 * bootHeapLimit >> 20); n == 0 {
		t.Errorf("held: %d MB of garbage ran no collection; the limit of %d MB should have started one", 2*bootHeapLimit>>20, bootHeapLimit>>20)
	}

	releaseGC()
	releaseGC() // a second release changes nothing
	if p := debug.SetGCPercent(100); p != 100 {
		t.Errorf("released: GC percent %d, want 100", p)
	}
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		t.Errorf("released: memory limit %d, want none (MaxInt64)", l)
	}
	if n := churn(64); n == 0 {
		t.Errorf("released: 64 MB of garbage ran no collection")
	}
}

package main

import (
	"math"
	"runtime/debug"
)

// The collector is held off from the worker's start until its first
// prediction has returned (holdGC in main, releaseGC after predict, and
// before any other method but loadModel).
//
// Loading a model and predicting its first image keep almost everything
// they allocate (every layer's output, for the maps), so the collections
// Go's default pacing would run on the way, from a 4 MB heap up, free
// little. On a cold page they also cost the first run of the collector's
// own code, which V8 compiles the first time it is called. In two A/B runs
// of 8 cold MAVIS loads each (TestBenchmarkStartAB, BENCHMARKS.md), the
// worker went from ready to its first prediction in a median 849 and 871
// ms with the hold, against 1138 and 1400 ms without. The garbage of the
// start is collected later: the MAVIS page's worker ends its work with
// 170.4 MB of wasm memory instead of 166.7. runtime/debug links package
// os into worker.wasm: 23 KB more gzipped.
//
// bootHeapLimit bounds what a large model file (its bytes and its weights
// both live while it loads) can pile up meanwhile: past it the collector
// runs as usual.
const bootHeapLimit = 256 << 20

var gcHeld bool

func holdGC() {
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(bootHeapLimit)
	gcHeld = true
}

func releaseGC() {
	if !gcHeld {
		return
	}
	gcHeld = false
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
}

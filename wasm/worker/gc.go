package main

import "runtime/debug"

// The collector is held off from the worker's start through its first
// model load and its first prediction: holdGC in main; releaseGC (to
// gcPercent) when the first predict returns, before any other method but
// loadModel and predict, and in loadModel before a second model or a file
// over holdModelMax.
//
// Loading a model and predicting its first image keep almost everything
// they allocate (every layer's output, for the maps), so the collections
// Go's default pacing would run on the way, from a 4 MB heap up, free
// little. On a cold page they also cost the first run of the collector's
// own code, which V8 compiles the first time it is called. In two A/B
// runs of 8 cold MAVIS loads each (TestBenchmarkStartAB, BENCHMARKS.md),
// the worker went from ready to its first prediction in a median 795 and
// 792 ms with the hold, against 937 and 944 ms without. The garbage of the
// start is collected later: the MAVIS page's worker ends its work with
// 170.4 MB of wasm memory instead of 166.7. runtime/debug links package
// os into worker.wasm: 23 KB more gzipped.
//
// What piles up meanwhile is bounded by the model file, which stays in the
// heap until the prediction (wasm memory, once grown, is never given
// back): so a larger file, or a second one, loads with the collector on.
// (A memory limit would not bound it well: past the limit, with the live
// heap over it, the collector would run without a pause.)
const holdModelMax = 32 << 20

// gcPercent is the collector's pacing once released (GOGC): a collection
// when the heap has grown by a quarter since the last one's live data, not
// Go's default of doubling. A worker's wasm memory, once grown, is never
// given back, and its live heap is large: each method keeps its buffers
// for its next call, about 346 MB for MAVIS once every method has run.
// In three rounds of all 23 methods in one worker (a throwaway probe,
// session 29 in BENCHMARKS.md) the heap Go held reached 545 MB at 100,
// still growing, against 435 MB at 25, with the methods' times unchanged:
// the live data is mostly large float buffers without pointers, which
// cost a collection little to mark.
const gcPercent = 25

var (
	gcHeld  bool
	gcLoads int // models loaded since the hold
)

func holdGC() {
	debug.SetGCPercent(-1)
	gcHeld, gcLoads = true, 0
}

func releaseGC() {
	if !gcHeld {
		return
	}
	gcHeld = false
	debug.SetGCPercent(gcPercent)
}

// loadingGC is called by loadModel with the file's size before it decodes
// the file.
func loadingGC(size int) {
	gcLoads++
	if gcLoads > 1 || size > holdModelMax {
		releaseGC()
	}
}

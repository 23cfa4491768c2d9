//go:build js

package nn

// Under js/wasm there is one thread: loops run inline, a grain at a time.
// One call per grain rather than one for the whole loop matters in a
// browser: V8 runs a function first in baseline code and switches to the
// optimized code it compiles in the background only at the next call, so
// a layer's loop run as one call would stay in baseline code to the end
// the first time it runs.

func workers() int { return 1 }

func (p *parallelRun) run(t rangeTask, n, grain, nw int) {
	grain = max(grain, 1)
	for lo := 0; lo < n; lo += grain {
		t.runRange(0, lo, min(lo+grain, n))
	}
}

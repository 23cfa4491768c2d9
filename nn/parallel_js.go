//go:build js

package nn

// Under js/wasm there is one thread: loops run inline.

func workers() int { return 1 }

func (p *parallelRun) run(t rangeTask, n, grain, nw int) {
	if n > 0 {
		t.runRange(0, 0, n)
	}
}

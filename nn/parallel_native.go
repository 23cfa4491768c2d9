//go:build !js

package nn

import (
	"runtime"
	"sync"
)

// Natively, loops run on a fixed pool of goroutines (one per processor,
// started on first use) that take grains of work from a shared counter, so
// a busy core does not hold up the others. The calling goroutine works too.

type parallelJob struct {
	run *parallelRun
	w   int
}

var pool struct {
	mu      sync.Mutex
	started int
	jobs    chan parallelJob
}

// workers returns how many workers a parallel loop uses: GOMAXPROCS.
func workers() int { return max(1, runtime.GOMAXPROCS(0)) }

// ensurePool starts goroutines until n-1 helpers exist.
func ensurePool(n int) {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	if pool.jobs == nil {
		pool.jobs = make(chan parallelJob, 256)
	}
	for ; pool.started < n-1; pool.started++ {
		go func() {
			for j := range pool.jobs {
				j.run.drain(j.w)
				j.run.wg.Done()
			}
		}()
	}
}

// run processes units [0, n) of t in grains of the given size on up to nw
// workers (worker indices 0..nw-1) and returns when all are done. It must
// not be called again on p before it returns.
func (p *parallelRun) run(t rangeTask, n, grain, nw int) {
	if n <= 0 {
		return
	}
	grain = max(grain, 1)
	nw = min(nw, (n+grain-1)/grain)
	if nw <= 1 {
		t.runRange(0, 0, n)
		return
	}
	ensurePool(nw)
	p.task, p.n, p.grain = t, n, grain
	p.next.Store(0)
	p.wg.Add(nw - 1)
	for w := 1; w < nw; w++ {
		pool.jobs <- parallelJob{run: p, w: w}
	}
	p.drain(0)
	p.wg.Wait()
	p.task = nil
}

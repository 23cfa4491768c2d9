package nn

import (
	"sync"
	"sync/atomic"
)

// rangeTask is work split into n units: runRange processes units [lo, hi)
// on worker w (0 <= w < the worker count given to parallelRun.run), so a
// task can keep one scratch buffer per worker.
type rangeTask interface {
	runRange(w, lo, hi int)
}

// parallelRun is the state of one parallel loop. Owners embed it in a
// long-lived struct so that running a loop allocates nothing.
type parallelRun struct {
	wg    sync.WaitGroup
	next  atomic.Int64
	n     int
	grain int
	task  rangeTask
}

// drain takes grains of units until none are left.
func (p *parallelRun) drain(w int) {
	for {
		lo := int(p.next.Add(int64(p.grain))) - p.grain
		if lo >= p.n {
			return
		}
		p.task.runRange(w, lo, min(lo+p.grain, p.n))
	}
}

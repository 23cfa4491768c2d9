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

// freeList holds idle scratch of type T for the passes to reuse. Unlike a
// sync.Pool it is never emptied by the garbage collector, so buffers sized
// by the largest layer seen are allocated once (steady-state passes
// allocate nothing); it holds as many as calls ever ran at the same time.
type freeList[T any] struct {
	mu   sync.Mutex
	list []*T
}

// get returns an idle T, or a new one.
func (f *freeList[T]) get() *T {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.list); n > 0 {
		v := f.list[n-1]
		f.list = f.list[:n-1]
		return v
	}
	return new(T)
}

// put returns v to the list.
func (f *freeList[T]) put(v *T) {
	f.mu.Lock()
	f.list = append(f.list, v)
	f.mu.Unlock()
}

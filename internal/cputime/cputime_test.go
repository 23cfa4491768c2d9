package cputime

import (
	"testing"
	"time"
)

// TestSecondsGrows: spinning for 200 ms of wall time adds CPU time, at
// most what the wall clock allows (one thread spins).
func TestSecondsGrows(t *testing.T) {
	t0 := Seconds()
	if t0 == 0 {
		t.Skip("no CPU time on this platform")
	}
	start := time.Now()
	x := 0
	for time.Since(start) < 200*time.Millisecond {
		x++
	}
	wall := time.Since(start).Seconds()
	d := Seconds() - t0
	if d <= 0 || d > wall+0.1 {
		t.Errorf("spinning %.3f s of wall time added %.3f s of CPU time (x=%d)", wall, d, x)
	}
}

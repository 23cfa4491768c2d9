//go:build !js

package nn

import (
	"syscall"
	"testing"
)

// cpuSeconds returns the CPU time (user and system) this process has used.
// Benchmarks report FLOPs per CPU second beside the wall-clock rate: on a
// machine shared with other work the first measures the code, the second
// what a user would see.
func cpuSeconds() float64 {
	var r syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r); err != nil {
		return 0
	}
	return float64(r.Utime.Nano()+r.Stime.Nano()) / 1e9
}

// reportCPU reports flops per CPU second since cpu0 (from cpuSeconds) as
// "GFLOP/cpu-s".
func reportCPU(b *testing.B, flops, cpu0 float64) {
	if d := cpuSeconds() - cpu0; d > 0 {
		b.ReportMetric(flops/d/1e9, "GFLOP/cpu-s")
	}
}

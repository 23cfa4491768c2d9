package nn

import (
	"testing"

	"github.com/mavis-xai/mavis/internal/cputime"
)

// Benchmarks report FLOPs per CPU second beside the wall-clock rate: on a
// machine shared with other work the first measures the code, the second
// what a user would see.
func cpuSeconds() float64 { return cputime.Seconds() }

// reportCPU reports flops per CPU second since cpu0 (from cpuSeconds) as
// "GFLOP/cpu-s".
func reportCPU(b *testing.B, flops, cpu0 float64) {
	if cpu0 == 0 {
		return
	}
	if d := cpuSeconds() - cpu0; d > 0 {
		b.ReportMetric(flops/d/1e9, "GFLOP/cpu-s")
	}
}

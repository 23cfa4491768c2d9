//go:build js

package nn

import (
	"syscall/js"
	"testing"
)

// Under node, process.cpuUsage gives the CPU time of the whole node
// process (the wasm thread, V8's compiler and GC threads). This file is
// only part of the test binary: package nn itself never imports
// syscall/js. In a browser there is no process object and no CPU metric.
func cpuSeconds() float64 {
	p := js.Global().Get("process")
	if p.Type() != js.TypeObject || p.Get("cpuUsage").Type() != js.TypeFunction {
		return 0
	}
	u := p.Call("cpuUsage")
	return (u.Get("user").Float() + u.Get("system").Float()) / 1e6
}

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

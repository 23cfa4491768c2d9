//go:build js

package nn

import "testing"

// Under js/wasm there is one thread and no getrusage: no CPU metric.

func cpuSeconds() float64 { return 0 }

func reportCPU(b *testing.B, flops, cpu0 float64) {}

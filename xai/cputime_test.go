//go:build !js

package xai

import "syscall"

// cpuSeconds returns the CPU time (user and system) this process has used,
// as nn's benchmarks measure it: on a machine shared with other work it
// measures the code, where ns/op measures what a user would wait.
func cpuSeconds() float64 {
	var r syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r); err != nil {
		return 0
	}
	return float64(r.Utime.Nano()+r.Stime.Nano()) / 1e9
}

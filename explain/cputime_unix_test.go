//go:build unix

package main

import "syscall"

// cpuSeconds is the process's user and system CPU time so far, for
// benchmarks on a machine shared with other work, where wall time says
// little.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

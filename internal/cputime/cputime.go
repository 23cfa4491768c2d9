// Package cputime measures the CPU time this process has used, for the
// benchmarks: on a machine shared with other work, CPU time measures the
// code where wall time measures the load as well.
package cputime

// Seconds returns the user and system CPU time of this process (every
// thread) so far, or 0 where it cannot be measured: natively on unix from
// getrusage; as js/wasm under node from node's /proc/self/stat; elsewhere
// (a browser, a system without either) not at all.
func Seconds() float64 { return seconds() }

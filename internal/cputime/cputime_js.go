//go:build js

package cputime

import (
	"os"
	"strconv"
	"strings"
)

// seconds reads /proc/self/stat. Under node (go_js_wasm_exec) os reads
// files through node, and the file is node's own: its utime and stime
// fields (14 and 15, in clock ticks of 1/100 s) are the CPU time of the
// whole node process (the wasm thread, V8's compiler and GC threads), as
// process.cpuUsage gives it. No syscall/js: nn's tests use this package.
func seconds() float64 {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	k, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return float64(u+k) / 100
}

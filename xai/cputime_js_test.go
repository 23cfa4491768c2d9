//go:build js

package xai

import (
	"os"
	"strconv"
	"strings"
)

// cpuSeconds returns node's CPU time from /proc/self/stat (utime and
// stime, fields 14 and 15, in ticks of 1/100 s), as nn's js benchmarks
// do, or 0 where there is no /proc. xai's tests never import syscall/js.
func cpuSeconds() float64 {
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

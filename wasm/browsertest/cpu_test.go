package browsertest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// workerCPU returns the CPU time (user + system) used so far by the Web
// Worker threads of every browser this test process started: the threads
// named "DedicatedWorker" in the processes descending from us. Unlike wall
// time it barely depends on what else the machine runs.
func workerCPU() time.Duration {
	return threadsCPU(func(pid int, task, comm string) bool { return strings.HasPrefix(comm, "DedicatedWorker") })
}

// pageThreadCPU returns the CPU time (user + system) used so far by the
// main threads of the renderer processes of every browser this test
// process started: the pages' own threads (their frames' JavaScript,
// layout and painting; a same-origin iframe's too).
func pageThreadCPU() time.Duration {
	renderer := map[int]bool{}
	return threadsCPU(func(pid int, task, comm string) bool {
		r, ok := renderer[pid]
		if !ok {
			cmd, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
			r = strings.Contains(string(cmd), "--type=renderer")
			renderer[pid] = r
		}
		return r && task == strconv.Itoa(pid)
	})
}

// threadsCPU sums the CPU time of the threads, in the processes descending
// from this test process, for which keep(process, thread ID, thread name)
// is true.
func threadsCPU(keep func(pid int, task, comm string) bool) time.Duration {
	me := os.Getpid()
	parent := map[int]int{}
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		pid, ppid, ok := statPIDs(p)
		if ok {
			parent[pid] = ppid
		}
	}
	mine := func(pid int) bool {
		for range 64 {
			if pid == me {
				return true
			}
			pp, ok := parent[pid]
			if !ok || pp <= 1 {
				return false
			}
			pid = pp
		}
		return false
	}
	var ticks int64
	for pid := range parent {
		if pid == me || !mine(pid) {
			continue
		}
		tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/[0-9]*")
		for _, task := range tasks {
			comm, err := os.ReadFile(filepath.Join(task, "comm"))
			if err != nil || !keep(pid, filepath.Base(task), strings.TrimSpace(string(comm))) {
				continue
			}
			b, err := os.ReadFile(filepath.Join(task, "stat"))
			if err != nil {
				continue
			}
			f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
			if len(f) > 12 {
				u, _ := strconv.ParseInt(f[11], 10, 64)
				s, _ := strconv.ParseInt(f[12], 10, 64)
				ticks += u + s
			}
		}
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}

func statPIDs(path string) (pid, ppid int, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, false
	}
	pid, err = strconv.Atoi(strings.TrimSpace(s[:strings.IndexByte(s, ' ')]))
	if err != nil {
		return 0, 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	return pid, ppid, err == nil
}

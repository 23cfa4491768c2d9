package main

// explain -merge OUT DIR...: the report of a sharded -evaluate (issue
// 15). It reads each shard's evaluate.jsonl, checks that they were made
// with the same model and settings and are shards of one split, and
// writes OUT/report.md, metrics.json and figures from their records as a
// single run would (metrics.json byte for byte: the summary depends only
// on the records, sorted by image, and the settings).

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// shardLog is one output folder given to -merge.
type shardLog struct {
	dir string
	*logContents
}

// runMerge is explain -merge: it returns the exit status (0 ok, 1 a
// shard is missing or incomplete or an image failed, 2 the outputs do
// not belong together).
func runMerge(out string, dirs []string, stdout, stderr io.Writer) int {
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "explain: -merge: "+format+"\n", a...)
		return code
	}
	if len(dirs) == 0 {
		return fail(2, "give the -evaluate output folders to merge: explain -merge OUT DIR...")
	}
	outAbs, _ := filepath.Abs(out)
	for _, d := range dirs {
		if abs, _ := filepath.Abs(d); abs == outAbs {
			return fail(2, "OUT %s is also one of the folders to merge; give another OUT", out)
		}
	}
	// The logs are read in parallel (decoding JSON is most of a merge).
	logs := make([]shardLog, len(dirs))
	torns := make([]*tornLog, len(dirs))
	errs := make([]error, len(dirs))
	var wg sync.WaitGroup
	var next atomic.Int64
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(dirs); i = int(next.Add(1)) - 1 {
				logs[i].dir = dirs[i]
				logs[i].logContents, torns[i], errs[i] = readLog(filepath.Join(dirs[i], logName))
			}
		})
	}
	wg.Wait()
	for i, d := range dirs {
		if err := errs[i]; err != nil {
			if os.IsNotExist(err) {
				return fail(2, "%s has no %s: is it an explain -evaluate output folder?", d, logName)
			}
			return fail(2, "%v", err)
		}
		if torns[i] != nil {
			fmt.Fprintf(stderr, "explain: -merge: %s: ignoring %d bytes after its last complete line (a write cut short; rerun that shard to finish it)\n",
				filepath.Join(d, logName), torns[i].bytes)
		}
	}
	first := logs[0]
	var notes []string
	seen := map[int]string{}
	for _, l := range logs {
		if changed := settingsChanges(first.Header.Settings, l.Header.Settings); len(changed) > 0 {
			return fail(2, "%s and %s were evaluated with different settings:\n  %s\nThey cannot be merged; rerun one with the other's", first.dir, l.dir, strings.Join(changed, "\n  "))
		}
		if l.Header.Shard.N != first.Header.Shard.N {
			return fail(2, "%s is shard %s and %s is shard %s: shards of different splits cannot be merged", first.dir, first.Header.Shard, l.dir, l.Header.Shard)
		}
		if d, ok := seen[l.Header.Shard.K]; ok {
			return fail(2, "%s and %s are both shard %s", d, l.dir, l.Header.Shard)
		}
		seen[l.Header.Shard.K] = l.dir
		if l.Header.Dir != first.Header.Dir {
			notes = append(notes, fmt.Sprintf("%s evaluated %s, %s evaluated %s (the same files, presumably, mounted elsewhere); the report names %s", first.dir, first.Header.Dir, l.dir, l.Header.Dir, first.Header.Dir))
		}
	}
	incomplete := false
	if n := first.Header.Shard.N; n > 1 && len(logs) < n {
		var missing []string
		for k := range n {
			if _, ok := seen[k]; !ok {
				missing = append(missing, fmt.Sprintf("%d/%d", k, n))
			}
		}
		incomplete = true
		notes = append(notes, fmt.Sprintf("%d of %d shards are missing (%s): this report covers only part of the folder", len(missing), n, strings.Join(missing, ", ")))
	}

	records := map[string]*evalRecord{}
	failed := map[string]*skippedImage{}
	var runs []runInfo
	for _, l := range logs {
		for k, r := range l.Records {
			if records[k] != nil {
				fmt.Fprintf(stderr, "explain: -merge: %s is in more than one shard; keeping the first\n", k)
				continue
			}
			records[k] = r
		}
		for k, f := range l.Failed {
			failed[k] = f
		}
		runs = append(runs, l.Runs...)
		if len(l.Runs) > 0 {
			last := l.Runs[len(l.Runs)-1]
			if got := len(l.Records) + len(l.Failed); got < last.Selected {
				incomplete = true
				notes = append(notes, fmt.Sprintf("shard %s (%s) is incomplete: %d of its %d images are done; rerun it (it continues) and merge again",
					l.Header.Shard, l.dir, got, last.Selected))
			}
		}
	}
	var recs []*evalRecord
	for _, r := range records {
		recs = append(recs, r)
	}
	var skipped []skippedImage
	for k, f := range failed {
		if records[k] == nil {
			skipped = append(skipped, *f)
		}
	}
	sortRecords(recs, skipped)
	if len(recs) == 0 {
		return fail(1, "the folders hold no evaluated image")
	}
	h := first.Header
	h.Shard = shardSpec{K: 0, N: 1}
	s, err := summarise(h, recs, skipped)
	if err != nil {
		return fail(1, "%v", err)
	}
	s.Notes = notes
	if err := os.MkdirAll(filepath.Join(out, "figures"), 0o755); err != nil {
		return fail(1, "%v", err)
	}
	if err := writeEvaluation(out, s, recs, newTimings(h.Settings.Methods, recs, runs)); err != nil {
		return fail(1, "%v", err)
	}
	for _, n := range notes {
		fmt.Fprintf(stderr, "explain: -merge: %s\n", n)
	}
	fmt.Fprintf(stdout, "explain: merged %s from %d %s into %s; recommended: %s\n", imageCount(len(recs)), len(logs),
		map[bool]string{true: "folder", false: "folders"}[len(logs) == 1], filepath.Join(out, "report.md"), recommendedLabel(s.Ranking))
	if len(skipped) > 0 {
		fmt.Fprintf(stderr, "explain: -merge: %s failed (listed in report.md and metrics.json)\n", imageCount(len(skipped)))
	}
	if incomplete || len(skipped) > 0 {
		return 1
	}
	return 0
}

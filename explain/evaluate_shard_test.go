package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestShardOf pins the documented assignment (the first 8 bytes of the
// relative path's SHA-256, big-endian, modulo N; the values from
// sha256sum), checks that it is stable when files are added and spreads
// images evenly.
func TestShardOf(t *testing.T) {
	for _, tt := range []struct {
		key  string
		n    int
		want int
	}{
		// printf %s KEY | sha256sum: ab621a9eef742de7..., cd62f6f00999cf07..., 7f071235805fbf58...
		{"images/val_0.JPEG", 10, 0xab621a9eef742de7 % 10},
		{"images/val_0.JPEG", 7, 0xab621a9eef742de7 % 7},
		{"img0000.png", 10, 0xcd62f6f00999cf07 % 10},
		{"a.png", 7, 0x7f071235805fbf58 % 7},
		{"a.png", 1, 0},
	} {
		if got := shardOf(tt.key, tt.n); got != tt.want {
			t.Errorf("shardOf(%q, %d) = %d, want %d", tt.key, tt.n, got, tt.want)
		}
	}
	// 10,000 names in 10 shards: binomial(10000, 0.1) has sd 30; allow 5 sd.
	count := make([]int, 10)
	for i := range 10000 {
		count[shardOf(fmt.Sprintf("images/val_%d.JPEG", i), 10)]++
	}
	for k, c := range count {
		if c < 1000-150 || c > 1000+150 {
			t.Errorf("shard %d/10 has %d of 10000 images", k, c)
		}
	}
}

// TestShardStableUnderAddedFiles: adding files to the folder leaves every
// image that was there in its shard, so resumed shards keep their work.
func TestShardStableUnderAddedFiles(t *testing.T) {
	dir := t.TempDir()
	imgs := evalFolder(t, dir, 12)
	before, err := evalImages(imgs)
	if err != nil {
		t.Fatal(err)
	}
	evalPicture(t, filepath.Join(imgs, "a-first.png"), 40) // sorts first: every index moves
	evalPicture(t, filepath.Join(imgs, "p05b.png"), 41)
	after, err := evalImages(imgs)
	if err != nil {
		t.Fatal(err)
	}
	shard := map[string]int{}
	for _, im := range after {
		shard[im.key] = shardOf(im.key, 4)
	}
	for _, im := range before {
		if got := shardOf(im.key, 4); shard[im.key] != got {
			t.Errorf("%s moved from shard %d to %d", im.key, got, shard[im.key])
		}
		if im.key != filepath.Base(im.path) {
			t.Errorf("key %q of %s, want the path relative to the folder", im.key, im.path)
		}
	}
}

func TestResolveShard(t *testing.T) {
	for _, tt := range []struct {
		shard  string
		shards int
		index  string
		want   shardSpec
		err    string
	}{
		{"", 0, "", shardSpec{0, 1}, ""},
		{"3/10", 0, "", shardSpec{3, 10}, ""},
		{"0/1", 0, "", shardSpec{0, 1}, ""},
		{"", 8, "5", shardSpec{5, 8}, ""},
		{"2/4", 0, "7", shardSpec{2, 4}, ""}, // -shard wins over the Job's index
		{"10/10", 0, "", shardSpec{}, "shards count from 0, so K is 0..9 (for Slurm, --array=0-9)"},
		{"-1/4", 0, "", shardSpec{}, "K=-1 out of range 0..3"},
		{"3", 0, "", shardSpec{}, `-shard "3": want K/N`},
		{"1/0", 0, "", shardSpec{}, "0 shards, want 1..100000"},
		{"", 8, "", shardSpec{}, "-shards 8 needs JOB_COMPLETION_INDEX"},
		{"", 8, "8", shardSpec{}, "JOB_COMPLETION_INDEX=8 with -shards 8: shards count from 0"},
		{"", 8, "x", shardSpec{}, `JOB_COMPLETION_INDEX="x" is not a number`},
		{"", 0, "3", shardSpec{}, "JOB_COMPLETION_INDEX=3 is set (a Kubernetes Indexed Job) but -shards is not"},
		{"1/2", 2, "", shardSpec{}, "give one"},
	} {
		got, err := resolveShard(tt.shard, tt.shards, func(string) string { return tt.index })
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("-shard %q -shards %d index %q: error %v, want %q", tt.shard, tt.shards, tt.index, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("-shard %q -shards %d index %q: got %v, %v; want %v", tt.shard, tt.shards, tt.index, got, err, tt.want)
		}
	}
}

// timingColumns matches the two time columns of report.md's scores
// table, the only part of a report that depends on the run.
var timingColumns = regexp.MustCompile(`\| [0-9.]+ \| [0-9.]+ \| (\d+ of \d+) \|`)

// TestMergeEqualsSingleRun is issue 15's acceptance test: a folder
// evaluated in three shards (one through JOB_COMPLETION_INDEX, as in a
// Kubernetes Indexed Job) and merged gives the metrics.json of one run
// over the whole folder byte for byte, the same figures, and the same
// report.md but for the times.
func TestMergeEqualsSingleRun(t *testing.T) {
	dir := t.TempDir()
	model := cnnModel(t, dir, 8)
	imgs := evalFolder(t, dir, 9)
	single := filepath.Join(dir, "single")
	if code, _, stderr := runCmd(evalArgs(model, imgs, single, "-j", "2")...); code != 0 {
		t.Fatalf("single run: exit %d\n%s", code, stderr)
	}
	var shards []string
	total := 0
	for k := range 3 {
		out := filepath.Join(dir, fmt.Sprintf("shard-%d", k))
		shards = append(shards, out)
		args := evalArgs(model, imgs, out, "-j", "1", "-shard", fmt.Sprintf("%d/3", k))
		if k == 2 {
			getenv = func(string) string { return "2" }
			args = evalArgs(model, imgs, out, "-j", "1", "-shards", "3")
		}
		code, stdout, stderr := runCmd(args...)
		getenv = os.Getenv
		if code != 0 || !strings.Contains(stdout, fmt.Sprintf("this is shard %d/3", k)) {
			t.Fatalf("shard %d: exit %d\n%s%s", k, code, stdout, stderr)
		}
		lc, _, err := readLog(filepath.Join(out, logName))
		if err != nil {
			t.Fatal(err)
		}
		for key := range lc.Records {
			if shardOf(key, 3) != k {
				t.Errorf("%s in shard %d, hashes to %d", key, k, shardOf(key, 3))
			}
		}
		total += len(lc.Records)
	}
	if total != 9 {
		t.Errorf("the shards hold %d images, want 9", total)
	}
	merged := filepath.Join(dir, "merged")
	code, stdout, stderr := runCmd("-merge", merged, shards[2], shards[0], shards[1])
	if code != 0 || !strings.Contains(stdout, "merged 9 images from 3 folders") {
		t.Fatalf("merge: exit %d\n%s%s", code, stdout, stderr)
	}
	if a, b := readFile(t, filepath.Join(single, "metrics.json")), readFile(t, filepath.Join(merged, "metrics.json")); !bytes.Equal(a, b) {
		t.Errorf("merged metrics.json (%d bytes) differs from the single run's (%d bytes)", len(b), len(a))
	}
	for _, f := range []string{"curves_deletion.png", "curves_insertion.png", "auc_boxplot.png", "intervals.png"} {
		if a, b := readFile(t, filepath.Join(single, "figures", f)), readFile(t, filepath.Join(merged, "figures", f)); !bytes.Equal(a, b) {
			t.Errorf("figures/%s differs", f)
		}
	}
	ra := timingColumns.ReplaceAllString(string(readFile(t, filepath.Join(single, "report.md"))), "| $1 |")
	rb := timingColumns.ReplaceAllString(string(readFile(t, filepath.Join(merged, "report.md"))), "| $1 |")
	if ra != rb {
		t.Errorf("report.md differs beyond the times:\n%s\n---\n%s", ra, rb)
	}
	if _, err := os.Stat(filepath.Join(merged, "timings.json")); err != nil {
		t.Error(err)
	}

	// A missing shard: the report is written, says so, and the exit
	// status is 1.
	code, _, stderr = runCmd("-merge", filepath.Join(dir, "part"), shards[0], shards[2])
	report := string(readFile(t, filepath.Join(dir, "part", "report.md")))
	if code != 1 || !strings.Contains(stderr, "1 of 3 shards are missing (1/3)") || !strings.Contains(report, "**Note:** 1 of 3 shards are missing (1/3)") {
		t.Errorf("merge without shard 1: exit %d\n%s", code, stderr)
	}
}

// TestMergeRefuses: outputs that do not belong together are refused
// with what differs.
func TestMergeRefuses(t *testing.T) {
	dir := t.TempDir()
	model := cnnModel(t, dir, 9)
	imgs := evalFolder(t, dir, 2)
	mk := func(name string, more ...string) string {
		out := filepath.Join(dir, name)
		if code, _, stderr := runCmd(evalArgs(model, imgs, out, append([]string{"-eval-sanity", "0"}, more...)...)...); code != 0 {
			t.Fatalf("%s: exit %d\n%s", name, code, stderr)
		}
		return out
	}
	a := mk("a", "-shard", "0/2")
	b := mk("b", "-shard", "1/2", "-eval-steps", "5")
	c := mk("c", "-shard", "1/3")
	d := mk("d", "-shard", "0/2", "-j", "2")
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-merge", filepath.Join(dir, "m")}, "give the -evaluate output folders to merge"},
		{[]string{"-merge", filepath.Join(dir, "m"), a, b}, "were evaluated with different settings:\n  -eval-steps: steps was 6, now 5\nThey cannot be merged"},
		{[]string{"-merge", filepath.Join(dir, "m"), a, c}, "shards of different splits cannot be merged"},
		{[]string{"-merge", filepath.Join(dir, "m"), a, d}, "are both shard 0/2"},
		{[]string{"-merge", filepath.Join(dir, "m"), a, empty}, "has no evaluate.jsonl: is it an explain -evaluate output folder?"},
		{[]string{"-merge", a, a}, "is also one of the folders to merge"},
		{[]string{"-merge", filepath.Join(dir, "m"), "-evaluate", imgs, a}, "it does not take -evaluate"},
	} {
		code, _, stderr := runCmd(tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}

// TestKubernetesManifest holds deploy/k8s/evaluate-job.yaml to the
// command: its arguments parse, -shards equals the Job's completions,
// and the merge Job runs -merge over the shards' folders.
func TestKubernetesManifest(t *testing.T) {
	job := string(readFile(t, filepath.Join("..", "deploy", "k8s", "evaluate-job.yaml")))
	completions := regexp.MustCompile(`(?m)^  completions: (\d+)`).FindStringSubmatch(job)
	if completions == nil {
		t.Fatal("no completions in evaluate-job.yaml")
	}
	var args []string
	for _, m := range regexp.MustCompile(`(?m)^            - (-[a-z-]+=\S+)$`).FindAllStringSubmatch(job, -1) {
		args = append(args, strings.ReplaceAll(m[1], "$(SHARD)", "3"))
	}
	cfg, err := parse(args, os.Stderr)
	if err != nil {
		t.Fatalf("the Job's args %v: %v", args, err)
	}
	if fmt.Sprint(cfg.eval.shards) != completions[1] || cfg.eval.dir == "" || cfg.out != "/results/shard-3" {
		t.Errorf("-shards %d, completions %s, -evaluate %q, -out %q", cfg.eval.shards, completions[1], cfg.eval.dir, cfg.out)
	}
	if !strings.Contains(job, "fieldPath: metadata.annotations['batch.kubernetes.io/job-completion-index']") {
		t.Error("the Job does not take SHARD from the completion index")
	}
	merge := string(readFile(t, filepath.Join("..", "deploy", "k8s", "merge-job.yaml")))
	if !strings.Contains(merge, "explain -merge /results/report /results/shard-*") {
		t.Error("merge-job.yaml does not merge /results/shard-*")
	}
}

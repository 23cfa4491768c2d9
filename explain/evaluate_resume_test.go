package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/nn/imagefile"
	"github.com/mavis-xai/mavis/xai"
)

// cnnModel saves the page's Fashion-MNIST architecture (two 3x3
// convolutions of 16 and 32 filters, batch norm, max-pooling, two dense
// layers) with seeded random weights: big enough to take the
// convolution kernels' fast paths, small enough for a test.
func cnnModel(t testing.TB, dir string, seed uint64) string {
	t.Helper()
	s, err := nn.Builtin("fashion")
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.Build(s)
	if err != nil {
		t.Fatal(err)
	}
	nn.Init(m, seed)
	for i := range 10 {
		m.Classes = append(m.Classes, nn.Class{ID: fmt.Sprintf("c%d", i), Name: fmt.Sprintf("class %d", i)})
	}
	path := filepath.Join(dir, fmt.Sprintf("cnn%d.safetensors", seed))
	if err := nn.Save(path, m); err != nil {
		t.Fatal(err)
	}
	return path
}

// evalFolder writes n pictures into dir/imgs.
func evalFolder(t *testing.T, dir string, n int) string {
	t.Helper()
	imgs := filepath.Join(dir, "imgs")
	os.MkdirAll(imgs, 0o755)
	for i := range n {
		evalPicture(t, filepath.Join(imgs, fmt.Sprintf("p%02d.png", i)), i)
	}
	return imgs
}

// runCmd runs explain with args and returns the exit status, stdout and
// stderr.
func runCmd(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// evalArgs are a fast -evaluate: small curves, IG with few steps, the
// sanity check on the first two images.
func evalArgs(model, imgs, out string, more ...string) []string {
	return append([]string{"-model", model, "-evaluate", imgs, "-out", out, "-eval-steps", "6", "-ig-steps", "8",
		"-eval-sanity", "2", "-methods", "gradcam,saliency,ig"}, more...)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestEvaluateJobsIdentical: four images at once give the same
// metrics.json, byte for byte, as one at a time: each worker has its own
// copy of the model, and the report sorts the records.
func TestEvaluateJobsIdentical(t *testing.T) {
	dir := t.TempDir()
	model := cnnModel(t, dir, 3)
	imgs := evalFolder(t, dir, 7)
	for _, j := range []string{"1", "4"} {
		if code, _, stderr := runCmd(evalArgs(model, imgs, filepath.Join(dir, "j"+j), "-j", j)...); code != 0 {
			t.Fatalf("-j %s: exit %d\n%s", j, code, stderr)
		}
	}
	a, b := readFile(t, filepath.Join(dir, "j1", "metrics.json")), readFile(t, filepath.Join(dir, "j4", "metrics.json"))
	if !bytes.Equal(a, b) {
		t.Errorf("metrics.json of -j 1 and -j 4 differ (%d and %d bytes)", len(a), len(b))
	}
	if bytes.Contains(a, []byte("seconds")) {
		t.Error("metrics.json holds timings (they belong in timings.json)")
	}
}

// TestEvaluateBatchInvariant: -eval-batch changes how many perturbed
// images go through the model at once, not a number, so a rerun may
// change it. (-ig-batch does change IG's last bits, float32 sums
// grouped differently, so it is a setting a rerun must keep.)
func TestEvaluateBatchInvariant(t *testing.T) {
	dir := t.TempDir()
	model := cnnModel(t, dir, 4)
	imgs := evalFolder(t, dir, 3)
	for i, b := range [][]string{{"-eval-batch", "1"}, {"-eval-batch", "7"}} {
		if code, _, stderr := runCmd(evalArgs(model, imgs, filepath.Join(dir, fmt.Sprint(i)), b...)...); code != 0 {
			t.Fatalf("%v: exit %d\n%s", b, code, stderr)
		}
	}
	if a, b := readFile(t, filepath.Join(dir, "0", "metrics.json")), readFile(t, filepath.Join(dir, "1", "metrics.json")); !bytes.Equal(a, b) {
		t.Error("metrics.json differs between -eval-batch 1 and 7")
	}
}

// TestEvaluateResume: an evaluation stopped part-way (here by
// -eval-limit, then by a write torn in the middle of a line) continues
// on the rerun, says how much it skipped, and ends with the same
// metrics.json as an uninterrupted run.
func TestEvaluateResume(t *testing.T) {
	dir := t.TempDir()
	model := cnnModel(t, dir, 5)
	imgs := evalFolder(t, dir, 6)
	whole := filepath.Join(dir, "whole")
	if code, _, stderr := runCmd(evalArgs(model, imgs, whole, "-j", "2")...); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	want := readFile(t, filepath.Join(whole, "metrics.json"))

	out := filepath.Join(dir, "out")
	if code, _, stderr := runCmd(evalArgs(model, imgs, out, "-eval-limit", "3")...); code != 0 {
		t.Fatalf("first part: exit %d\n%s", code, stderr)
	}
	// A crash in the middle of writing the fifth image's line: the file
	// ends with half a line.
	if code, _, stderr := runCmd(evalArgs(model, imgs, out, "-eval-limit", "4")...); code != 0 {
		t.Fatalf("second part: exit %d\n%s", code, stderr)
	}
	log := filepath.Join(out, logName)
	data := readFile(t, log)
	lines := bytes.SplitAfter(data, []byte("\n"))
	half := lines[len(lines)-2][:len(lines[len(lines)-2])/2]
	torn := append(bytes.Join(lines[:len(lines)-2], nil), half...)
	if err := os.WriteFile(log, torn, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd(evalArgs(model, imgs, out)...)
	if code != 0 {
		t.Fatalf("rerun: exit %d\n%s", code, stderr)
	}
	for _, s := range []string{fmt.Sprintf("dropped %d bytes after the last complete line", len(half)), "evaluating 3, skipping 3 already in"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("rerun's stderr lacks %q:\n%s", s, stderr)
		}
	}
	if got := readFile(t, filepath.Join(out, "metrics.json")); !bytes.Equal(got, want) {
		t.Errorf("metrics.json after the interruptions differs from the uninterrupted run's")
	}
	// The log: a header, three runs, six images, no torn bytes.
	lc, tl, err := readLog(log)
	if err != nil || tl != nil || len(lc.Runs) != 3 || len(lc.Records) != 6 {
		t.Errorf("log: %v, torn %v, %d runs, %d records", err, tl, len(lc.Runs), len(lc.Records))
	}
	// A third run has nothing to do.
	if code, _, stderr := runCmd(evalArgs(model, imgs, out)...); code != 0 || !strings.Contains(stderr, "evaluating 0, skipping 6") {
		t.Errorf("run with nothing left: exit %d\n%s", code, stderr)
	}
}

// TestEvaluateDamagedLog: a line that does not parse followed by good
// ones is not a torn write; the rerun refuses it with its line number.
func TestEvaluateDamagedLog(t *testing.T) {
	dir := t.TempDir()
	model := cnnModel(t, dir, 5)
	imgs := evalFolder(t, dir, 3)
	out := filepath.Join(dir, "out")
	if code, _, stderr := runCmd(evalArgs(model, imgs, out, "-eval-sanity", "0")...); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	log := filepath.Join(out, logName)
	lines := bytes.SplitAfter(readFile(t, log), []byte("\n"))
	lines[2] = []byte("{\"image\": garbage\n")
	os.WriteFile(log, bytes.Join(lines, nil), 0o644)
	code, _, stderr := runCmd(evalArgs(model, imgs, out, "-eval-sanity", "0")...)
	if code != 1 || !strings.Contains(stderr, logName+":3: ") || !strings.Contains(stderr, "remove or fix line 3, or start over with -eval-restart") {
		t.Errorf("damaged log: exit %d\n%s", code, stderr)
	}
	// A file that is not a log at all.
	os.WriteFile(log, []byte("hello\n"), 0o644)
	if code, _, stderr := runCmd(evalArgs(model, imgs, out, "-eval-sanity", "0")...); code != 1 || !strings.Contains(stderr, "has no header line") {
		t.Errorf("not a log: exit %d\n%s", code, stderr)
	}
}

// TestEvaluateRefusesChangedSettings: a rerun into the same -out with a
// different model, methods, option or metric setting is refused, naming
// what changed and what to do; -eval-restart starts over.
func TestEvaluateRefusesChangedSettings(t *testing.T) {
	dir := t.TempDir()
	model := cnnModel(t, dir, 6)
	imgs := evalFolder(t, dir, 2)
	out := filepath.Join(dir, "out")
	base := func(more ...string) []string {
		return evalArgs(model, imgs, out, append([]string{"-eval-sanity", "0"}, more...)...)
	}
	if code, _, stderr := runCmd(base()...); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	// The same model file rewritten with other weights.
	other := cnnModel(t, t.TempDir(), 7)
	retrained := filepath.Join(dir, "retrained.safetensors")
	os.WriteFile(retrained, readFile(t, other), 0o644)
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"steps", base("-eval-steps", "5"), "-eval-steps: steps was 6, now 5"},
		{"methods", base("-methods", "gradcam,saliency"), "-methods: methods was"},
		{"option", base("-ig-steps", "9"), "the methods' options (-<method>-<param>): options.ig.steps was 8, now 9"},
		{"reference", base("-eval-reference", "blur"), `-eval-reference: reference was "rise", now "blur"`},
		{"keep fill", base("-eval-keep-fill", "blur"), `-eval-keep-fill: keep_fill was "black", now "blur"`},
		{"seed", base("-seed", "2"), "-seed: seed was 1, now 2"},
		{"ig batch", base("-ig-batch", fmt.Sprint(xai.DefaultBatch+2)), fmt.Sprintf("-ig-batch: ig_batch was %d, now %d", xai.DefaultBatch, xai.DefaultBatch+2)},
		{"model", append(base(), "-model", retrained), "the model file's contents (-model): model_sha256 was"},
		{"shard", base("-shard", "0/2"), "the shard was all, now 0/2"},
	} {
		code, _, stderr := runCmd(tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) || !strings.Contains(stderr, "Give another -out to keep both, or -eval-restart") {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit 2 and %q", tt.name, code, stderr, tt.want)
		}
		// One line per change: the dropped method's options are not
		// listed again.
		if n := strings.Count(stderr, "\n  "); n != 1 || strings.Contains(stderr, "options.ig") && tt.name == "methods" {
			t.Errorf("%s: %d changes listed:\n%s", tt.name, n, stderr)
		}
	}
	// A log written by an explain that decoded images otherwise (before
	// image_decoding was recorded): refused, as its pixels may differ.
	logPath := filepath.Join(out, logName)
	saved := readFile(t, logPath)
	older := strings.Replace(string(saved), `,"image_decoding":"`+imagefile.Decoding+`"`, "", 1)
	if older == string(saved) {
		t.Fatalf("%s records no image_decoding", logPath)
	}
	os.WriteFile(logPath, []byte(older), 0o644)
	if code, _, stderr := runCmd(base()...); code != 2 || !strings.Contains(stderr, fmt.Sprintf("how images are decoded (explain's version): image_decoding was an older explain's, now %q", imagefile.Decoding)) {
		t.Errorf("an older explain's log: exit %d\n%s", code, stderr)
	}
	os.WriteFile(logPath, saved, 0o644)
	// What may change: -j, -eval-limit, -eval-batch.
	if code, _, stderr := runCmd(base("-j", "3", "-eval-batch", "2", "-eval-limit", "5")...); code != 0 || !strings.Contains(stderr, "skipping 2") {
		t.Errorf("-j, -eval-limit and -eval-batch: exit %d\n%s", code, stderr)
	}
	code, _, stderr := runCmd(base("-eval-steps", "5", "-eval-restart")...)
	if code != 0 || strings.Contains(stderr, "skipping") {
		t.Fatalf("-eval-restart: exit %d\n%s", code, stderr)
	}
	var got struct {
		Images []*evalRecord `json:"images"`
	}
	json.Unmarshal(readFile(t, filepath.Join(out, "metrics.json")), &got)
	if len(got.Images) != 2 || got.Images[0].Methods["saliency"].Metrics.Steps != 5 {
		t.Errorf("after -eval-restart: %d images", len(got.Images))
	}
}

// TestEvaluateLocked: a second process writing the same -out is refused
// while the first holds it.
func TestEvaluateLocked(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, logName)
	h := evalHeader{Format: logFormat}
	lg, err := openLog(dir, h, false, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer lg.close()
	if _, err := appendLog(path); err == nil || !strings.Contains(err.Error(), "give every process, such as every shard, its own -out") {
		t.Errorf("second writer: %v", err)
	}
	if _, err := openLog(dir, h, true, os.Stderr); err == nil || !strings.Contains(err.Error(), "is being written by another explain -evaluate") {
		t.Errorf("-eval-restart while another process writes: %v", err)
	}
}

// TestEvaluateRateCountsEvaluated: the closing rate counts the images
// evaluated, not those that failed to decode, and says how many failed.
func TestEvaluateRateCountsEvaluated(t *testing.T) {
	dir := t.TempDir()
	model := cnnModel(t, dir, 5)
	imgs := evalFolder(t, dir, 2)
	for _, name := range []string{"bad1.png", "bad2.jpg", "bad3.png"} {
		if err := os.WriteFile(filepath.Join(imgs, name), []byte("not a picture"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "out")
	_, _, stderr := runCmd(evalArgs(model, imgs, out)...)
	if !regexp.MustCompile(`explain: -evaluate: 2 images evaluated in 0:\d\d: [\d.]+ images/hour \(3 failed\)\n`).MatchString(stderr) {
		t.Errorf("first run's stderr:\n%s", stderr)
	}
	// The rerun tries the three again and evaluates none.
	_, _, stderr = runCmd(evalArgs(model, imgs, out)...)
	if !strings.Contains(stderr, "explain: -evaluate: no image evaluated in this run (3 failed)\n") || strings.Contains(stderr, "images/hour") {
		t.Errorf("rerun's stderr:\n%s", stderr)
	}
}

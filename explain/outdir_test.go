package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test run explain as a process of its own (to interrupt
// it): with EXPLAIN_ARGS set, the test binary is explain, its arguments
// separated by newlines.
func TestMain(m *testing.M) {
	if args := os.Getenv("EXPLAIN_ARGS"); args != "" {
		os.Exit(run(strings.Split(args, "\n"), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// catRun is a tiny model, an image cat.png and an -out folder to explain
// it into (not yet made), in a temporary folder.
func catRun(t *testing.T) (model, img, out string) {
	dir := t.TempDir()
	model, _ = tinyModel(t, dir)
	img = filepath.Join(dir, "cat.png")
	writeTestImage(t, img, 8, 8)
	return model, img, filepath.Join(dir, "out")
}

// TestExplainReplacesFolder: a second run into the same -out leaves each
// image's folder with that run's files alone, none of the first's.
func TestExplainReplacesFolder(t *testing.T) {
	model, img, out := catRun(t)
	for _, methods := range []string{"gradcam,saliency,ig", "gradcam"} {
		if code, _, stderr := runCmd("-model", model, "-methods", methods, "-out", out, img); code != 0 {
			t.Fatalf("-methods %s: exit %d\n%s", methods, code, stderr)
		}
	}
	want := []string{"gradcam.npy", "gradcam_overlay.png", "gradcam_panel.png", "input.png", "probs.npy", "report.json"}
	if got := dirNames(t, filepath.Join(out, "cat")); !slices.Equal(got, want) {
		t.Errorf("cat's folder after the second run holds\n%v, want\n%v", got, want)
	}
	if got := dirNames(t, out); !slices.Equal(got, []string{"cat"}) {
		t.Errorf("-out holds %v, want only cat", got)
	}
}

// TestExplainForeignFolder: a folder in the image's place that explain did
// not write is left as it is, and the image fails saying why.
func TestExplainForeignFolder(t *testing.T) {
	model, img, out := catRun(t)
	for _, tc := range []struct{ file, says string }{
		{"notes.txt", "holds notes.txt, which explain did not write"},
		{"holiday.png", "has no probs.npy, so explain did not write it"},
	} {
		theirs := filepath.Join(out, "cat", tc.file)
		os.MkdirAll(filepath.Dir(theirs), 0o755)
		if err := os.WriteFile(theirs, []byte("mine"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runCmd("-model", model, "-methods", "gradcam", "-out", out, img)
		if code != 1 || !strings.Contains(stderr, tc.says) || !strings.Contains(stderr, "give another -out") {
			t.Errorf("with %s in the way: exit %d, stderr\n%s", tc.file, code, stderr)
		}
		if got := dirNames(t, filepath.Join(out, "cat")); !slices.Equal(got, []string{tc.file}) {
			t.Errorf("the folder in the way now holds %v", got)
		}
		if got := dirNames(t, out); !slices.Equal(got, []string{"cat"}) {
			t.Errorf("-out holds %v, want only cat", got)
		}
		os.RemoveAll(filepath.Join(out, "cat"))
	}
}

// TestExplainInterrupt: Ctrl-C in the middle of a run ends it at once,
// says how many images are done, and leaves only whole folders.
func TestExplainInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("runs explain as a process for a few seconds")
	}
	dir := t.TempDir()
	model, _ := tinyModelSized(t, dir, "tiny", 48)
	imgs := filepath.Join(dir, "images")
	os.MkdirAll(imgs, 0o755)
	const n = 30
	for i := range n {
		writeTestImage(t, filepath.Join(imgs, fmt.Sprintf("im%02d.png", i)), 48, 48)
	}
	out := filepath.Join(dir, "out")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "EXPLAIN_ARGS="+strings.Join([]string{"-model", model, "-methods", "all", "-out", out, imgs}, "\n"))
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt once the second image is under way.
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(out, "im01")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no image explained in a minute:\n%s", stderr.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(30 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit %d (%v), want 130:\n%s", code, err, stderr.String())
	}
	m := regexp.MustCompile(`explain: interrupted; (\d+) of 30 images explained into ` + regexp.QuoteMeta(out)).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("stderr does not say how far the run got:\n%s", stderr.String())
	}
	done, _ := strconv.Atoi(m[1])
	names := dirNames(t, out)
	if len(names) != done || done == n {
		t.Errorf("-out holds %v after %d of 30 images", names, done)
	}
	for _, name := range names {
		if _, err := os.Stat(filepath.Join(out, name, "report.json")); err != nil {
			t.Errorf("%s is not whole: %v", name, err)
		}
	}
}

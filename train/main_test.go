package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/nn"
)

// writeStripesIDX writes stripes as IDX files (train and t10k) into a
// directory, as Debian lays out Fashion-MNIST.
func writeStripesIDX(t *testing.T, dir string) {
	for _, s := range []struct {
		set  string
		n    int
		seed uint64
	}{{"train", 640, 1}, {"t10k", 80, 2}} {
		d := stripes(s.n, 12, s.seed)
		labels := make([]byte, s.n)
		for i, l := range d.Labels {
			labels[i] = byte(l)
		}
		writeFile(t, filepath.Join(dir, s.set+"-images-idx3-ubyte.gz"), gz(idxBytes([]int{s.n, 12, 12}, d.pix)))
		writeFile(t, filepath.Join(dir, s.set+"-labels-idx1-ubyte.gz"), gz(idxBytes([]int{s.n}, labels)))
	}
}

// TestCommandTrainThenEval runs the command end to end on IDX files: it
// trains from a spec file, writes the model, checkpoint, history.csv and
// curves.png, and -eval prints one accuracy line that agrees with the
// per-class table.
func TestCommandTrainThenEval(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	writeStripesIDX(t, data)
	spec := stripeSpec(12)
	spec.Layers[len(spec.Layers)-1].Config.Units = 10 // the digit classes of an IDX set
	js, err := jsonSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	specPath := filepath.Join(dir, "net.json")
	writeFile(t, specPath, js)
	out := filepath.Join(dir, "run")
	o, err := parseFlags([]string{"-arch", specPath, "-data", data, "-epochs", "4", "-batch", "32", "-optimizer", "adam",
		"-lr", "0.01", "-out", out, "-scale", "0..1", "-quiet"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if err := run(o, io.Discard, &log); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	for _, f := range []string{"model.safetensors", "last.safetensors", "last.state", "history.csv", "curves.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("output: %v", err)
		}
	}
	hist, err := os.ReadFile(filepath.Join(out, "history.csv"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := decodeHistory(string(hist))
	if err != nil || len(h) != 4 {
		t.Fatalf("history: %v, %d rows\n%s", err, len(h), hist)
	}
	f, err := os.Open(filepath.Join(out, "curves.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatalf("curves.png: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 500 || b.Dx() < 2*b.Dy() {
		t.Errorf("curves.png is %v, want two panels side by side", b)
	}

	raw, err := os.ReadFile(filepath.Join(out, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	meta, err := nn.Metadata(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(meta["source"], "mavis-xai train: epoch") || meta["val_accuracy"] == "" {
		t.Errorf("metadata %v lacks the training source and validation figures", meta)
	}

	// Evaluate: one line, then a table with one row per class.
	m, err := nn.Load(filepath.Join(out, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Preprocess.Scale != "0..1" || len(m.Classes) != 10 {
		t.Errorf("saved model: preprocess %+v, %d classes", m.Preprocess, len(m.Classes))
	}
	o, err = parseFlags([]string{"-eval", filepath.Join(out, "model.safetensors"), "-data", data}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	if err := run(o, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	re := regexp.MustCompile(`^accuracy=(\d\.\d{4}) loss=(\d+\.\d{4}) n=(\d+)$`)
	mm := re.FindStringSubmatch(lines[0])
	if mm == nil {
		t.Fatalf("first line %q does not match %v", lines[0], re)
	}
	if mm[3] != "80" {
		t.Errorf("n=%s, want 80 (the t10k set)", mm[3])
	}
	acc, _ := strconv.ParseFloat(mm[1], 64)
	if acc < 0.9 {
		t.Errorf("test accuracy %v after 4 epochs on stripes, want >= 0.9", acc)
	}
	if len(lines) != 1+1+10 {
		t.Fatalf("got %d lines, want the accuracy line, a header and 10 class rows:\n%s", len(lines), stdout.String())
	}
	// The table's per-class counts and accuracies give back the overall accuracy.
	var n, hits float64
	for _, row := range lines[2:] {
		f := strings.Fields(row)
		cnt, _ := strconv.ParseFloat(f[2], 64)
		a, _ := strconv.ParseFloat(f[3], 64)
		if cnt > 0 {
			n += cnt
			hits += a * cnt
		}
	}
	if n != 80 || math.Abs(hits/n-acc) > 1e-3 {
		t.Errorf("table: n %v, accuracy %v; line says %v", n, hits/n, acc)
	}
}

func jsonSpec(s nn.Spec) ([]byte, error) { return json.Marshal(s) }

func TestFlags(t *testing.T) {
	var help bytes.Buffer
	if _, err := parseFlags([]string{"-help"}, &help); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-help: %v", err)
	}
	for _, w := range []string{"Examples:", "-eval", "-reorganise", "fashion-mnist", "-resume"} {
		if !strings.Contains(help.String(), w) {
			t.Errorf("help lacks %q", w)
		}
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{}, "-data is required"},
		{[]string{"-data", "x", "-batch", "0"}, "-batch 0"},
		{[]string{"-data", "x", "-epochs", "-1"}, "-epochs -1"},
		{[]string{"-data", "x", "-val-split", "1.5"}, "-val-split 1.5"},
		{[]string{"-data", "x", "extra"}, `unexpected argument "extra"`},
		{[]string{"-data", "x", "-bogus"}, "flag provided but not defined: -bogus (see train -help)"},
		{[]string{"-data", "x", "-epochs", "many"}, `invalid value "many" for flag -epochs`},
	} {
		// A bad flag is one line, not the whole help.
		var stderr bytes.Buffer
		_, err := parseFlags(tt.args, &stderr)
		if err == nil || !strings.Contains(err.Error(), tt.want) || stderr.Len() > 0 {
			t.Errorf("%v: error %v, want %q; and %d bytes on stderr", tt.args, err, tt.want, stderr.Len())
		}
	}
	o, err := parseFlags([]string{"-data", "x", "-optimizer", "adam"}, io.Discard)
	if err != nil || o.cfg.LR != 1e-3 || o.cfg.Batch != 128 {
		t.Errorf("adam defaults: lr %v batch %v (%v), want 1e-3 and 128", o.cfg.LR, o.cfg.Batch, err)
	}
	o, _ = parseFlags([]string{"-data", "x"}, io.Discard)
	if o.cfg.LR != 1e-4 || o.cfg.Momentum != 0.9 || o.cfg.Optimizer != "sgd" {
		t.Errorf("sgd defaults: %+v, want the original's lr 1e-4, momentum 0.9", o.cfg)
	}
	// Bad data paths and architectures are errors, not panics.
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-data", filepath.Join(t.TempDir(), "none"), "-out", t.TempDir()}, "no such file"},
		{[]string{"-eval", filepath.Join(t.TempDir(), "none.safetensors"), "-data", "x"}, "none.safetensors"},
	} {
		o, err := parseFlags(tt.args, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		err = run(o, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestHistoryRoundTrip(t *testing.T) {
	tenth := 0.1
	h := []Record{{1, 1.25, 0.5, 1.5, 0.25, 3}, {2, tenth + 0.2, 2.0 / 3, math.NaN(), math.NaN(), 4.5}}
	var b bytes.Buffer
	if err := encodeHistory(&b, h); err != nil {
		t.Fatal(err)
	}
	want := "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n1,1.25,0.5,1.5,0.25,3.0\n2,0.30000000000000004,0.6666666666666666,,,4.5\n"
	if b.String() != want {
		t.Errorf("csv:\n%s\nwant:\n%s", b.String(), want)
	}
	got, err := decodeHistory(b.String())
	if err != nil {
		t.Fatal(err)
	}
	if got[1].Loss != h[1].Loss || got[1].Acc != h[1].Acc || !math.IsNaN(got[1].ValLoss) {
		t.Errorf("round trip: %+v", got)
	}
	if _, err := decodeHistory("a,b\n1,2\n"); err == nil {
		t.Errorf("bad header accepted")
	}
}

func TestSlug(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"T-shirt/top", "t-shirt-top"}, {"Ankle boot", "ankle-boot"}, {"  ", "class"}, {"n01443537", "n01443537"},
	} {
		if got := slug(tt.in); got != tt.want {
			t.Errorf("slug(%q) got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestExportSamples writes one PNG per class with the exact test pixels.
func TestExportSamples(t *testing.T) {
	d := stripes(40, 12, 3)
	dir := t.TempDir()
	files, err := ExportSamples(d, dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(files, " ") != "horizontal.png vertical.png diagonal.png" {
		t.Errorf("files %v", files)
	}
	f, err := os.Open(filepath.Join(dir, "vertical.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	first := -1
	for i, l := range d.Labels {
		if l == 1 {
			first = i
			break
		}
	}
	want, _ := d.Image(first)
	for y := range 12 {
		for x := range 12 {
			if img.At(x, y) != want.At(x, y) {
				t.Fatalf("pixel (%d,%d) %v, want %v", x, y, img.At(x, y), want.At(x, y))
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err != nil {
		t.Error(err)
	}
}

// TestCommandResume: -resume continues a run on the data it had (-data,
// the split and -limit from the checkpoint, as the help's example gives
// no -data) and ends where an uninterrupted run ends; a new run into a
// folder holding one is refused and leaves it as it was.
func TestCommandResume(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	writeStripesIDX(t, data)
	spec := stripeSpec(12)
	spec.Layers[len(spec.Layers)-1].Config.Units = 10
	js, err := jsonSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	specPath := filepath.Join(dir, "net.json")
	writeFile(t, specPath, js)
	train := func(args ...string) (string, error) {
		t.Helper()
		o, err := parseFlags(append(args, "-quiet", "-batch", "32", "-workers", "2"), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		var log bytes.Buffer
		err = run(o, io.Discard, &log)
		return log.String(), err
	}
	whole, part := filepath.Join(dir, "whole"), filepath.Join(dir, "part")
	base := []string{"-arch", specPath, "-data", data, "-limit", "320", "-val-split", "0.2", "-scale", "0..1"}
	if log, err := train(append(base, "-epochs", "4", "-out", whole)...); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if log, err := train(append(base, "-epochs", "2", "-out", part)...); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	log, err := train("-resume", "-out", part, "-epochs", "4")
	if err != nil {
		t.Fatalf("-resume without -data: %v\n%s", err, log)
	}
	if want := "resuming " + part + " after epoch 2, on " + data + " with -val-split 0.2 -limit 320\n"; !strings.Contains(log, want) {
		t.Errorf("log lacks %q:\n%s", want, log)
	}
	if a, b := readFileT(t, filepath.Join(whole, "history.csv")), readFileT(t, filepath.Join(part, "history.csv")); a != b {
		t.Errorf("history after -resume:\n%s\nuninterrupted:\n%s", b, a)
	}
	before := readFileT(t, filepath.Join(part, "history.csv"))
	_, err = train(append(base, "-epochs", "1", "-out", part)...)
	if err == nil || !strings.Contains(err.Error(), part+" already holds a run: continue it with train -resume -out "+part+", or give another -out") {
		t.Errorf("a new run into a run's folder: %v", err)
	}
	if after := readFileT(t, filepath.Join(part, "history.csv")); after != before {
		t.Errorf("the refused run changed history.csv:\n%s", after)
	}
}

func readFileT(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

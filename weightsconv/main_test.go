package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/internal/sharedtest"
	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/nn/imagefile"
	"github.com/mavis-xai/mavis/nn/npy"
	"github.com/mavis-xai/mavis/weightsconv/keras"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestMavis converts the original checkpoint with flags after the input,
// reloads the written file with nn.Load, and checks every fixture image's
// probabilities (max_abs 2e-5, same argmax) and the -npz dump.
func TestMavis(t *testing.T) {
	dir := sharedtest.Dir(t, sharedtest.Weights, sharedtest.Manifest)
	tmp := t.TempDir()
	out := filepath.Join(tmp, "mavis.safetensors")
	npz := filepath.Join(tmp, "mavis.npz")
	in := filepath.Join(dir, "mavis", "tiny_imagenet_model.checkpoint.weights.h5")
	code, stdout, stderr := runCmd(t, in, "-o", out, "-arch", "mavis", "-npz", npz)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"\nconv2d_7 ", " Conv2D ", " 7x7x8 ", "132461 trainable + 1012 non-trainable = 133473", "goldfish, European fire salamander"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	m, err := nn.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Classes) != 5 || m.Classes[4] != (nn.Class{ID: "n01855672", Name: "goose"}) {
		t.Errorf("classes %v", m.Classes)
	}
	images, _ := filepath.Glob(filepath.Join(dir, "fixtures", "mavis", "*", "input.png"))
	if len(images) == 0 {
		t.Fatal("no fixture images")
	}
	x := m.NewInput(1)
	for _, path := range images {
		name := filepath.Base(filepath.Dir(path))
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		img, err := imagefile.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := nn.ImageInputTo(x, 0, img, m.Preprocess); err != nil {
			t.Fatal(err)
		}
		probs := m.Forward(x).Data
		_, want, err := npy.Read(filepath.Join(filepath.Dir(path), "probs.npy"))
		if err != nil {
			t.Fatal(err)
		}
		maxAbs, best, wantBest := 0.0, 0, 0
		for i := range want {
			maxAbs = math.Max(maxAbs, math.Abs(float64(probs[i]-want[i])))
			if probs[i] > probs[best] {
				best = i
			}
			if want[i] > want[wantBest] {
				wantBest = i
			}
		}
		if maxAbs > 2e-5 || best != wantBest {
			t.Errorf("%s: probs %v, want %v (max_abs %.3g, argmax %d want %d)", name, probs, want, maxAbs, best, wantBest)
		}
	}
	arrays, err := npy.ReadNpz(npz)
	if err != nil {
		t.Fatal(err)
	}
	if len(arrays) != len(m.Params()) {
		t.Fatalf("npz has %d arrays, model %d params", len(arrays), len(m.Params()))
	}
	for _, a := range arrays {
		p := m.Param(a.Name)
		if p == nil || !reflect.DeepEqual(a.Shape, p.Shape) || !reflect.DeepEqual(a.Data, p.Value) {
			t.Errorf("npz %s (shape %v) differs from the model", a.Name, a.Shape)
		}
	}
}

func tinyFile(name string) string { return filepath.Join("keras", "testdata", name) }

func TestFormats(t *testing.T) {
	tmp := t.TempDir()
	// An nn spec for the weights-only files, taken from the .keras conversion.
	keras := filepath.Join(tmp, "k.safetensors")
	if code, _, stderr := runCmd(t, "-q", tinyFile("tiny.keras"), "-o", keras); code != 0 {
		t.Fatalf("tiny.keras: %s", stderr)
	}
	m, err := nn.Load(keras)
	if err != nil {
		t.Fatal(err)
	}
	specFile := filepath.Join(tmp, "tiny.json")
	b, _ := json.Marshal(m.Spec)
	os.WriteFile(specFile, b, 0o644)
	wide := m.Spec
	wide.Layers = append([]nn.LayerSpec(nil), m.Spec.Layers...)
	wide.Layers[0].Config.Filters = 4
	wideFile := filepath.Join(tmp, "wide.json")
	b, _ = json.Marshal(wide)
	os.WriteFile(wideFile, b, 0o644)
	classes := filepath.Join(tmp, "classes.txt")
	os.WriteFile(classes, []byte("# three\nn01443537 goldfish\ncat\n\nbig dog\n"), 0o644)

	tests := []struct {
		args []string
		code int
		want string // in stderr when code != 0, else in stdout
	}{
		{[]string{tinyFile("tiny.weights.h5"), "-o", filepath.Join(tmp, "a"), "-arch", specFile}, 0, "parameters: 217 trainable + 6 non-trainable = 223"},
		{[]string{"-arch", specFile, tinyFile("tiny_keras2_split.h5"), "-o", filepath.Join(tmp, "b")}, 0, "Keras 2 weights .h5"},
		{[]string{tinyFile("tiny_keras2_model.h5"), "-o", filepath.Join(tmp, "c"), "-classes", classes}, 0, "classes: goldfish, cat, big dog"},
		{[]string{tinyFile("tiny.keras"), "-o", filepath.Join(tmp, "d"), "-scale", "0..1", "-crop", "center"}, 0, "scale 0..1, resize bilinear, crop center"},
		{[]string{tinyFile("tiny.weights.h5"), "-o", filepath.Join(tmp, "e")}, 1, "holds weights only: give the architecture with -arch"},
		{[]string{tinyFile("tiny.weights.h5"), "-o", filepath.Join(tmp, "f"), "-arch", "mavis"}, 1, `keras: the file has no weights for layer "conv2d_1"`},
		{[]string{tinyFile("tiny.keras"), "-o", filepath.Join(tmp, "g"), "-arch", wideFile}, 1, `keras: layer "conv2d": variable 0 (conv2d/kernel) has shape [3 3 3 3] in the file (vars/0), the architecture wants [3 3 3 4]`},
		{[]string{tinyFile("tiny.keras"), "-o", filepath.Join(tmp, "h"), "-classes", filepath.Join(tmp, "nope.txt")}, 1, "classes:"},
		{[]string{tinyFile("tiny.keras"), "-o", filepath.Join(tmp, "i"), "-scale", "0..9"}, 1, `unknown scale "0..9"`},
		{[]string{tinyFile("tiny.keras")}, 2, "no output file"},
		{[]string{"-o", "x"}, 2, "no input file"},
		{[]string{"a", "b", "-o", "x"}, 2, "one input file expected, got 2"},
		{[]string{"a", "-o"}, 2, "flag -o needs a value"},
		{[]string{"a", "-bogus", "-o", "x"}, 2, "flag provided but not defined: -bogus"},
		{[]string{filepath.Join(tmp, "missing.h5"), "-o", "x"}, 1, "no such file"},
		{[]string{tinyFile("tiny.keras"), "-o", filepath.Join(tmp, "j"), "-arch", tinyFile("tiny.keras")}, 1, "-arch " + tinyFile("tiny.keras") + ": not a built-in architecture (fashion, mavis), and as a file not an architecture spec (JSON, see nn/spec.go)"},
		{[]string{tinyFile("tiny.keras"), "-o", tmp}, 1, "-o " + tmp + " is a folder: give a file name, such as " + filepath.Join(tmp, "tiny.safetensors")},
		{[]string{tinyFile("tiny.keras"), "-o", filepath.Join(tmp, "k"), "-npz", filepath.Join(tmp, "no", "such", "m.npz")}, 1, "npz:"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runCmd(t, tt.args...)
		got := stdout
		if tt.code != 0 {
			got = stderr
		}
		if code != tt.code || !strings.Contains(got, tt.want) {
			t.Errorf("weightsconv %s: exit %d, want %d with %q\nstdout: %s\nstderr: %s", strings.Join(tt.args, " "), code, tt.code, tt.want, stdout, stderr)
		}
	}
	// Failed conversions leave no output behind.
	for _, name := range []string{"e", "f", "g", "h", "i", "j", "k"} {
		if _, err := os.Stat(filepath.Join(tmp, name)); err == nil {
			t.Errorf("failed conversion left %s behind", name)
		}
	}
	// The converted classes file keeps the wnid.
	c, err := nn.Load(filepath.Join(tmp, "c"))
	if err != nil {
		t.Fatal(err)
	}
	want := []nn.Class{{ID: "n01443537", Name: "goldfish"}, {ID: "cat", Name: "cat"}, {ID: "big dog", Name: "big dog"}}
	if !reflect.DeepEqual(c.Classes, want) {
		t.Errorf("classes %v, want %v", c.Classes, want)
	}
}

func TestHelp(t *testing.T) {
	for _, arg := range []string{"-h", "--help", "-help"} {
		code, stdout, _ := runCmd(t, arg)
		if code != 0 || !strings.Contains(stdout, "Example:") || !strings.Contains(stdout, "-arch NAME|FILE") || !strings.Contains(stdout, "mavis") {
			t.Errorf("%s: exit %d, output:\n%s", arg, code, stdout)
		}
	}
}

// TestCommandWritesConvert: the command writes exactly keras.Convert's bytes
// for the same inputs (the page's converter calls keras.Convert too), with
// the input's base name as the source and the -arch, -classes, -scale,
// -resize and -crop flags passed through.
func TestCommandWritesConvert(t *testing.T) {
	tmp := t.TempDir()
	classes := filepath.Join(tmp, "classes.txt")
	os.WriteFile(classes, []byte("n01443537 goldfish\ncat\ndog\n"), 0o644)
	spec, err := json.Marshal(tinySpecFromKeras(t))
	if err != nil {
		t.Fatal(err)
	}
	specFile := filepath.Join(tmp, "tiny.json")
	os.WriteFile(specFile, spec, 0o644)
	for i, tt := range []struct {
		file  string
		flags []string
		o     keras.Options
	}{
		{"tiny.keras", nil, keras.Options{}},
		{"tiny.weights.h5", []string{"-arch", specFile, "-classes", classes}, keras.Options{Spec: spec, Classes: []nn.Class{{ID: "n01443537", Name: "goldfish"}, {ID: "cat", Name: "cat"}, {ID: "dog", Name: "dog"}}}},
		{"tiny_keras2_model.h5", []string{"-scale", "0..1", "-resize", "nearest", "-crop", "center"}, keras.Options{Scale: "0..1", Resize: "nearest", Crop: "center"}},
	} {
		out := filepath.Join(tmp, fmt.Sprint(i, ".safetensors"))
		if code, _, stderr := runCmd(t, append([]string{"-q", tinyFile(tt.file), "-o", out}, tt.flags...)...); code != 0 {
			t.Fatalf("%s: %s", tt.file, stderr)
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		in, err := os.ReadFile(tinyFile(tt.file))
		if err != nil {
			t.Fatal(err)
		}
		tt.o.Source = tt.file
		c, err := keras.Convert(bytes.NewReader(in), int64(len(in)), tt.o)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, c.File) {
			t.Errorf("%s %v: the command wrote %d bytes that differ from keras.Convert's %d", tt.file, tt.flags, len(got), len(c.File))
		}
	}
}

// tinySpecFromKeras is the architecture of tiny.keras, as an nn spec.
func tinySpecFromKeras(t *testing.T) nn.Spec {
	c, err := keras.ReadFile(tinyFile("tiny.keras"))
	if err != nil {
		t.Fatal(err)
	}
	return *c.Spec
}

package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/internal/sharedtest"
	"github.com/mavis-xai/mavis/nn/npy"
	"github.com/mavis-xai/mavis/weightsconv/keras"
)

func kerasFile(name string) string {
	return filepath.Join("..", "weightsconv", "keras", "testdata", name)
}

// TestKerasModel: -model takes Keras files, converted in memory exactly as
// weightsconv converts them (the maps equal those of the converted file),
// and says how to convert once; what it cannot use, it names.
func TestKerasModel(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "cat.png")
	writeTestImage(t, img, 6, 6)
	// The reference: the conversion written to a file, as weightsconv does.
	in, err := os.ReadFile(kerasFile("tiny.keras"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := keras.Convert(bytes.NewReader(in), int64(len(in)), keras.Options{Source: "tiny.keras"})
	if err != nil {
		t.Fatal(err)
	}
	converted := filepath.Join(dir, "tiny.safetensors")
	if err := os.WriteFile(converted, c.File, 0o644); err != nil {
		t.Fatal(err)
	}
	spec, err := json.Marshal(c.Model.Spec)
	if err != nil {
		t.Fatal(err)
	}
	specFile := filepath.Join(dir, "tiny.json")
	os.WriteFile(specFile, spec, 0o644)
	classes := filepath.Join(dir, "classes.txt")
	os.WriteFile(classes, []byte("cat\ndog\ngoose\n"), 0o644)

	probs := func(out string) []float32 {
		t.Helper()
		_, p, err := npy.Read(filepath.Join(out, "cat", "probs.npy"))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	runOK := func(args ...string) (string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 0 {
			t.Fatalf("explain %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
		}
		return stdout.String(), stderr.String()
	}
	runOK("-model", converted, "-methods", "gradcam", "-out", filepath.Join(dir, "ref"), img)
	want := probs(filepath.Join(dir, "ref"))

	for i, tt := range []struct {
		args []string
		note string
	}{
		{[]string{"-model", kerasFile("tiny.keras")},
			"is a Keras 3 .keras archive, converted in memory (architecture from the file); to convert it once: bin/weightsconv " + kerasFile("tiny.keras") + " -o tiny.safetensors"},
		{[]string{"-model", kerasFile("tiny_keras2_model.h5")}, "is a Keras 2 model .h5, converted in memory"},
		{[]string{"-model", kerasFile("tiny.weights.h5"), "-arch", specFile, "-classes", classes},
			"(architecture from spec sequential); to convert it once: bin/weightsconv -arch " + specFile + " -classes " + classes + " " + kerasFile("tiny.weights.h5") + " -o tiny.safetensors"},
		{[]string{"-model", kerasFile("tiny_keras2_split.h5"), "-arch", specFile}, "-o tiny_keras2_split.safetensors"},
	} {
		out := filepath.Join(dir, "o", string(rune('a'+i)))
		_, stderr := runOK(append(tt.args, "-methods", "gradcam", "-out", out, img)...)
		if !strings.Contains(stderr, tt.note) {
			t.Errorf("%v: stderr lacks %q:\n%s", tt.args, tt.note, stderr)
		}
		if got := probs(out); !slices.Equal(got, want) {
			t.Errorf("%v: probs %v, want %v (the converted file's)", tt.args, got, want)
		}
	}

	png := filepath.Join(dir, "photo.png")
	writeTestImage(t, png, 4, 4)
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"-model", kerasFile("tiny.weights.h5")}, []string{
			kerasFile("tiny.weights.h5") + ": keras: the file holds weights only (Keras 3 .weights.h5): give its architecture",
			"(add -arch NAME|SPEC.json, e.g. -arch mavis for the original MAVIS-XAI checkpoint)"}},
		{[]string{"-model", kerasFile("tiny.weights.h5"), "-arch", "mavis"}, []string{`keras: the file has no weights for layer "conv2d_1"`}},
		{[]string{"-model", kerasFile("tiny.weights.h5"), "-arch", png}, []string{"-arch " + png + ": not a built-in architecture (fashion, mavis), and as a file not an architecture spec (JSON, see nn/spec.go)"}},
		{[]string{"-model", kerasFile("tiny.keras"), "-arch", "resnet"}, []string{"-arch resnet: not a built-in architecture (fashion, mavis) and not readable"}},
		{[]string{"-model", kerasFile("tiny.keras"), "-classes", specFile}, []string{"keras: 1 class names given, the model has 3 outputs"}},
		{[]string{"-model", converted, "-arch", "mavis"}, []string{"-arch and -classes apply to a Keras -model; " + converted + " is not one"}},
		{[]string{"-model", png}, []string{"this is a PNG image, not a model file"}},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append(tt.args, "-out", filepath.Join(dir, "bad"), img), &stdout, &stderr)
		for _, w := range tt.want {
			if code != 1 || !strings.Contains(stderr.String(), w) {
				t.Errorf("%v: exit %d, want 1 with %q in\n%s", tt.args, code, w, stderr.String())
			}
		}
	}
}

// TestMavisKerasModel explains a fixture image with the original
// checkpoint itself (-arch mavis): the probabilities are the float64
// reference's (max_abs 2e-5, as weightsconv's test) and the classes are
// named.
func TestMavisKerasModel(t *testing.T) {
	shared := sharedtest.Dir(t, sharedtest.Weights, sharedtest.Manifest)
	fix := filepath.Join(shared, "fixtures", "mavis", "chelsea")
	dir := t.TempDir()
	img := filepath.Join(dir, "chelsea.png")
	b, err := os.ReadFile(filepath.Join(fix, "input.png"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(img, b, 0o644)
	var stdout, stderr bytes.Buffer
	weights := filepath.Join(shared, filepath.FromSlash(sharedtest.Weights))
	if code := run([]string{"-model", weights, "-arch", "mavis", "-methods", "gradcam", "-out", dir, img}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "is a Keras 3 .weights.h5, converted in memory (architecture from built-in mavis)") {
		t.Errorf("stderr: %s", stderr.String())
	}
	_, got, err := npy.Read(filepath.Join(dir, "chelsea", "probs.npy"))
	if err != nil {
		t.Fatal(err)
	}
	_, want, err := npy.Read(filepath.Join(fix, "probs.npy"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > 2e-5 {
			t.Errorf("probs[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	rep, err := os.ReadFile(filepath.Join(dir, "chelsea", "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(rep), `"goose"`) {
		t.Errorf("report.json does not name the class goose:\n%.600s", rep)
	}
}

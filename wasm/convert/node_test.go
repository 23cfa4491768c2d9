//go:build !(js && wasm)

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/mavis-xai/mavis/internal/sharedtest"
	"github.com/mavis-xai/mavis/nn"
)

// The tests here run the page's converter module (convert.wasm, built as
// build.sh builds it) under node, as its worker runs it in the browser,
// and hold it to bin/weightsconv (built from ../../weightsconv) on the same
// inputs: the same .safetensors bytes, or the same error.

var (
	buildOnce        sync.Once
	buildDir         string
	buildErr         error
	wasmExec         string
	convertWasm      string
	weightsconvBin   string
	repoRoot, _      = filepath.Abs(filepath.Join("..", ".."))
	kerasTestdata, _ = filepath.Abs(filepath.Join("..", "..", "weightsconv", "keras", "testdata"))
)

// needNode returns node's path, skipping the test when it is missing (and
// failing it under CI=true).
func needNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is required (CI=true): apt-get install nodejs")
		}
		t.Skip("node not found: install nodejs to run the converter module under node")
	}
	if testing.Short() {
		t.Skip("builds convert.wasm and weightsconv; skipped with -short")
	}
	return node
}

// build compiles convert.wasm and weightsconv once per test binary.
func build(t *testing.T) {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "mavis-convert-")
		if buildErr != nil {
			return
		}
		convertWasm = filepath.Join(buildDir, "convert.wasm")
		weightsconvBin = filepath.Join(buildDir, "weightsconv")
		goroot, err := exec.Command("go", "env", "GOROOT").Output()
		if err != nil {
			buildErr = err
			return
		}
		wasmExec = filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js")
		for _, c := range []struct {
			env  []string
			args []string
		}{
			{[]string{"GOOS=js", "GOARCH=wasm"}, []string{"build", "-trimpath", "-ldflags=-s -w", "-o", convertWasm, "./wasm/convert"}},
			{nil, []string{"build", "-o", weightsconvBin, "./weightsconv"}},
		} {
			cmd := exec.Command("go", c.args...)
			cmd.Dir = repoRoot
			cmd.Env = append(os.Environ(), c.env...)
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = &buildError{strings.Join(c.args, " "), string(out), err}
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

type buildError struct {
	what, out string
	err       error
}

func (e *buildError) Error() string { return "go " + e.what + ": " + e.err.Error() + "\n" + e.out }

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// job is one conversion, in node's JSON (Input, Options, Out) and as
// weightsconv flags.
type job struct {
	Input   string            `json:"input"`
	Options map[string]string `json:"options"`
	Out     string            `json:"out"`
}

// flags are weightsconv's flags for the job's options, writing the spec
// and class texts to files in dir.
func (j job) flags(t *testing.T, dir string) []string {
	var args []string
	for _, k := range []string{"arch", "spec", "classes", "scale", "resize", "crop"} {
		v, ok := j.Options[k]
		if !ok {
			continue
		}
		switch k {
		case "spec", "classes":
			f := filepath.Join(dir, filepath.Base(j.Out)+"."+k)
			if err := os.WriteFile(f, []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
			v = f
			if k == "spec" {
				k = "arch"
			}
		}
		args = append(args, "-"+k, v)
	}
	return args
}

type nodeResult struct {
	Architectures []map[string]any          `json:"architectures"`
	Inspected     map[string]map[string]any `json:"inspected"`
	Bad           map[string]string         `json:"bad"`
}

type jobResult struct {
	Info  map[string]any `json:"info"`
	Error string         `json:"error"`
}

// runJobs converts every job under node and with weightsconv, and checks
// that both wrote the same bytes or failed with the same error (for
// weightsconv, its message after "weightsconv: "). It returns node's
// per-job results and the rest of its output.
func runJobs(t *testing.T, node string, jobs []job) ([]jobResult, nodeResult) {
	t.Helper()
	dir := t.TempDir()
	for i := range jobs {
		jobs[i].Out = filepath.Join(dir, "node"+string(rune('a'+i))+".safetensors")
		if jobs[i].Options == nil {
			jobs[i].Options = map[string]string{}
		}
		jobs[i].Options["name"] = filepath.Base(jobs[i].Input)
	}
	b, err := json.Marshal(jobs)
	if err != nil {
		t.Fatal(err)
	}
	jobsFile := filepath.Join(dir, "jobs.json")
	if err := os.WriteFile(jobsFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join("testdata", "node_convert.js"), wasmExec, convertWasm, jobsFile)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	results := make([]jobResult, len(jobs))
	for i, j := range jobs {
		rb, err := os.ReadFile(j.Out + ".json")
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(rb, &results[i]); err != nil {
			t.Fatal(err)
		}
		native := filepath.Join(dir, "native"+string(rune('a'+i))+".safetensors")
		args := append([]string{"-q", j.Input, "-o", native}, j.flags(t, dir)...)
		var stderr bytes.Buffer
		wc := exec.Command(weightsconvBin, args...)
		wc.Stderr = &stderr
		werr := wc.Run()
		name := filepath.Base(j.Input) + " " + strings.Join(args[4:], " ")
		switch {
		case werr != nil && results[i].Error == "":
			t.Errorf("%s: weightsconv failed (%v: %s), node converted", name, werr, stderr.String())
		case werr == nil && results[i].Error != "":
			t.Errorf("%s: weightsconv converted, node failed: %s", name, results[i].Error)
		case werr != nil:
			msg := strings.TrimSpace(strings.TrimPrefix(stderr.String(), "weightsconv: "))
			if msg != results[i].Error && !strings.Contains(results[i].Error, "weights only") {
				t.Errorf("%s: node's error\n  %s\nweightsconv's\n  %s", name, results[i].Error, msg)
			}
		default:
			want, err := os.ReadFile(native)
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(j.Out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: node's file (%d bytes) differs from weightsconv's (%d bytes)", name, len(got), len(want))
			} else {
				t.Logf("%s: %d bytes, equal to weightsconv's", name, len(got))
			}
			if n, ok := results[i].Info["bytes"].(float64); !ok || int(n) != len(got) {
				t.Errorf("%s: info.bytes %v, file %d bytes", name, results[i].Info["bytes"], len(got))
			}
		}
	}
	ob, err := os.ReadFile(jobsFile + ".out.json")
	if err != nil {
		t.Fatal(err)
	}
	var nr nodeResult
	if err := json.Unmarshal(ob, &nr); err != nil {
		t.Fatal(err)
	}
	return results, nr
}

// TestNodeMatchesWeightsconv: the Keras test files in every format, with
// and without the options, converted by the module under node and by
// weightsconv: byte-equal files, equal errors; and what inspect,
// architectures and bad arguments give.
func TestNodeMatchesWeightsconv(t *testing.T) {
	node := needNode(t)
	build(t)
	in := func(name string) string { return filepath.Join(kerasTestdata, name) }
	spec := tinySpecJSON(t)
	jobs := []job{
		{Input: in("tiny.keras")},
		{Input: in("tiny.keras"), Options: map[string]string{"classes": "cat\ndog\ngoose\n", "scale": "0..1", "resize": "bicubic", "crop": "center"}},
		{Input: in("tiny_keras2_model.h5"), Options: map[string]string{"classes": "n01443537 goldfish\r\n# comment\ncat\n\ndog"}},
		{Input: in("tiny.weights.h5"), Options: map[string]string{"spec": spec}},
		{Input: in("tiny_ckptdeps.weights.h5"), Options: map[string]string{"spec": spec, "classes": "a\nb\nc"}},
		{Input: in("tiny_keras2_split.h5"), Options: map[string]string{"spec": spec}},
		// Failures: the same text from both (a weights-only file without
		// an architecture names its own flag or option).
		{Input: in("tiny.weights.h5")},
		{Input: in("tiny.weights.h5"), Options: map[string]string{"arch": "mavis"}},
		{Input: in("tiny.keras"), Options: map[string]string{"classes": "a\nb"}},
		{Input: in("tiny.keras"), Options: map[string]string{"scale": "0..9"}},
		{Input: in("tiny_expected.json")},
	}
	results, nr := runJobs(t, node, jobs)

	info := results[0].Info
	if info["format"] != "Keras 3 .keras archive" || info["fileName"] != "tiny.safetensors" || info["archFrom"] != "the file" ||
		info["trainable"] != 217.0 || info["nonTrainable"] != 6.0 || len(info["layers"].([]any)) != 8 || len(info["classes"].([]any)) != 0 {
		t.Errorf("tiny.keras info: %v", info)
	}
	if got := results[2].Info["classes"]; !reflect.DeepEqual(got, []any{
		map[string]any{"id": "n01443537", "name": "goldfish"}, map[string]any{"id": "cat", "name": "cat"}, map[string]any{"id": "dog", "name": "dog"}}) {
		t.Errorf("classes %v", got)
	}
	if p := results[1].Info["preprocess"].(map[string]any); p["scale"] != "0..1" || p["resize"] != "bicubic" || p["crop"] != "center" {
		t.Errorf("preprocess %v", p)
	}
	if e := results[6].Error; !strings.HasPrefix(e, "keras: the file holds weights only (Keras 3 .weights.h5): give its architecture") {
		t.Errorf("weights only: %q", e)
	}

	for _, tt := range []struct {
		file    string
		want    map[string]any
		nLayers int
	}{
		{"tiny.keras", map[string]any{"format": "Keras 3 .keras archive", "hasArchitecture": true, "architecture": "sequential", "values": 223.0, "fits": []any{}}, 4},
		{"tiny.weights.h5", map[string]any{"format": "Keras 3 .weights.h5", "hasArchitecture": false, "values": 223.0, "fits": []any{}}, 4},
		{"tiny_keras2_split.h5", map[string]any{"format": "Keras 2 weights .h5", "hasArchitecture": false}, 4},
		{"tiny_expected.json", map[string]any{"error": "hdf5: no HDF5 signature"}, -1},
	} {
		got := nr.Inspected[in(tt.file)]
		for k, v := range tt.want {
			if k == "error" {
				if s, _ := got["error"].(string); !strings.HasPrefix(s, v.(string)) {
					t.Errorf("inspect %s: %v, want an error %q", tt.file, got, v)
				}
				continue
			}
			if !reflect.DeepEqual(got[k], v) {
				t.Errorf("inspect %s: %s = %v, want %v", tt.file, k, got[k], v)
			}
		}
		if tt.nLayers >= 0 {
			if ls, _ := got["layers"].([]any); len(ls) != tt.nLayers {
				t.Errorf("inspect %s: %d layers with weights, want %d", tt.file, len(ls), tt.nLayers)
			}
		}
	}

	if len(nr.Architectures) != 2 || nr.Architectures[0]["name"] != "fashion" || nr.Architectures[0]["classes"] != nil ||
		nr.Architectures[1]["name"] != "mavis" || !reflect.DeepEqual(nr.Architectures[1]["input"], []any{224.0, 224.0, 3.0}) ||
		len(nr.Architectures[1]["classes"].([]any)) != 5 {
		t.Errorf("architectures: %v", nr.Architectures)
	}
	for name, want := range map[string]string{
		"noBytes":       "convert: the file must be a Uint8Array or an ArrayBuffer of its bytes",
		"badOption":     "convert: option arch must be a string",
		"unknownOption": `convert: unknown option "architecture" (have name, arch, spec, classes, scale, resize, crop)`,
		"notObject":     "convert: options must be an object",
		"noArgs":        "convert: 0 arguments, want 1",
	} {
		if got := nr.Bad[name]; !strings.HasPrefix(got, want) {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

// TestNodeMavis: the original MAVIS checkpoint, -arch mavis, converted by
// the module and by weightsconv: the same bytes; inspect says the
// built-in mavis fits it.
func TestNodeMavis(t *testing.T) {
	node := needNode(t)
	shared := sharedtest.Dir(t, sharedtest.Weights)
	build(t)
	weights := filepath.Join(shared, filepath.FromSlash(sharedtest.Weights))
	results, nr := runJobs(t, node, []job{{Input: weights, Options: map[string]string{"arch": "mavis"}}})
	info := results[0].Info
	if info["trainable"] != 132461.0 || info["nonTrainable"] != 1012.0 || info["archFrom"] != "built-in mavis" ||
		info["fileName"] != "tiny_imagenet_model.checkpoint.safetensors" {
		t.Errorf("info: %v", info)
	}
	got := nr.Inspected[weights]
	if got["format"] != "Keras 3 .weights.h5" || got["hasArchitecture"] != false || !reflect.DeepEqual(got["fits"], []any{"mavis"}) {
		t.Errorf("inspect: %v", got)
	}
}

// tinySpecJSON is tiny.keras's architecture as an nn spec, the text a
// user would paste for the weights-only tiny files.
func tinySpecJSON(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join(kerasTestdata, "tiny.keras"))
	if err != nil {
		t.Fatal(err)
	}
	file, _, err := convert(b, request{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.Decode(file)
	if err != nil {
		t.Fatal(err)
	}
	s, err := json.Marshal(m.Spec)
	if err != nil {
		t.Fatal(err)
	}
	return string(s)
}

// dtsFields returns the field names of interface name in www/api.d.ts,
// and whether each is optional.
func dtsFields(t *testing.T, name string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "www", "api.d.ts"))
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	i := strings.Index(src, "interface "+name+" {")
	if i < 0 {
		t.Fatalf("api.d.ts has no interface %s", name)
	}
	body := src[i:]
	body = body[strings.Index(body, "{")+1 : strings.Index(body, "\n}")]
	fields := map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		if j := strings.IndexAny(line, ":("); j > 0 && !strings.HasPrefix(line, "/") && !strings.HasPrefix(line, "*") {
			f := line[:j]
			optional := strings.HasSuffix(f, "?")
			fields[strings.TrimSuffix(f, "?")] = optional
		}
	}
	return fields
}

// checkAgainstDTS: obj has every required field of interface name and no
// field the interface lacks.
func checkAgainstDTS(t *testing.T, name string, obj map[string]any) {
	t.Helper()
	fields := dtsFields(t, name)
	for f, optional := range fields {
		if _, ok := obj[f]; !ok && !optional {
			t.Errorf("%s: the module sends no %q", name, f)
		}
	}
	for k := range obj {
		if _, ok := fields[k]; !ok {
			t.Errorf("%s: the module sends %q, which api.d.ts does not declare", name, k)
		}
	}
}

// TestNodeResultsMatchDTS: what the module sends under node has the fields
// api.d.ts declares for it (ConversionInfo, Inspection, Architecture).
func TestNodeResultsMatchDTS(t *testing.T) {
	node := needNode(t)
	build(t)
	results, nr := runJobs(t, node, []job{{Input: filepath.Join(kerasTestdata, "tiny.keras")}})
	checkAgainstDTS(t, "ConversionInfo", results[0].Info)
	checkAgainstDTS(t, "Inspection", nr.Inspected[filepath.Join(kerasTestdata, "tiny.keras")])
	for _, a := range nr.Architectures {
		checkAgainstDTS(t, "Architecture", a)
	}
	if fs := dtsFields(t, "ConvertOptions"); len(fs) != len(requestFields) {
		t.Errorf("api.d.ts ConvertOptions has %v, the module reads %v", fs, requestFields)
	} else {
		for _, f := range requestFields {
			if _, ok := fs[f]; !ok {
				t.Errorf("api.d.ts ConvertOptions lacks %q", f)
			}
		}
	}
}

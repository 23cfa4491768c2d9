package nn

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestPackageBoundaries enforces the import table of shared/STYLE.md with
// go list, for the js/wasm build (what the browser loads) and natively:
//   - nn and xai reach neither ebiten nor gorgonia nor syscall/js, not even
//     through the standard library (whose os, syscall and time import it
//     under js/wasm: nn keeps its path-taking functions in !js files and
//     xai takes a Canceller rather than a context.Context), and their test
//     files import neither;
//   - nn imports nothing of this module but internal/ (the JSON codec, the
//     fmt-free formatter, the index sort, the atomic file writer), xai only
//     nn and internal/, and internal/ only internal/;
//   - nn/npy is native-only from the browser's view: nothing under wasm/
//     links it, nor gorgonia, nor a command;
//   - natively too, nn, xai, weightsconv/hdf5 and weightsconv/keras never
//     link gorgonia (explain/numpy holds the Dense conversions for the commands).
func TestPackageBoundaries(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list; skipped in -short mode")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found: cannot check package boundaries")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	const module = "github.com/mavis-xai/mavis"
	type pkg struct {
		path     string
		standard bool
		imports  []string
	}
	list := func(pattern string, native bool) []pkg {
		cmd := exec.Command(gobin, "list", "-e", "-deps", "-f", "{{.ImportPath}} {{.Standard}} {{join .Imports \",\"}}", pattern)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
		if native {
			cmd.Env = os.Environ()
		}
		out, err := cmd.Output()
		if err != nil {
			msg := err.Error()
			if ee, ok := err.(*exec.ExitError); ok {
				msg += ": " + string(ee.Stderr)
			}
			t.Fatalf("go list -deps %s: %s", pattern, msg)
		}
		var ps []pkg
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(line)
			p := pkg{path: f[0], standard: f[1] == "true"}
			if len(f) > 2 {
				p.imports = strings.Split(f[2], ",")
			}
			ps = append(ps, p)
		}
		return ps
	}
	commands := []string{module + "/weightsconv", module + "/train", module + "/explain"}
	for _, tt := range []struct {
		pattern   string
		forbidden []string // import path prefixes it must not reach
		ours      []string // packages of this module it may reach, or prefixes ending in / (nil: any but commands)
		noJS      bool     // no dependency, standard or not, may import syscall/js
		native    bool     // list the native build instead of js/wasm
	}{
		{"./nn", []string{"github.com/hajimehoshi/ebiten", "gorgonia.org/"}, []string{"nn", "internal/"}, true, false},
		{"./xai", []string{"github.com/hajimehoshi/ebiten", "gorgonia.org/"}, []string{"nn", "xai", "internal/"}, true, false},
		// internal/ may use os (sharedtest, atomicfile); the nn and xai rows
		// hold what the browser links from it to no syscall/js.
		{"./internal/...", []string{"github.com/hajimehoshi/ebiten", "gorgonia.org/"}, []string{"internal/"}, false, false},
		// nn/npy is for the native tools and tests: the browser never links it.
		{"./wasm/...", []string{"gorgonia.org/", module + "/nn/npy"}, nil, false, false},
		// Natively too, the libraries stay free of gorgonia (explain/numpy holds
		// the conversions for the commands).
		{"./nn", []string{"gorgonia.org/"}, []string{"nn", "internal/"}, false, true},
		{"./xai", []string{"gorgonia.org/"}, []string{"nn", "xai", "internal/"}, false, true},
		{"./weightsconv/hdf5", []string{"gorgonia.org/", "github.com/hajimehoshi/ebiten"}, []string{"weightsconv/hdf5"}, false, true},
		{"./weightsconv/keras", []string{"gorgonia.org/", "github.com/hajimehoshi/ebiten"}, []string{"nn", "internal/", "weightsconv/hdf5", "weightsconv/keras"}, false, true},
	} {
		if _, err := os.Stat(filepath.Join(root, strings.TrimSuffix(tt.pattern, "/..."))); err != nil {
			t.Logf("%s not present; skipped", tt.pattern)
			continue
		}
		for _, p := range list(tt.pattern, tt.native) {
			for _, f := range tt.forbidden {
				if strings.HasPrefix(p.path, f) {
					t.Errorf("%s reaches %s", tt.pattern, p.path)
				}
			}
			if tt.noJS && (p.path == "syscall/js" || slices.Contains(p.imports, "syscall/js")) {
				t.Errorf("%s reaches syscall/js through %s", tt.pattern, p.path)
			}
			if rel, ok := strings.CutPrefix(p.path, module+"/"); ok && tt.ours != nil && !slices.ContainsFunc(tt.ours, func(o string) bool {
				return o == rel || strings.HasSuffix(o, "/") && strings.HasPrefix(rel, o)
			}) {
				t.Errorf("%s imports %s", tt.pattern, p.path)
			}
			if slices.Contains(commands, p.path) {
				t.Errorf("%s imports the command %s", tt.pattern, p.path)
			}
		}
	}
	// Their test files too (testing itself reaches syscall/js through time
	// under js/wasm; the files must not import it, nor gorgonia).
	cmd := exec.Command(gobin, "list", "-f", "{{.ImportPath}} {{join .TestImports \",\"}},{{join .XTestImports \",\"}}", "./nn", "./xai")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list the test imports of nn and xai: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, imports, _ := strings.Cut(line, " ")
		for _, imp := range strings.Split(imports, ",") {
			if imp == "syscall/js" || strings.HasPrefix(imp, "gorgonia.org/") {
				t.Errorf("a test file of %s imports %s", path, imp)
			}
		}
	}
}

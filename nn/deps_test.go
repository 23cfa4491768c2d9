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
// go list, building for js/wasm (the browser build; nn's native-only files,
// //go:build !js, may use gorgonia):
//   - nn and xai reach neither ebiten nor gorgonia, and no non-standard
//     package among their dependencies imports syscall/js (the standard
//     library's own os and syscall use it under js/wasm, which is fine);
//   - nn imports nothing of this module, xai only nn;
//   - nothing under wasm/ reaches gorgonia.org/tensor or a command.
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
	list := func(pattern string) []pkg {
		cmd := exec.Command(gobin, "list", "-e", "-deps", "-f", "{{.ImportPath}} {{.Standard}} {{join .Imports \",\"}}", pattern)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
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
		ours      []string // packages of this module it may reach (nil: any but commands)
		noJS      bool     // no non-standard dependency may import syscall/js
	}{
		{"./nn", []string{"github.com/hajimehoshi/ebiten", "gorgonia.org/"}, []string{"nn"}, true},
		{"./xai", []string{"github.com/hajimehoshi/ebiten", "gorgonia.org/"}, []string{"nn", "xai"}, true},
		{"./wasm/...", []string{"gorgonia.org/tensor"}, nil, false},
	} {
		if _, err := os.Stat(filepath.Join(root, strings.TrimSuffix(tt.pattern, "/..."))); err != nil {
			t.Logf("%s not present; skipped", tt.pattern)
			continue
		}
		for _, p := range list(tt.pattern) {
			for _, f := range tt.forbidden {
				if strings.HasPrefix(p.path, f) {
					t.Errorf("%s reaches %s", tt.pattern, p.path)
				}
			}
			if tt.noJS && !p.standard && slices.Contains(p.imports, "syscall/js") {
				t.Errorf("%s reaches syscall/js through %s", tt.pattern, p.path)
			}
			if rel, ok := strings.CutPrefix(p.path, module+"/"); ok && tt.ours != nil && !slices.Contains(tt.ours, rel) {
				t.Errorf("%s imports %s", tt.pattern, p.path)
			}
			if slices.Contains(commands, p.path) {
				t.Errorf("%s imports the command %s", tt.pattern, p.path)
			}
		}
	}
}

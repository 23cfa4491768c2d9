//go:build !js

package xai_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies enforces the package boundary: xai itself imports nn,
// this module's internal/ packages and the standard library only (never
// syscall/js, ebiten, gorgonia or nfnt/resize), nothing it reaches pulls in
// ebiten, and its js/wasm build never reaches gorgonia (nn keeps gorgonia
// in native-only files).
func TestDependencies(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH")
	}
	list := func(env []string, format string, deps bool) []string {
		args := []string{"list", "-f", format}
		if deps {
			args = append(args, "-deps")
		}
		cmd := exec.Command(gobin, append(args, ".")...)
		cmd.Env = append(cmd.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list %v: %v\n%s", env, err, out)
		}
		return strings.Fields(string(out))
	}
	wasm := []string{"GOOS=js", "GOARCH=wasm"}
	for _, env := range [][]string{nil, wasm} {
		for _, p := range list(env, `{{join .Imports " "}}`, false) {
			std := !strings.Contains(strings.SplitN(p, "/", 2)[0], ".")
			ours := p == "github.com/mavis-xai/mavis/nn" || strings.HasPrefix(p, "github.com/mavis-xai/mavis/internal/")
			if p == "syscall/js" || (!std && !ours) {
				t.Errorf("%v: xai imports %s (allowed: nn, internal/ and the standard library)", env, p)
			}
		}
		for _, p := range list(env, `{{.ImportPath}}`, true) {
			if strings.Contains(p, "ebiten") || (len(env) > 0 && strings.HasPrefix(p, "gorgonia.org/")) {
				t.Errorf("%v: xai reaches %s", env, p)
			}
		}
	}
}

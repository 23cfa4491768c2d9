package keras

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestImports enforces the package boundaries of STYLE.md: hdf5 uses only
// the standard library; keras adds nn and hdf5 and never reaches gorgonia,
// ebiten or syscall/js.
func TestImports(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	deps := func(pkg string) []string {
		cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	for _, d := range deps("./weightsconv/hdf5") {
		if d != "github.com/mavis-xai/mavis/weightsconv/hdf5" {
			t.Errorf("weightsconv/hdf5 depends on %s; it may use the standard library only", d)
		}
	}
	for _, d := range deps("./weightsconv/keras") {
		for _, bad := range []string{"gorgonia.org/", "github.com/hajimehoshi/ebiten", "syscall/js", "github.com/mavis-xai/mavis/xai", "github.com/mavis-xai/mavis/wasm"} {
			if strings.HasPrefix(d, bad) {
				t.Errorf("weightsconv/keras depends on %s", d)
			}
		}
	}
}

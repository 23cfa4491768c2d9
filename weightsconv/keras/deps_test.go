package keras

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestImports enforces the package boundaries of STYLE.md: hdf5 uses only
// the standard library; keras imports only the standard library, nn and
// hdf5, and its js/wasm build (what the browser links) reaches neither
// gorgonia nor ebiten. (nn/deps_test.go checks the native builds too.)
func TestImports(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	list := func(env []string, args ...string) []string {
		cmd := exec.Command("go", append([]string{"list"}, args...)...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %v: %v", args, err)
		}
		return strings.Fields(string(out))
	}
	const self = "github.com/mavis-xai/mavis/weightsconv/"
	for _, d := range list(nil, "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./weightsconv/hdf5") {
		if d != self+"hdf5" {
			t.Errorf("weightsconv/hdf5 depends on %s; it may use the standard library only", d)
		}
	}
	for _, d := range list(nil, "-f", `{{range .Imports}}{{.}} {{end}}`, "./weightsconv/keras") {
		if strings.Contains(strings.SplitN(d, "/", 2)[0], ".") && d != "github.com/mavis-xai/mavis/nn" && d != self+"hdf5" {
			t.Errorf("weightsconv/keras imports %s; it may import only the standard library, nn and hdf5", d)
		}
	}
	for _, d := range list([]string{"GOOS=js", "GOARCH=wasm"}, "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./weightsconv/keras") {
		if strings.HasPrefix(d, "gorgonia.org/") || strings.HasPrefix(d, "github.com/hajimehoshi/ebiten") {
			t.Errorf("weightsconv/keras for js/wasm depends on %s", d)
		}
	}
}

//go:build !js

package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWrite writes, overwrites and fails to write, checking the contents,
// the mode, that no temporary file is left behind and that a failed write
// leaves what was at its path as it was.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.bin")
	for _, data := range []string{"first", "second, longer", ""} {
		if err := Write(path, []byte(data)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != data {
			t.Fatalf("read back %q (%v), want %q", got, err, data)
		}
		if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
			t.Errorf("mode %v, want 0644", st.Mode().Perm())
		}
	}
	// A directory where the file should go: the rename fails.
	blocked := filepath.Join(dir, "sub")
	if err := os.Mkdir(blocked, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(blocked, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := Write(blocked, []byte("new"))
	if err == nil || !strings.HasPrefix(err.Error(), "writing "+blocked+": ") {
		t.Errorf("writing over a directory: error %v, want one starting %q", err, "writing "+blocked+": ")
	}
	if err := Write(filepath.Join(dir, "missing", "b.bin"), []byte("x")); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "a.bin sub" {
		t.Errorf("directory holds %v, want [a.bin sub] (no temporary files)", names)
	}
	if _, err := os.Stat(filepath.Join(blocked, "x")); err != nil {
		t.Errorf("the failed write changed what was at its path: %v", err)
	}
}

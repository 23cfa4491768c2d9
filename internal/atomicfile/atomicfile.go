//go:build !js

// Package atomicfile writes a file so that readers see either the old
// contents or the new, never a part: through a temporary file in the same
// directory, synced, then renamed over the path.
package atomicfile

import (
	"os"
	"path/filepath"

	"github.com/mavis-xai/mavis/internal/printf"
)

// Write writes data to path through a synced temporary file in the same
// directory (mode 0644) renamed over path. On any failure the temporary
// file is removed, an existing file at path is left unchanged, and the
// error reads "writing PATH: ..." (callers add their package prefix).
func Write(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return printf.Errorf("writing %s: %v", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return printf.Errorf("writing %s: %v", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return printf.Errorf("writing %s: %v", path, err)
	}
	if err = f.Sync(); err != nil {
		return printf.Errorf("writing %s: %v", path, err)
	}
	if err = f.Close(); err != nil {
		return printf.Errorf("writing %s: %v", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return printf.Errorf("writing %s: %v", path, err)
	}
	// Make the rename itself durable where the platform allows it.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

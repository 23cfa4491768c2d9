package nn

import (
	"io"
	"os"
	"path/filepath"
	"strings"
)

// writeFileAtomic writes a file through a temporary file in the same
// directory, syncs it and renames it over path. On any failure the
// temporary file is removed and an existing file at path is left unchanged.
func writeFileAtomic(path string, write func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return errorf("nn: writing %s: %v", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
		if !strings.HasPrefix(err.Error(), "nn: ") {
			err = errorf("nn: writing %s: %v", path, err)
		}
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return errorf("nn: writing %s: %v", path, err)
	}
	if err = f.Sync(); err != nil {
		return errorf("nn: writing %s: %v", path, err)
	}
	if err = f.Close(); err != nil {
		return errorf("nn: writing %s: %v", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return errorf("nn: writing %s: %v", path, err)
	}
	// Make the rename itself durable where the platform allows it.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

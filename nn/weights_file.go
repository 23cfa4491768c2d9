//go:build !js

package nn

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// The functions that take a path live here, outside the js/wasm build: the
// browser has no file system, and package os would make nn reach the
// browser's syscall/js there. In the browser, models arrive as bytes
// (Decode) and nothing is written.

// Save writes m to path atomically: a temporary file in the same directory
// is written, synced and renamed over path, so that on any failure nothing
// is left behind and an existing file is unchanged.
func Save(path string, m *Model) error {
	return SaveWith(path, m, nil)
}

// SaveWith is Save with extra metadata entries, such as "source" and
// "created".
func SaveWith(path string, m *Model, meta map[string]string) error {
	// Encode to memory first: a model that cannot be encoded never
	// touches the file system.
	var buf bytes.Buffer
	if err := EncodeWith(&buf, m, meta); err != nil {
		return err
	}
	return writeFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	})
}

// Load reads a weights file and returns the model it describes.
func Load(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errorf("nn: weights: %v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, errorf("nn: weights: %v", err)
	}
	m, err := ReadModel(f, st.Size())
	if err != nil {
		return nil, errorf("nn: weights: %s: %s", path, strings.TrimPrefix(err.Error(), "nn: weights: "))
	}
	return m, nil
}

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

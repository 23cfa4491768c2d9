//go:build !js

package nn

import (
	"bytes"
	"os"
	"strings"

	"github.com/mavis-xai/mavis/internal/atomicfile"
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
	if err := atomicfile.Write(path, buf.Bytes()); err != nil {
		return errorf("nn: %v", err)
	}
	return nil
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

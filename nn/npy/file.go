//go:build !js

package npy

import (
	"bytes"
	"os"
	"strings"

	"github.com/mavis-xai/mavis/internal/atomicfile"
	"github.com/mavis-xai/mavis/internal/printf"
)

// Read reads a float32 or float64 .npy file and returns its shape and
// values as float32 in C order (last index fastest). A shape of length 1,
// such as (5,), is a 1-D array; a shape of length 0 is a scalar with one
// value.
func Read(path string) (shape []int, data []float32, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, printf.Errorf("nn: npy: %v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, printf.Errorf("nn: npy: %v", err)
	}
	shape, data, err = decode(f, st.Size(), true)
	if err != nil {
		return nil, nil, printf.Errorf("nn: npy: %s: %s", path, strings.TrimPrefix(err.Error(), "nn: npy: "))
	}
	return shape, data, nil
}

// Write writes data with the given shape as a version 1.0 little-endian
// float32 .npy file, atomically (a temporary file in the same directory,
// synced, then renamed over path). The header is padded so that the data
// starts at a multiple of 64 bytes, as numpy does.
func Write(path string, shape []int, data []float32) error {
	var buf bytes.Buffer
	if err := Encode(&buf, shape, data); err != nil {
		return err
	}
	if err := atomicfile.Write(path, buf.Bytes()); err != nil {
		return printf.Errorf("nn: %v", err)
	}
	return nil
}

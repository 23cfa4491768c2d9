//go:build !js

package nn

import (
	"bytes"
	"io"
	"os"
	"strings"
)

// ReadNpy reads a float32 or float64 .npy file and returns its shape and
// values as float32 in C order (last index fastest). A shape of length 1,
// such as (5,), is a 1-D array; a shape of length 0 is a scalar with one
// value.
func ReadNpy(path string) (shape []int, data []float32, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, errorf("nn: npy: %v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, errorf("nn: npy: %v", err)
	}
	shape, data, err = decodeNpy(f, st.Size(), true)
	if err != nil {
		return nil, nil, errorf("nn: npy: %s: %s", path, strings.TrimPrefix(err.Error(), "nn: npy: "))
	}
	return shape, data, nil
}

// WriteNpy writes data with the given shape as a version 1.0 little-endian
// float32 .npy file, atomically (a temporary file in the same directory,
// synced, then renamed over path). The header is padded so that the data
// starts at a multiple of 64 bytes, as numpy does.
func WriteNpy(path string, shape []int, data []float32) error {
	var buf bytes.Buffer
	if err := EncodeNpy(&buf, shape, data); err != nil {
		return err
	}
	return writeFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	})
}

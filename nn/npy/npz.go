//go:build !js

package npy

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/mavis-xai/mavis/internal/atomicfile"
)

// Array is one named array of an .npz archive.
type Array struct {
	Name  string // the archive member without ".npy"
	Shape []int
	Data  []float32
}

// maxMembers bounds the number of arrays in an archive we read.
const maxMembers = 1 << 16

// WriteNpz writes arrays as an uncompressed .npz archive (a zip of
// "<name>.npy" members, as numpy.savez writes), atomically, in the given
// order. Names must be non-empty and unique.
func WriteNpz(path string, arrays []Array) error {
	seen := make(map[string]bool, len(arrays))
	for _, a := range arrays {
		if a.Name == "" {
			return fmt.Errorf("nn: npz: array with an empty name")
		}
		if seen[a.Name] {
			return fmt.Errorf("nn: npz: array name %q used twice", a.Name)
		}
		seen[a.Name] = true
	}
	// Encode to memory first: arrays that cannot be encoded never touch the
	// file system.
	var out, buf bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, a := range arrays {
		buf.Reset()
		if err := Encode(&buf, a.Shape, a.Data); err != nil {
			return fmt.Errorf("nn: npz: array %q: %s", a.Name, strings.TrimPrefix(err.Error(), "nn: npy: "))
		}
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: a.Name + ".npy", Method: zip.Store})
		if err != nil {
			return fmt.Errorf("nn: npz: %v", err)
		}
		if _, err := fw.Write(buf.Bytes()); err != nil {
			return fmt.Errorf("nn: npz: %v", err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("nn: npz: %v", err)
	}
	if err := atomicfile.Write(path, out.Bytes()); err != nil {
		return fmt.Errorf("nn: %v", err)
	}
	return nil
}

// ReadNpz reads every array of an .npz archive (stored or deflated, as
// numpy.savez and savez_compressed write), in archive order. Each member is
// validated as Read validates a file; members whose names do not end in
// ".npy" are an error.
func ReadNpz(path string) ([]Array, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("nn: npz: %s: %v", path, err)
	}
	defer zr.Close()
	if len(zr.File) > maxMembers {
		return nil, fmt.Errorf("nn: npz: %s has %d members (at most %d)", path, len(zr.File), maxMembers)
	}
	arrays := make([]Array, 0, len(zr.File))
	seen := map[string]bool{}
	for _, f := range zr.File {
		name, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok || name == "" {
			return nil, fmt.Errorf("nn: npz: %s: member %q is not a .npy array", path, f.Name)
		}
		if seen[name] {
			return nil, fmt.Errorf("nn: npz: %s: array %q appears twice", path, name)
		}
		seen[name] = true
		a, err := readMember(f)
		if err != nil {
			return nil, fmt.Errorf("nn: npz: %s: array %q: %s", path, name, strings.TrimPrefix(err.Error(), "nn: npy: "))
		}
		a.Name = name
		arrays = append(arrays, a)
	}
	return arrays, nil
}

func readMember(f *zip.File) (Array, error) {
	if f.UncompressedSize64 > 1<<40 {
		return Array{}, fmt.Errorf("claims %d bytes", f.UncompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return Array{}, err
	}
	defer rc.Close()
	// The zip reader fails when the member's data is longer or shorter than
	// its claimed size, and decode grows its output with the data
	// (exact=false), so a lying size cannot force a large allocation.
	shape, data, err := decode(rc, int64(f.UncompressedSize64), f.Method == zip.Store && f.CompressedSize64 == f.UncompressedSize64)
	if err != nil {
		return Array{}, err
	}
	// Reach EOF so that the zip reader verifies the checksum.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return Array{}, err
	}
	return Array{Shape: shape, Data: data}, nil
}

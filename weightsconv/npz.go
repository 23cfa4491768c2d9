package main

import (
	"archive/zip"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mavis-xai/mavis/nn"
	"gorgonia.org/tensor"
)

// writeNpz dumps every parameter as NAME.npy (NAME such as conv2d/kernel, in
// its Keras shape) into a zip archive that numpy.load reads, writing through
// a temporary file that is renamed into place. Only this command links
// gorgonia; the libraries stay free of it.
func writeNpz(path string, m *nn.Model) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("npz: %v", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	z := zip.NewWriter(tmp)
	for _, p := range m.Params() {
		w, err := z.Create(p.Name + ".npy")
		if err != nil {
			return fmt.Errorf("npz: %s: %v", p.Name, err)
		}
		data := append([]float32(nil), p.Value...)
		d := tensor.New(tensor.WithShape(p.Shape...), tensor.WithBacking(data))
		if err := d.WriteNpy(w); err != nil {
			return fmt.Errorf("npz: %s: %v", p.Name, err)
		}
	}
	if err := z.Close(); err != nil {
		return fmt.Errorf("npz: %v", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("npz: %v", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("npz: %v", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("npz: %v", err)
	}
	return nil
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/weightsconv/keras"
)

// -model takes a weights file or a Keras file, told apart by content
// (nn.Sniff), not by name. A Keras file (.keras, .weights.h5, Keras 2 .h5)
// is converted in memory by keras.Convert, the function weightsconv and the
// page's converter call, and the model is read back from the converted
// bytes: explain then sees exactly the model that weightsconv would write
// and the page would load, with no file left behind. A note on stderr
// gives the weightsconv command that saves the conversion once.

// modelFlags are the flags that only apply to a Keras -model, as in
// weightsconv.
type modelFlags struct {
	arch, classes string
}

func (f *modelFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.arch, "arch", "", "for a Keras -model: its architecture, a built-in ("+strings.Join(nn.BuiltinNames(), ", ")+") or an nn spec JSON file\n(needed for a weights-only .weights.h5 or Keras 2 .h5, as weightsconv -arch)")
	fs.StringVar(&f.classes, "classes", "", "for a Keras -model: class names `FILE`, one per line (\"wnid name\" or \"name\"; default for -arch mavis: its five classes)")
}

// loadModel reads the -model file: a weights file as it is, a Keras file
// converted in memory.
func loadModel(path string, mf modelFlags, stderr io.Writer) (*nn.Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-model: %v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("-model: %v", err)
	}
	head := make([]byte, min(st.Size(), nn.SniffLen))
	n, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("-model: %v", err)
	}
	if kind, _ := nn.Sniff(head[:n], st.Size()); kind != nn.FileHDF5 && kind != nn.FileZip {
		if mf.arch != "" || mf.classes != "" {
			return nil, fmt.Errorf("-arch and -classes apply to a Keras -model; %s is not one (a weights file carries its architecture and classes)", path)
		}
		return nn.Load(path)
	}
	o := keras.Options{Source: filepath.Base(path)}
	if mf.arch != "" {
		if err := o.SetArch(mf.arch); err != nil {
			return nil, err
		}
	}
	if mf.classes != "" {
		if err := o.SetClasses(mf.classes); err != nil {
			return nil, err
		}
	}
	c, err := keras.Convert(f, st.Size(), o)
	if errors.Is(err, keras.ErrNoArchitecture) {
		return nil, fmt.Errorf("%s: %v\n(add -arch NAME|SPEC.json, e.g. -arch mavis for the original MAVIS-XAI checkpoint)", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	m, err := nn.Decode(c.File)
	if err != nil {
		return nil, fmt.Errorf("%s: converted, but the result does not load: %v", path, err)
	}
	fmt.Fprintf(stderr, "explain: %s is a %s, converted in memory (architecture from %s); to convert it once: %s\n",
		path, c.Checkpoint.Format, c.ArchFrom, convertCommand(path, mf))
	return m, nil
}

// convertCommand is the weightsconv command (as ./build.sh builds it)
// that writes the conversion loadModel does into the current folder (the
// input's may be another's, or read-only).
func convertCommand(path string, mf modelFlags) string {
	args := []string{"bin/weightsconv"}
	if mf.arch != "" {
		args = append(args, "-arch", mf.arch)
	}
	if mf.classes != "" {
		args = append(args, "-classes", mf.classes)
	}
	args = append(args, path, "-o", keras.OutputName(filepath.Base(path)))
	for i, a := range args {
		if strings.ContainsAny(a, " \t'\"$\\") {
			args[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(args, " ")
}

// Command weightsconv converts Keras model files into the project's weights
// file (safetensors with the architecture, classes and preprocessing
// contract as metadata), so that a model trained in Python runs and is
// explained in Go and in the browser.
//
// Usage:
//
//	weightsconv [flags] INPUT -o MODEL.safetensors
//
// INPUT is a Keras 3 .weights.h5 or .keras file, or a Keras 2 .h5 file
// (weights only, or a whole model with its model_config). Files without an
// architecture need -arch. Flags may come before or after INPUT.
//
// Example, the original MAVIS-XAI checkpoint:
//
//	weightsconv -arch mavis tiny_imagenet_model.checkpoint.weights.h5 -o mavis.safetensors
//
// The command prints one line per layer (name, type, output shape,
// parameters) and the totals, checks every weight's shape against the
// architecture, and writes the output atomically. -npz also dumps every
// tensor as a NumPy .npz archive for inspection in Python.
//
// The conversion itself is keras.Convert (weightsconv/keras), which the
// page's converter module (wasm/convert) and explain -model call too: the
// three give the same bytes for the same inputs. The input is recognised by
// its content, not its name (nn.Sniff).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"text/tabwriter"

	"github.com/mavis-xai/mavis/internal/atomicfile"
	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/weightsconv/keras"
)

const usage = `weightsconv converts a Keras model file into a MAVIS-XAI weights file.

Usage:
  weightsconv [flags] INPUT -o MODEL.safetensors

INPUT is one of:
  Keras 3 .weights.h5        weights only: needs -arch
  Keras 3 .keras             architecture (config.json) and weights
  Keras 2 .h5 (save_weights) weights only: needs -arch
  Keras 2 .h5 (model.save)   architecture (model_config) and weights

Flags (before or after INPUT):
  -o FILE          output weights file (required)
  -arch NAME|FILE  architecture: a built-in (%s) or an nn spec JSON file;
                   needed when INPUT has none, and used instead of INPUT's when given
  -classes FILE    class names, one per line: "wnid name" or "name"
                   (default for -arch mavis: the five Tiny-ImageNet classes)
  -scale S         input pixel scale: 0..255 (default) or 0..1
  -resize R        resize filter: bilinear (default), nearest, bicubic, lanczos3
  -crop C          none (default, stretch) or center (centre square crop first)
  -npz FILE        also write every tensor to a NumPy .npz archive
  -q               do not print the layer summary
  -h, --help       show this help

Example:
  weightsconv -arch mavis tiny_imagenet_model.checkpoint.weights.h5 -o mavis.safetensors
  weightsconv model.keras -o model.safetensors -classes classes.txt -npz model.npz
`

type options struct {
	input, output, arch, classes string
	scale, resize, crop, npz     string
	quiet                        bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) (status int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "weightsconv: internal error: %v\n%s", r, debug.Stack())
			status = 2
		}
	}()
	o, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, usage, strings.Join(nn.BuiltinNames(), ", "))
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "weightsconv: %v\nRun weightsconv --help for usage.\n", err)
		return 2
	}
	if err := convert(o, stdout); err != nil {
		fmt.Fprintf(stderr, "weightsconv: %v\n", err)
		return 1
	}
	return 0
}

// parseArgs parses flags that may come before or after the input file.
func parseArgs(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("weightsconv", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.output, "o", "", "")
	fs.StringVar(&o.arch, "arch", "", "")
	fs.StringVar(&o.classes, "classes", "", "")
	fs.StringVar(&o.scale, "scale", "", "")
	fs.StringVar(&o.resize, "resize", "", "")
	fs.StringVar(&o.crop, "crop", "", "")
	fs.StringVar(&o.npz, "npz", "", "")
	fs.BoolVar(&o.quiet, "q", false, "")
	flags, pos, err := reorder(fs, args)
	if err != nil {
		return o, err
	}
	if err := fs.Parse(flags); err != nil {
		return o, err
	}
	switch {
	case len(pos) == 0:
		return o, fmt.Errorf("no input file")
	case len(pos) > 1:
		return o, fmt.Errorf("one input file expected, got %d: %s", len(pos), strings.Join(pos, " "))
	case o.output == "":
		return o, fmt.Errorf("no output file: give -o MODEL.safetensors")
	}
	o.input = pos[0]
	return o, nil
}

// reorder splits args into flags (with their values) and positional
// arguments, so that flags may follow the input file.
func reorder(fs *flag.FlagSet, args []string) (flags, pos []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return flags, append(pos, args[i+1:]...), nil
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue // fs.Parse reports it (or -h / --help)
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 >= len(args) {
			return nil, nil, fmt.Errorf("flag %s needs a value", a)
		}
		i++
		flags = append(flags, args[i])
	}
	return flags, pos, nil
}

// convert reads the input and the -arch and -classes files, converts with
// keras.Convert (the page's converter runs the same function) and writes
// the result atomically.
func convert(o options, stdout io.Writer) error {
	f, err := os.Open(o.input)
	if err != nil {
		return fmt.Errorf("keras: %v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("keras: %v", err)
	}
	ko := keras.Options{Source: filepath.Base(o.input), Scale: o.scale, Resize: o.resize, Crop: o.crop}
	if o.arch != "" {
		if err := ko.SetArch(o.arch); err != nil {
			return err
		}
	}
	if st, err := os.Stat(o.output); err == nil && st.IsDir() {
		return fmt.Errorf("-o %s is a folder: give a file name, such as %s", o.output, filepath.Join(o.output, keras.OutputName(filepath.Base(o.input))))
	}
	if o.classes != "" {
		if err := ko.SetClasses(o.classes); err != nil {
			return err
		}
	}
	c, err := keras.Convert(f, st.Size(), ko)
	if errors.Is(err, keras.ErrNoArchitecture) {
		return fmt.Errorf("%s holds weights only: give the architecture with -arch (%s, or a spec JSON file)",
			o.input, strings.Join(nn.BuiltinNames(), ", "))
	}
	if err != nil {
		return err
	}
	// The .npz first: when it cannot be written, neither is the model.
	if o.npz != "" {
		if err := writeNpz(o.npz, c.Model); err != nil {
			return err
		}
	}
	if err := atomicfile.Write(o.output, c.File); err != nil {
		return err
	}
	if !o.quiet {
		summary(stdout, c, o)
	}
	return nil
}

// summary prints one line per layer and the totals.
func summary(w io.Writer, c *keras.Conversion, o options) {
	m, ckpt := c.Model, c.Checkpoint
	from := "from the file"
	if o.arch != "" {
		from = "from -arch " + o.arch
	}
	fmt.Fprintf(w, "%s: %s, architecture %q (%s)\n", o.input, ckpt.Format, m.Spec.Name, from)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "layer\ttype\toutput\tparams\n")
	fmt.Fprintf(tw, "input\t\t%s\t\n", shapeText(m.Spec.Input))
	for i, l := range m.Layers {
		n := 0
		if p, ok := l.(nn.Parametric); ok {
			for _, q := range p.Params() {
				n += len(q.Value)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", l.Name(), m.Class(i), shapeText(m.Shapes[i]), n)
	}
	tw.Flush()
	tr, other := m.CountParams()
	fmt.Fprintf(w, "parameters: %d trainable + %d non-trainable = %d\n", tr, other, tr+other)
	names := make([]string, len(m.Classes))
	for i, c := range m.Classes {
		names[i] = c.Name
	}
	if len(names) > 0 {
		fmt.Fprintf(w, "classes: %s\n", strings.Join(names, ", "))
	}
	p := m.Preprocess
	fmt.Fprintf(w, "preprocess: %dx%dx%d %s, scale %s, resize %s, crop %s\n", p.Height, p.Width, p.Channels, p.Color, p.Scale, p.Resize, p.Crop)
	fmt.Fprintf(w, "wrote %s\n", o.output)
	if o.npz != "" {
		fmt.Fprintf(w, "wrote %s\n", o.npz)
	}
}

// shapeText writes a per-sample shape as HxWxC, or just C for vectors.
func shapeText(s [3]int) string {
	if s[0] == 1 && s[1] == 1 {
		return fmt.Sprint(s[2])
	}
	return fmt.Sprintf("%dx%dx%d", s[0], s[1], s[2])
}

package keras

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/mavis-xai/mavis/nn"
)

// Convert is the whole conversion of a Keras file into the project's
// weights file, shared by the weightsconv command, explain -model and the
// page's converter module (wasm/convert), so that all three write the same
// bytes for the same inputs.

// Options are what a conversion needs besides the Keras file: the
// weightsconv command's flags, or the page's converter dialog.
type Options struct {
	// Source names the input in the output's "source" metadata, as
	// "Source (format)"; weightsconv gives the input's base name. Empty:
	// no "source" entry.
	Source string
	// Arch is a built-in architecture (nn.BuiltinNames), used instead of
	// the file's own. Spec is an nn spec (JSON, see nn.ParseSpec) used
	// instead of the file's own; at most one of the two may be set. A file
	// that holds weights only needs one (ErrNoArchitecture).
	Arch string
	Spec []byte
	// Classes name the outputs, one each. Nil: the file's architecture
	// leaves them unnamed, and a built-in Arch takes its default
	// (BuiltinClasses), if any.
	Classes []nn.Class
	// Scale, Resize and Crop override the preprocessing contract's defaults
	// (nn.Preprocess); empty keeps them. The contract is checked when the
	// file is encoded.
	Scale, Resize, Crop string
}

// Conversion is a converted model.
type Conversion struct {
	Checkpoint *Checkpoint // what was read (its Format, its layers)
	Model      *nn.Model   // the architecture with the file's weights, classes and preprocessing
	ArchFrom   string      // where the architecture came from: "the file", "built-in NAME" or "spec NAME"
	File       []byte      // the .safetensors weights file (nn.EncodeWith)
}

// ErrNoArchitecture is returned (wrapped) by Convert for a file that holds
// weights only, when neither Options.Arch nor Options.Spec is given.
var ErrNoArchitecture = errors.New("the file holds weights only")

// Converter is the "converter" metadata entry of every converted file.
const Converter = "weightsconv"

// Convert reads a Keras file (size bytes held by r), builds its
// architecture, loads the weights with every shape checked, names the
// classes, and encodes the result as a weights file. On error nothing is
// returned; errors start with "keras: " (or "hdf5: ", "nn: ") and say what
// to change.
func Convert(r io.ReaderAt, size int64, o Options) (*Conversion, error) {
	ckpt, err := Read(r, size)
	if err != nil {
		return nil, err
	}
	spec, from, builtin, err := architecture(o, ckpt)
	if err != nil {
		return nil, err
	}
	// The architecture may come from the file itself: refuse one that needs
	// far more parameters than the file holds before building it.
	m, err := nn.BuildWithin(spec, ckpt.Values())
	if err != nil {
		return nil, err
	}
	if err := ckpt.Load(m); err != nil {
		return nil, err
	}
	classes := o.Classes
	if classes == nil && builtin != "" {
		classes = BuiltinClasses(builtin)
	}
	if classes != nil {
		if out := m.Shapes[len(m.Shapes)-1][2]; len(classes) != out {
			return nil, fmt.Errorf("keras: %d class names given, the model has %d outputs", len(classes), out)
		}
		m.Classes = slices.Clone(classes)
	}
	p := &m.Preprocess
	if o.Scale != "" {
		p.Scale = o.Scale
	}
	if o.Resize != "" {
		p.Resize = o.Resize
	}
	if o.Crop != "" {
		p.Crop = o.Crop
	}
	meta := map[string]string{"converter": Converter}
	if o.Source != "" {
		meta["source"] = o.Source + " (" + string(ckpt.Format) + ")"
	}
	var buf bytes.Buffer
	if err := nn.EncodeWith(&buf, m, meta); err != nil {
		return nil, err
	}
	return &Conversion{Checkpoint: ckpt, Model: m, ArchFrom: from, File: buf.Bytes()}, nil
}

// architecture picks the spec: Options.Arch or Options.Spec when given,
// else the file's own.
func architecture(o Options, ckpt *Checkpoint) (spec nn.Spec, from, builtin string, err error) {
	switch {
	case o.Arch != "" && o.Spec != nil:
		return spec, "", "", errors.New("keras: give a built-in architecture or a spec, not both")
	case o.Arch != "":
		if !slices.Contains(nn.BuiltinNames(), o.Arch) {
			return spec, "", "", fmt.Errorf("keras: no built-in architecture %q (have %s; or give an nn spec JSON)", o.Arch, strings.Join(nn.BuiltinNames(), ", "))
		}
		spec, err = nn.Builtin(o.Arch)
		return spec, "built-in " + o.Arch, o.Arch, err
	case o.Spec != nil:
		spec, err = nn.ParseSpec(o.Spec)
		return spec, "spec " + spec.Name, "", err
	case ckpt.Spec == nil:
		return spec, "", "", fmt.Errorf("keras: %w (%s): give its architecture, a built-in (%s) or an nn spec JSON",
			ErrNoArchitecture, ckpt.Format, strings.Join(nn.BuiltinNames(), ", "))
	}
	return *ckpt.Spec, "the file", "", nil
}

// OutputName is the name of the weights file for a Keras file's name: its
// Keras extension (.keras, .weights.h5, .h5, in any case) replaced by
// .safetensors, or .safetensors appended.
func OutputName(input string) string {
	for _, ext := range []string{".keras", ".weights.h5", ".h5"} {
		if len(input) > len(ext) && strings.EqualFold(input[len(input)-len(ext):], ext) {
			return input[:len(input)-len(ext)] + ".safetensors"
		}
	}
	return input + ".safetensors"
}

// BuiltinClasses returns the default class names of a built-in
// architecture, or nil: for "mavis" the five Tiny-ImageNet classes of the
// original model, in its class order (sorted WordNet ids, as its training
// folders were sorted).
func BuiltinClasses(arch string) []nn.Class {
	if arch != "mavis" {
		return nil
	}
	return []nn.Class{
		{ID: "n01443537", Name: "goldfish"},
		{ID: "n01629819", Name: "European fire salamander"},
		{ID: "n01644900", Name: "tailed frog"},
		{ID: "n01770393", Name: "scorpion"},
		{ID: "n01855672", Name: "goose"},
	}
}

// isWnid reports whether s is a WordNet id: n and eight digits, such as
// n01443537. (A hand check, not a regexp: the page's converter module
// would link package regexp for it, 260 KB of wasm.)
func isWnid(s string) bool {
	if len(s) != 9 || s[0] != 'n' {
		return false
	}
	for _, c := range []byte(s[1:]) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// maxClassLine bounds a line of a class names file.
const maxClassLine = 64 << 10

// ParseClasses reads class names, one per line: "wnid name words" (a
// WordNet id such as n01443537, then its name) or just "name". Blank lines
// and lines starting with # are skipped. src names the input in errors.
func ParseClasses(r io.Reader, src string) ([]nn.Class, error) {
	var out []nn.Class
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, maxClassLine)
	for sc.Scan() {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		id, name, ok := strings.Cut(s, " ")
		name = strings.TrimSpace(name)
		if ok && isWnid(id) && name != "" {
			out = append(out, nn.Class{ID: id, Name: name})
			continue
		}
		out = append(out, nn.Class{ID: s, Name: s})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("keras: classes: %s: %v", src, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("keras: classes: %s lists no classes", src)
	}
	seen := map[string]int{}
	for i, c := range out {
		if j, dup := seen[c.ID]; dup {
			return nil, fmt.Errorf("keras: classes: %s: %q appears at entries %d and %d", src, c.ID, j+1, i+1)
		}
		seen[c.ID] = i
	}
	return out, nil
}

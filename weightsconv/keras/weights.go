package keras

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/weightsconv/hdf5"
)

// Format names a kind of Keras file.
type Format string

const (
	Keras3Weights Format = "Keras 3 .weights.h5"
	Keras3Archive Format = "Keras 3 .keras archive"
	Keras2Weights Format = "Keras 2 weights .h5"
	Keras2Model   Format = "Keras 2 model .h5"
)

// Var is one weight array.
type Var struct {
	Name  string // as the file names it: "vars/0" (Keras 3) or "conv2d/kernel:0" (Keras 2)
	Shape []int
	Data  []float32
}

// Layer holds the weights of one layer, in Keras's variable order.
type Layer struct {
	Name string
	Vars []Var
}

// Checkpoint is the content of a Keras file: the architecture when the file
// has one, and the weights of every layer.
type Checkpoint struct {
	Format Format
	// Spec is the architecture from config.json or model_config, nil when
	// the file holds weights only.
	Spec *nn.Spec
	// Layers: Keras 3 files in the file's (name) order, matched by name;
	// Keras 2 files in layer_names order, matched by position.
	Layers []Layer
}

// Values returns the number of weight values the checkpoint holds.
func (c *Checkpoint) Values() int64 {
	var n int64
	for _, l := range c.Layers {
		for _, v := range l.Vars {
			n += int64(len(v.Data))
		}
	}
	return n
}

// byName reports whether layers are matched by name (Keras 3).
func (c *Checkpoint) byName() bool { return c.Format == Keras3Weights || c.Format == Keras3Archive }

// A member of a .keras zip may claim at most 1100 times the archive size
// (deflate cannot expand more) plus 1 MiB, and at most 2 GiB.
const maxArchiveMember = 1 << 31

func memberLimit(archive int64) uint64 {
	return min(uint64(archive)*1100+1<<20, maxArchiveMember)
}

// ReadFile reads a Keras file of any supported format.
func ReadFile(path string) (*Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keras: %v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keras: %v", err)
	}
	return Read(f, st.Size())
}

// Read reads a Keras file held by r (size bytes): a .keras zip archive or an
// HDF5 file of one of the formats in the package documentation.
func Read(r io.ReaderAt, size int64) (*Checkpoint, error) {
	head := make([]byte, max(0, min(size, nn.SniffLen)))
	n, err := r.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("keras: %v", err)
	}
	switch kind, format := nn.Sniff(head[:n], size); kind {
	case nn.FileZip:
		return readArchive(r, size)
	case nn.FileImage:
		return nil, fmt.Errorf("keras: this is a %s image, not a Keras model file (.keras, .h5 or .weights.h5)", format)
	case nn.FileSafetensors:
		return nil, errors.New("keras: this is a .safetensors weights file, not a Keras file: it needs no conversion, load it as it is")
	}
	h, err := hdf5.Open(r, size)
	if err != nil {
		return nil, err
	}
	return readHDF5(h)
}

// readArchive reads a Keras 3 .keras zip: config.json and model.weights.h5.
func readArchive(r io.ReaderAt, size int64) (*Checkpoint, error) {
	z, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("keras: .keras archive: %v", err)
	}
	limit := memberLimit(size)
	config, err := zipMember(z, "config.json", limit)
	if err != nil {
		return nil, err
	}
	weights, err := zipMember(z, "model.weights.h5", limit)
	if err != nil {
		return nil, err
	}
	spec, err := ParseConfig(config)
	if err != nil {
		return nil, err
	}
	h, err := hdf5.Open(bytes.NewReader(weights), int64(len(weights)))
	if err != nil {
		return nil, fmt.Errorf("keras: model.weights.h5 in .keras archive: %v", err)
	}
	layers, err := keras3Layers(h)
	if err != nil {
		return nil, err
	}
	return &Checkpoint{Format: Keras3Archive, Spec: &spec, Layers: layers}, nil
}

func zipMember(z *zip.Reader, name string, limit uint64) ([]byte, error) {
	for _, f := range z.File {
		if f.Name != name {
			continue
		}
		if f.UncompressedSize64 > limit {
			return nil, fmt.Errorf("keras: .keras archive: %s claims %d bytes (limit %d for this archive)", name, f.UncompressedSize64, limit)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("keras: .keras archive: %s: %v", name, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, int64(f.UncompressedSize64)+1))
		if err != nil {
			return nil, fmt.Errorf("keras: .keras archive: %s: %v", name, err)
		}
		if uint64(len(b)) != f.UncompressedSize64 {
			return nil, fmt.Errorf("keras: .keras archive: %s holds %d bytes, header says %d", name, len(b), f.UncompressedSize64)
		}
		return b, nil
	}
	return nil, fmt.Errorf("keras: .keras archive has no %s", name)
}

// readHDF5 tells the HDF5 layouts apart.
func readHDF5(h *hdf5.File) (*Checkpoint, error) {
	root := h.Root()
	if _, err := root.Attr("model_config"); err == nil {
		cfg, err := attrString(root, "model_config")
		if err != nil {
			return nil, err
		}
		spec, err := ParseConfig([]byte(cfg))
		if err != nil {
			return nil, err
		}
		g, err := root.Group("model_weights")
		if err != nil {
			return nil, fmt.Errorf("keras: Keras 2 model file has a model_config but no model_weights group: %v", err)
		}
		layers, err := keras2Layers(g)
		if err != nil {
			return nil, err
		}
		return &Checkpoint{Format: Keras2Model, Spec: &spec, Layers: layers}, nil
	}
	if hasSplitAttr(root, "layer_names") {
		layers, err := keras2Layers(root)
		if err != nil {
			return nil, err
		}
		return &Checkpoint{Format: Keras2Weights, Layers: layers}, nil
	}
	if layersGroup(root) != "" {
		layers, err := keras3Layers(h)
		if err != nil {
			return nil, err
		}
		return &Checkpoint{Format: Keras3Weights, Layers: layers}, nil
	}
	return nil, fmt.Errorf("keras: HDF5 file is not a Keras weights file (no layers group, layer_names or model_config attribute; root has %v)", root.Members())
}

func attrString(o hdf5.Object, name string) (string, error) {
	a, err := o.Attr(name)
	if err != nil {
		return "", fmt.Errorf("keras: %v", err)
	}
	s, err := a.Text()
	if err != nil {
		return "", fmt.Errorf("keras: %s attribute %s: %v", o.Path(), name, err)
	}
	return s, nil
}

func hasSplitAttr(o hdf5.Object, name string) bool {
	if _, err := o.Attr(name); err == nil {
		return true
	}
	_, err := o.Attr(name + "0")
	return err == nil
}

// splitAttr reads a string-list attribute that Keras 2 may have split into
// name0, name1, ... when it was longer than HDF5's 64 kB attribute limit.
func splitAttr(o hdf5.Object, name string) ([]string, error) {
	if a, err := o.Attr(name); err == nil {
		if empty(a) {
			return nil, nil // Keras writes np.asarray([]), a float64 array
		}
		s, err := a.Strings()
		if err != nil {
			return nil, fmt.Errorf("keras: %s attribute %s: %v", o.Path(), name, err)
		}
		return s, nil
	}
	var out []string
	for i := 0; ; i++ {
		a, err := o.Attr(name + strconv.Itoa(i))
		if err != nil {
			if i == 0 {
				return nil, fmt.Errorf("keras: %s has no attribute %s (nor %s0, %s1, ...)", o.Path(), name, name, name)
			}
			return out, nil
		}
		s, err := a.Strings()
		if err != nil {
			return nil, fmt.Errorf("keras: %s attribute %s%d: %v", o.Path(), name, i, err)
		}
		out = append(out, s...)
	}
}

// keras2Layers reads the layer_names / weight_names layout of Keras 2.
func keras2Layers(g *hdf5.Group) ([]Layer, error) {
	if b, err := g.Attr("backend"); err == nil {
		if s, err := b.Text(); err == nil && s == "theano" {
			return nil, fmt.Errorf("keras: %s: Theano backend weights (flipped kernels) not supported", g.Path())
		}
	}
	names, err := splitAttr(g, "layer_names")
	if err != nil {
		return nil, err
	}
	var layers []Layer
	for _, name := range names {
		lg, err := g.Group(name)
		if err != nil {
			return nil, fmt.Errorf("keras: layer_names lists %q: %v", name, err)
		}
		wnames, err := splitAttr(lg, "weight_names")
		if err != nil {
			return nil, err
		}
		l := Layer{Name: name}
		for _, wn := range wnames {
			v, err := readVar(lg, wn)
			if err != nil {
				return nil, err
			}
			l.Vars = append(l.Vars, v)
		}
		layers = append(layers, l)
	}
	return layers, nil
}

// layersGroup names the group holding the layers of a Keras 3 weights file:
// "layers", or "_layer_checkpoint_dependencies" in files of the first
// Keras 3 / keras-core releases (2023); "" when there is none.
func layersGroup(root *hdf5.Group) string {
	for _, name := range []string{"layers", "_layer_checkpoint_dependencies"} {
		for _, m := range root.Members() {
			if m == name {
				return name
			}
		}
	}
	return ""
}

// keras3Layers reads layers/<name>/vars/<i> of a Keras 3 weights file.
func keras3Layers(h *hdf5.File) ([]Layer, error) {
	top := layersGroup(h.Root())
	if top == "" {
		return nil, fmt.Errorf("keras: Keras 3 weights have no layers group (root has %v)", h.Root().Members())
	}
	lg, err := h.Root().Group(top)
	if err != nil {
		return nil, fmt.Errorf("keras: %v", err)
	}
	var layers []Layer
	seen := map[string]string{}
	for _, member := range lg.Members() {
		g, err := lg.Group(member)
		if err != nil {
			return nil, fmt.Errorf("keras: %s/%s: %v", top, member, err)
		}
		name := member
		if _, err := g.Attr("name"); err == nil {
			if name, err = attrString(g, "name"); err != nil {
				return nil, err
			}
		}
		if other, dup := seen[name]; dup {
			return nil, fmt.Errorf("keras: %s/%s and %s/%s both name layer %q", top, other, top, member, name)
		}
		seen[name] = member
		l := Layer{Name: name}
		if vg, err := g.Group("vars"); err == nil {
			idx := make([]int, 0, len(vg.Members()))
			for _, v := range vg.Members() {
				i, err := strconv.Atoi(v)
				if err != nil || i < 0 {
					return nil, fmt.Errorf("keras: %s/%s/vars/%s: variable names must be 0, 1, ...", top, member, v)
				}
				idx = append(idx, i)
			}
			sort.Ints(idx)
			for want, i := range idx {
				if i != want {
					return nil, fmt.Errorf("keras: %s/%s/vars: variable %d missing (have %v)", top, member, want, idx)
				}
				v, err := readVar(vg, strconv.Itoa(i))
				if err != nil {
					return nil, err
				}
				v.Name = "vars/" + v.Name
				l.Vars = append(l.Vars, v)
			}
		}
		layers = append(layers, l)
	}
	return layers, nil
}

func empty(a *hdf5.Attr) bool {
	for _, d := range a.Shape {
		if d == 0 {
			return true
		}
	}
	return false
}

func readVar(g *hdf5.Group, name string) (Var, error) {
	d, err := g.Dataset(name)
	if err != nil {
		return Var{}, fmt.Errorf("keras: %v", err)
	}
	data, err := d.ReadFloat32()
	if err != nil {
		return Var{}, fmt.Errorf("keras: %s: %v", d.Path(), strings.TrimPrefix(err.Error(), "hdf5: "))
	}
	return Var{Name: name, Shape: append([]int(nil), d.Shape...), Data: data}, nil
}

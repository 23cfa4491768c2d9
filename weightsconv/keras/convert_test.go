package keras

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/nn"
)

func convertFile(t *testing.T, name string, o Options) (*Conversion, error) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return Convert(bytes.NewReader(b), int64(len(b)), o)
}

// TestConvert converts every tiny file (the weights-only ones with the
// architecture as an nn spec) and reads the written bytes back with
// nn.Decode: every weight is gen.py's formula, the model gives
// tiny_expected.json's probabilities, and the metadata names the source,
// the converter and the classes.
func TestConvert(t *testing.T) {
	exp := readExpected(t)
	spec := []byte(specJSON(t, tinySpec()))
	classes := []nn.Class{{ID: "n01443537", Name: "goldfish"}, {ID: "cat", Name: "cat"}, {ID: "dog", Name: "dog"}}
	for _, tt := range []struct {
		file string
		o    Options
		from string
	}{
		{"tiny.weights.h5", Options{Source: "tiny.weights.h5", Spec: spec}, "spec sequential"},
		{"tiny_ckptdeps.weights.h5", Options{Source: "x", Spec: spec, Classes: classes}, "spec sequential"},
		{"tiny.keras", Options{Source: "tiny.keras", Scale: "0..1", Crop: "center"}, "the file"},
		{"tiny_keras2_split.h5", Options{Spec: spec}, "spec sequential"},
		{"tiny_keras2_model.h5", Options{Source: "m.h5", Classes: classes, Resize: "nearest"}, "the file"},
	} {
		c, err := convertFile(t, tt.file, tt.o)
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if c.ArchFrom != tt.from {
			t.Errorf("%s: architecture from %q, want %q", tt.file, c.ArchFrom, tt.from)
		}
		m, err := nn.Decode(c.File)
		if err != nil {
			t.Fatalf("%s: the converted file does not load: %v", tt.file, err)
		}
		for arr, p := range m.Params() {
			for k, v := range p.Value {
				if want := tinyWeight(arr, k, strings.HasSuffix(p.Name, "moving_variance")); v != want {
					t.Fatalf("%s: %s[%d] = %v, want %v", tt.file, p.Name, k, v, want)
				}
			}
		}
		x := m.NewInput(1)
		copy(x.Data, exp.Input)
		probs := m.Forward(x).Data
		for i := range exp.Probs {
			if d := math.Abs(float64(probs[i]) - exp.Probs[i]); d > 1e-5 {
				t.Errorf("%s: probs[%d] = %v, want %v", tt.file, i, probs[i], exp.Probs[i])
			}
		}
		meta, err := nn.Metadata(c.File)
		if err != nil {
			t.Fatal(err)
		}
		wantSource := ""
		if tt.o.Source != "" {
			wantSource = tt.o.Source + " (" + string(c.Checkpoint.Format) + ")"
		}
		if meta["source"] != wantSource || meta["converter"] != "weightsconv" {
			t.Errorf("%s: source %q, converter %q; want %q, weightsconv", tt.file, meta["source"], meta["converter"], wantSource)
		}
		if tt.o.Classes != nil && !reflect.DeepEqual(m.Classes, tt.o.Classes) {
			t.Errorf("%s: classes %v, want %v", tt.file, m.Classes, tt.o.Classes)
		}
		want := nn.DefaultPreprocess(m.Spec.Input)
		for _, o := range []struct {
			field *string
			v     string
		}{{&want.Scale, tt.o.Scale}, {&want.Resize, tt.o.Resize}, {&want.Crop, tt.o.Crop}} {
			if o.v != "" {
				*o.field = o.v
			}
		}
		if m.Preprocess != want {
			t.Errorf("%s: preprocess %+v, want %+v", tt.file, m.Preprocess, want)
		}
		// The same inputs give the same bytes.
		again, err := convertFile(t, tt.file, tt.o)
		if err != nil || !bytes.Equal(again.File, c.File) {
			t.Errorf("%s: a second conversion differs (%v)", tt.file, err)
		}
	}
}

func TestConvertErrors(t *testing.T) {
	spec := []byte(specJSON(t, tinySpec()))
	wide := tinySpec()
	wide.Layers[0].Config.Filters = 4
	for _, tt := range []struct {
		file string
		o    Options
		want string
	}{
		{"tiny.weights.h5", Options{}, "keras: the file holds weights only (Keras 3 .weights.h5): give its architecture, a built-in (fashion, mavis) or an nn spec JSON"},
		{"tiny_keras2_split.h5", Options{}, "the file holds weights only (Keras 2 weights .h5)"},
		{"tiny.weights.h5", Options{Arch: "mavis", Spec: spec}, "a built-in architecture or a spec, not both"},
		{"tiny.weights.h5", Options{Arch: "resnet"}, `keras: no built-in architecture "resnet" (have fashion, mavis; or give an nn spec JSON)`},
		{"tiny.weights.h5", Options{Arch: "mavis"}, `keras: the file has no weights for layer "conv2d_1"`},
		{"tiny.weights.h5", Options{Spec: []byte("{")}, "nn: "},
		{"tiny.keras", Options{Spec: []byte(specJSON(t, wide))}, `keras: layer "conv2d": variable 0 (conv2d/kernel) has shape [3 3 3 3] in the file (vars/0), the architecture wants [3 3 3 4]`},
		{"tiny.keras", Options{Classes: []nn.Class{{ID: "a", Name: "a"}}}, "keras: 1 class names given, the model has 3 outputs"},
		{"tiny.keras", Options{Scale: "0..9"}, `unknown scale "0..9"`},
		{"tiny_expected.json", Options{}, "hdf5: no HDF5 signature"},
	} {
		c, err := convertFile(t, tt.file, tt.o)
		if err == nil || c != nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %+v: got %v, want an error with %q", tt.file, tt.o, err, tt.want)
		}
		if errors.Is(err, ErrNoArchitecture) != strings.Contains(tt.want, "weights only") {
			t.Errorf("%s: errors.Is(err, ErrNoArchitecture) = %v for %v", tt.file, errors.Is(err, ErrNoArchitecture), err)
		}
	}
}

// TestReadSaysWhatAFileIs: an image or a weights file given as a Keras
// file is named.
func TestReadSaysWhatAFileIs(t *testing.T) {
	m, err := nn.BuildBuiltin("fashion")
	if err != nil {
		t.Fatal(err)
	}
	var st bytes.Buffer
	if err := nn.Encode(&st, m); err != nil {
		t.Fatal(err)
	}
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR")
	for _, tt := range []struct {
		data []byte
		want string
	}{
		{st.Bytes(), "keras: this is a .safetensors weights file, not a Keras file: it needs no conversion, load it as it is"},
		{png, "keras: this is a PNG image, not a Keras model file (.keras, .h5 or .weights.h5)"},
	} {
		if _, err := Read(bytes.NewReader(tt.data), int64(len(tt.data))); err == nil || err.Error() != tt.want {
			t.Errorf("got %v, want %q", err, tt.want)
		}
	}
}

func TestBuiltinClasses(t *testing.T) {
	// The MAVIS classes are the fixtures' (shared/fixtures/README.md: class
	// order = sorted WordNet ids) and match the built-in's 5 outputs.
	cs := BuiltinClasses("mavis")
	m, err := nn.BuildBuiltin("mavis")
	if err != nil {
		t.Fatal(err)
	}
	if out := m.Shapes[len(m.Shapes)-1][2]; len(cs) != out {
		t.Fatalf("%d classes for %d outputs", len(cs), out)
	}
	for i := 1; i < len(cs); i++ {
		if cs[i-1].ID >= cs[i].ID {
			t.Errorf("class ids not sorted: %v", cs)
		}
	}
	if cs[1].Name != "European fire salamander" || cs[4].Name != "goose" {
		t.Errorf("classes %v", cs)
	}
	if BuiltinClasses("fashion") != nil {
		t.Errorf("fashion has default classes")
	}
	// A caller that changes the slice does not change the default.
	cs[0].Name = "x"
	if BuiltinClasses("mavis")[0].Name != "goldfish" {
		t.Errorf("BuiltinClasses shares its slice")
	}
}

func TestParseClasses(t *testing.T) {
	tests := []struct {
		in   string
		want []nn.Class
		err  string
	}{
		{"n01443537 goldfish\nn01629819 European fire salamander\n", []nn.Class{{ID: "n01443537", Name: "goldfish"}, {ID: "n01629819", Name: "European fire salamander"}}, ""},
		{"cat\ndog\n", []nn.Class{{ID: "cat", Name: "cat"}, {ID: "dog", Name: "dog"}}, ""},
		{"  cat \r\n\r\n# comment\nbig dog", []nn.Class{{ID: "cat", Name: "cat"}, {ID: "big dog", Name: "big dog"}}, ""},
		{"n01443537\n", []nn.Class{{ID: "n01443537", Name: "n01443537"}}, ""},
		{"# only comments\n\n", nil, "keras: classes: test lists no classes"},
		{"cat\ncat\n", nil, `"cat" appears at entries 1 and 2`},
		{strings.Repeat("x", 100<<10), nil, "token too long"},
	}
	for _, tt := range tests {
		got, err := ParseClasses(strings.NewReader(tt.in), "test")
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%.40q: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %v (%v), want %v", tt.in, got, err, tt.want)
		}
	}
}

// FuzzConvert: hostile bytes with each kind of options: no panic, an error
// with a package prefix or a file that loads.
func FuzzConvert(f *testing.F) {
	for _, name := range []string{"tiny.keras", "tiny.weights.h5", "tiny_keras2_model.h5"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
	}
	spec, _ := json.Marshal(tinySpec())
	f.Fuzz(func(t *testing.T, b []byte, opt uint8) {
		var o Options
		switch opt % 3 {
		case 1:
			o.Spec = spec
		case 2:
			o.Arch = "mavis"
		}
		c, err := Convert(bytes.NewReader(b), int64(len(b)), o)
		if err != nil {
			if s := err.Error(); !strings.HasPrefix(s, "keras: ") && !strings.HasPrefix(s, "hdf5: ") && !strings.HasPrefix(s, "nn: ") {
				t.Errorf("error without prefix: %v", err)
			}
			return
		}
		if _, err := nn.Decode(c.File); err != nil {
			t.Errorf("converted file does not load: %v", err)
		}
	})
}

func TestIsWnid(t *testing.T) {
	for _, tt := range []struct {
		s    string
		want bool
	}{
		{"n01443537", true}, {"n00000000", true},
		{"n0144353", false}, {"n014435370", false}, {"m01443537", false}, {"n0144353x", false}, {"N01443537", false}, {"", false}, {"n", false},
	} {
		if got := isWnid(tt.s); got != tt.want {
			t.Errorf("isWnid(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestOutputName(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"tiny_imagenet_model.checkpoint.weights.h5", "tiny_imagenet_model.checkpoint.safetensors"},
		{"dir/model.keras", "dir/model.safetensors"},
		{"M.H5", "M.safetensors"},
		{"model.weights.H5", "model.safetensors"},
		{"model", "model.safetensors"},
		{".h5", ".h5.safetensors"},
		{"", ".safetensors"},
	} {
		if got := OutputName(tt.in); got != tt.want {
			t.Errorf("OutputName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

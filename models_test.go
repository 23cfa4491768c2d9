package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/internal/sharedtest"
	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/nn/imagefile"
	"github.com/mavis-xai/mavis/weightsconv/keras"
)

// builtinModel is an entry of www/models/index.json (api.d.ts, section 5:
// BuiltinModel); paths are relative to www/.
type builtinModel struct {
	File        string `json:"file"`
	Name        string `json:"name"`
	Domain      string `json:"domain"`
	Card        string `json:"card"`
	Licence     string `json:"licence"`
	LicenceFile string `json:"licenceFile"`
	Samples     string `json:"samples"`
}

// sample is an entry of a samples index; file is relative to the index's
// folder.
type sample struct {
	File    string `json:"file"`
	Label   string `json:"label"`
	InClass *bool  `json:"inClass"`
	Licence string `json:"licence"`
	Author  string `json:"author"`
	Source  string `json:"source"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestBuiltinModels holds www/models/index.json to what it lists: every
// model loads, has its card, its licence and a samples index whose images
// decode, each with a label (and, for photos not made by this project, a
// licence, an author and a source).
func TestBuiltinModels(t *testing.T) {
	var models []builtinModel
	readJSON(t, filepath.Join("www", "models", "index.json"), &models)
	if len(models) < 2 {
		t.Fatalf("%d built-in models, want fashion and mavis", len(models))
	}
	seen := map[string]bool{}
	for _, bm := range models {
		if bm.Name == "" || bm.Domain == "" || bm.Licence == "" || seen[bm.File] {
			t.Errorf("%s: name %q, domain %q, licence %q (or listed twice)", bm.File, bm.Name, bm.Domain, bm.Licence)
		}
		seen[bm.File] = true
		m, err := nn.Load(filepath.Join("www", filepath.FromSlash(bm.File)))
		if err != nil {
			t.Errorf("%s: %v", bm.File, err)
			continue
		}
		if len(m.Classes) == 0 {
			t.Errorf("%s: no class names", bm.File)
		}
		for _, f := range []string{bm.Card, bm.LicenceFile} {
			if f == "" {
				continue
			}
			if st, err := os.Stat(filepath.Join("www", filepath.FromSlash(f))); err != nil || st.Size() == 0 {
				t.Errorf("%s: %s: %v", bm.File, f, err)
			}
		}
		var samples []sample
		index := filepath.Join("www", filepath.FromSlash(bm.Samples))
		readJSON(t, index, &samples)
		if len(samples) == 0 {
			t.Errorf("%s: no samples in %s", bm.File, bm.Samples)
		}
		for _, s := range samples {
			f, err := os.Open(filepath.Join(filepath.Dir(index), filepath.FromSlash(s.File)))
			if err != nil {
				t.Errorf("%s: %v", bm.Samples, err)
				continue
			}
			img, err := imagefile.Decode(f)
			f.Close()
			if err != nil {
				t.Errorf("%s: %s: %v", bm.Samples, s.File, err)
				continue
			}
			if b := img.Bounds(); max(b.Dx(), b.Dy()) > 512 {
				t.Errorf("%s: %s is %v: keep samples small", bm.Samples, s.File, b)
			}
			if s.Label == "" {
				t.Errorf("%s: %s has no label", bm.Samples, s.File)
			}
			if s.InClass != nil && (s.Licence == "" || s.Author == "" || s.Source == "") {
				t.Errorf("%s: %s: licence %q, author %q, source %q", bm.Samples, s.File, s.Licence, s.Author, s.Source)
			}
			if s.InClass != nil && !*s.InClass && !strings.Contains(s.Label, "not one of") {
				t.Errorf("%s: %s is out of class but its label %q does not say so", bm.Samples, s.File, s.Label)
			}
		}
	}
}

// TestMavisModel: www/models/mavis.safetensors is what weightsconv
// -arch mavis writes today for the original checkpoint in ../shared (byte
// for byte), its licence is that checkpoint's, and its card states its
// size and sha256.
func TestMavisModel(t *testing.T) {
	shipped, err := os.ReadFile(filepath.Join("www", "models", "mavis.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	card, err := os.ReadFile(filepath.Join("www", "models", "mavis.md"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(shipped)
	size := strconv.Itoa(len(shipped))
	withCommas := size[:len(size)-3] + "," + size[len(size)-3:]
	for _, want := range []string{hex.EncodeToString(sum[:]), withCommas + " bytes"} {
		if !bytes.Contains(card, []byte(want)) {
			t.Errorf("mavis.md does not state %q", want)
		}
	}
	shared := sharedtest.Dir(t, sharedtest.Weights)
	in, err := os.ReadFile(filepath.Join(shared, filepath.FromSlash(sharedtest.Weights)))
	if err != nil {
		t.Fatal(err)
	}
	inSum := sha256.Sum256(in)
	if !bytes.Contains(card, []byte(hex.EncodeToString(inSum[:]))) {
		t.Errorf("mavis.md does not state the checkpoint's sha256 %x", inSum)
	}
	c, err := keras.Convert(bytes.NewReader(in), int64(len(in)), keras.Options{Source: filepath.Base(sharedtest.Weights), Arch: "mavis"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.File, shipped) {
		t.Errorf("www/models/mavis.safetensors (%d bytes) is not what weightsconv -arch mavis writes now (%d bytes): reconvert it (www/models/mavis.md)", len(shipped), len(c.File))
	}
	lic, err := os.ReadFile(filepath.Join(shared, "mavis", "LICENSE"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join("www", "models", "LICENSE-mavis.txt")); err != nil || !bytes.Equal(got, lic) {
		t.Errorf("www/models/LICENSE-mavis.txt is not ../shared/mavis/LICENSE (%v)", err)
	}
}

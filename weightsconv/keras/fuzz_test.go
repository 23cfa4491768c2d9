package keras

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzRead feeds hostile bytes to Read, seeded with every Keras file in
// testdata: no panic, and every error carries a package prefix.
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob("testdata/tiny*")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "keras: ") && !strings.HasPrefix(err.Error(), "hdf5: ") {
				t.Errorf("error without prefix: %v", err)
			}
			return
		}
		for _, l := range c.Layers {
			for _, v := range l.Vars {
				n := 1
				for _, d := range v.Shape {
					n *= d
				}
				if n != len(v.Data) {
					t.Errorf("%s/%s: shape %v with %d values", l.Name, v.Name, v.Shape, len(v.Data))
				}
			}
		}
	})
}

// FuzzParseConfig feeds hostile JSON to ParseConfig.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(functional2))
	f.Add([]byte(functional3))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := ParseConfig(b); err != nil && !strings.HasPrefix(err.Error(), "keras: ") {
			t.Errorf("error without prefix: %v", err)
		}
	})
}

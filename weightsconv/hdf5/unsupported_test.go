package hdf5

import (
	"strings"
	"testing"
)

// TestUnsupported checks that features this reader does not implement fail
// by name (testdata/unsupported.h5 from gen.py), each on its own: the rest
// of the file stays readable.
func TestUnsupported(t *testing.T) {
	f := openTestdata(t, "unsupported.h5")
	tests := []struct {
		path string
		want string
	}{
		{"extensible", `chunk index "extensible array" not supported`},
		{"btree2", `chunk index "v2 B-tree" not supported`},
		{"lzf", "filter 32000 (lzf) not supported"},
		{"named_type", "committed datatype objects not supported (object header at offset"},
		{"uses_named_type", "shared header message (type 3) at offset"},
		{"external", `external link to "other.h5:/data" not supported`},
		{"compound", "cannot convert compound(12 bytes) to numbers"},
	}
	for _, tt := range tests {
		o, err := f.Lookup(tt.path)
		if err == nil {
			_, err = o.(*Dataset).ReadFloat64()
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to contain %q", tt.path, err, tt.want)
		}
	}
	o, err := f.Lookup("ok")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := o.(*Dataset).ReadInt64(); err != nil || len(v) != 3 || v[2] != 2 {
		t.Errorf("ok: %v, %v", v, err)
	}
}

func TestUserBlock(t *testing.T) {
	f := openTestdata(t, "userblock.h5")
	o, err := f.Lookup("x")
	if err != nil {
		t.Fatal(err)
	}
	v, err := o.(*Dataset).ReadFloat64()
	if err != nil || len(v) != 6 || v[5] != 1.25 {
		t.Errorf("x = %v, %v", v, err)
	}
	a, err := f.Root().Attr("note")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := a.Text(); s != "after a user block" {
		t.Errorf("note = %q, %v", s, err)
	}
}

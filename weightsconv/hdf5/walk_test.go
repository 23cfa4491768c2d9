package hdf5

import (
	"fmt"
	"strings"
	"testing"
)

// dumpFile renders every object, attribute and value of a file as text, one
// line per item, in walk order. Tests compare it with expectations and with
// h5dump.
func dumpFile(f *File) (string, error) {
	var sb strings.Builder
	err := f.Root().Walk(func(path string, o Object) error {
		switch o := o.(type) {
		case *Group:
			fmt.Fprintf(&sb, "group %s %v\n", path, o.Members())
		case *Dataset:
			v, err := datasetValue(o)
			if err != nil {
				return err
			}
			fmt.Fprintf(&sb, "dataset %s %v %s = %s\n", path, o.Shape, o.Type, v)
		}
		for _, a := range o.Attrs() {
			v, err := attrValue(a)
			if err != nil {
				return err
			}
			fmt.Fprintf(&sb, "  attr %s %v %s = %s\n", a.Name, a.Shape, a.Type, v)
		}
		return nil
	})
	return sb.String(), err
}

func datasetValue(d *Dataset) (string, error) {
	switch d.Type.Class {
	case ClassString, ClassVarLen:
		s, err := d.ReadStrings()
		return fmt.Sprintf("%q", s), err
	case ClassFixed:
		v, err := d.ReadInt64()
		return fmt.Sprint(v), err
	}
	v, err := d.ReadFloat64()
	return fmt.Sprint(v), err
}

func attrValue(a *Attr) (string, error) {
	switch a.Type.Class {
	case ClassString, ClassVarLen:
		s, err := a.Strings()
		return fmt.Sprintf("%q", s), err
	case ClassFixed:
		v, err := a.Int64s()
		return fmt.Sprint(v), err
	}
	v, err := a.Float64s()
	return fmt.Sprint(v), err
}

func TestWalkAll(t *testing.T) {
	for _, name := range []string{"basic.h5", "latest.h5", "many_links.h5"} {
		f, err := OpenFile("testdata/" + name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s, err := dumpFile(f)
		t.Logf("%s:\n%s", name, s)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

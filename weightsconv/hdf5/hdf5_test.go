package hdf5

import (
	"bytes"
	"os"
	"reflect"
	"testing"
)

// The files in testdata are written by testdata/gen.py; the expected values
// below restate its arange formulas.

func openTestdata(t testing.TB, name string) *File {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("Open(%s): %v", name, err)
	}
	return f
}

func arange(n int, scale, offset float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(i)*scale + offset
	}
	return v
}

func TestDatasets(t *testing.T) {
	tests := []struct {
		file, path string
		shape      []int
		typ        string
		want       []float64
	}{
		{"basic.h5", "a/chunked", []int{5, 7}, "float32 LE", arange(35, 0.5, 0)},
		{"basic.h5", "a/b/f64", []int{2, 3}, "float64 LE", arange(6, 1, -2.5)},
		{"basic.h5", "/a/b/c/i16", []int{8}, "int16 LE", arange(8, 1, -4)},
		{"basic.h5", "a/b/c/u8", []int{6}, "uint8 LE", arange(6, 1, 250)},
		{"basic.h5", "bigendian_f4", []int{10}, "float32 BE", arange(10, 1.5, 0)},
		{"basic.h5", "bigendian_i8", []int{10}, "int64 BE", arange(10, 1000, -5000)},
		{"basic.h5", "bigendian_chunked", []int{2, 3, 4}, "float64 BE", arange(24, 1, 0)},
		{"basic.h5", "compact", []int{3, 2}, "float32 LE", arange(6, 1, 1)},
		{"basic.h5", "scalar_f8", nil, "float64 LE", []float64{3.25}},
		{"basic.h5", "fletcher", []int{12}, "int32 LE", arange(12, 1, 0)},
		{"basic.h5", "empty", []int{0, 4}, "float32 LE", []float64{}},
		{"basic.h5", "unwritten", []int{4}, "float32 LE", []float64{0, 0, 0, 0}},
		{"basic.h5", "soft", []int{2, 3}, "float64 LE", arange(6, 1, -2.5)},
		{"latest.h5", "chunked", []int{8, 5}, "float32 LE", arange(40, 1, 0)},
		{"latest.h5", "single", []int{3, 4}, "float64 LE", arange(12, 1, 0)},
		{"latest.h5", "contig", []int{5}, "int64 LE", arange(5, -3, 0)},
	}
	for _, tt := range tests {
		f := openTestdata(t, tt.file)
		o, err := f.Lookup(tt.path)
		if err != nil {
			t.Errorf("%s %s: %v", tt.file, tt.path, err)
			continue
		}
		d := o.(*Dataset)
		if len(d.Shape) != len(tt.shape) || (len(tt.shape) > 0 && !reflect.DeepEqual(d.Shape, tt.shape)) {
			t.Errorf("%s %s: shape %v, want %v", tt.file, tt.path, d.Shape, tt.shape)
		}
		if got := d.Type.String(); got != tt.typ {
			t.Errorf("%s %s: type %s, want %s", tt.file, tt.path, got, tt.typ)
		}
		got, err := d.ReadFloat64()
		if err != nil {
			t.Errorf("%s %s: %v", tt.file, tt.path, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s %s: got %v, want %v", tt.file, tt.path, got, tt.want)
		}
		f32, err := d.ReadFloat32()
		if err != nil || len(f32) != len(tt.want) {
			t.Errorf("%s %s: ReadFloat32 gave %d values, err %v", tt.file, tt.path, len(f32), err)
		}
		for i := range f32 {
			if float64(f32[i]) != tt.want[i] {
				t.Errorf("%s %s: float32[%d] = %v, want %v", tt.file, tt.path, i, f32[i], tt.want[i])
				break
			}
		}
	}
}

func TestStrings(t *testing.T) {
	tests := []struct {
		file, path, attr string // attr "" reads the dataset
		want             []string
	}{
		{"basic.h5", "fixed_strings", "", []string{"x", "yy", "zzz"}},
		{"basic.h5", "vlen_strings", "", []string{"hello", "", "world!"}},
		{"basic.h5", "/", "title", []string{"basic file"}},
		{"basic.h5", "/", "fixed", []string{"fixed12"}},
		{"basic.h5", "/", "names", []string{"alpha", "beta", "gamma"}},
		{"basic.h5", "/", "vnames", []string{"one", "two", "three"}},
		{"basic.h5", "compact", "layout", []string{"compact"}},
		{"latest.h5", "/", "created_by", []string{"gen.py"}},
		{"latest.h5", "vstr", "", []string{"a", "bc"}},
		{"latest.h5", "dense_attrs", "zz_str", []string{"dense string"}},
	}
	for _, tt := range tests {
		f := openTestdata(t, tt.file)
		o, err := f.Lookup(tt.path)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.file, tt.path, err)
		}
		var got []string
		if tt.attr == "" {
			got, err = o.(*Dataset).ReadStrings()
		} else {
			var a *Attr
			if a, err = o.Attr(tt.attr); err == nil {
				got, err = a.Strings()
			}
		}
		if err != nil {
			t.Errorf("%s %s %s: %v", tt.file, tt.path, tt.attr, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s %s %s: got %q, want %q", tt.file, tt.path, tt.attr, got, tt.want)
		}
	}
}

func TestNumericAttrs(t *testing.T) {
	f := openTestdata(t, "basic.h5")
	tests := []struct {
		path, attr string
		shape      []int
		want       []int64
	}{
		{"/", "ints", []int{5}, []int64{-2, -1, 0, 1, 2}},
		{"/", "scalar", nil, []int64{42}},
		{"a/b/c", "depth", nil, []int64{3}},
	}
	for _, tt := range tests {
		o, err := f.Lookup(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		a, err := o.Attr(tt.attr)
		if err != nil {
			t.Fatal(err)
		}
		got, err := a.Int64s()
		if err != nil || !reflect.DeepEqual(got, tt.want) || len(a.Shape) != len(tt.shape) {
			t.Errorf("%s@%s: got %v shape %v (err %v), want %v shape %v", tt.path, tt.attr, got, a.Shape, err, tt.want, tt.shape)
		}
	}
	a, _ := f.Root().Attr("floats")
	if got, err := a.Float64s(); err != nil || !reflect.DeepEqual(got, []float64{0, 0.25, 0.5, 0.75}) {
		t.Errorf("floats: got %v, %v", got, err)
	}
	if _, err := a.Strings(); err == nil {
		t.Errorf("floats.Strings(): no error")
	}

	g := openTestdata(t, "latest.h5")
	dense, err := g.Root().Group("dense_attrs")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(dense.Attrs()); n != 13 {
		t.Fatalf("dense_attrs has %d attributes, want 13", n)
	}
	for i := 0; i < 12; i++ {
		// attr(11-i) was created i-th and holds arange(i+1).
		a := dense.Attrs()[i]
		want := arange(i+1, 1, 0)
		got, err := a.Float64s()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("dense attribute %d %s: got %v (%v), want %v", i, a.Name, got, err, want)
		}
	}
}

func TestGroups(t *testing.T) {
	tests := []struct {
		file, path string
		want       []string
	}{
		{"basic.h5", "/", []string{"a", "bigendian_chunked", "bigendian_f4", "bigendian_i8", "compact", "empty", "fixed_strings", "fletcher", "scalar_f8", "soft", "unwritten", "vlen_strings"}},
		{"basic.h5", "a/b", []string{"c", "f64"}},
		{"latest.h5", "/", []string{"ordered", "dense", "dense_attrs", "chunked", "single", "contig", "vstr"}},
		{"latest.h5", "ordered", []string{"zeta", "alpha", "mid"}}, // creation order
	}
	for _, tt := range tests {
		f := openTestdata(t, tt.file)
		g, err := f.Root().Group(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := g.Members(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s %s: members %v, want %v", tt.file, tt.path, got, tt.want)
		}
	}

	// Dense links: 20 soft links created as link19 .. link00, kept in that order.
	f := openTestdata(t, "latest.h5")
	g, _ := f.Root().Group("dense")
	links := g.Links()
	if len(links) != 20 {
		t.Fatalf("dense: %d links, want 20", len(links))
	}
	for i, l := range links {
		if want := 19 - i; l.Name != "link"+twoDigits(want) || l.Kind != SoftLink || l.Target != "/target"+itoa(i) {
			t.Errorf("dense link %d = %+v", i, l)
		}
	}

	// 200 links need a v2 B-tree of depth 1, sorted by name.
	m := openTestdata(t, "many_links.h5")
	g, _ = m.Root().Group("g")
	if names := g.Members(); len(names) != 200 || names[0] != "l000" || names[199] != "l199" {
		t.Errorf("many_links: %d members, first %q", len(names), names[0])
	}
	h, _ := m.readHeader(g.addr)
	li := h.find(msgLinkInfo).cursor(m, "")
	li.skip(2)
	li.addr()
	bt, err := m.readBTree2(li.addr())
	if err != nil || bt.depth < 1 {
		t.Errorf("many_links: name index depth %d (%v), want >= 1 to exercise internal nodes", bt.depth, err)
	}

	// Errors name the object.
	if _, err := f.Root().Group("chunked"); err == nil || !contains(err, "/chunked is a dataset") {
		t.Errorf("Group(dataset) error %v", err)
	}
	if _, err := f.Lookup("ordered/nope"); err == nil || !contains(err, `no member "nope"`) {
		t.Errorf("Lookup(missing) error %v", err)
	}
}

func TestLayouts(t *testing.T) {
	tests := []struct {
		file, path string
		class      uint8
		index      uint8
	}{
		{"basic.h5", "a/chunked", layoutChunked, indexBTree1},
		{"basic.h5", "compact", layoutCompact, 0},
		{"basic.h5", "a/b/f64", layoutContiguous, 0},
		{"latest.h5", "chunked", layoutChunked, indexFixedArray},
		{"latest.h5", "single", layoutChunked, indexSingle},
	}
	for _, tt := range tests {
		f := openTestdata(t, tt.file)
		o, err := f.Lookup(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		l := o.(*Dataset).layout
		if l.class != tt.class || l.index != tt.index {
			t.Errorf("%s %s: layout class %d index %d, want %d %d", tt.file, tt.path, l.class, l.index, tt.class, tt.index)
		}
	}
	if v := openTestdata(t, "latest.h5").SuperblockVersion(); v < 2 {
		t.Errorf("latest.h5 superblock version %d, want >= 2", v)
	}
	if v := openTestdata(t, "basic.h5").SuperblockVersion(); v != 0 {
		t.Errorf("basic.h5 superblock version %d, want 0", v)
	}
}

func TestUnshuffle(t *testing.T) {
	in := []byte{1, 3, 5, 2, 4, 6, 9} // three 2-byte elements shuffled, one trailing byte
	got := unshuffle(in, 2)
	want := []byte{1, 2, 3, 4, 5, 6, 9}
	if !bytes.Equal(got, want) {
		t.Errorf("unshuffle got %v, want %v", got, want)
	}
}

func TestFloat16(t *testing.T) {
	tests := []struct {
		h    uint16
		want float64
	}{{0x3c00, 1}, {0xc000, -2}, {0x3555, 0.333251953125}, {0x0001, 5.960464477539063e-08}, {0x7bff, 65504}}
	for _, tt := range tests {
		if got := float16(tt.h); got != tt.want {
			t.Errorf("float16(%#x) = %v, want %v", tt.h, got, tt.want)
		}
	}
}

func twoDigits(i int) string { return string([]byte{byte('0' + i/10), byte('0' + i%10)}) }

func itoa(i int) string {
	if i < 10 {
		return string([]byte{byte('0' + i)})
	}
	return twoDigits(i)
}

func contains(err error, s string) bool { return bytes.Contains([]byte(err.Error()), []byte(s)) }

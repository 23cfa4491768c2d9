package hdf5

import "sort"

// Attr is an attribute of a group or dataset (spec IV.A.2.m). Its value is
// decoded on demand by Float64s, Float32s, Int64s, Strings or Text.
type Attr struct {
	Name  string
	Type  *Datatype
	Shape []int // empty for a scalar
	f     *File
	n     int    // number of elements
	data  []byte // n * Type.Size bytes
	order int64
}

func findAttr(attrs []*Attr, name, path string) (*Attr, error) {
	for _, a := range attrs {
		if a.Name == name {
			return a, nil
		}
	}
	return nil, errorf("%s: no attribute %q", path, name)
}

// Float64s converts a numeric attribute.
func (a *Attr) Float64s() ([]float64, error) { return toFloat64(a.Type, a.data, a.n, a.Name) }

// Float32s converts a numeric attribute.
func (a *Attr) Float32s() ([]float32, error) { return toFloat32(a.Type, a.data, a.n, a.Name) }

// Int64s converts an integer attribute.
func (a *Attr) Int64s() ([]int64, error) { return toInt64(a.Type, a.data, a.n, a.Name) }

// Strings decodes a fixed- or variable-length string attribute.
func (a *Attr) Strings() ([]string, error) { return a.f.toStrings(a.Type, a.data, a.n, a.Name) }

// Text decodes a string attribute holding exactly one string.
func (a *Attr) Text() (string, error) {
	s, err := a.Strings()
	if err != nil {
		return "", err
	}
	if len(s) != 1 {
		return "", errorf("attribute %q holds %d strings, want 1", a.Name, len(s))
	}
	return s[0], nil
}

// readAttrs collects the attribute messages of an object header and, when an
// attribute info message points to one, the attributes in a fractal heap.
func (f *File) readAttrs(h *objectHeader, path string) ([]*Attr, error) {
	var attrs []*Attr
	for i := range h.msgs {
		m := &h.msgs[i]
		if m.typ != msgAttribute {
			continue
		}
		a, err := f.parseAttr(m.data, m.off)
		if err != nil {
			return nil, err
		}
		a.order = int64(len(attrs))
		attrs = append(attrs, a)
	}
	tracked := false
	if m := h.find(msgAttrInfo); m != nil {
		c := m.cursor(f, "attribute info message")
		if v := c.u8(); v != 0 && c.err == nil {
			return nil, errorf("attribute info message at offset %d: unsupported version %d", m.off, v)
		}
		flags := c.u8()
		tracked = flags&1 != 0
		if flags&1 != 0 {
			c.u16() // maximum creation index
		}
		heap, names := c.addr(), c.addr()
		if c.err != nil {
			return nil, c.err
		}
		if heap != undef {
			dense, err := f.denseAttrs(heap, names)
			if err != nil {
				return nil, err
			}
			attrs = append(attrs, dense...) // copies: the cached slice is not modified
		}
	}
	sort.SliceStable(attrs, func(i, j int) bool {
		if tracked {
			return attrs[i].order < attrs[j].order
		}
		return attrs[i].Name < attrs[j].Name
	})
	return attrs, nil
}

// denseAttrs reads attribute messages from a fractal heap indexed by a v2
// B-tree of attribute-name records (type 8: heap ID, flags, order, hash).
func (f *File) denseAttrs(heapAddr, btreeAddr uint64) ([]*Attr, error) {
	if attrs, ok := f.attrs[heapAddr]; ok {
		return attrs, nil
	}
	heap, err := f.readFractalHeap(heapAddr)
	if err != nil {
		return nil, err
	}
	t, err := f.readBTree2(btreeAddr)
	if err != nil {
		return nil, err
	}
	if t.typ != 8 {
		return nil, errorf("v2 B-tree at offset %d: type %d, want 8 (attribute names)", btreeAddr, t.typ)
	}
	var attrs []*Attr
	err = f.walkBTree2(t, func(rec []byte) error {
		if len(rec) < 17 {
			return errorf("v2 B-tree at offset %d: attribute record of %d bytes", btreeAddr, len(rec))
		}
		if rec[8]&msgFlagShared != 0 {
			return errorf("v2 B-tree at offset %d: shared attribute not supported", btreeAddr)
		}
		b, err := f.fheapObject(heap, rec[:8])
		if err != nil {
			return err
		}
		a, err := f.parseAttr(b, heapAddr)
		if err != nil {
			return err
		}
		a.order = int64(le32(rec[9:13]))
		attrs = append(attrs, a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	f.attrs[heapAddr] = attrs
	return attrs, nil
}

// parseAttr decodes an attribute message, versions 1 to 3.
func (f *File) parseAttr(b []byte, off uint64) (*Attr, error) {
	c := f.newCursor(b, off, "attribute message")
	version := c.u8()
	flags := c.u8()
	nameSize := int(c.u16())
	dtSize := int(c.u16())
	dsSize := int(c.u16())
	if version == 3 {
		c.u8() // name character set
	}
	if c.err != nil {
		return nil, c.err
	}
	if version < 1 || version > 3 {
		return nil, errorf("attribute message at offset %d: unsupported version %d", off, version)
	}
	if flags&3 != 0 {
		return nil, errorf("attribute message at offset %d: shared datatype or dataspace not supported", off)
	}
	pad := func(n int) int {
		if version == 1 {
			return (n + 7) &^ 7
		}
		return n
	}
	name := c.take(pad(nameSize))
	if c.err != nil {
		return nil, c.err
	}
	if nameSize > 0 {
		name = name[:nameSize]
		for i, x := range name {
			if x == 0 {
				name = name[:i]
				break
			}
		}
	}
	a := &Attr{Name: string(name), f: f}
	dtPos := c.pos()
	dtb := c.take(pad(dtSize))
	dsPos := c.pos()
	dsb := c.take(pad(dsSize))
	if c.err != nil {
		return nil, c.err
	}
	dc := f.newCursor(dtb, dtPos, "attribute datatype")
	a.Type = parseDatatype(dc, 0)
	if dc.err != nil {
		return nil, dc.err
	}
	sc := f.newCursor(dsb, dsPos, "attribute dataspace")
	ds := parseDataspace(sc)
	if sc.err != nil {
		return nil, sc.err
	}
	n, err := elementCount(ds.dims, uint64(c.left()+1), "attribute "+a.Name)
	if err != nil {
		return nil, err
	}
	if ds.null {
		n = 0
	}
	for _, d := range ds.dims {
		a.Shape = append(a.Shape, int(d))
	}
	need := n * uint64(a.Type.Size)
	if need/uint64(a.Type.Size) != n || need > uint64(c.left()) {
		return nil, errorf("attribute %q at offset %d: %d elements of %d bytes, message has %d bytes of data", a.Name, off, n, a.Type.Size, c.left())
	}
	a.n = int(n)
	a.data = c.take(int(need))
	return a, nil
}

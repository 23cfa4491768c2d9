package hdf5

// Object is a *Group or a *Dataset.
type Object interface {
	Path() string
	Attrs() []*Attr
	Attr(name string) (*Attr, error)
}

var (
	_ Object = (*Group)(nil)
	_ Object = (*Dataset)(nil)
)

// openObject reads the object header at addr and builds a Group or Dataset.
// Objects are not cached (their headers are), so two paths to one object
// give two values with different paths.
func (f *File) openObject(addr uint64, path string, depth int) (Object, error) {
	if depth > maxDepth {
		return nil, errorf("%s: nested more than %d deep", path, maxDepth)
	}
	h, err := f.readHeader(addr)
	if err != nil {
		return nil, err
	}
	for i := range h.msgs {
		m := &h.msgs[i]
		if m.flags&msgFlagShared != 0 && (m.typ == msgDatatype || m.typ == msgDataspace || m.typ == msgFilters || m.typ == msgFill) {
			return nil, errorf("%s: shared header message (type %d) at offset %d not supported", path, m.typ, m.off)
		}
	}
	attrs, err := f.readAttrs(h, path)
	if err != nil {
		return nil, err
	}
	if h.find(msgLayout) != nil {
		return f.newDataset(h, path, attrs)
	}
	if h.find(msgDatatype) != nil && h.find(msgDataspace) == nil {
		return nil, errorf("%s: committed datatype objects not supported (object header at offset %d)", path, addr)
	}
	links, err := f.readLinks(h, path)
	if err != nil {
		return nil, err
	}
	return &Group{f: f, path: path, addr: addr, links: links, attrs: attrs}, nil
}

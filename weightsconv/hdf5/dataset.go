package hdf5

// Dataset is an n-dimensional array of elements of one Datatype. Its data is
// read on demand by ReadFloat32, ReadFloat64, ReadInt64, ReadStrings or
// ReadRaw, whole (no selections).
type Dataset struct {
	Shape []int // empty for a scalar
	Type  *Datatype

	f       *File
	path    string
	addr    uint64
	dims    []uint64
	null    bool
	layout  layout
	filters []filter
	attrs   []*Attr
}

// Path is the dataset's absolute path.
func (d *Dataset) Path() string { return d.path }

// Attrs returns the dataset's attributes.
func (d *Dataset) Attrs() []*Attr { return d.attrs }

// Attr returns the named attribute.
func (d *Dataset) Attr(name string) (*Attr, error) { return findAttr(d.attrs, name, d.path) }

// Len is the number of elements (1 for a scalar, 0 for a null dataspace).
func (d *Dataset) Len() int {
	if d.null {
		return 0
	}
	n := 1
	for _, s := range d.Shape {
		n *= s
	}
	return n
}

func (f *File) newDataset(h *objectHeader, path string, attrs []*Attr) (*Dataset, error) {
	d := &Dataset{f: f, path: path, addr: h.addr, attrs: attrs}
	m := h.find(msgDataspace)
	if m == nil {
		return nil, errorf("%s: dataset header at offset %d has no dataspace message", path, h.addr)
	}
	c := m.cursor(f, path+": dataspace message")
	ds := parseDataspace(c)
	if c.err != nil {
		return nil, c.err
	}
	d.dims, d.null = ds.dims, ds.null
	if m = h.find(msgDatatype); m == nil {
		return nil, errorf("%s: dataset header at offset %d has no datatype message", path, h.addr)
	}
	c = m.cursor(f, path+": datatype message")
	if d.Type = parseDatatype(c, 0); c.err != nil {
		return nil, c.err
	}
	n, err := elementCount(d.dims, f.maxDecoded()/uint64(d.Type.Size), path)
	if err != nil {
		return nil, err
	}
	_ = n
	for _, x := range d.dims {
		d.Shape = append(d.Shape, int(x))
	}
	m = h.find(msgLayout)
	c = m.cursor(f, path+": data layout message")
	if d.layout = parseLayout(c); c.err != nil {
		return nil, c.err
	}
	if d.layout.class == layoutChunked && len(d.layout.chunk) != len(d.dims) {
		return nil, errorf("%s: chunk rank %d differs from dataset rank %d (layout at offset %d)", path, len(d.layout.chunk), len(d.dims), d.layout.off)
	}
	for _, x := range d.layout.chunk {
		if x == 0 {
			return nil, errorf("%s: zero chunk dimension %v (layout at offset %d)", path, d.layout.chunk, d.layout.off)
		}
	}
	if m = h.find(msgFilters); m != nil {
		c = m.cursor(f, path+": filter pipeline message")
		if d.filters = parseFilters(c); c.err != nil {
			return nil, c.err
		}
	}
	if h.find(msgExternal) != nil {
		return nil, errorf("%s: external data files not supported", path)
	}
	return d, nil
}

// ReadRaw returns the dataset's elements as stored (file byte order), in
// row-major order. Chunks that were never written read as zeros.
func (d *Dataset) ReadRaw() ([]byte, error) {
	f := d.f
	es := uint64(d.Type.Size)
	n, err := elementCount(d.dims, f.maxDecoded()/es, d.path)
	if err != nil {
		return nil, err
	}
	if d.null {
		n = 0
	}
	total := n * es
	l := &d.layout
	switch l.class {
	case layoutCompact:
		if uint64(len(l.compact)) < total {
			return nil, errorf("%s: compact data of %d bytes, want %d (layout at offset %d)", d.path, len(l.compact), total, l.off)
		}
		return append([]byte(nil), l.compact[:total]...), nil
	case layoutContiguous:
		if l.addr == undef || total == 0 {
			return make([]byte, total), nil
		}
		if l.size != undef && l.size < total {
			return nil, errorf("%s: contiguous storage of %d bytes, want %d (layout at offset %d)", d.path, l.size, total, l.off)
		}
		return f.readAt(l.addr, total, d.path+": contiguous data")
	case layoutChunked:
		return d.readChunked(total)
	}
	return nil, errorf("%s: layout class %d not supported", d.path, l.class)
}

func (d *Dataset) readChunked(total uint64) ([]byte, error) {
	f, l := d.f, &d.layout
	es := uint64(d.Type.Size)
	cn, err := elementCount(l.chunk, f.maxDecoded()/es, d.path+": chunk")
	if err != nil {
		return nil, err
	}
	chunkBytes := cn * es
	out := make([]byte, total)
	if l.addr == undef || total == 0 {
		return out, nil
	}
	grid, nchunks := chunkGrid(d.dims, l.chunk)
	if nchunks > f.maxDecoded()/chunkBytes+1 {
		return nil, errorf("%s: %d chunks of %d bytes exceed the %d bytes this file can hold", d.path, nchunks, chunkBytes, f.maxDecoded())
	}
	seen := map[uint64]bool{} // chunk numbers: each chunk is decoded once
	err = f.chunks(l, d.dims, chunkBytes, func(sc storedChunk) error {
		var num uint64
		for i, o := range sc.offsets {
			if o%l.chunk[i] != 0 || o >= d.dims[i] {
				return errorf("%s: chunk at offset %d has element offset %v outside dataset %v or off the chunk grid %v", d.path, sc.addr, sc.offsets, d.dims, l.chunk)
			}
			num = num*grid[i] + o/l.chunk[i]
		}
		if seen[num] {
			return errorf("%s: chunk at element offset %v listed twice (chunk at offset %d)", d.path, sc.offsets, sc.addr)
		}
		seen[num] = true
		raw, err := f.readAt(sc.addr, sc.size, d.path+": chunk")
		if err != nil {
			return err
		}
		if len(d.filters) > 0 {
			raw, err = unfilter(d.filters, sc.mask, raw, chunkBytes, sc.addr)
			if err != nil {
				return errorf("%s: %v", d.path, err)
			}
		}
		if uint64(len(raw)) < chunkBytes {
			return errorf("%s: chunk at offset %d holds %d bytes, want %d", d.path, sc.addr, len(raw), chunkBytes)
		}
		copyChunk(out, raw, d.dims, l.chunk, sc.offsets, int(es))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// copyChunk copies the part of a chunk (dims chunk, at element offsets off)
// that lies inside the dataset (dims) into out, row by row along the last
// dimension.
func copyChunk(out, chunk []byte, dims, cdims, off []uint64, es int) {
	rank := len(dims)
	if rank == 0 {
		copy(out, chunk[:es])
		return
	}
	last := rank - 1
	row := cdims[last]
	if off[last]+row > dims[last] {
		row = dims[last] - off[last]
	}
	idx := make([]uint64, rank) // position inside the chunk; idx[last] stays 0
	for {
		inside := true
		var src, dst uint64
		for k := 0; k < rank; k++ {
			if off[k]+idx[k] >= dims[k] {
				inside = false
				break
			}
			src = src*cdims[k] + idx[k]
			dst = dst*dims[k] + off[k] + idx[k]
		}
		if inside {
			copy(out[dst*uint64(es):(dst+row)*uint64(es)], chunk[src*uint64(es):(src+row)*uint64(es)])
		}
		k := last - 1
		for ; k >= 0; k-- {
			idx[k]++
			if idx[k] < cdims[k] && off[k]+idx[k] < dims[k] {
				break
			}
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

// ReadFloat32 reads a numeric dataset as float32.
func (d *Dataset) ReadFloat32() ([]float32, error) {
	raw, err := d.ReadRaw()
	if err != nil {
		return nil, err
	}
	return toFloat32(d.Type, raw, len(raw)/d.Type.Size, d.path)
}

// ReadFloat64 reads a numeric dataset as float64.
func (d *Dataset) ReadFloat64() ([]float64, error) {
	raw, err := d.ReadRaw()
	if err != nil {
		return nil, err
	}
	return toFloat64(d.Type, raw, len(raw)/d.Type.Size, d.path)
}

// ReadInt64 reads an integer dataset.
func (d *Dataset) ReadInt64() ([]int64, error) {
	raw, err := d.ReadRaw()
	if err != nil {
		return nil, err
	}
	return toInt64(d.Type, raw, len(raw)/d.Type.Size, d.path)
}

// ReadStrings reads a fixed- or variable-length string dataset.
func (d *Dataset) ReadStrings() ([]string, error) {
	raw, err := d.ReadRaw()
	if err != nil {
		return nil, err
	}
	return d.f.toStrings(d.Type, raw, len(raw)/d.Type.Size, d.path)
}

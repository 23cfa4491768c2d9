package hdf5

// Local heaps (spec III.D) hold the link names of symbol-table groups; global
// heap collections (spec III.E) hold variable-length data such as strings.

// localHeap is the data segment of a local heap.
type localHeap struct {
	addr uint64
	data []byte
	off  uint64 // file offset of data[0]
}

func (f *File) readLocalHeap(addr uint64) (*localHeap, error) {
	c, err := f.cursorAt(addr, 32, "local heap")
	if err != nil {
		return nil, err
	}
	c.sig("HEAP")
	if v := c.u8(); v != 0 && c.err == nil {
		return nil, errorf("local heap at offset %d: unsupported version %d", addr, v)
	}
	c.skip(3)
	size := c.length()
	c.length() // free list head
	dataAddr := c.addr()
	if c.err != nil {
		return nil, c.err
	}
	data, err := f.readAt(dataAddr, size, "local heap data segment")
	if err != nil {
		return nil, err
	}
	return &localHeap{addr: addr, data: data, off: dataAddr}, nil
}

// name returns the NUL-terminated string at offset off of the data segment.
func (h *localHeap) name(off uint64) (string, error) {
	if off >= uint64(len(h.data)) {
		return "", errorf("local heap at offset %d: name offset %d outside data segment of %d bytes", h.addr, off, len(h.data))
	}
	b := h.data[off:]
	for i, x := range b {
		if x == 0 {
			return string(b[:i]), nil
		}
	}
	return "", errorf("local heap at offset %d: name at %d is not NUL-terminated", h.addr, off)
}

// globalHeap is one parsed global heap collection: object index to data.
type globalHeap struct {
	objs map[uint16][]byte
}

func (f *File) readGlobalHeap(addr uint64) (*globalHeap, error) {
	if h, ok := f.gheaps[addr]; ok {
		return h, nil
	}
	c, err := f.cursorAt(addr, 16+uint64(f.lenSize), "global heap")
	if err != nil {
		return nil, err
	}
	c.sig("GCOL")
	if v := c.u8(); v != 1 && c.err == nil {
		return nil, errorf("global heap at offset %d: unsupported version %d", addr, v)
	}
	c.skip(3)
	size := c.length()
	if c.err != nil {
		return nil, c.err
	}
	b, err := f.readAt(addr, size, "global heap collection")
	if err != nil {
		return nil, err
	}
	c = f.newCursor(b, addr, "global heap")
	c.skip(8 + int(f.lenSize))
	h := &globalHeap{objs: map[uint16][]byte{}}
	for c.left() >= 8+int(f.lenSize) {
		idx := c.u16()
		c.skip(6) // reference count, reserved
		n := c.length()
		if idx == 0 { // free space: the rest of the collection
			break
		}
		if n > uint64(c.left()) {
			return nil, errorf("global heap at offset %d: object %d of %d bytes runs past collection end (%d bytes left)", addr, idx, n, c.left())
		}
		start := c.off
		h.objs[idx] = c.take(int(n))
		c.align8(start)
		if c.err != nil {
			// Padding after the last object may be cut short.
			c.err = nil
			break
		}
	}
	f.gheaps[addr] = h
	return h, nil
}

// globalObject returns object idx of the collection at addr.
func (f *File) globalObject(addr uint64, idx uint32) ([]byte, error) {
	h, err := f.readGlobalHeap(addr)
	if err != nil {
		return nil, err
	}
	if idx > 0xffff {
		return nil, errorf("global heap at offset %d: object index %d out of range", addr, idx)
	}
	b, ok := h.objs[uint16(idx)]
	if !ok {
		return nil, errorf("global heap at offset %d: no object %d", addr, idx)
	}
	return b, nil
}

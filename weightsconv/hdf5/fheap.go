package hdf5

// Fractal heaps (spec III.G) hold the link messages of groups with dense link
// storage and the attribute messages of objects with dense attributes. Only
// managed and tiny objects in unfiltered heaps are supported.

type fractalHeap struct {
	addr        uint64
	idLen       int
	maxManaged  uint64
	width       uint64
	startBlock  uint64
	maxDirect   uint64
	maxHeapBits int
	rootAddr    uint64
	rootRows    int
	checksummed bool // direct blocks carry a checksum
	blocks      []directBlock
	cache       map[uint64][]byte // direct blocks read so far
	cached      uint64            // bytes in cache, bounded by twice the file size
}

type directBlock struct {
	heapOff uint64
	addr    uint64
	size    uint64
}

func (f *File) readFractalHeap(addr uint64) (*fractalHeap, error) {
	if h, ok := f.fheaps[addr]; ok {
		return h, nil
	}
	c, err := f.cursorAt(addr, 32+12*uint64(f.lenSize)+3*uint64(f.offSize), "fractal heap header")
	if err != nil {
		return nil, err
	}
	c.sig("FRHP")
	if v := c.u8(); v != 0 && c.err == nil {
		return nil, errorf("fractal heap at offset %d: unsupported version %d", addr, v)
	}
	h := &fractalHeap{addr: addr}
	h.idLen = int(c.u16())
	filterLen := c.u16()
	flags := c.u8()
	h.checksummed = flags&2 != 0
	h.maxManaged = uint64(c.u32())
	c.length() // next huge object ID
	c.addr()   // huge object B-tree
	c.length() // free space in managed blocks
	c.addr()   // free-space manager
	c.length() // managed space
	c.length() // allocated managed space
	c.length() // direct block allocation iterator
	c.length() // managed objects
	c.length() // size of huge objects
	c.length() // number of huge objects
	c.length() // size of tiny objects
	c.length() // number of tiny objects
	h.width = uint64(c.u16())
	h.startBlock = c.length()
	h.maxDirect = c.length()
	h.maxHeapBits = int(c.u16())
	c.u16() // starting rows of root indirect block
	h.rootAddr = c.addr()
	h.rootRows = int(c.u16())
	end := c.off
	if c.err != nil {
		return nil, c.err
	}
	if filterLen != 0 {
		return nil, errorf("fractal heap at offset %d: I/O filters on heap blocks not supported", addr)
	}
	if err := checkSum(c.b, end, addr, "fractal heap header"); err != nil {
		return nil, err
	}
	switch {
	case h.width == 0 || h.width > 1<<16,
		h.startBlock == 0 || h.startBlock&(h.startBlock-1) != 0 || h.startBlock > uint64(f.size),
		h.maxDirect < h.startBlock || h.maxDirect&(h.maxDirect-1) != 0,
		h.maxHeapBits < 1 || h.maxHeapBits > 64,
		h.rootRows > h.maxHeapBits:
		return nil, errorf("fractal heap at offset %d: bad table (width %d, start block %d, max direct block %d, heap bits %d, root rows %d)",
			addr, h.width, h.startBlock, h.maxDirect, h.maxHeapBits, h.rootRows)
	}
	if h.rootAddr != undef {
		seen := map[uint64]bool{}
		if h.rootRows == 0 {
			h.blocks = append(h.blocks, directBlock{heapOff: 0, addr: h.rootAddr, size: h.startBlock})
		} else if err := f.fheapIndirect(h, h.rootAddr, 0, h.rootRows, 0, seen); err != nil {
			return nil, err
		}
	}
	f.fheaps[addr] = h
	return h, nil
}

func (h *fractalHeap) offBytes() int { return (h.maxHeapBits + 7) / 8 }

// rowSize is the block size of row r of the doubling table.
func (h *fractalHeap) rowSize(r int) uint64 {
	if r == 0 {
		return h.startBlock
	}
	if r-1 >= 63 {
		return 0
	}
	return h.startBlock << (r - 1)
}

// fheapIndirect collects the direct blocks under the indirect block at addr,
// which covers heap space from heapOff and has nrows rows.
func (f *File) fheapIndirect(h *fractalHeap, addr, heapOff uint64, nrows int, depth int, seen map[uint64]bool) error {
	if depth > maxDepth/4 {
		return errorf("fractal heap at offset %d: indirect blocks nested too deep", h.addr)
	}
	if seen[addr] {
		return errorf("fractal heap at offset %d: block at offset %d visited twice (cycle)", h.addr, addr)
	}
	seen[addr] = true
	maxDirectRows := log2(h.maxDirect) - log2(h.startBlock) + 2
	entries := uint64(nrows) * h.width
	if entries > uint64(f.size) {
		return errorf("fractal heap indirect block at offset %d: %d entries larger than file", addr, entries)
	}
	size := 5 + uint64(f.offSize) + uint64(h.offBytes()) + entries*uint64(f.offSize) + 4
	b, err := f.readAt(addr, size, "fractal heap indirect block")
	if err != nil {
		return err
	}
	c := f.newCursor(b, addr, "fractal heap indirect block")
	c.sig("FHIB")
	c.skip(1 + int(f.offSize) + h.offBytes())
	if c.err != nil {
		return c.err
	}
	if err := checkSum(b, len(b)-4, addr, "fractal heap indirect block"); err != nil {
		return err
	}
	off := heapOff
	for r := 0; r < nrows; r++ {
		rs := h.rowSize(r)
		if rs == 0 {
			return errorf("fractal heap indirect block at offset %d: row %d too large", addr, r)
		}
		for col := uint64(0); col < h.width; col++ {
			child := c.addr()
			if c.err != nil {
				return c.err
			}
			if child != undef {
				if r < maxDirectRows {
					h.blocks = append(h.blocks, directBlock{heapOff: off, addr: child, size: rs})
				} else {
					sub := log2(rs) - log2(h.startBlock*h.width) + 1
					if sub < 1 || sub >= nrows {
						return errorf("fractal heap indirect block at offset %d: child of row %d has %d rows", addr, r, sub)
					}
					if err := f.fheapIndirect(h, child, off, sub, depth+1, seen); err != nil {
						return err
					}
				}
			}
			off += rs
		}
	}
	return nil
}

// object returns the heap object named by heap ID id.
func (f *File) fheapObject(h *fractalHeap, id []byte) ([]byte, error) {
	if len(id) == 0 {
		return nil, errorf("fractal heap at offset %d: empty heap ID", h.addr)
	}
	if id[0]>>6 != 0 {
		return nil, errorf("fractal heap at offset %d: heap ID version %d not supported", h.addr, id[0]>>6)
	}
	switch (id[0] >> 4) & 3 {
	case 0: // managed
	case 1:
		return nil, errorf("fractal heap at offset %d: huge objects not supported", h.addr)
	case 2: // tiny: length in the low nibble, data inline
		n := int(id[0]&0x0f) + 1
		if 1+n > len(id) {
			return nil, errorf("fractal heap at offset %d: tiny object of %d bytes in %d-byte ID", h.addr, n, len(id))
		}
		return id[1 : 1+n], nil
	default:
		return nil, errorf("fractal heap at offset %d: unknown heap ID type %d", h.addr, (id[0]>>4)&3)
	}
	lim := h.maxDirect
	if h.maxManaged < lim {
		lim = h.maxManaged
	}
	lenBytes := log2(lim)/8 + 1
	if max := (log2(h.maxDirect) + 7) / 8; max < lenBytes {
		lenBytes = max
	}
	c := f.newCursor(id, 0, "fractal heap ID")
	c.skip(1)
	off := c.uvar(h.offBytes())
	n := c.uvar(lenBytes)
	if c.err != nil {
		return nil, c.err
	}
	for _, blk := range h.blocks {
		if off < blk.heapOff || off-blk.heapOff >= blk.size {
			continue
		}
		rel := off - blk.heapOff
		if n > blk.size-rel {
			return nil, errorf("fractal heap at offset %d: object at heap offset %d of %d bytes runs past its %d-byte block", h.addr, off, n, blk.size)
		}
		b, err := f.directBlock(h, blk)
		if err != nil {
			return nil, err
		}
		if len(b) < 4 || string(b[:4]) != "FHDB" {
			return nil, errorf("fractal heap direct block at offset %d: bad signature, want FHDB", blk.addr)
		}
		hdr := uint64(5 + int(f.offSize) + h.offBytes())
		if h.checksummed {
			hdr += 4
		}
		if rel < hdr {
			return nil, errorf("fractal heap at offset %d: object offset %d inside block header", h.addr, off)
		}
		return b[rel : rel+n], nil
	}
	return nil, errorf("fractal heap at offset %d: no direct block holds heap offset %d", h.addr, off)
}

func (f *File) directBlock(h *fractalHeap, blk directBlock) ([]byte, error) {
	if b, ok := h.cache[blk.addr]; ok && uint64(len(b)) == blk.size {
		return b, nil
	}
	b, err := f.readAt(blk.addr, blk.size, "fractal heap direct block")
	if err != nil {
		return nil, err
	}
	if h.cached+blk.size <= 2*uint64(f.size) {
		if h.cache == nil {
			h.cache = map[uint64][]byte{}
		}
		h.cache[blk.addr] = b
		h.cached += blk.size
	}
	return b, nil
}

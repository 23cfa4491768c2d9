package hdf5

// Data layout message (spec IV.A.2.i), versions 1 to 4, and the chunk
// indexes: v1 B-tree (all versions up to 3, and v4 for files not written
// with libver='latest'), and for version 4 single chunk, implicit and
// non-paged fixed array. Extensible arrays and v2 B-tree chunk indexes, used
// for resizable datasets under libver='latest', are refused by name.

const (
	layoutCompact    = 0
	layoutContiguous = 1
	layoutChunked    = 2
	layoutVirtual    = 3
)

const (
	indexBTree1      = 0 // our own code for the v1 B-tree of layouts 1-3
	indexSingle      = 1
	indexImplicit    = 2
	indexFixedArray  = 3
	indexExtensible  = 4
	indexBTree2Chunk = 5
)

var indexNames = map[uint8]string{1: "single chunk", 2: "implicit", 3: "fixed array", 4: "extensible array", 5: "v2 B-tree"}

type layout struct {
	class      uint8
	off        uint64 // file offset of the message, for errors
	addr       uint64 // contiguous data, chunk index or single chunk
	size       uint64 // contiguous size
	compact    []byte
	chunk      []uint64 // chunk dimensions (dataset rank)
	index      uint8
	singleSize uint64 // filtered size of a single chunk, 0 if unfiltered
	singleMask uint32
}

func parseLayout(c *cursor) layout {
	l := layout{off: c.pos()}
	version := c.u8()
	if c.err != nil {
		return l
	}
	switch version {
	case 1, 2:
		parseLayoutV1(c, &l)
	case 3, 4:
		parseLayoutV3(c, &l, version)
	default:
		c.fail("unsupported data layout version %d", version)
	}
	return l
}

func parseLayoutV1(c *cursor, l *layout) {
	rank := int(c.u8())
	l.class = c.u8()
	c.skip(5)
	if rank > maxRank+1 {
		c.fail("layout rank %d exceeds %d", rank, maxRank+1)
		return
	}
	if l.class != layoutCompact {
		l.addr = c.addr()
	}
	dims := make([]uint64, rank)
	for i := range dims {
		dims[i] = uint64(c.u32())
	}
	switch l.class {
	case layoutChunked:
		c.u32() // element size
		if rank > 0 {
			l.chunk = dims[:rank-1]
		}
		l.index = indexBTree1
	case layoutCompact:
		n := int(c.u32())
		l.compact = c.take(n)
	case layoutContiguous:
		l.size = undef // computed from the dataspace
	}
}

func parseLayoutV3(c *cursor, l *layout, version uint8) {
	l.class = c.u8()
	switch l.class {
	case layoutCompact:
		n := int(c.u16())
		l.compact = c.take(n)
	case layoutContiguous:
		l.addr = c.addr()
		l.size = c.length()
	case layoutChunked:
		if version == 3 {
			rank := int(c.u8())
			l.addr = c.addr()
			if rank < 1 || rank > maxRank+1 {
				c.fail("chunk rank %d out of range", rank)
				return
			}
			for i := 0; i < rank; i++ {
				l.chunk = append(l.chunk, uint64(c.u32()))
			}
			l.chunk = l.chunk[:rank-1] // last is the element size
			l.index = indexBTree1
			return
		}
		flags := c.u8()
		rank := int(c.u8())
		enc := int(c.u8())
		if rank < 1 || rank > maxRank+1 || enc < 1 || enc > 8 {
			c.fail("chunk rank %d or dimension size %d out of range", rank, enc)
			return
		}
		for i := 0; i < rank; i++ {
			l.chunk = append(l.chunk, c.uvar(enc))
		}
		l.chunk = l.chunk[:rank-1]
		l.index = c.u8()
		switch l.index {
		case indexSingle:
			if flags&2 != 0 {
				l.singleSize = c.length()
				l.singleMask = c.u32()
			}
		case indexImplicit:
		case indexFixedArray:
			c.u8() // page bits
		case indexExtensible, indexBTree2Chunk:
			if c.err == nil {
				c.fail("chunk index %q not supported", indexNames[l.index])
			}
			return
		default:
			c.fail("unknown chunk index type %d", l.index)
			return
		}
		l.addr = c.addr()
	case layoutVirtual:
		c.fail("virtual dataset layout not supported")
	default:
		c.fail("unknown layout class %d", l.class)
	}
}

// storedChunk locates one stored chunk.
type storedChunk struct {
	offsets []uint64 // element offsets of the chunk's first element
	addr    uint64
	size    uint64
	mask    uint32
}

// chunks lists the stored chunks of a chunked dataset with dims.
func (f *File) chunks(l *layout, dims []uint64, chunkBytes uint64, visit func(storedChunk) error) error {
	rank := len(dims)
	switch l.index {
	case indexBTree1:
		return f.walkBTree1(l.addr, 1, rank+1, func(e btree1Entry) error {
			return visit(storedChunk{offsets: e.offsets[:rank], addr: e.addr, size: uint64(e.size), mask: e.mask})
		})
	case indexSingle:
		size := chunkBytes
		if l.singleSize != 0 {
			size = l.singleSize
		}
		return visit(storedChunk{offsets: make([]uint64, rank), addr: l.addr, size: size, mask: l.singleMask})
	case indexImplicit:
		grid, total := chunkGrid(dims, l.chunk)
		if _, err := f.abs(l.addr, total*chunkBytes, "implicit chunk index"); err != nil || total > uint64(f.size) {
			return errorf("data layout at offset %d: %d implicit chunks of %d bytes do not fit in the file", l.off, total, chunkBytes)
		}
		for i := uint64(0); i < total; i++ {
			if err := visit(storedChunk{offsets: gridOffsets(i, grid, l.chunk), addr: l.addr + i*chunkBytes, size: chunkBytes}); err != nil {
				return err
			}
		}
		return nil
	case indexFixedArray:
		return f.fixedArrayChunks(l, dims, chunkBytes, visit)
	}
	return errorf("data layout at offset %d: chunk index %d not supported", l.off, l.index)
}

// chunkGrid is the number of chunks along each dimension and in total.
func chunkGrid(dims, chunk []uint64) ([]uint64, uint64) {
	grid := make([]uint64, len(dims))
	total := uint64(1)
	for i := range dims {
		grid[i] = (dims[i] + chunk[i] - 1) / chunk[i]
		total *= grid[i]
	}
	return grid, total
}

// gridOffsets turns a row-major chunk number into element offsets.
func gridOffsets(i uint64, grid, chunk []uint64) []uint64 {
	off := make([]uint64, len(grid))
	for d := len(grid) - 1; d >= 0; d-- {
		off[d] = (i % grid[d]) * chunk[d]
		i /= grid[d]
	}
	return off
}

// fixedArrayChunks reads a fixed array index (header FAHD, data block FADB).
func (f *File) fixedArrayChunks(l *layout, dims []uint64, chunkBytes uint64, visit func(storedChunk) error) error {
	c, err := f.cursorAt(l.addr, 12+uint64(f.lenSize)+uint64(f.offSize), "fixed array header")
	if err != nil {
		return err
	}
	c.sig("FAHD")
	c.u8() // version
	client := c.u8()
	entrySize := int(c.u8())
	pageBits := c.u8()
	n := c.length()
	block := c.addr()
	end := c.off
	if c.err != nil {
		return c.err
	}
	if err := checkSum(c.b, end, l.addr, "fixed array header"); err != nil {
		return err
	}
	grid, total := chunkGrid(dims, l.chunk)
	if n != total {
		return errorf("fixed array at offset %d: %d entries, dataset has %d chunks", l.addr, n, total)
	}
	if pageBits < 64 && n > 1<<pageBits {
		return errorf("fixed array at offset %d: paged data block (%d entries, page bits %d) not supported", l.addr, n, pageBits)
	}
	minEntry := int(f.offSize)
	if client == 1 {
		minEntry += 5
	}
	if entrySize < minEntry || entrySize > minEntry+8 {
		return errorf("fixed array at offset %d: entry size %d", l.addr, entrySize)
	}
	if n > uint64(f.size)/uint64(entrySize) {
		return errorf("fixed array at offset %d: %d entries larger than file", l.addr, n)
	}
	hdr := 6 + uint64(f.offSize)
	b, err := f.readAt(block, hdr+n*uint64(entrySize)+4, "fixed array data block")
	if err != nil {
		return err
	}
	if string(b[:4]) != "FADB" {
		return errorf("fixed array data block at offset %d: bad signature, want FADB", block)
	}
	if err := checkSum(b, len(b)-4, block, "fixed array data block"); err != nil {
		return err
	}
	c = f.newCursor(b[hdr:len(b)-4], block+hdr, "fixed array data block")
	for i := uint64(0); i < n; i++ {
		sc := storedChunk{offsets: gridOffsets(i, grid, l.chunk), size: chunkBytes}
		sc.addr = c.addr()
		if client == 1 {
			sc.size = c.uvar(entrySize - int(f.offSize) - 4)
			sc.mask = c.u32()
		}
		if c.err != nil {
			return c.err
		}
		if sc.addr == undef {
			continue
		}
		if err := visit(sc); err != nil {
			return err
		}
	}
	return nil
}

package hdf5

// Version 1 B-trees (spec III.A.1): node type 0 indexes symbol-table group
// nodes (SNOD), node type 1 indexes the chunks of a chunked dataset.

// btree1Entry is one child of a level-0 node: its address and, for chunk
// trees, the key to its left (chunk size, filter mask, chunk offsets).
type btree1Entry struct {
	addr    uint64
	size    uint32
	mask    uint32
	offsets []uint64
}

// walkBTree1 visits every level-0 child of the tree rooted at addr. rank is
// the number of chunk offsets in a chunk key (dataset rank + 1), unused for
// group trees. Each node is read once; a node seen twice is a cycle.
func (f *File) walkBTree1(addr uint64, nodeType uint8, rank int, visit func(btree1Entry) error) error {
	seen := map[uint64]bool{}
	return f.walkBTree1Node(addr, nodeType, rank, -1, seen, visit)
}

func (f *File) walkBTree1Node(addr uint64, nodeType uint8, rank, wantLevel int, seen map[uint64]bool, visit func(btree1Entry) error) error {
	if seen[addr] {
		return errorf("v1 B-tree node at offset %d visited twice (cycle)", addr)
	}
	seen[addr] = true
	c, err := f.cursorAt(addr, 8+2*uint64(f.offSize), "v1 B-tree node")
	if err != nil {
		return err
	}
	c.sig("TREE")
	typ := c.u8()
	level := int(c.u8())
	n := int(c.u16())
	if c.err != nil {
		return c.err
	}
	if typ != nodeType {
		return errorf("v1 B-tree node at offset %d: node type %d, want %d", addr, typ, nodeType)
	}
	if wantLevel >= 0 && level != wantLevel {
		return errorf("v1 B-tree node at offset %d: level %d, want %d", addr, level, wantLevel)
	}
	if level >= maxDepth {
		return errorf("v1 B-tree node at offset %d: level %d too deep", addr, level)
	}
	keySize := uint64(f.lenSize)
	if nodeType == 1 {
		keySize = 8 + 8*uint64(rank)
	}
	size := 8 + 2*uint64(f.offSize) + uint64(n)*(keySize+uint64(f.offSize)) + keySize
	c, err = f.cursorAt(addr, size, "v1 B-tree node")
	if err != nil {
		return err
	}
	if uint64(len(c.b)) < size {
		return errorf("v1 B-tree node at offset %d: %d entries need %d bytes, file has %d", addr, n, size, len(c.b))
	}
	c.skip(8 + 2*int(f.offSize))
	entries := make([]btree1Entry, 0, n)
	for i := 0; i < n; i++ {
		var e btree1Entry
		if nodeType == 1 {
			e.size = c.u32()
			e.mask = c.u32()
			e.offsets = make([]uint64, rank)
			for j := range e.offsets {
				e.offsets[j] = c.u64()
			}
		} else {
			c.length()
		}
		e.addr = c.addr()
		entries = append(entries, e)
	}
	if c.err != nil {
		return c.err
	}
	for _, e := range entries {
		if level > 0 {
			if err := f.walkBTree1Node(e.addr, nodeType, rank, level-1, seen, visit); err != nil {
				return err
			}
			continue
		}
		if err := visit(e); err != nil {
			return err
		}
	}
	return nil
}

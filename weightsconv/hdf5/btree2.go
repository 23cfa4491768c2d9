package hdf5

// Version 2 B-trees (spec III.A.2) index the links and attributes kept in
// fractal heaps. Only traversal in key order is needed.

type btree2 struct {
	addr     uint64
	typ      uint8
	nodeSize uint64
	recSize  int
	depth    int
	root     uint64
	rootN    int
	// per level: maximum records, bytes of the "records in child" field and
	// of the "total records below child" field of pointers to that level.
	maxN     []uint64
	nSize    int
	cumNSize []int
}

func (f *File) readBTree2(addr uint64) (*btree2, error) {
	c, err := f.cursorAt(addr, 22+uint64(f.offSize)+uint64(f.lenSize)+4, "v2 B-tree header")
	if err != nil {
		return nil, err
	}
	c.sig("BTHD")
	if v := c.u8(); v != 0 && c.err == nil {
		return nil, errorf("v2 B-tree at offset %d: unsupported version %d", addr, v)
	}
	t := &btree2{addr: addr}
	t.typ = c.u8()
	t.nodeSize = uint64(c.u32())
	t.recSize = int(c.u16())
	t.depth = int(c.u16())
	c.skip(2) // split and merge percent
	t.root = c.addr()
	t.rootN = int(c.u16())
	c.length() // total records
	end := c.off
	if c.err != nil {
		return nil, c.err
	}
	if err := checkSum(c.b, end, addr, "v2 B-tree header"); err != nil {
		return nil, err
	}
	if t.nodeSize < 16 || t.nodeSize > uint64(f.size) || t.recSize == 0 || uint64(t.recSize) > t.nodeSize || t.depth > maxDepth/4 {
		return nil, errorf("v2 B-tree at offset %d: bad node size %d, record size %d or depth %d", addr, t.nodeSize, t.recSize, t.depth)
	}
	const prefix = 10 // signature, version, type, checksum
	leafMax := (t.nodeSize - prefix) / uint64(t.recSize)
	t.maxN = []uint64{leafMax}
	cum := []uint64{leafMax}
	t.cumNSize = []int{0}
	t.nSize = log2(leafMax)/8 + 1
	for d := 1; d <= t.depth; d++ {
		ptr := uint64(f.offSize) + uint64(t.nSize) + uint64(t.cumNSize[d-1])
		if t.nodeSize < prefix+ptr {
			return nil, errorf("v2 B-tree at offset %d: node size %d too small for depth %d", addr, t.nodeSize, t.depth)
		}
		n := (t.nodeSize - prefix - ptr) / (uint64(t.recSize) + ptr)
		cm := (n+1)*cum[d-1] + n
		if cm < cum[d-1] { // overflow
			cm = ^uint64(0)
		}
		t.maxN = append(t.maxN, n)
		cum = append(cum, cm)
		t.cumNSize = append(t.cumNSize, log2(cm)/8+1)
	}
	return t, nil
}

// walk calls visit with every record in key order.
func (f *File) walkBTree2(t *btree2, visit func(rec []byte) error) error {
	if t.root == undef || t.rootN == 0 {
		return nil
	}
	seen := map[uint64]bool{}
	return f.walkBTree2Node(t, t.root, t.rootN, t.depth, seen, visit)
}

func (f *File) walkBTree2Node(t *btree2, addr uint64, n, depth int, seen map[uint64]bool, visit func([]byte) error) error {
	if seen[addr] {
		return errorf("v2 B-tree node at offset %d visited twice (cycle)", addr)
	}
	seen[addr] = true
	if uint64(n) > t.maxN[depth] {
		return errorf("v2 B-tree node at offset %d: %d records, at most %d fit", addr, n, t.maxN[depth])
	}
	b, err := f.readAt(addr, t.nodeSize, "v2 B-tree node")
	if err != nil {
		return err
	}
	sig := "BTLF"
	if depth > 0 {
		sig = "BTIN"
	}
	c := f.newCursor(b, addr, "v2 B-tree node")
	c.sig(sig)
	c.skip(1)
	if typ := c.u8(); typ != t.typ && c.err == nil {
		return errorf("v2 B-tree node at offset %d: type %d, want %d", addr, typ, t.typ)
	}
	recs := make([][]byte, n)
	for i := range recs {
		recs[i] = c.take(t.recSize)
	}
	type child struct {
		addr uint64
		n    int
	}
	var kids []child
	if depth > 0 {
		for i := 0; i <= n; i++ {
			a := c.addr()
			cn := c.uvar(t.nSize)
			if depth > 1 {
				c.uvar(t.cumNSize[depth-1])
			}
			kids = append(kids, child{a, int(min(cn, 1<<30))})
		}
	}
	end := c.off
	if c.err != nil {
		return c.err
	}
	if err := checkSum(b, end, addr, "v2 B-tree node"); err != nil {
		return err
	}
	for i := 0; i <= n; i++ {
		if depth > 0 {
			if err := f.walkBTree2Node(t, kids[i].addr, kids[i].n, depth-1, seen, visit); err != nil {
				return err
			}
		}
		if i < n {
			if err := visit(recs[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

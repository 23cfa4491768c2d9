package hdf5

import (
	"sort"
	"strings"
)

// LinkKind tells how a group member is linked.
type LinkKind uint8

const (
	HardLink     LinkKind = 0
	SoftLink     LinkKind = 1
	ExternalLink LinkKind = 64
)

// Link is one member of a group.
type Link struct {
	Name   string
	Kind   LinkKind
	Target string // soft link path, or "file\x00path" for external links
	addr   uint64
	order  int64 // creation order, -1 when not tracked
}

// Group is an HDF5 group: named links to other objects, plus attributes.
// Members are listed in creation order when the file tracks it (h5py
// track_order=True), otherwise in name order, as h5py lists them.
type Group struct {
	f     *File
	path  string
	addr  uint64
	links []Link
	attrs []*Attr
}

// Path is the group's absolute path, "/" for the root.
func (g *Group) Path() string { return g.path }

// Links returns the group's links in order.
func (g *Group) Links() []Link { return g.links }

// Members returns the names of the group's members in order.
func (g *Group) Members() []string {
	names := make([]string, len(g.links))
	for i, l := range g.links {
		names[i] = l.Name
	}
	return names
}

// Attrs returns the group's attributes.
func (g *Group) Attrs() []*Attr { return g.attrs }

// Attr returns the named attribute.
func (g *Group) Attr(name string) (*Attr, error) { return findAttr(g.attrs, name, g.path) }

func (g *Group) link(name string) (*Link, error) {
	for i := range g.links {
		if g.links[i].Name == name {
			return &g.links[i], nil
		}
	}
	return nil, errorf("%s: no member %q", g.path, name)
}

func joinPath(dir, name string) string {
	if strings.HasSuffix(dir, "/") {
		return dir + name
	}
	return dir + "/" + name
}

// Object opens the named member (a direct child, or a path relative to g).
func (g *Group) Object(name string) (Object, error) { return g.lookup(name, 0, new(int)) }

// Group opens the member (or relative path) name, which must be a group.
func (g *Group) Group(name string) (*Group, error) {
	o, err := g.lookup(name, 0, new(int))
	if err != nil {
		return nil, err
	}
	sub, ok := o.(*Group)
	if !ok {
		return nil, errorf("%s is a dataset, not a group", o.Path())
	}
	return sub, nil
}

// Dataset opens the member (or relative path) name, which must be a dataset.
func (g *Group) Dataset(name string) (*Dataset, error) {
	o, err := g.lookup(name, 0, new(int))
	if err != nil {
		return nil, err
	}
	d, ok := o.(*Dataset)
	if !ok {
		return nil, errorf("%s is a group, not a dataset", o.Path())
	}
	return d, nil
}

// Lookup opens the object at path, absolute or relative to the root, e.g.
// "layers/conv2d/vars/0".
func (f *File) Lookup(path string) (Object, error) { return f.root.lookup(path, 0, new(int)) }

// maxSteps bounds the path components one lookup resolves, soft links
// included, so that soft links to long paths of soft links cannot explode.
const maxSteps = 1 << 12

func (g *Group) lookup(path string, hops int, steps *int) (Object, error) {
	if hops > maxDepth {
		return nil, errorf("%s: more than %d soft links followed resolving %q", g.path, maxDepth, path)
	}
	cur := g
	if strings.HasPrefix(path, "/") {
		cur = g.f.root
	}
	var obj Object = cur
	parts := strings.Split(path, "/")
	for _, p := range parts {
		if p == "" || p == "." {
			continue
		}
		if *steps++; *steps > maxSteps {
			return nil, errorf("%s: resolving %q takes more than %d steps", g.path, path, maxSteps)
		}
		grp, ok := obj.(*Group)
		if !ok {
			return nil, errorf("%s is a dataset, cannot look up %q in it", obj.Path(), p)
		}
		l, err := grp.link(p)
		if err != nil {
			return nil, err
		}
		switch l.Kind {
		case HardLink:
			obj, err = grp.f.openObject(l.addr, joinPath(grp.path, p), 0)
		case SoftLink:
			obj, err = grp.lookup(l.Target, hops+1, steps)
		case ExternalLink:
			return nil, errorf("%s: external link to %q not supported", joinPath(grp.path, p), strings.ReplaceAll(l.Target, "\x00", ":"))
		default:
			return nil, errorf("%s: user-defined link type %d not supported", joinPath(grp.path, p), l.Kind)
		}
		if err != nil {
			return nil, err
		}
	}
	return obj, nil
}

// Walk calls fn for g and every object below it, depth first, members in
// order. Soft and external links are not followed, and an object reached
// twice through hard links (a cycle or a second name) is visited once.
func (g *Group) Walk(fn func(path string, o Object) error) error {
	w := &walker{fn: fn, seen: map[uint64]bool{}, lists: map[*Link]bool{}}
	return g.walk(w, 0)
}

type walker struct {
	fn    func(string, Object) error
	seen  map[uint64]bool // object header addresses
	lists map[*Link]bool  // link lists already iterated (shared storage)
}

func (g *Group) walk(w *walker, depth int) error {
	if depth > maxDepth {
		return errorf("%s: groups nested more than %d deep", g.path, maxDepth)
	}
	w.seen[g.addr] = true
	if err := w.fn(g.path, g); err != nil {
		return err
	}
	if len(g.links) == 0 || w.lists[&g.links[0]] {
		return nil // a second group over the same link storage adds nothing new
	}
	w.lists[&g.links[0]] = true
	for _, l := range g.links {
		if l.Kind != HardLink || w.seen[l.addr] {
			continue
		}
		o, err := g.f.openObject(l.addr, joinPath(g.path, l.Name), depth+1)
		if err != nil {
			return err
		}
		if sub, ok := o.(*Group); ok {
			if err := sub.walk(w, depth+1); err != nil {
				return err
			}
			continue
		}
		w.seen[l.addr] = true
		if err := w.fn(o.Path(), o); err != nil {
			return err
		}
	}
	return nil
}

// readLinks gathers the links of a group from its header: a symbol table
// (old style), link messages (compact) or a link info message (dense).
func (f *File) readLinks(h *objectHeader, path string) ([]Link, error) {
	if links, ok := f.links[h.addr]; ok {
		return links, nil
	}
	links, err := f.readLinksUncached(h, path)
	if err != nil {
		return nil, err
	}
	f.links[h.addr] = links
	return links, nil
}

func (f *File) readLinksUncached(h *objectHeader, path string) ([]Link, error) {
	var links []Link
	tracked := false
	if m := h.find(msgSymbolTable); m != nil {
		c := m.cursor(f, "symbol table message")
		btree, heap := c.addr(), c.addr()
		if c.err != nil {
			return nil, c.err
		}
		var err error
		if links, err = f.symbolTableLinks(btree, heap); err != nil {
			return nil, err
		}
	}
	for i := range h.msgs {
		if h.msgs[i].typ != msgLink {
			continue
		}
		l, err := f.parseLink(h.msgs[i].data, h.msgs[i].off)
		if err != nil {
			return nil, err
		}
		links = append(links, l)
	}
	if m := h.find(msgLinkInfo); m != nil {
		c := m.cursor(f, "link info message")
		if v := c.u8(); v != 0 && c.err == nil {
			return nil, errorf("link info message at offset %d: unsupported version %d", m.off, v)
		}
		flags := c.u8()
		tracked = flags&1 != 0
		if flags&1 != 0 {
			c.u64() // maximum creation index
		}
		heap := c.addr()
		names := c.addr()
		if c.err != nil {
			return nil, c.err
		}
		if heap != undef {
			dense, err := f.denseLinks(heap, names)
			if err != nil {
				return nil, err
			}
			links = append(links, dense...)
		}
	}
	sortLinks(links, tracked)
	for i := 1; i < len(links); i++ {
		if links[i].Name == links[i-1].Name && !tracked {
			return nil, errorf("%s: link %q appears twice", path, links[i].Name)
		}
	}
	return links, nil
}

func sortLinks(links []Link, byOrder bool) {
	sort.SliceStable(links, func(i, j int) bool {
		if byOrder && links[i].order != links[j].order {
			return links[i].order < links[j].order
		}
		return links[i].Name < links[j].Name
	})
}

// symbolTableLinks lists an old-style group: a v1 B-tree of SNOD nodes whose
// entries name the local heap.
func (f *File) symbolTableLinks(btree, heapAddr uint64) ([]Link, error) {
	key := [2]uint64{btree, heapAddr}
	if links, ok := f.symtabs[key]; ok {
		return links[:len(links):len(links)], nil // shared: appends copy
	}
	heap, err := f.readLocalHeap(heapAddr)
	if err != nil {
		return nil, err
	}
	var links []Link
	seen := map[uint64]bool{}
	err = f.walkBTree1(btree, 0, 0, func(e btree1Entry) error {
		if seen[e.addr] {
			return errorf("symbol table node at offset %d listed twice in B-tree at offset %d", e.addr, btree)
		}
		seen[e.addr] = true
		return f.readSymbolNode(e.addr, heap, &links)
	})
	if err != nil {
		return nil, err
	}
	f.symtabs[key] = links
	return links[:len(links):len(links)], nil
}

func (f *File) readSymbolNode(addr uint64, heap *localHeap, links *[]Link) error {
	c, err := f.cursorAt(addr, 8, "symbol table node")
	if err != nil {
		return err
	}
	c.sig("SNOD")
	if v := c.u8(); v != 1 && c.err == nil {
		return errorf("symbol table node at offset %d: unsupported version %d", addr, v)
	}
	c.skip(1)
	n := uint64(c.u16())
	if c.err != nil {
		return c.err
	}
	entry := 2*uint64(f.offSize) + 24
	c, err = f.cursorAt(addr+8, n*entry, "symbol table node")
	if err != nil {
		return err
	}
	for i := uint64(0); i < n; i++ {
		nameOff := c.length()
		obj := c.addr()
		cache := c.u32()
		c.skip(4)
		scratch := c.take(16)
		if c.err != nil {
			return c.err
		}
		name, err := heap.name(nameOff)
		if err != nil {
			return err
		}
		l := Link{Name: name, Kind: HardLink, addr: obj, order: -1}
		if cache == 2 { // soft link: scratch pad holds the heap offset of its value
			l.Kind = SoftLink
			if l.Target, err = heap.name(uint64(le32(scratch))); err != nil {
				return err
			}
		}
		*links = append(*links, l)
	}
	return nil
}

// parseLink decodes a link message (spec IV.A.2.g).
func (f *File) parseLink(b []byte, off uint64) (Link, error) {
	c := f.newCursor(b, off, "link message")
	l := Link{order: -1}
	if v := c.u8(); v != 1 && c.err == nil {
		return l, errorf("link message at offset %d: unsupported version %d", off, v)
	}
	flags := c.u8()
	if flags&0x08 != 0 {
		l.Kind = LinkKind(c.u8())
	}
	if flags&0x04 != 0 {
		l.order = int64(c.u64() & (1<<62 - 1))
	}
	if flags&0x10 != 0 {
		c.u8() // name character set
	}
	n := c.uvar(1 << (flags & 3))
	if c.err == nil && n > uint64(c.left()) {
		return l, errorf("link message at offset %d: name of %d bytes, %d left", off, n, c.left())
	}
	l.Name = string(c.take(int(n)))
	switch l.Kind {
	case HardLink:
		l.addr = c.addr()
	case SoftLink, ExternalLink:
		m := int(c.u16())
		l.Target = string(c.take(m))
		if l.Kind == ExternalLink && len(l.Target) > 0 {
			l.Target = strings.TrimRight(l.Target[1:], "\x00") // drop flags byte
		}
	}
	if c.err != nil {
		return l, c.err
	}
	if l.Name == "" || strings.Contains(l.Name, "/") {
		return l, errorf("link message at offset %d: invalid link name %q", off, l.Name)
	}
	return l, nil
}

// denseLinks reads links stored in a fractal heap indexed by a v2 B-tree of
// link-name records (type 5: hash, heap ID).
func (f *File) denseLinks(heapAddr, btreeAddr uint64) ([]Link, error) {
	heap, err := f.readFractalHeap(heapAddr)
	if err != nil {
		return nil, err
	}
	t, err := f.readBTree2(btreeAddr)
	if err != nil {
		return nil, err
	}
	if t.typ != 5 {
		return nil, errorf("v2 B-tree at offset %d: type %d, want 5 (link names)", btreeAddr, t.typ)
	}
	var links []Link
	err = f.walkBTree2(t, func(rec []byte) error {
		if len(rec) < 5 {
			return errorf("v2 B-tree at offset %d: link record of %d bytes", btreeAddr, len(rec))
		}
		b, err := f.fheapObject(heap, rec[4:])
		if err != nil {
			return err
		}
		l, err := f.parseLink(b, heapAddr)
		if err != nil {
			return err
		}
		links = append(links, l)
		return nil
	})
	return links, err
}

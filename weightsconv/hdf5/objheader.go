package hdf5

// Object headers (spec IV.A): version 1 headers of superblock v0/v1 files and
// version 2 headers ("OHDR") with "OCHK" continuation chunks.

// Header message types used by this reader.
const (
	msgNil          = 0x00
	msgDataspace    = 0x01
	msgLinkInfo     = 0x02
	msgDatatype     = 0x03
	msgFillOld      = 0x04
	msgFill         = 0x05
	msgLink         = 0x06
	msgExternal     = 0x07
	msgLayout       = 0x08
	msgGroupInfo    = 0x0a
	msgFilters      = 0x0b
	msgAttribute    = 0x0c
	msgContinuation = 0x10
	msgSymbolTable  = 0x11
	msgAttrInfo     = 0x15
)

// Header message flag bits.
const (
	msgFlagShared = 0x02
)

// message is one header message; data is its body and off the file offset of
// the body, for errors.
type message struct {
	typ   uint16
	flags uint8
	data  []byte
	off   uint64
}

// objectHeader is a parsed object header: every message of every chunk in
// the order they appear.
type objectHeader struct {
	addr  uint64
	order bool // v2 messages carry a creation order field
	msgs  []message
}

// find returns the first message of type t, or nil.
func (h *objectHeader) find(t uint16) *message {
	for i := range h.msgs {
		if h.msgs[i].typ == t {
			return &h.msgs[i]
		}
	}
	return nil
}

// cursor returns a cursor over the message body.
func (m *message) cursor(f *File, what string) *cursor {
	return f.newCursor(m.data, m.off, what)
}

type chunkRef struct{ addr, size uint64 }

// readHeader parses (and caches) the object header at addr, following
// continuation messages. Continuation blocks are visited once each.
func (f *File) readHeader(addr uint64) (*objectHeader, error) {
	if h, ok := f.headers[addr]; ok {
		return h, nil
	}
	if addr == undef {
		return nil, errorf("object header: undefined address")
	}
	pre, err := f.readAt(addr, 4, "object header")
	if err != nil {
		return nil, err
	}
	h := &objectHeader{addr: addr}
	var cont []chunkRef
	if string(pre) == "OHDR" {
		cont, err = f.readHeaderV2(h)
	} else if pre[0] == 1 {
		cont, err = f.readHeaderV1(h)
	} else {
		return nil, errorf("object header at offset %d: unknown version %d (no OHDR signature)", addr, pre[0])
	}
	if err != nil {
		return nil, err
	}
	seen := map[uint64]bool{addr: true}
	for len(cont) > 0 {
		ref := cont[0]
		cont = cont[1:]
		if seen[ref.addr] {
			return nil, errorf("object header at offset %d: continuation block at offset %d visited twice (cycle)", addr, ref.addr)
		}
		seen[ref.addr] = true
		more, err := f.readContinuation(h, ref, string(pre) == "OHDR")
		if err != nil {
			return nil, err
		}
		cont = append(cont, more...)
	}
	f.headers[addr] = h
	return h, nil
}

// readHeaderV1 parses a version 1 object header prefix and its first block.
func (f *File) readHeaderV1(h *objectHeader) ([]chunkRef, error) {
	c, err := f.cursorAt(h.addr, 16, "object header")
	if err != nil {
		return nil, err
	}
	c.skip(2) // version, reserved
	c.u16()   // number of messages
	c.u32()   // reference count
	size := uint64(c.u32())
	if c.err != nil {
		return nil, c.err
	}
	b, err := f.readAt(h.addr+16, size, "object header v1 messages")
	if err != nil {
		return nil, err
	}
	return f.parseMessagesV1(h, b, h.addr+16)
}

func (f *File) parseMessagesV1(h *objectHeader, b []byte, base uint64) ([]chunkRef, error) {
	c := f.newCursor(b, base, "object header v1 message")
	var cont []chunkRef
	for c.left() >= 8 {
		typ := c.u16()
		size := int(c.u16())
		flags := c.u8()
		c.skip(3)
		off := c.pos()
		data := c.take(size)
		if c.err != nil {
			return nil, c.err
		}
		m := message{typ: typ, flags: flags, data: data, off: off}
		if typ == msgContinuation {
			ref, err := f.continuation(&m)
			if err != nil {
				return nil, err
			}
			cont = append(cont, ref)
		}
		h.msgs = append(h.msgs, m)
	}
	return cont, nil
}

func (f *File) continuation(m *message) (chunkRef, error) {
	c := m.cursor(f, "continuation message")
	ref := chunkRef{addr: c.addr(), size: c.length()}
	if c.err != nil {
		return ref, c.err
	}
	if _, err := f.abs(ref.addr, ref.size, "continuation block"); err != nil {
		return ref, err
	}
	return ref, nil
}

// readHeaderV2 parses an "OHDR" header: prefix, chunk 0 and its checksum.
func (f *File) readHeaderV2(h *objectHeader) ([]chunkRef, error) {
	c, err := f.cursorAt(h.addr, 64, "object header v2")
	if err != nil {
		return nil, err
	}
	c.skip(4)
	if v := c.u8(); v != 2 && c.err == nil {
		return nil, errorf("object header at offset %d: unsupported OHDR version %d", h.addr, v)
	}
	flags := c.u8()
	if flags&0x20 != 0 {
		c.skip(16) // access, modification, change, birth times
	}
	if flags&0x10 != 0 {
		c.skip(4) // max compact / min dense attributes
	}
	size := c.uvar(1 << (flags & 3))
	if c.err != nil {
		return nil, c.err
	}
	prefix := uint64(c.off)
	if size > uint64(f.size) {
		return nil, errorf("object header at offset %d: chunk size %d larger than file (%d)", h.addr, size, f.size)
	}
	b, err := f.readAt(h.addr, prefix+size+4, "object header v2")
	if err != nil {
		return nil, err
	}
	if err := checkSum(b, int(prefix+size), h.addr, "object header"); err != nil {
		return nil, err
	}
	return f.parseMessagesV2(h, b[prefix:prefix+size], h.addr+prefix, flags&0x04 != 0)
}

func (f *File) parseMessagesV2(h *objectHeader, b []byte, base uint64, order bool) ([]chunkRef, error) {
	c := f.newCursor(b, base, "object header v2 message")
	hdr := 4
	if order {
		hdr = 6
	}
	var cont []chunkRef
	for c.left() >= hdr {
		typ := uint16(c.u8())
		size := int(c.u16())
		flags := c.u8()
		if order {
			c.u16()
		}
		off := c.pos()
		data := c.take(size)
		if c.err != nil {
			return nil, c.err
		}
		m := message{typ: typ, flags: flags, data: data, off: off}
		if typ == msgContinuation {
			ref, err := f.continuation(&m)
			if err != nil {
				return nil, err
			}
			cont = append(cont, ref)
		}
		h.msgs = append(h.msgs, m)
	}
	h.order = h.order || order
	return cont, nil
}

// readContinuation parses one continuation block (v1: bare messages; v2:
// "OCHK", messages, checksum).
func (f *File) readContinuation(h *objectHeader, ref chunkRef, v2 bool) ([]chunkRef, error) {
	b, err := f.readAt(ref.addr, ref.size, "continuation block")
	if err != nil {
		return nil, err
	}
	if !v2 {
		return f.parseMessagesV1(h, b, ref.addr)
	}
	if len(b) < 8 || string(b[:4]) != "OCHK" {
		return nil, errorf("continuation block at offset %d: bad signature, want OCHK", ref.addr)
	}
	if err := checkSum(b, len(b)-4, ref.addr, "continuation block"); err != nil {
		return nil, err
	}
	return f.parseMessagesV2(h, b[4:len(b)-4], ref.addr+4, h.order)
}

package hdf5

import (
	"encoding/binary"
	"fmt"
)

// undef is the "undefined address" (all bits set) after widening to 64 bits.
const undef = ^uint64(0)

// cursor decodes little-endian fields from one block of metadata that was read
// from file offset base. It keeps the first error and returns zero values after
// it, so a decoder can read a whole structure and check c.err once. Every read
// is bounds checked: a truncated block never panics.
type cursor struct {
	f    *File
	b    []byte
	off  int
	base uint64 // file offset of b[0]
	what string // structure being decoded, for errors
	err  error
}

func (f *File) newCursor(b []byte, base uint64, what string) *cursor {
	return &cursor{f: f, b: b, base: base, what: what}
}

// pos is the file offset of the next byte.
func (c *cursor) pos() uint64 { return c.base + uint64(c.off) }

func (c *cursor) left() int { return len(c.b) - c.off }

func (c *cursor) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("hdf5: %s at offset %d: %s", c.what, c.pos(), fmt.Sprintf(format, args...))
	}
}

func (c *cursor) take(n int) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || n > c.left() {
		c.fail("truncated: need %d bytes, have %d", n, c.left())
		return nil
	}
	p := c.b[c.off : c.off+n]
	c.off += n
	return p
}

func (c *cursor) skip(n int) { c.take(n) }

func (c *cursor) u8() uint8 {
	p := c.take(1)
	if p == nil {
		return 0
	}
	return p[0]
}

func (c *cursor) u16() uint16 {
	p := c.take(2)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint16(p)
}

func (c *cursor) u32() uint32 {
	p := c.take(4)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(p)
}

func (c *cursor) u64() uint64 {
	p := c.take(8)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(p)
}

// uvar reads an n-byte little-endian unsigned integer (n = 0..8).
func (c *cursor) uvar(n int) uint64 {
	if n > 8 {
		c.fail("integer field of %d bytes", n)
		return 0
	}
	p := c.take(n)
	var v uint64
	for i := len(p) - 1; i >= 0; i-- {
		v = v<<8 | uint64(p[i])
	}
	return v
}

// addr reads a file address of the superblock's offset size. The undefined
// address comes back as undef whatever the offset size.
func (c *cursor) addr() uint64 {
	n := int(c.f.offSize)
	v := c.uvar(n)
	if c.err == nil && n < 8 && v == (uint64(1)<<(8*n))-1 {
		return undef
	}
	return v
}

// length reads a length field of the superblock's length size.
func (c *cursor) length() uint64 { return c.uvar(int(c.f.lenSize)) }

// sig checks a 4-byte signature.
func (c *cursor) sig(want string) {
	p := c.take(len(want))
	if p != nil && string(p) != want {
		c.err = fmt.Errorf("hdf5: %s at offset %d: bad signature %q, want %q", c.what, c.base+uint64(c.off-len(want)), p, want)
	}
}

// align8 skips padding so that the next read starts at a multiple of 8 bytes
// from start (an offset into b).
func (c *cursor) align8(start int) {
	n := (c.off - start) % 8
	if n != 0 {
		c.skip(8 - n)
	}
}

// log2 of a power of two or floor(log2(v)); log2(0) is 0.
func log2(v uint64) int {
	n := 0
	for v > 1 {
		v >>= 1
		n++
	}
	return n
}

// errorf builds an error with the package prefix.
func errorf(format string, args ...any) error {
	return fmt.Errorf("hdf5: "+format, args...)
}

package hdf5

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// magic is the 8-byte HDF5 format signature.
const magic = "\x89HDF\r\n\x1a\n"

// Limits that keep hostile files cheap. Every size read from a file is also
// checked against the file size before anything is allocated.
const (
	maxDepth     = 64      // nesting of groups, B-tree levels, datatypes, soft-link hops
	maxRank      = 32      // HDF5's own limit on dataspace dimensions
	decodeFactor = 1100    // deflate cannot expand by more than ~1032x
	decodeSlack  = 1 << 20 // allowance for small files with fill values
)

// File is an open HDF5 file. A File is not safe for concurrent use: it caches
// object headers and global heaps as they are read.
type File struct {
	r      io.ReaderAt
	size   int64
	closer io.Closer

	superVersion int
	offSize      uint8 // bytes in a file address
	lenSize      uint8 // bytes in a length field
	base         uint64
	rootAddr     uint64

	root    *Group
	headers map[uint64]*objectHeader
	gheaps  map[uint64]*globalHeap
	fheaps  map[uint64]*fractalHeap
	links   map[uint64][]Link    // by object header address
	symtabs map[[2]uint64][]Link // by symbol table B-tree and heap address
	attrs   map[uint64][]*Attr   // dense attributes by fractal heap address
}

// Open reads the superblock and the root group of the HDF5 file held by r,
// which is size bytes long.
func Open(r io.ReaderAt, size int64) (*File, error) {
	if size < 0 {
		return nil, fmt.Errorf("hdf5: negative file size %d", size)
	}
	f := &File{
		r:       r,
		size:    size,
		headers: map[uint64]*objectHeader{},
		gheaps:  map[uint64]*globalHeap{},
		fheaps:  map[uint64]*fractalHeap{},
		links:   map[uint64][]Link{},
		symtabs: map[[2]uint64][]Link{},
		attrs:   map[uint64][]*Attr{},
	}
	if err := f.readSuperblock(); err != nil {
		return nil, err
	}
	obj, err := f.openObject(f.rootAddr, "/", 0)
	if err != nil {
		return nil, err
	}
	g, ok := obj.(*Group)
	if !ok {
		return nil, fmt.Errorf("hdf5: root object at offset %d is not a group", f.rootAddr)
	}
	f.root = g
	return f, nil
}

// OpenFile opens the named file. Close it when done.
func OpenFile(path string) (*File, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("hdf5: %w", err)
	}
	st, err := fd.Stat()
	if err != nil {
		fd.Close()
		return nil, fmt.Errorf("hdf5: %w", err)
	}
	f, err := Open(fd, st.Size())
	if err != nil {
		fd.Close()
		return nil, err
	}
	f.closer = fd
	return f, nil
}

// Close closes the underlying file when the File came from OpenFile.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	return f.closer.Close()
}

// Size is the file size given to Open.
func (f *File) Size() int64 { return f.size }

// SuperblockVersion is the version of the superblock (0 to 3).
func (f *File) SuperblockVersion() int { return f.superVersion }

// Root is the root group "/".
func (f *File) Root() *Group { return f.root }

// maxDecoded bounds the bytes of decoded data a dataset may claim.
func (f *File) maxDecoded() uint64 { return uint64(f.size)*decodeFactor + decodeSlack }

// abs turns a file address into an offset in r, or fails when the n bytes
// there are not inside the file.
func (f *File) abs(addr, n uint64, what string) (int64, error) {
	if addr == undef {
		return 0, fmt.Errorf("hdf5: %s: undefined address", what)
	}
	a := addr + f.base
	if a < addr || n > uint64(f.size) || a > uint64(f.size)-n {
		return 0, fmt.Errorf("hdf5: %s at offset %d: %d bytes run past end of file (size %d)", what, addr, n, f.size)
	}
	return int64(a), nil
}

// readAt reads n bytes at file address addr. n is bounded by the file size.
func (f *File) readAt(addr, n uint64, what string) ([]byte, error) {
	a, err := f.abs(addr, n, what)
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := f.r.ReadAt(b, a); err != nil && !(errors.Is(err, io.EOF) && n > 0) {
		return nil, fmt.Errorf("hdf5: %s at offset %d: %w", what, addr, err)
	}
	return b, nil
}

// cursorAt reads n bytes at addr (clipped to the end of the file) and returns
// a cursor over them.
func (f *File) cursorAt(addr, n uint64, what string) (*cursor, error) {
	if addr != undef && addr+f.base < uint64(f.size) && n > uint64(f.size)-(addr+f.base) {
		n = uint64(f.size) - (addr + f.base)
	}
	b, err := f.readAt(addr, n, what)
	if err != nil {
		return nil, err
	}
	return f.newCursor(b, addr, what), nil
}

// findSignature looks for the format signature at 0, 512, 1024, 2048, ...
func (f *File) findSignature() (int64, error) {
	sig := make([]byte, 8)
	for off := int64(0); off+8 <= f.size; off = nextSigOffset(off) {
		if _, err := f.r.ReadAt(sig, off); err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("hdf5: reading signature at offset %d: %w", off, err)
		}
		if bytes.Equal(sig, []byte(magic)) {
			return off, nil
		}
	}
	return 0, fmt.Errorf("hdf5: no HDF5 signature at offset 0 or any power of two from 512 (file size %d)", f.size)
}

func nextSigOffset(off int64) int64 {
	if off == 0 {
		return 512
	}
	return off * 2
}

func (f *File) readSuperblock() error {
	at, err := f.findSignature()
	if err != nil {
		return err
	}
	// Large enough for any superblock version with 8-byte fields.
	c, err := f.cursorAt(uint64(at), 256, "superblock")
	if err != nil {
		return err
	}
	c.skip(8)
	f.superVersion = int(c.u8())
	switch f.superVersion {
	case 0, 1:
		return f.readSuperblockV0(c)
	case 2, 3:
		return f.readSuperblockV2(c)
	}
	return fmt.Errorf("hdf5: superblock at offset %d: unsupported version %d", at, f.superVersion)
}

func (f *File) checkSizes(c *cursor) {
	ok := func(n uint8) bool { return n == 2 || n == 4 || n == 8 }
	if c.err == nil && (!ok(f.offSize) || !ok(f.lenSize)) {
		c.fail("unsupported offset size %d or length size %d", f.offSize, f.lenSize)
	}
}

// readSuperblockV0 decodes superblock versions 0 and 1 (spec II.A).
func (f *File) readSuperblockV0(c *cursor) error {
	c.skip(3) // free-space version, root symbol table version, reserved
	c.skip(1) // shared header message format version
	f.offSize = c.u8()
	f.lenSize = c.u8()
	c.skip(1)
	c.skip(4) // group leaf and internal node K
	c.skip(4) // file consistency flags
	if f.superVersion == 1 {
		c.skip(4) // indexed storage internal node K, reserved
	}
	f.checkSizes(c)
	if c.err != nil {
		return c.err
	}
	f.base = c.addr()
	c.addr() // free-space info
	eof := c.addr()
	c.addr() // driver information block
	// Root group symbol table entry.
	c.addr() // link name offset
	f.rootAddr = c.addr()
	if c.err != nil {
		return c.err
	}
	if f.base == undef {
		f.base = 0
	}
	// h5py writes the end-of-file address as an absolute offset even after a
	// user block, so it is compared with the file size as it is.
	if eof != undef && eof > uint64(f.size) {
		return fmt.Errorf("hdf5: superblock: end of file address %d beyond file size %d (truncated file?)", eof, f.size)
	}
	return nil
}

// readSuperblockV2 decodes superblock versions 2 and 3, which end in a checksum.
func (f *File) readSuperblockV2(c *cursor) error {
	f.offSize = c.u8()
	f.lenSize = c.u8()
	c.skip(1) // file consistency flags
	f.checkSizes(c)
	if c.err != nil {
		return c.err
	}
	f.base = c.addr()
	c.addr() // superblock extension
	eof := c.addr()
	f.rootAddr = c.addr()
	end := c.off
	sum := c.u32()
	if c.err != nil {
		return c.err
	}
	if got := lookup3(c.b[:end], 0); got != sum {
		return fmt.Errorf("hdf5: superblock at offset %d: checksum mismatch (stored 0x%08x, computed 0x%08x)", c.base, sum, got)
	}
	if f.base == undef {
		f.base = 0
	}
	// h5py writes the end-of-file address as an absolute offset even after a
	// user block, so it is compared with the file size as it is.
	if eof != undef && eof > uint64(f.size) {
		return fmt.Errorf("hdf5: superblock: end of file address %d beyond file size %d (truncated file?)", eof, f.size)
	}
	return nil
}

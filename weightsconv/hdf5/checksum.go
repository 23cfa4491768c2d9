package hdf5

import "math/bits"

// lookup3 is Bob Jenkins' lookup3 hashlittle, which HDF5 uses for the
// checksums of its version 2 metadata (superblock v2+, OHDR, OCHK, B-tree v2,
// fractal heap). Bytes are consumed little-endian, 12 at a time.
func lookup3(k []byte, initval uint32) uint32 {
	a := 0xdeadbeef + uint32(len(k)) + initval
	b, c := a, a
	for len(k) > 12 {
		a += le32(k[0:4])
		b += le32(k[4:8])
		c += le32(k[8:12])
		a, b, c = lookup3Mix(a, b, c)
		k = k[12:]
	}
	if len(k) == 0 {
		return c
	}
	var tail [12]byte
	copy(tail[:], k)
	a += le32(tail[0:4])
	b += le32(tail[4:8])
	c += le32(tail[8:12])
	return lookup3Final(a, b, c)
}

func le32(p []byte) uint32 {
	return uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24
}

func lookup3Mix(a, b, c uint32) (uint32, uint32, uint32) {
	rot := bits.RotateLeft32
	a -= c
	a ^= rot(c, 4)
	c += b
	b -= a
	b ^= rot(a, 6)
	a += c
	c -= b
	c ^= rot(b, 8)
	b += a
	a -= c
	a ^= rot(c, 16)
	c += b
	b -= a
	b ^= rot(a, 19)
	a += c
	c -= b
	c ^= rot(b, 4)
	b += a
	return a, b, c
}

func lookup3Final(a, b, c uint32) uint32 {
	rot := bits.RotateLeft32
	c ^= b
	c -= rot(b, 14)
	a ^= c
	a -= rot(c, 11)
	b ^= a
	b -= rot(a, 25)
	c ^= b
	c -= rot(b, 16)
	a ^= c
	a -= rot(c, 4)
	b ^= a
	b -= rot(a, 14)
	c ^= b
	c -= rot(b, 24)
	return c
}

// checkSum verifies that the 4 bytes after b[:n] hold lookup3(b[:n]).
func checkSum(b []byte, n int, base uint64, what string) error {
	if n < 0 || n+4 > len(b) {
		return errorf("%s at offset %d: truncated before checksum", what, base)
	}
	stored := le32(b[n : n+4])
	if got := lookup3(b[:n], 0); got != stored {
		return errorf("%s at offset %d: checksum mismatch (stored 0x%08x, computed 0x%08x)", what, base, stored, got)
	}
	return nil
}

package hdf5

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// openAll opens b, walks every object and reads every dataset and attribute:
// the whole surface a hostile file can reach.
func openAll(b []byte) error {
	f, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return err
	}
	if err = readAll(f); err != nil {
		return err
	}
	// Follow every soft link too.
	return f.Root().Walk(func(p string, o Object) error {
		if g, ok := o.(*Group); ok {
			for _, l := range g.Links() {
				if l.Kind == SoftLink {
					g.Object(l.Name)
				}
			}
		}
		return nil
	})
}

// readAll walks f and decodes every dataset and attribute value.
func readAll(f *File) error {
	return f.Root().Walk(func(path string, o Object) error {
		if d, ok := o.(*Dataset); ok {
			if _, err := readValue(d.Type, d.ReadStrings, d.ReadInt64, d.ReadFloat64); err != nil {
				return err
			}
		}
		for _, a := range o.Attrs() {
			if _, err := readValue(a.Type, a.Strings, a.Int64s, a.Float64s); err != nil {
				return err
			}
		}
		return nil
	})
}

func readValue(t *Datatype, strs func() ([]string, error), ints func() ([]int64, error), floats func() ([]float64, error)) (int, error) {
	switch t.Class {
	case ClassString, ClassVarLen:
		v, err := strs()
		return len(v), err
	case ClassFixed:
		v, err := ints()
		return len(v), err
	}
	v, err := floats()
	return len(v), err
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// header returns the parsed object header of path in the file b.
func header(t testing.TB, b []byte, path string) *objectHeader {
	t.Helper()
	f, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	o, err := f.Lookup(path)
	if err != nil {
		t.Fatal(err)
	}
	switch o := o.(type) {
	case *Group:
		return f.headers[o.addr]
	case *Dataset:
		return f.headers[o.addr]
	}
	return nil
}

// attrMessage finds the attribute message called name.
func attrMessage(t testing.TB, h *objectHeader, name string) *message {
	for i := range h.msgs {
		m := &h.msgs[i]
		if m.typ == msgAttribute && bytes.HasPrefix(m.data[8:], []byte(name+"\x00")) {
			return m
		}
	}
	t.Fatalf("no attribute message %q", name)
	return nil
}

func put64(b []byte, off uint64, v uint64) { binary.LittleEndian.PutUint64(b[off:], v) }

// index returns the offset of the n-th occurrence of sig in b.
func index(t testing.TB, b []byte, sig string, n int) int {
	off := 0
	for i := 0; ; i++ {
		j := bytes.Index(b[off:], []byte(sig))
		if j < 0 {
			t.Fatalf("signature %q occurrence %d not found", sig, n)
		}
		if i == n {
			return off + j
		}
		off += j + 1
	}
}

type brokenCase struct {
	name  string
	file  string
	patch func(t testing.TB, b []byte) []byte
	want  string
}

func brokenCases() []brokenCase {
	corrupt := func(sig string, n int) func(testing.TB, []byte) []byte {
		return func(t testing.TB, b []byte) []byte { b[index(t, b, sig, n)] ^= 0x20; return b }
	}
	return []brokenCase{
		{"empty", "basic.h5", func(t testing.TB, b []byte) []byte { return nil }, "no HDF5 signature"},
		{"bad magic", "basic.h5", func(t testing.TB, b []byte) []byte { b[1] = 'X'; return b }, "no HDF5 signature"},
		{"superblock version", "basic.h5", func(t testing.TB, b []byte) []byte { b[8] = 9; return b }, "unsupported version 9"},
		{"offset size", "basic.h5", func(t testing.TB, b []byte) []byte { b[13] = 3; return b }, "unsupported offset size 3"},
		{"eof beyond file", "basic.h5", func(t testing.TB, b []byte) []byte { put64(b, 0x28, 1<<40); return b }, "beyond file size"},
		{"superblock v3 checksum", "latest.h5", func(t testing.TB, b []byte) []byte { b[20] ^= 1; return b }, "checksum mismatch"},
		{"TREE signature", "basic.h5", corrupt("TREE", 0), `bad signature "tREE"`},
		{"SNOD signature", "basic.h5", corrupt("SNOD", 0), `bad signature "sNOD"`},
		{"HEAP signature", "basic.h5", corrupt("HEAP", 0), `bad signature "hEAP"`},
		{"GCOL signature", "basic.h5", corrupt("GCOL", 0), `bad signature "gCOL"`},
		{"OHDR signature", "latest.h5", corrupt("OHDR", 0), "object header at offset"},
		{"OHDR checksum", "latest.h5", func(t testing.TB, b []byte) []byte { b[index(t, b, "OHDR", 0)+8] ^= 0x40; return b }, "checksum mismatch"},
		{"OCHK signature", "latest.h5", corrupt("OCHK", 0), "want OCHK"},
		{"FRHP signature", "latest.h5", corrupt("FRHP", 0), `bad signature "fRHP"`},
		{"BTHD signature", "latest.h5", corrupt("BTHD", 0), `bad signature "bTHD"`},
		{"BTLF checksum", "latest.h5", func(t testing.TB, b []byte) []byte { b[index(t, b, "BTLF", 0)+7] ^= 1; return b }, "checksum mismatch"},
		{"FAHD signature", "latest.h5", corrupt("FAHD", 0), `bad signature "fAHD"`},
		{"huge dimension", "basic.h5", func(t testing.TB, b []byte) []byte {
			m := header(t, b, "a/b/f64").find(msgDataspace)
			put64(b, m.off+8, 1<<40) // version 1: 8-byte prefix, then dims
			return b
		}, "exceed"},
		{"dimension product overflow", "basic.h5", func(t testing.TB, b []byte) []byte {
			m := header(t, b, "a/b/f64").find(msgDataspace)
			put64(b, m.off+8, 1<<33)
			put64(b, m.off+16, 1<<33)
			return b
		}, "exceed"},
		{"huge object header", "basic.h5", func(t testing.TB, b []byte) []byte {
			h := header(t, b, "a/b/c/i16")
			binary.LittleEndian.PutUint32(b[h.addr+8:], 0x7fffffff)
			return b
		}, "past end of file"},
		{"huge local heap", "basic.h5", func(t testing.TB, b []byte) []byte { put64(b, uint64(index(t, b, "HEAP", 0))+8, 1<<50); return b }, "past end of file"},
		{"huge global heap", "basic.h5", func(t testing.TB, b []byte) []byte { put64(b, uint64(index(t, b, "GCOL", 0))+8, 1<<50); return b }, "past end of file"},
		{"huge attribute count", "basic.h5", func(t testing.TB, b []byte) []byte {
			m := attrMessage(t, header(t, b, "/"), "ints") // version 1: name padded to 8, datatype 8+4 padded to 16, dataspace
			put64(b, m.off+8+8+16+8, 1<<40)
			return b
		}, "exceed"},
		{"cyclic group B-tree", "basic.h5", func(t testing.TB, b []byte) []byte {
			at := index(t, b, "TREE", 0)
			b[at+5] = 1                             // level 1: children are nodes
			put64(b, uint64(at+8+16+8), uint64(at)) // first child: the node itself
			return b
		}, "cycle"},
		{"cyclic chunk B-tree", "basic.h5", func(t testing.TB, b []byte) []byte {
			m := header(t, b, "a/chunked").find(msgLayout)
			at := binary.LittleEndian.Uint64(b[m.off+3:]) // version 3 chunked: version, class, rank, address
			b[at+5] = 1
			put64(b, at+24+4+4+3*8, at) // after the first key: size, mask, 3 offsets
			return b
		}, "cycle"},
		{"cyclic continuation", "basic.h5", func(t testing.TB, b []byte) []byte {
			h := header(t, b, "a/b/f64")
			m := h.find(msgContinuation)
			put64(b, m.off, h.addr)
			return b
		}, "cycle"},
		{"deflate past chunk size", "basic.h5", func(t testing.TB, b []byte) []byte {
			m := header(t, b, "a/chunked").find(msgLayout)
			binary.LittleEndian.PutUint32(b[m.off+11:], 1) // chunk (2,3) -> (1,3)
			return b
		}, "inflates past the declared chunk size"},
		{"chunk rank mismatch", "basic.h5", func(t testing.TB, b []byte) []byte {
			m := header(t, b, "a/chunked").find(msgLayout)
			b[m.off+2] = 2
			return b
		}, "chunk rank"},
		{"datatype version", "basic.h5", func(t testing.TB, b []byte) []byte {
			m := header(t, b, "a/b/f64").find(msgDatatype)
			b[m.off] = 0x71
			return b
		}, "unsupported version 7"},
		{"zero element size", "basic.h5", func(t testing.TB, b []byte) []byte {
			m := header(t, b, "a/b/f64").find(msgDatatype)
			binary.LittleEndian.PutUint32(b[m.off+4:], 0)
			return b
		}, "element size 0"},
		{"filter not supported", "basic.h5", func(t testing.TB, b []byte) []byte {
			m := header(t, b, "a/chunked").find(msgFilters)
			binary.LittleEndian.PutUint16(b[m.off+8:], 4) // first filter -> szip
			return b
		}, "filter 4 (szip) not supported"},
	}
}

func TestBrokenFiles(t *testing.T) {
	for _, tt := range brokenCases() {
		b := tt.patch(t, readTestdata(t, tt.file))
		start := time.Now()
		err := openAll(b)
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q, want it to mention %q", tt.name, err, tt.want)
		}
		if !strings.HasPrefix(err.Error(), "hdf5: ") {
			t.Errorf("%s: error %q lacks the hdf5: prefix", tt.name, err)
		}
		// A hang guard, not a speed test: these files are a few KB, and a
		// loop over a hostile count would take minutes. The bound is wide
		// for a loaded 2-core machine.
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s: took %v", tt.name, d)
		}
	}
}

// TestTruncated cuts every test file at many offsets: plainly (the
// superblock's end-of-file address then points past the end), and with the
// end-of-file address patched to match, which lets decoding run into the cut.
func TestTruncated(t *testing.T) {
	for _, name := range []string{"basic.h5", "latest.h5", "many_links.h5"} {
		full := readTestdata(t, name)
		for n := 0; n < len(full); n += 1 + n/16 {
			b := append([]byte(nil), full[:n]...)
			if err := openAll(b); err == nil {
				t.Errorf("%s cut at %d: no error", name, n)
			}
			if patchEOF(b, uint64(n)) {
				if err := openAll(b); err == nil {
					t.Errorf("%s cut at %d with matching end-of-file address: no error", name, n)
				}
			}
		}
	}
}

// patchEOF rewrites the end-of-file address of a superblock at offset 0
// (and its checksum for versions 2 and 3).
func patchEOF(b []byte, eof uint64) bool {
	if len(b) < 48 || string(b[:8]) != magic {
		return false
	}
	switch b[8] {
	case 0:
		if len(b) < 0x30 {
			return false
		}
		put64(b, 0x28, eof)
	case 2, 3:
		if len(b) < 48 {
			return false
		}
		put64(b, 28, eof) // after signature, version, sizes, flags, base, extension
		binary.LittleEndian.PutUint32(b[44:], lookup3(b[:44], 0))
	default:
		return false
	}
	return true
}

func FuzzOpen(f *testing.F) {
	for _, name := range []string{"basic.h5", "latest.h5", "many_links.h5", "unsupported.h5", "userblock.h5"} {
		f.Add(readTestdata(f, name))
	}
	for _, tt := range brokenCases() {
		f.Add(tt.patch(f, readTestdata(f, tt.file)))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := openAll(b)
		if err != nil && !strings.HasPrefix(err.Error(), "hdf5: ") {
			t.Errorf("error without prefix: %v", err)
		}
	})
}

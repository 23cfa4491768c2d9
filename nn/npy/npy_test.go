package npy

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"
)

// TestReadNpyFloat64 reads '<f8' and version 2.0 files (as numpy writes
// them for large headers), built by hand.
func TestReadNpyFloat64(t *testing.T) {
	vals := []float64{1.5, -2.25, 1e-3, 3.4e38}
	var body []byte
	for _, v := range vals {
		body = binary.LittleEndian.AppendUint64(body, math.Float64bits(v))
	}
	for _, version := range []byte{1, 2, 3} {
		raw := npyBytes(version, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", body)
		shape, data, err := Decode(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			t.Fatalf("version %d: %v", version, err)
		}
		if !slices.Equal(shape, []int{2, 2}) {
			t.Errorf("version %d: shape got %v, want [2 2]", version, shape)
		}
		for i, v := range vals {
			if data[i] != float32(v) {
				t.Errorf("version %d: [%d] got %v, want %v", version, i, data[i], float32(v))
			}
		}
	}
}

// npyBytes assembles a .npy stream with the given version, header text
// (a newline is appended) and data bytes.
func npyBytes(version byte, hdr string, body []byte) []byte {
	hdr += "\n"
	b := append([]byte(magic), version, 0)
	if version == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(hdr)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(hdr)))
	}
	b = append(b, hdr...)
	return append(b, body...)
}

// brokenNpy is a table of malformed .npy streams, each with the error text
// it must produce.
var brokenNpy = []struct {
	name string
	raw  []byte
	want string
}{
	{"empty", nil, "too short"},
	{"not npy", []byte("PK\x03\x04 this is a zip file"), "not a .npy file"},
	{"version 4", npyBytes(4, "{}", nil), "version 4.0 not supported"},
	{"header past end", append([]byte(magic+"\x01\x00\xff\xff"), "{'descr'"...), "header length 65535 but only 8 bytes follow"},
	{"huge v2 header", append([]byte(magic+"\x02\x00\xff\xff\xff\x7f"), "{}\n"...), "header length 2147483647 over the 1048576-byte limit"},
	{"not a dict", npyBytes(1, "['descr']", nil), "header is not a dict"},
	{"fortran", npyBytes(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", make([]byte, 16)), "Fortran-order"},
	{"pickle", npyBytes(1, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", make([]byte, 16)), "pickles"},
	{"int32", npyBytes(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", make([]byte, 8)), `dtype "<i4" not supported`},
	{"float16", npyBytes(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", make([]byte, 4)), `dtype "<f2" not supported`},
	{"big endian", npyBytes(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", make([]byte, 8)), "big-endian"},
	{"structured", npyBytes(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", make([]byte, 8)), "structured dtypes"},
	{"missing shape", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, }", make([]byte, 4)), "no 'shape'"},
	{"missing descr", npyBytes(1, "{'fortran_order': False, 'shape': (1,), }", make([]byte, 4)), "no 'descr'"},
	{"duplicate key", npyBytes(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", make([]byte, 4)), "appears twice"},
	{"unknown key", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", make([]byte, 4)), `unexpected key "x"`},
	{"negative dim", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 2), }", nil), "not a non-negative integer"},
	{"not a tuple", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (5), }", make([]byte, 20)), "not a tuple"},
	{"huge dim", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,), }", nil), "too large"},
	{"huge product", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 65536), }", nil), "over 2^31 elements"},
	{"short data", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", make([]byte, 20)), "needs 24 data bytes, file has 20"},
	{"long data", npyBytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", make([]byte, 20)), "needs 16 data bytes, file has 20"},
	{"trailing junk", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } x", make([]byte, 4)), "unexpected bytes after the dict"},
	{"bad order value", npyBytes(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", make([]byte, 4)), "not True or False"},
}

// TestDecodeNpyTruncatedStream gives a reader shorter than the claimed size.
func TestDecodeNpyTruncatedStream(t *testing.T) {
	raw := npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", make([]byte, 16))
	_, _, err := Decode(bytes.NewReader(raw[:len(raw)-6]), int64(len(raw)))
	if err == nil || !strings.Contains(err.Error(), "data ends 6 bytes early") {
		t.Errorf("got %v, want a data-ends-early error", err)
	}
}

func FuzzDecodeNpy(f *testing.F) {
	for _, tt := range brokenNpy {
		f.Add(tt.raw)
	}
	var buf bytes.Buffer
	if err := Encode(&buf, []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, raw []byte) {
		shape, data, err := Decode(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "nn: npy: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		n := 1
		for _, d := range shape {
			n *= d
		}
		if n != len(data) || len(data) > len(raw) {
			t.Fatalf("shape %v with %d values from %d bytes", shape, len(data), len(raw))
		}
	})
}

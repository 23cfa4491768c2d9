package hdf5

import (
	"encoding/binary"
	"math"
	"strings"
)

// Conversions from stored elements to Go values. Integers and floats of
// either byte order convert to float64, float32 and int64; strings come from
// fixed-length elements or, for variable-length strings, the global heap.

func order(t *Datatype) binary.ByteOrder {
	if t.BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// numeric resolves an enum to its base type and checks that t is an integer
// or float of a size this reader converts.
func numeric(t *Datatype, what string) (*Datatype, error) {
	if t.Class == ClassEnum && t.Base != nil {
		t = t.Base
	}
	switch {
	case t.Class == ClassFloat && (t.Size == 2 || t.Size == 4 || t.Size == 8):
		return t, nil
	case t.Class == ClassFixed && (t.Size == 1 || t.Size == 2 || t.Size == 4 || t.Size == 8):
		return t, nil
	}
	return nil, errorf("%s: cannot convert %s to numbers", what, t)
}

func checkLen(t *Datatype, raw []byte, n int, what string) error {
	if n < 0 || len(raw)/t.Size < n {
		return errorf("%s: %d bytes hold fewer than %d elements of %d bytes", what, len(raw), n, t.Size)
	}
	return nil
}

// float16 widens an IEEE half-precision value.
func float16(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * frac * math.Pow(2, -24)
	case 31:
		if frac == 0 {
			return sign * math.Inf(1)
		}
		return math.NaN()
	}
	return sign * (1 + frac/1024) * math.Pow(2, float64(exp-15))
}

// element returns element i as float64 (floats) or int64 (integers).
func element(t *Datatype, bo binary.ByteOrder, p []byte) (float64, int64, bool) {
	if t.Class == ClassFloat {
		switch t.Size {
		case 2:
			return float16(bo.Uint16(p)), 0, true
		case 4:
			return float64(math.Float32frombits(bo.Uint32(p))), 0, true
		default:
			return math.Float64frombits(bo.Uint64(p)), 0, true
		}
	}
	var u uint64
	switch t.Size {
	case 1:
		u = uint64(p[0])
	case 2:
		u = uint64(bo.Uint16(p))
	case 4:
		u = uint64(bo.Uint32(p))
	default:
		u = bo.Uint64(p)
	}
	if t.Signed && t.Size < 8 {
		shift := 64 - 8*uint(t.Size)
		return 0, int64(u<<shift) >> shift, false
	}
	if !t.Signed && u > math.MaxInt64 {
		return 0, math.MaxInt64, false
	}
	return 0, int64(u), false
}

func toFloat64(t *Datatype, raw []byte, n int, what string) ([]float64, error) {
	t, err := numeric(t, what)
	if err != nil {
		return nil, err
	}
	if err := checkLen(t, raw, n, what); err != nil {
		return nil, err
	}
	bo := order(t)
	out := make([]float64, n)
	for i := range out {
		fv, iv, isFloat := element(t, bo, raw[i*t.Size:])
		if !isFloat {
			if !t.Signed {
				fv = float64(uint64(iv))
			} else {
				fv = float64(iv)
			}
		}
		out[i] = fv
	}
	return out, nil
}

func toFloat32(t *Datatype, raw []byte, n int, what string) ([]float32, error) {
	t, err := numeric(t, what)
	if err != nil {
		return nil, err
	}
	if err := checkLen(t, raw, n, what); err != nil {
		return nil, err
	}
	out := make([]float32, n)
	if t.Class == ClassFloat && t.Size == 4 {
		bo := order(t)
		for i := range out {
			out[i] = math.Float32frombits(bo.Uint32(raw[4*i:]))
		}
		return out, nil
	}
	f64, err := toFloat64(t, raw, n, what)
	if err != nil {
		return nil, err
	}
	for i, v := range f64 {
		out[i] = float32(v)
	}
	return out, nil
}

func toInt64(t *Datatype, raw []byte, n int, what string) ([]int64, error) {
	t, err := numeric(t, what)
	if err != nil {
		return nil, err
	}
	if t.Class != ClassFixed {
		return nil, errorf("%s: %s is not an integer type", what, t)
	}
	if err := checkLen(t, raw, n, what); err != nil {
		return nil, err
	}
	bo := order(t)
	out := make([]int64, n)
	for i := range out {
		_, out[i], _ = element(t, bo, raw[i*t.Size:])
	}
	return out, nil
}

// toStrings decodes fixed-length strings (trimmed per their padding) and
// variable-length strings (length, then global heap collection and index).
func (f *File) toStrings(t *Datatype, raw []byte, n int, what string) ([]string, error) {
	if err := checkLen(t, raw, n, what); err != nil {
		return nil, err
	}
	out := make([]string, n)
	switch {
	case t.Class == ClassString:
		for i := range out {
			s := raw[i*t.Size : (i+1)*t.Size]
			if t.Pad == 2 {
				out[i] = strings.TrimRight(string(s), " ")
				continue
			}
			if j := strings.IndexByte(string(s), 0); j >= 0 {
				s = s[:j]
			}
			out[i] = string(s)
		}
	case t.Class == ClassVarLen && t.VarString:
		want := 4 + int(f.offSize) + 4
		if t.Size < want {
			return nil, errorf("%s: variable-length element of %d bytes, want %d", what, t.Size, want)
		}
		for i := range out {
			c := f.newCursor(raw[i*t.Size:(i+1)*t.Size], 0, what)
			length := uint64(c.u32())
			coll := c.addr()
			idx := c.u32()
			if c.err != nil {
				return nil, c.err
			}
			if length == 0 && (coll == 0 || coll == undef) {
				continue
			}
			b, err := f.globalObject(coll, idx)
			if err != nil {
				return nil, err
			}
			if length > uint64(len(b)) {
				return nil, errorf("%s: string %d of %d bytes, heap object holds %d", what, i, length, len(b))
			}
			out[i] = string(b[:length])
		}
	default:
		return nil, errorf("%s: %s is not a string type", what, t)
	}
	return out, nil
}

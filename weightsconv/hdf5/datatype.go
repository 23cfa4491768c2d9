package hdf5

import "fmt"

// Class is a datatype class (spec IV.A.2.d).
type Class uint8

const (
	ClassFixed     Class = 0 // integers
	ClassFloat     Class = 1
	ClassTime      Class = 2
	ClassString    Class = 3 // fixed-length strings
	ClassBitfield  Class = 4
	ClassOpaque    Class = 5
	ClassCompound  Class = 6
	ClassReference Class = 7
	ClassEnum      Class = 8 // h5py stores bool as an enum over int8
	ClassVarLen    Class = 9
	ClassArray     Class = 10
)

var classNames = [...]string{"integer", "float", "time", "string", "bitfield", "opaque", "compound", "reference", "enum", "variable-length", "array"}

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("class %d", uint8(c))
}

// Datatype describes one element of a dataset or attribute.
type Datatype struct {
	Class     Class
	Size      int  // bytes per element as stored
	BigEndian bool // integers and floats
	Signed    bool // integers
	// VarString marks a variable-length string (Class ClassVarLen); the
	// element is a global heap reference.
	VarString bool
	// Pad is the string padding: 0 null-terminated, 1 null-padded, 2 space-padded.
	Pad uint8
	// Base is the element type of an enum, array or variable-length sequence.
	Base *Datatype
	// Dims are the dimensions of an array element.
	Dims []int
}

// String names the type, e.g. "float32 LE", "int64 BE", "string(8)", "vlen string".
func (t *Datatype) String() string {
	order := " LE"
	if t.BigEndian {
		order = " BE"
	}
	switch t.Class {
	case ClassFixed:
		s := "uint"
		if t.Signed {
			s = "int"
		}
		return fmt.Sprintf("%s%d%s", s, 8*t.Size, order)
	case ClassFloat:
		return fmt.Sprintf("float%d%s", 8*t.Size, order)
	case ClassString:
		return fmt.Sprintf("string(%d)", t.Size)
	case ClassVarLen:
		if t.VarString {
			return "vlen string"
		}
		return "vlen sequence of " + t.Base.String()
	case ClassEnum:
		return "enum of " + t.Base.String()
	case ClassArray:
		return fmt.Sprintf("array %v of %s", t.Dims, t.Base)
	}
	return fmt.Sprintf("%s(%d bytes)", t.Class, t.Size)
}

// parseDatatype decodes a datatype message body (also embedded in attribute
// messages and as the base of derived types).
func parseDatatype(c *cursor, depth int) *Datatype {
	if depth > maxDepth/4 {
		c.fail("datatype nested more than %d levels", maxDepth/4)
		return nil
	}
	start := c.pos()
	cv := c.u8()
	bf := uint32(c.u8()) | uint32(c.u8())<<8 | uint32(c.u8())<<16
	size := c.u32()
	if c.err != nil {
		return nil
	}
	t := &Datatype{Class: Class(cv & 0x0f), Size: int(size)}
	version := cv >> 4
	if version < 1 || version > 5 {
		c.fail("datatype at offset %d: unsupported version %d", start, version)
		return nil
	}
	if size == 0 || uint64(size) > uint64(c.f.size)+decodeSlack {
		c.fail("datatype at offset %d: element size %d out of range", start, size)
		return nil
	}
	switch t.Class {
	case ClassFixed:
		t.BigEndian = bf&1 != 0
		t.Signed = bf&8 != 0
		c.skip(4) // bit offset, bit precision
	case ClassFloat:
		t.BigEndian = bf&1 != 0
		if bf&0x40 != 0 {
			c.fail("datatype at offset %d: VAX floating point order not supported", start)
		}
		c.skip(12)
	case ClassTime, ClassBitfield:
		t.BigEndian = bf&1 != 0
		// properties are not needed to read or skip the type
	case ClassString:
		t.Pad = uint8(bf & 0x0f)
	case ClassVarLen:
		t.VarString = bf&0x0f == 1
		t.Pad = uint8(bf>>4) & 0x0f
		t.Base = parseDatatype(c, depth+1)
	case ClassEnum:
		t.Base = parseDatatype(c, depth+1)
		// member names and values follow; not needed to read values.
	case ClassArray:
		rank := int(c.u8())
		if version < 3 {
			c.skip(3)
		}
		if rank > maxRank {
			c.fail("datatype at offset %d: array rank %d exceeds %d", start, rank, maxRank)
			return nil
		}
		for i := 0; i < rank; i++ {
			t.Dims = append(t.Dims, int(c.u32()))
		}
		if version < 3 {
			c.skip(4 * rank) // permutation indices
		}
		t.Base = parseDatatype(c, depth+1)
	}
	if c.err != nil {
		return nil
	}
	return t
}

// Dataspace dimensions come from a dataspace message (spec IV.A.2.b).
type dataspace struct {
	dims []uint64
	null bool // no elements at all
}

func parseDataspace(c *cursor) dataspace {
	var ds dataspace
	version := c.u8()
	rank := int(c.u8())
	flags := c.u8()
	switch version {
	case 1:
		c.skip(5)
	case 2:
		ds.null = c.u8() == 2
	default:
		if c.err == nil {
			c.fail("unsupported dataspace version %d", version)
		}
		return ds
	}
	if rank > maxRank {
		c.fail("dataspace rank %d exceeds %d", rank, maxRank)
		return ds
	}
	for i := 0; i < rank; i++ {
		ds.dims = append(ds.dims, c.length())
	}
	// Maximum dimensions and permutations follow; a reader does not need them.
	_ = flags
	return ds
}

// count is the number of elements, or an error when the product overflows
// or exceeds limit.
func elementCount(dims []uint64, limit uint64, what string) (uint64, error) {
	n := uint64(1)
	for _, d := range dims {
		if d == 0 {
			return 0, nil
		}
		if n > limit/d {
			return 0, errorf("%s: dimensions %v exceed the %d elements this file can hold", what, dims, limit)
		}
		n *= d
	}
	return n, nil
}

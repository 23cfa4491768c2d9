package hdf5

import (
	"bytes"
	"compress/zlib"
	"io"
)

// Filter pipeline (spec IV.A.2.l) and the filters h5py applies by default
// options: deflate (1), shuffle (2) and fletcher32 (3).

const (
	filterDeflate    = 1
	filterShuffle    = 2
	filterFletcher32 = 3
)

var filterNames = map[uint16]string{1: "deflate", 2: "shuffle", 3: "fletcher32", 4: "szip", 5: "nbit", 6: "scaleoffset", 32000: "lzf", 32001: "blosc", 32004: "lz4", 32015: "zstd"}

type filter struct {
	id     uint16
	flags  uint16
	params []uint32
}

func filterName(id uint16) string {
	if s, ok := filterNames[id]; ok {
		return s
	}
	return "unknown"
}

func parseFilters(c *cursor) []filter {
	version := c.u8()
	n := int(c.u8())
	if version == 1 {
		c.skip(6)
	} else if version != 2 && c.err == nil {
		c.fail("unsupported filter pipeline version %d", version)
		return nil
	}
	if n > 32 {
		c.fail("%d filters, at most 32 allowed", n)
		return nil
	}
	var fs []filter
	for i := 0; i < n && c.err == nil; i++ {
		var fl filter
		fl.id = c.u16()
		nameLen := 0
		if version == 1 || fl.id >= 256 {
			nameLen = int(c.u16())
		}
		fl.flags = c.u16()
		nv := int(c.u16())
		if version == 1 {
			nameLen = (nameLen + 7) &^ 7
		}
		c.skip(nameLen)
		if nv > c.left()/4 {
			c.fail("filter %d claims %d parameters", fl.id, nv)
			return nil
		}
		for j := 0; j < nv; j++ {
			fl.params = append(fl.params, c.u32())
		}
		if version == 1 && nv%2 == 1 {
			c.skip(4)
		}
		fs = append(fs, fl)
	}
	return fs
}

// unfilter undoes the pipeline on one stored chunk. Filters run in reverse
// order; a filter whose bit is set in mask was skipped when writing. The
// result may not exceed want bytes.
func unfilter(fs []filter, mask uint32, data []byte, want uint64, at uint64) ([]byte, error) {
	for i := len(fs) - 1; i >= 0; i-- {
		if i < 32 && mask&(1<<uint(i)) != 0 {
			continue
		}
		fl := fs[i]
		switch fl.id {
		case filterDeflate:
			zr, err := zlib.NewReader(bytes.NewReader(data))
			if err != nil {
				return nil, errorf("deflate chunk at offset %d: %v", at, err)
			}
			out, err := io.ReadAll(io.LimitReader(zr, int64(want)+1))
			if err != nil {
				return nil, errorf("deflate chunk at offset %d: %v", at, err)
			}
			if uint64(len(out)) > want {
				return nil, errorf("deflate chunk at offset %d: inflates past the declared chunk size of %d bytes", at, want)
			}
			data = out
		case filterShuffle:
			es := 0
			if len(fl.params) > 0 {
				es = int(fl.params[0])
			}
			if es <= 0 || es > 1<<16 {
				return nil, errorf("shuffle filter at chunk offset %d: element size %d", at, es)
			}
			data = unshuffle(data, es)
		case filterFletcher32:
			if len(data) < 4 {
				return nil, errorf("fletcher32 chunk at offset %d: %d bytes", at, len(data))
			}
			data = data[:len(data)-4]
		default:
			return nil, errorf("chunk at offset %d: filter %d (%s) not supported", at, fl.id, filterName(fl.id))
		}
	}
	return data, nil
}

// unshuffle reverses the byte shuffle: the stored chunk holds byte 0 of every
// element, then byte 1 of every element, and so on; trailing bytes that do
// not make a whole element are stored last, unshuffled.
func unshuffle(in []byte, es int) []byte {
	n := len(in) / es
	if es == 1 || n <= 1 {
		return in
	}
	out := make([]byte, len(in))
	for j := 0; j < es; j++ {
		src := in[j*n : (j+1)*n]
		for i, b := range src {
			out[i*es+j] = b
		}
	}
	copy(out[n*es:], in[n*es:])
	return out
}

// Package npy reads and writes NumPy's .npy files and .npz archives of
// float32 arrays (reference data, training exports, the explain command's
// raw maps). It is for the native tools and the tests: the browser does not
// load it (nn/deps_test.go keeps it out of the worker).
//
// The format (numpy.lib.format, versions 1.0, 2.0 and 3.0): the magic
// "\x93NUMPY", a major and a minor version byte, the header length HLEN as a
// little-endian uint16 (1.0) or uint32 (2.0, 3.0), HLEN bytes of header (a
// Python dict literal such as
// "{'descr': '<f4', 'fortran_order': False, 'shape': (7, 7, 8), }" padded with
// spaces and ended by "\n"), then the raw data in C order.
//
// Read accepts little-endian float32 and float64 ('<f4', '<f8'; float64 is
// rounded to float32) in C order. It refuses Fortran order, pickled object
// arrays and every other dtype with an error naming them, and it checks that
// the shape's element count matches the bytes that follow the header before it
// allocates anything. It does not use gorgonia's (*tensor.Dense).ReadNpy, which
// reads only version 1.0, ignores the byte-order character, allocates from the
// header's shape before it looks at the file size and reads one element per
// call; gorgonia's reader and writer serve as the independent check in the
// tests instead (npy_test.go).
package npy

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/mavis-xai/mavis/internal/printf"
	"github.com/mavis-xai/mavis/nn"
)

const (
	magic = "\x93NUMPY"
	// maxHeader bounds the header length of a file we read; numpy itself
	// refuses headers over 10000 bytes unless told otherwise.
	maxHeader = 1 << 20
	// maxDims is numpy's NPY_MAXDIMS (64 since numpy 2.0).
	maxDims = 64
)

// header is the parsed header of a .npy stream.
type header struct {
	shape    []int
	count    int // product of shape
	itemSize int // 4 for '<f4', 8 for '<f8'
	dataOff  int // bytes before the data: magic, version, length, header
}

// dataLen returns the byte length of the data section.
func (h header) dataLen() int64 { return int64(h.count) * int64(h.itemSize) }

// Decode reads a .npy stream of exactly size bytes from r (for callers
// with bytes rather than a path). It validates like Read.
func Decode(r io.Reader, size int64) (shape []int, data []float32, err error) {
	return decode(r, size, true)
}

// decode reads a .npy stream of size bytes. When exact is false the size
// is a claim (a zip entry's uncompressed size) that the reader enforces as
// the data arrives, and the output grows with the data instead of being
// allocated from the claim.
func decode(r io.Reader, size int64, exact bool) ([]int, []float32, error) {
	h, err := readHeader(r, size)
	if err != nil {
		return nil, nil, err
	}
	if want := int64(h.dataOff) + h.dataLen(); size != want {
		return nil, nil, printf.Errorf("nn: npy: shape %v of %d-byte values needs %d data bytes, file has %d",
			h.shape, h.itemSize, h.dataLen(), size-int64(h.dataOff))
	}
	data, err := readData(r, h, exact)
	if err != nil {
		return nil, nil, err
	}
	return h.shape, data, nil
}

// readHeader reads and validates everything up to the data.
func readHeader(r io.Reader, size int64) (header, error) {
	var h header
	var pre [12]byte
	if size < 10 {
		return h, printf.Errorf("nn: npy: file of %d bytes is too short for a header", size)
	}
	if _, err := io.ReadFull(r, pre[:8]); err != nil {
		return h, printf.Errorf("nn: npy: reading magic: %v", err)
	}
	if string(pre[:6]) != magic {
		return h, printf.Errorf("nn: npy: not a .npy file (magic %q)", string(pre[:6]))
	}
	major, minor := pre[6], pre[7]
	var hlen int64
	switch {
	case major == 1 && minor == 0:
		if _, err := io.ReadFull(r, pre[8:10]); err != nil {
			return h, printf.Errorf("nn: npy: reading header length: %v", err)
		}
		hlen = int64(binary.LittleEndian.Uint16(pre[8:10]))
		h.dataOff = 10
	case (major == 2 || major == 3) && minor == 0:
		if size < 12 {
			return h, printf.Errorf("nn: npy: file of %d bytes is too short for a version %d.0 header", size, major)
		}
		if _, err := io.ReadFull(r, pre[8:12]); err != nil {
			return h, printf.Errorf("nn: npy: reading header length: %v", err)
		}
		hlen = int64(binary.LittleEndian.Uint32(pre[8:12]))
		h.dataOff = 12
	default:
		return h, printf.Errorf("nn: npy: format version %d.%d not supported (1.0, 2.0, 3.0)", major, minor)
	}
	if hlen > maxHeader {
		return h, printf.Errorf("nn: npy: header length %d over the %d-byte limit", hlen, maxHeader)
	}
	if hlen > size-int64(h.dataOff) {
		return h, printf.Errorf("nn: npy: header length %d but only %d bytes follow", hlen, size-int64(h.dataOff))
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return h, printf.Errorf("nn: npy: reading %d-byte header: %v", hlen, err)
	}
	h.dataOff += int(hlen)
	if err := parseHeader(string(hdr), &h); err != nil {
		return h, err
	}
	return h, nil
}

// parseHeader parses the dict literal: exactly the keys descr,
// fortran_order and shape, in any order, with an optional trailing comma,
// then padding. numpy ends the padding with a newline but does not require
// one when reading, and gorgonia's writer omits it, so neither do we.
func parseHeader(s string, h *header) error {
	p := &headerParser{s: s}
	p.space()
	if !p.eat('{') {
		return p.errorf("header is not a dict")
	}
	var descr string
	var haveDescr, haveOrder, haveShape bool
	for {
		p.space()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		p.space()
		if !p.eat(':') {
			return p.errorf("missing ':' after key %q", key)
		}
		p.space()
		switch key {
		case "descr":
			if haveDescr {
				return p.errorf("key 'descr' appears twice")
			}
			haveDescr = true
			if descr, err = p.str(); err != nil {
				if p.peek() == '[' {
					return printf.Errorf("nn: npy: structured dtypes are not supported (only '<f4' and '<f8')")
				}
				return err
			}
		case "fortran_order":
			if haveOrder {
				return p.errorf("key 'fortran_order' appears twice")
			}
			haveOrder = true
			switch {
			case p.word("False"):
			case p.word("True"):
				return printf.Errorf("nn: npy: Fortran-order arrays are not supported (save with C order)")
			default:
				return p.errorf("fortran_order is not True or False")
			}
		case "shape":
			if haveShape {
				return p.errorf("key 'shape' appears twice")
			}
			haveShape = true
			if h.shape, err = p.tuple(); err != nil {
				return err
			}
		default:
			return p.errorf("unexpected key %q", key)
		}
		p.space()
		if p.eat(',') {
			continue
		}
		p.space()
		if !p.eat('}') {
			return p.errorf("expected ',' or '}'")
		}
		break
	}
	if rest := strings.TrimRight(s[p.i:], " \t\r\n\x00"); rest != "" {
		return p.errorf("%d unexpected bytes after the dict", len(rest))
	}
	switch {
	case !haveDescr:
		return printf.Errorf("nn: npy: header has no 'descr'")
	case !haveOrder:
		return printf.Errorf("nn: npy: header has no 'fortran_order'")
	case !haveShape:
		return printf.Errorf("nn: npy: header has no 'shape'")
	}
	switch descr {
	case "<f4":
		h.itemSize = 4
	case "<f8":
		h.itemSize = 8
	case ">f4", ">f8":
		return printf.Errorf("nn: npy: big-endian dtype %q not supported (only '<f4' and '<f8')", descr)
	case "|O", "O", "<O", ">O":
		return printf.Errorf("nn: npy: object arrays (pickles) are not supported, only '<f4' and '<f8'")
	default:
		return printf.Errorf("nn: npy: dtype %q not supported (only '<f4' and '<f8')", descr)
	}
	h.count = 1
	for _, d := range h.shape {
		if d != 0 && h.count > math.MaxInt32/d {
			return printf.Errorf("nn: npy: shape %v has over 2^31 elements", h.shape)
		}
		h.count *= d
	}
	return nil
}

// headerParser is a cursor over a header dict literal.
type headerParser struct {
	s string
	i int
}

func (p *headerParser) errorf(format string, args ...any) error {
	return printf.Errorf("nn: npy: bad header at byte %d: %s", p.i, printf.Sprintf(format, args...))
}

func (p *headerParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *headerParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *headerParser) eat(c byte) bool {
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}

func (p *headerParser) word(w string) bool {
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

// str reads a quoted string without escapes, as numpy writes keys and dtypes.
func (p *headerParser) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", p.errorf("expected a quoted string")
	}
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", p.errorf("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+end]
	if strings.ContainsRune(v, '\\') {
		return "", p.errorf("escapes in strings are not supported")
	}
	p.i += end + 2
	return v, nil
}

// tuple reads "(a, b, c)", "(a,)" or "()" of non-negative integers.
func (p *headerParser) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, p.errorf("shape is not a tuple")
	}
	shape := []int{}
	for {
		p.space()
		if p.eat(')') {
			return shape, nil
		}
		start := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		if start == p.i {
			return nil, p.errorf("shape entry is not a non-negative integer")
		}
		if p.i-start > 10 {
			return nil, p.errorf("shape entry %s is too large", p.s[start:p.i])
		}
		d, err := strconv.Atoi(p.s[start:p.i])
		if err != nil || d > math.MaxInt32 {
			return nil, p.errorf("shape entry %s is too large", p.s[start:p.i])
		}
		if len(shape) == maxDims {
			return nil, p.errorf("shape has more than %d dimensions", maxDims)
		}
		shape = append(shape, d)
		p.space()
		if p.eat(',') {
			continue
		}
		p.space()
		if !p.eat(')') {
			return nil, p.errorf("expected ',' or ')' in shape")
		}
		if len(shape) == 1 {
			// "(5)" is the integer 5 in Python, not a tuple.
			return nil, p.errorf("shape (%d) is not a tuple (write (%d,))", shape[0], shape[0])
		}
		return shape, nil
	}
}

// readData reads h.count values and converts them to float32. With exact
// false the output grows as data arrives (see decode).
func readData(r io.Reader, h header, exact bool) ([]float32, error) {
	const chunk = 1 << 16 // bytes; a multiple of 8
	var data []float32
	if exact || h.count <= chunk {
		data = make([]float32, 0, h.count)
	}
	buf := make([]byte, min(int64(chunk), h.dataLen()))
	for left := h.dataLen(); left > 0; {
		b := buf[:min(int64(len(buf)), left)]
		if n, err := io.ReadFull(r, b); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil, printf.Errorf("nn: npy: data ends %d bytes early (shape %v)", left-int64(n), h.shape)
			}
			return nil, printf.Errorf("nn: npy: reading data: %v", err)
		}
		left -= int64(len(b))
		if h.itemSize == 4 {
			for i := 0; i < len(b); i += 4 {
				data = append(data, math.Float32frombits(binary.LittleEndian.Uint32(b[i:])))
			}
		} else {
			for i := 0; i < len(b); i += 8 {
				data = append(data, float32(math.Float64frombits(binary.LittleEndian.Uint64(b[i:]))))
			}
		}
	}
	if data == nil {
		data = []float32{}
	}
	return data, nil
}

// Encode writes a version 1.0 little-endian float32 .npy stream to w.
func Encode(w io.Writer, shape []int, data []float32) error {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return printf.Errorf("nn: npy: negative dimension in shape %v", shape)
		}
		if d != 0 && n > math.MaxInt32/d {
			return printf.Errorf("nn: npy: shape %v has over 2^31 elements", shape)
		}
		n *= d
	}
	if n != len(data) {
		return printf.Errorf("nn: npy: shape %v holds %d values, data has %d", shape, n, len(data))
	}
	if len(shape) > maxDims {
		return printf.Errorf("nn: npy: shape has %d dimensions (at most %d)", len(shape), maxDims)
	}
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	tuple := "(" + strings.Join(dims, ", ") + ")"
	if len(shape) == 1 {
		tuple = "(" + dims[0] + ",)"
	}
	hdr := "{'descr': '<f4', 'fortran_order': False, 'shape': " + tuple + ", }"
	total := 10 + len(hdr) + 1
	pad := (64 - total%64) % 64
	if total+pad-10 > math.MaxUint16 {
		return printf.Errorf("nn: npy: header for shape %v too long for version 1.0", shape)
	}
	hdr += strings.Repeat(" ", pad) + "\n"
	out := make([]byte, 0, 10+len(hdr)+4*len(data))
	out = append(out, magic...)
	out = append(out, 1, 0)
	out = binary.LittleEndian.AppendUint16(out, uint16(len(hdr)))
	out = append(out, hdr...)
	for _, v := range data {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	if _, err := w.Write(out); err != nil {
		return printf.Errorf("nn: npy: %v", err)
	}
	return nil
}

// AsTensor arranges an array read from a .npy file as a Tensor (it aliases
// data): a scalar or (C,) vector becomes 1x1x1xC, an (H, W) grid 1xHxWx1,
// (H, W, C) 1xHxWxC and (N, H, W, C) stays as it is.
func AsTensor(shape []int, data []float32) (*nn.Tensor, error) {
	var s [4]int
	switch len(shape) {
	case 0:
		s = [4]int{1, 1, 1, 1}
	case 1:
		s = [4]int{1, 1, 1, shape[0]}
	case 2:
		s = [4]int{1, shape[0], shape[1], 1}
	case 3:
		s = [4]int{1, shape[0], shape[1], shape[2]}
	case 4:
		s = [4]int{shape[0], shape[1], shape[2], shape[3]}
	default:
		return nil, printf.Errorf("nn: npy: a %d-dimensional array %v is not a tensor (at most 4 dimensions)", len(shape), shape)
	}
	if s[0]*s[1]*s[2]*s[3] != len(data) {
		return nil, printf.Errorf("nn: npy: shape %v holds %d values, data has %d", shape, s[0]*s[1]*s[2]*s[3], len(data))
	}
	return &nn.Tensor{Shape: s, Data: data}, nil
}

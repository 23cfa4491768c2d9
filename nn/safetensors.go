package nn

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/mavis-xai/mavis/internal/jsonv"
	"github.com/mavis-xai/mavis/internal/order"
)

// The safetensors container (https://github.com/huggingface/safetensors):
//
//	8 bytes   N, the header length, little-endian uint64
//	N bytes   JSON header: {"__metadata__": {string: string},
//	                        "<tensor>": {"dtype": "F32", "shape": [3, 3, 3, 64],
//	                                     "data_offsets": [begin, end]}, ...}
//	          padded with spaces to a multiple of 8 bytes
//	rest      the data section: each tensor's raw little-endian values in
//	          C order, at [begin, end) relative to the start of the section
//
// This file reads and writes the container only; weights.go maps it onto a
// Model. The reader trusts nothing: the header length is capped and checked
// against the file size before it is read, the JSON must be well formed with
// no duplicate or unknown keys, every dtype must be known, every byte length
// must equal product(shape) times the dtype size (computed with overflow
// checks), and the tensors must tile the data section exactly: sorted by
// offset they start at 0, neither overlap nor leave gaps, and end at its end.

const (
	// maxSTHeader caps the JSON header length (the reference
	// implementation uses the same 100 MB limit).
	maxSTHeader = 100 << 20
	// maxSTDims bounds a tensor's rank.
	maxSTDims = 16
)

// stTensor is one tensor entry of a safetensors header.
type stTensor struct {
	Name       string
	DType      string
	Shape      []int
	Begin, End int64 // relative to the data section
}

// stItemSize returns the byte size of a supported dtype, or 0.
func stItemSize(dtype string) int {
	switch dtype {
	case "F32":
		return 4
	case "F64":
		return 8
	}
	return 0
}

// stHeader is a parsed and validated safetensors header.
type stHeader struct {
	Tensors  []stTensor // in data-offset order
	Meta     map[string]string
	DataOff  int64 // offset of the data section in the file: 8 + N
	DataSize int64
}

// readSTHeader reads and validates the header of a safetensors file of the
// given size.
func readSTHeader(r io.ReaderAt, size int64) (*stHeader, error) {
	// An image or a Keras file gets an error saying what it is and what to
	// do, rather than the header length its first bytes spell.
	var head [SniffLen]byte
	got, err := r.ReadAt(head[:max(0, min(size, SniffLen))], 0)
	if err != nil && err != io.EOF {
		return nil, errorf("nn: weights: reading the file: %v", err)
	}
	if err := notWeights(Sniff(head[:got], size)); err != nil {
		return nil, err
	}
	if size < 8 {
		return nil, errorf("nn: weights: file of %d bytes is too short for a safetensors header", size)
	}
	var pre [8]byte
	if _, err := r.ReadAt(pre[:], 0); err != nil {
		return nil, errorf("nn: weights: reading header length: %v", err)
	}
	n := binary.LittleEndian.Uint64(pre[:])
	if n > maxSTHeader {
		return nil, errorf("nn: weights: header length %d over the %d-byte limit", n, maxSTHeader)
	}
	if int64(n) > size-8 {
		return nil, errorf("nn: weights: header length %d but the file has only %d bytes after it", n, size-8)
	}
	if n < 2 {
		return nil, errorf("nn: weights: header length %d is too short for a JSON object", n)
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, 8); err != nil {
		return nil, errorf("nn: weights: reading %d-byte header: %v", n, err)
	}
	h, err := parseSTHeader(buf)
	if err != nil {
		return nil, err
	}
	h.DataOff = 8 + int64(n)
	h.DataSize = size - h.DataOff
	if err := h.checkLayout(); err != nil {
		return nil, err
	}
	return h, nil
}

// parseSTHeader decodes the JSON header, refusing duplicate keys, unknown
// fields and bad values.
func parseSTHeader(buf []byte) (*stHeader, error) {
	v, n, err := jsonv.ParsePrefix(buf)
	if err != nil {
		return nil, errorf("nn: weights: bad header JSON: %v", err)
	}
	o, ok := v.(jsonv.Object)
	if !ok {
		return nil, errorf("nn: weights: header is not a JSON object")
	}
	h := &stHeader{}
	seen := make(map[string]bool, len(o))
	for _, m := range o {
		name := m.Key
		if seen[name] {
			return nil, errorf("nn: weights: header names %q twice", name)
		}
		seen[name] = true
		if name == "__metadata__" {
			if h.Meta, err = jsonv.StringMap(m.Value, "__metadata__"); err != nil || h.Meta == nil {
				return nil, errorf("nn: weights: __metadata__ is not a map of strings: %v", err)
			}
			continue
		}
		t, err := parseSTTensor(name, m.Value)
		if err != nil {
			return nil, err
		}
		h.Tensors = append(h.Tensors, t)
	}
	if rest := bytes.TrimRight(buf[n:], " \t\r\n"); len(rest) != 0 {
		return nil, errorf("nn: weights: %d bytes of junk after the header JSON", len(rest))
	}
	return h, nil
}

// stEntry is a tensor entry as the header spells it.
type stEntry struct {
	DType   string
	Shape   []float64
	Offsets []float64
}

// parseSTTensor decodes and checks one tensor entry.
func parseSTTensor(name string, v any) (stTensor, error) {
	var e stEntry
	floats := func(v any, what string) ([]float64, error) {
		s := []float64{}
		err := jsonv.Array(v, what, func(_ int, x any) error {
			f, ok := x.(float64)
			if !ok {
				return errorf("%s has %s, want numbers", what, jsonv.Kind(x))
			}
			s = append(s, f)
			return nil
		})
		if v == nil {
			s = nil
		}
		return s, err
	}
	err := jsonv.Fields(v, "the entry", func(k string, x any) (err error) {
		switch k {
		case "dtype":
			e.DType, err = jsonv.String(x, k)
		case "shape":
			e.Shape, err = floats(x, k)
		case "data_offsets":
			e.Offsets, err = floats(x, k)
		default:
			return jsonv.ErrUnknownField
		}
		return err
	})
	if err != nil {
		return stTensor{}, errorf("nn: weights: tensor %q: bad entry: %v", name, err)
	}
	t := stTensor{Name: name, DType: e.DType}
	size := stItemSize(e.DType)
	if size == 0 {
		return t, errorf("nn: weights: tensor %q has dtype %q (supported: F32, F64)", name, e.DType)
	}
	if e.Shape == nil {
		return t, errorf("nn: weights: tensor %q has no shape", name)
	}
	if len(e.Shape) > maxSTDims {
		return t, errorf("nn: weights: tensor %q has %d dimensions (at most %d)", name, len(e.Shape), maxSTDims)
	}
	count := int64(1)
	for _, d := range e.Shape {
		if d < 0 || d != math.Trunc(d) || d > math.MaxInt32 {
			return t, errorf("nn: weights: tensor %q has dimension %v in shape %v", name, d, e.Shape)
		}
		if d != 0 && count > math.MaxInt32/int64(d) {
			return t, errorf("nn: weights: tensor %q shape %v has over 2^31 elements", name, e.Shape)
		}
		count *= int64(d)
		t.Shape = append(t.Shape, int(d))
	}
	if len(e.Offsets) != 2 {
		return t, errorf("nn: weights: tensor %q has %d data_offsets, want 2", name, len(e.Offsets))
	}
	for _, o := range e.Offsets {
		if o < 0 || o != math.Trunc(o) || o > 1<<53 {
			return t, errorf("nn: weights: tensor %q has data offset %v", name, o)
		}
	}
	t.Begin, t.End = int64(e.Offsets[0]), int64(e.Offsets[1])
	if t.End < t.Begin {
		return t, errorf("nn: weights: tensor %q data_offsets [%d, %d] end before they begin", name, t.Begin, t.End)
	}
	if want := count * int64(size); t.End-t.Begin != want {
		return t, errorf("nn: weights: tensor %q of shape %v %s needs %d bytes, data_offsets [%d, %d] give %d",
			name, t.Shape, e.DType, want, t.Begin, t.End, t.End-t.Begin)
	}
	return t, nil
}

// checkLayout sorts the tensors by offset and checks that they tile the
// data section exactly.
func (h *stHeader) checkLayout() error {
	ts := h.Tensors
	h.Tensors = make([]stTensor, len(ts))
	for k, i := range order.Index(len(ts), func(a, b int32) int {
		if c := cmp.Compare(ts[a].Begin, ts[b].Begin); c != 0 {
			return c
		}
		return cmp.Compare(ts[a].End, ts[b].End)
	}) {
		h.Tensors[k] = ts[i]
	}
	if n := len(h.Tensors); n > 0 && h.Tensors[n-1].End > h.DataSize {
		t := h.Tensors[n-1]
		return errorf("nn: weights: the file ends %d bytes too soon, so it was cut short (an incomplete download or copy?): get it again (tensor %q data_offsets [%d, %d] past the end of the %d-byte data section)",
			t.End-h.DataSize, t.Name, t.Begin, t.End, h.DataSize)
	}
	var pos int64
	for i, t := range h.Tensors {
		if t.End > h.DataSize {
			return errorf("nn: weights: tensor %q data_offsets [%d, %d] past the end of the %d-byte data section", t.Name, t.Begin, t.End, h.DataSize)
		}
		if t.Begin < pos {
			return errorf("nn: weights: tensor %q [%d, %d] overlaps %q [%d, %d]", t.Name, t.Begin, t.End,
				h.Tensors[i-1].Name, h.Tensors[i-1].Begin, h.Tensors[i-1].End)
		}
		if t.Begin > pos {
			return errorf("nn: weights: gap of %d bytes before tensor %q at %d", t.Begin-pos, t.Name, t.Begin)
		}
		pos = t.End
	}
	if pos != h.DataSize {
		return errorf("nn: weights: tensors cover %d bytes of the %d-byte data section", pos, h.DataSize)
	}
	return nil
}

// stChunk is the size of readSTValues's buffer, a multiple of 8.
const stChunk = 1 << 14

// readSTValues reads tensor t of the file into dst (len(dst) elements,
// converting F64 to float32), in chunks through buf (stChunk bytes, one
// for all the tensors of a file) so that nothing else is allocated in
// proportion to the file.
func readSTValues(r io.ReaderAt, h *stHeader, t stTensor, dst []float32, buf []byte) error {
	size := int64(stItemSize(t.DType))
	if int64(len(dst))*size != t.End-t.Begin || len(buf) != stChunk {
		panic("nn: readSTValues: destination does not match the tensor, or buffer is not stChunk bytes")
	}
	off := h.DataOff + t.Begin
	for i := 0; i < len(dst); {
		n := min(int64(len(buf))/size, int64(len(dst)-i))
		b := buf[:n*size]
		if _, err := r.ReadAt(b, off); err != nil {
			return errorf("nn: weights: reading tensor %q: %v", t.Name, err)
		}
		off += int64(len(b))
		if size == 4 {
			for j := 0; j < len(b); j += 4 {
				dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[j:]))
				i++
			}
		} else {
			for j := 0; j < len(b); j += 8 {
				dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[j:])))
				i++
			}
		}
	}
	return nil
}

// stOut is one tensor to write.
type stOut struct {
	Name  string
	Shape []int
	Data  []float32
}

// writeST writes F32 tensors and metadata as a safetensors stream, the
// tensors in the given order, the header padded with spaces to a multiple
// of 8 bytes.
func writeST(w io.Writer, meta map[string]string, tensors []stOut) error {
	var hdr bytes.Buffer
	hdr.WriteByte('{')
	hdr.WriteString(`"__metadata__":`)
	hdr.Write(jsonv.MarshalStringMap(meta)) // keys sorted: deterministic output
	var off int64
	for _, t := range tensors {
		if strings.TrimSpace(t.Name) == "" || t.Name == "__metadata__" {
			return errorf("nn: weights: bad tensor name %q", t.Name)
		}
		name := jsonv.AppendString(nil, t.Name)
		shape := jsonv.AppendInts(nil, t.Shape)
		if t.Shape == nil {
			shape = []byte("[]")
		}
		n := int64(len(t.Data)) * 4
		hdr.WriteByte(',')
		hdr.Write(name)
		hdr.WriteString(`:{"dtype":"F32","shape":`)
		hdr.Write(shape)
		hdr.WriteString(`,"data_offsets":[` + strconv.FormatInt(off, 10) + "," + strconv.FormatInt(off+n, 10) + "]}")
		off += n
	}
	hdr.WriteByte('}')
	for hdr.Len()%8 != 0 {
		hdr.WriteByte(' ')
	}
	var pre [8]byte
	binary.LittleEndian.PutUint64(pre[:], uint64(hdr.Len()))
	if _, err := w.Write(pre[:]); err != nil {
		return errorf("nn: weights: %v", err)
	}
	if _, err := w.Write(hdr.Bytes()); err != nil {
		return errorf("nn: weights: %v", err)
	}
	buf := make([]byte, 0, 1<<16)
	for _, t := range tensors {
		for i, v := range t.Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) || i == len(t.Data)-1 {
				if _, err := w.Write(buf); err != nil {
					return errorf("nn: weights: %v", err)
				}
				buf = buf[:0]
			}
		}
	}
	return nil
}

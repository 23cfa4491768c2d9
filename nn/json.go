package nn

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// A small strict JSON decoder (RFC 8259) for the load path: the
// safetensors header, the architecture spec and the metadata. The browser's
// worker links everything nn.Decode reaches, and encoding/json (with fmt and
// reflect) would cost it about 340 KB of gzipped wasm; this file and
// json_decode.go do the same job in a few KB. Writing stays with
// encoding/json (Encode, Save: native tools only).
//
// parseJSON accepts exactly what encoding/json accepts and decodes to the
// same values as json.Unmarshal into an `any` (json_test.go and FuzzJSON
// hold it to that), except that
//
//   - objects keep their members in order, duplicates included, as
//     jsonObject (json.Unmarshal keeps the last of duplicate keys);
//   - nesting is limited to maxJSONDepth levels (encoding/json: 10000).
//
// Values are nil, bool, float64, string, []any and jsonObject. Numbers
// outside float64's range are refused, as json.Unmarshal does. Strings are
// decoded as encoding/json does: invalid UTF-8 and unpaired surrogates
// become U+FFFD. Error texts carry no package prefix (every caller adds its
// own context) and give the byte offset.

// maxJSONDepth bounds the nesting of arrays and objects.
const maxJSONDepth = 256

// jsonObject is a JSON object's members in order.
type jsonObject []jsonMember

// jsonMember is one member of a JSON object.
type jsonMember struct {
	Key   string
	Value any
}

// errJSONDepth is returned for input nested more than maxJSONDepth deep.
var errJSONDepth = errors.New("nested too deeply")

// parseJSON decodes data, one JSON value with optional white space around
// it.
func parseJSON(data []byte) (any, error) {
	v, n, err := parseJSONPrefix(data)
	if err != nil {
		return nil, err
	}
	p := jsonParser{data: data, i: n}
	p.space()
	if p.i < len(data) {
		return nil, p.errorf("invalid character %s after the top-level value", p.i)
	}
	return v, nil
}

// parseJSONPrefix decodes the JSON value at the start of data (after
// optional white space) and returns it with the offset just past it.
func parseJSONPrefix(data []byte) (any, int, error) {
	p := jsonParser{data: data}
	p.space()
	v, err := p.value()
	if err != nil {
		return nil, 0, err
	}
	return v, p.i, nil
}

// jsonParser is a recursive-descent parser over data.
type jsonParser struct {
	data  []byte
	i     int // the next byte
	depth int
}

// errorf reports a syntax error; %s in format is the quoted character at
// offset at (or "end of input").
func (p *jsonParser) errorf(format string, at int) error {
	c := "end of input"
	if at < len(p.data) {
		c = strconv.QuoteRune(rune(p.data[at]))
		if p.data[at] >= utf8.RuneSelf {
			c = "byte 0x" + strconv.FormatUint(uint64(p.data[at]), 16)
		}
	}
	return errorf(format+" at byte %d", c, at)
}

func (p *jsonParser) space() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// value parses one value; white space before it is already skipped.
func (p *jsonParser) value() (any, error) {
	if p.i >= len(p.data) {
		return nil, p.errorf("unexpected %s looking for a value", p.i)
	}
	switch c := p.data[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.string()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	}
	return nil, p.errorf("invalid character %s looking for a value", p.i)
}

func (p *jsonParser) literal(word string) error {
	for k := 0; k < len(word); k++ {
		if p.i >= len(p.data) || p.data[p.i] != word[k] {
			return p.errorf("invalid character %s in literal "+word, p.i)
		}
		p.i++
	}
	return nil
}

func (p *jsonParser) enter() error {
	p.depth++
	if p.depth > maxJSONDepth {
		return errorf("%w: over %d levels at byte %d", errJSONDepth, maxJSONDepth, p.i)
	}
	return nil
}

func (p *jsonParser) object() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.i++ // {
	o := jsonObject{}
	p.space()
	if p.i < len(p.data) && p.data[p.i] == '}' {
		p.i++
		p.depth--
		return o, nil
	}
	for {
		if p.i >= len(p.data) || p.data[p.i] != '"' {
			return nil, p.errorf("unexpected %s looking for an object key", p.i)
		}
		k, err := p.string()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.data) || p.data[p.i] != ':' {
			return nil, p.errorf("unexpected %s after an object key", p.i)
		}
		p.i++
		p.space()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		o = append(o, jsonMember{k, v})
		p.space()
		if p.i < len(p.data) && p.data[p.i] == ',' {
			p.i++
			p.space()
			continue
		}
		if p.i < len(p.data) && p.data[p.i] == '}' {
			p.i++
			p.depth--
			return o, nil
		}
		return nil, p.errorf("unexpected %s after an object value", p.i)
	}
}

func (p *jsonParser) array() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.i++ // [
	a := []any{}
	p.space()
	if p.i < len(p.data) && p.data[p.i] == ']' {
		p.i++
		p.depth--
		return a, nil
	}
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.space()
		if p.i < len(p.data) && p.data[p.i] == ',' {
			p.i++
			p.space()
			continue
		}
		if p.i < len(p.data) && p.data[p.i] == ']' {
			p.i++
			p.depth--
			return a, nil
		}
		return nil, p.errorf("unexpected %s after an array element", p.i)
	}
}

// number parses -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? as a float64.
func (p *jsonParser) number() (any, error) {
	start := p.i
	if p.data[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.data) && p.data[p.i] >= '0' && p.data[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	switch {
	case p.i < len(p.data) && p.data[p.i] == '0':
		p.i++
	case digits() == 0:
		return nil, p.errorf("invalid character %s in a number", p.i)
	}
	if p.i < len(p.data) && p.data[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, p.errorf("invalid character %s after a decimal point", p.i)
		}
	}
	if p.i < len(p.data) && (p.data[p.i] == 'e' || p.data[p.i] == 'E') {
		p.i++
		if p.i < len(p.data) && (p.data[p.i] == '+' || p.data[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, p.errorf("invalid character %s in an exponent", p.i)
		}
	}
	s := string(p.data[start:p.i])
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, errorf("number %s out of range at byte %d", s, start)
	}
	return f, nil
}

// string parses a quoted string as encoding/json does.
func (p *jsonParser) string() (string, error) {
	start := p.i
	p.i++ // "
	// Fast path: no escapes and plain ASCII.
	for j := p.i; j < len(p.data); j++ {
		c := p.data[j]
		if c == '"' {
			s := string(p.data[p.i:j])
			p.i = j + 1
			return s, nil
		}
		if c == '\\' || c < ' ' || c >= utf8.RuneSelf {
			break
		}
	}
	var b []byte
	for p.i < len(p.data) {
		c := p.data[p.i]
		switch {
		case c == '"':
			p.i++
			return string(b), nil
		case c < ' ':
			return "", p.errorf("invalid character %s in a string", p.i)
		case c == '\\':
			r, err := p.escape()
			if err != nil {
				return "", err
			}
			b = utf8.AppendRune(b, r)
		case c < utf8.RuneSelf:
			b = append(b, c)
			p.i++
		default:
			r, n := utf8.DecodeRune(p.data[p.i:])
			b = utf8.AppendRune(b, r) // U+FFFD for an invalid byte, as encoding/json
			p.i += n
		}
	}
	return "", errorf("unterminated string starting at byte %d", start)
}

// escape decodes the escape sequence at p.i (a backslash).
func (p *jsonParser) escape() (rune, error) {
	if p.i+1 >= len(p.data) {
		return 0, p.errorf("unexpected %s in an escape", len(p.data))
	}
	c := p.data[p.i+1]
	p.i += 2
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, err := p.hex4()
		if err != nil {
			return 0, err
		}
		if utf16.IsSurrogate(r) {
			// A high surrogate pairs with a following \u low surrogate;
			// anything else leaves U+FFFD, and the next escape is read on
			// its own.
			if p.i+1 < len(p.data) && p.data[p.i] == '\\' && p.data[p.i+1] == 'u' {
				save := p.i
				p.i += 2
				r2, err := p.hex4()
				if err != nil {
					return 0, err
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					return d, nil
				}
				p.i = save
			}
			return utf8.RuneError, nil
		}
		return r, nil
	}
	return 0, p.errorf("invalid character %s in an escape", p.i-1)
}

func (p *jsonParser) hex4() (rune, error) {
	var r rune
	for k := 0; k < 4; k++ {
		if p.i >= len(p.data) {
			return 0, p.errorf("unexpected %s in a \\u escape", p.i)
		}
		c := p.data[p.i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, p.errorf("invalid character %s in a \\u escape", p.i)
		}
		r = r<<4 | rune(c)
		p.i++
	}
	return r, nil
}

package jsonv

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/mavis-xai/mavis/internal/printf"
)

// MaxDepth bounds the nesting of arrays and objects.
const MaxDepth = 256

// Object is a JSON object's members in order.
type Object []Member

// Member is one member of a JSON object.
type Member struct {
	Key   string
	Value any
}

// ErrDepth is returned for input nested more than MaxDepth deep.
var ErrDepth = errors.New("nested too deeply")

// Parse decodes data, one JSON value with optional white space around
// it.
func Parse(data []byte) (any, error) {
	v, n, err := ParsePrefix(data)
	if err != nil {
		return nil, err
	}
	p := parser{data: data, i: n}
	p.space()
	if p.i < len(data) {
		return nil, p.errorf("invalid character %s after the top-level value", p.i)
	}
	return v, nil
}

// ParsePrefix decodes the JSON value at the start of data (after
// optional white space) and returns it with the offset just past it.
func ParsePrefix(data []byte) (any, int, error) {
	p := parser{data: data}
	p.space()
	v, err := p.value()
	if err != nil {
		return nil, 0, err
	}
	return v, p.i, nil
}

// parser is a recursive-descent parser over data.
type parser struct {
	data  []byte
	i     int // the next byte
	depth int
}

// errorf reports a syntax error; %s in format is the quoted character at
// offset at (or "end of input").
func (p *parser) errorf(format string, at int) error {
	c := "end of input"
	if at < len(p.data) {
		c = strconv.QuoteRune(rune(p.data[at]))
		if p.data[at] >= utf8.RuneSelf {
			c = "byte 0x" + strconv.FormatUint(uint64(p.data[at]), 16)
		}
	}
	return printf.Errorf(format+" at byte %d", c, at)
}

func (p *parser) space() {
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
func (p *parser) value() (any, error) {
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

func (p *parser) literal(word string) error {
	for k := 0; k < len(word); k++ {
		if p.i >= len(p.data) || p.data[p.i] != word[k] {
			return p.errorf("invalid character %s in literal "+word, p.i)
		}
		p.i++
	}
	return nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return printf.Errorf("%w: over %d levels at byte %d", ErrDepth, MaxDepth, p.i)
	}
	return nil
}

func (p *parser) object() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.i++ // {
	o := Object{}
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
		o = append(o, Member{k, v})
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

func (p *parser) array() (any, error) {
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
func (p *parser) number() (any, error) {
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
		return nil, printf.Errorf("number %s out of range at byte %d", s, start)
	}
	return f, nil
}

// string parses a quoted string as encoding/json does.
func (p *parser) string() (string, error) {
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
	return "", printf.Errorf("unterminated string starting at byte %d", start)
}

// escape decodes the escape sequence at p.i (a backslash).
func (p *parser) escape() (rune, error) {
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

func (p *parser) hex4() (rune, error) {
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

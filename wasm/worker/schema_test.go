package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// This file reads www/api.d.ts, the page's written schema, well enough to
// hold Go values to it: the declarations it names (interface X { ... } and
// type X = ...;) with member names, optional members, and types built of
// number, string, boolean, null, true, string literals, references, object
// literals, index signatures, arrays, tuples, unions and intersections.

// tsType is one parsed type.
type tsType struct {
	kind    string // "number", "string", "boolean", "null", "true", "literal", "ref", "object", "array", "tuple", "union", "inter"
	name    string // ref: the name; literal: the value
	elems   []*tsType
	members []tsMember
	index   *tsType // object: the index signature's value type
}

type tsMember struct {
	name     string
	optional bool
	typ      *tsType
}

// schema is api.d.ts: its source and the declarations parsed so far.
type schema struct {
	src   string
	decls map[string]*tsType
}

func readSchema(t *testing.T) *schema {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "www", "api.d.ts"))
	if err != nil {
		t.Fatal(err)
	}
	return &schema{src: string(b), decls: map[string]*tsType{}}
}

// decl returns the declaration of name, parsed on first use.
func (s *schema) decl(name string) (*tsType, error) {
	if d, ok := s.decls[name]; ok {
		return d, nil
	}
	toks := tokens(s.src)
	for i := 0; i+2 < len(toks); i++ {
		if (toks[i] != "interface" && toks[i] != "type") || toks[i+1] != name {
			continue
		}
		p := &tsParser{toks: toks, i: i + 2}
		var typ *tsType
		if toks[i] == "interface" {
			typ = p.object()
		} else {
			p.expect("=")
			typ = p.typ()
		}
		if p.err != "" {
			return nil, errors.New("api.d.ts: " + name + ": " + p.err)
		}
		s.decls[name] = typ
		return typ, nil
	}
	return nil, errors.New("api.d.ts declares no " + name)
}

// tokens splits TypeScript source into tokens, without comments.
func tokens(src string) []string {
	var out []string
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case strings.HasPrefix(src[i:], "/*"):
			j := strings.Index(src[i+2:], "*/")
			if j < 0 {
				return out
			}
			i += j + 4
		case c == '\'':
			j := strings.IndexByte(src[i+1:], '\'')
			if j < 0 {
				return out
			}
			out = append(out, src[i:i+j+2])
			i += j + 2
		case c == '_' || c == '$' || unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c)):
			j := i
			for j < len(src) && (src[j] == '_' || src[j] == '$' || unicode.IsLetter(rune(src[j])) || unicode.IsDigit(rune(src[j]))) {
				j++
			}
			out = append(out, src[i:j])
			i = j
		case c == '=' && strings.HasPrefix(src[i:], "=>"):
			out = append(out, "=>")
			i += 2
		case unicode.IsSpace(rune(c)):
			i++
		default:
			out = append(out, string(c))
			i++
		}
	}
	return out
}

type tsParser struct {
	toks []string
	i    int
	err  string
}

func (p *tsParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *tsParser) next() string {
	s := p.peek()
	p.i++
	return s
}

func (p *tsParser) expect(tok string) {
	if got := p.next(); got != tok && p.err == "" {
		p.err = "want " + strconv.Quote(tok) + ", got " + strconv.Quote(got) + " at token " + strconv.Itoa(p.i)
	}
}

func (p *tsParser) typ() *tsType {
	if p.peek() == "|" {
		p.next()
	}
	alts := []*tsType{p.inter()}
	for p.peek() == "|" && p.err == "" {
		p.next()
		alts = append(alts, p.inter())
	}
	if len(alts) == 1 {
		return alts[0]
	}
	return &tsType{kind: "union", elems: alts}
}

func (p *tsParser) inter() *tsType {
	parts := []*tsType{p.postfix()}
	for p.peek() == "&" && p.err == "" {
		p.next()
		parts = append(parts, p.postfix())
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return &tsType{kind: "inter", elems: parts}
}

func (p *tsParser) postfix() *tsType {
	t := p.primary()
	for p.peek() == "[" && p.i+1 < len(p.toks) && p.toks[p.i+1] == "]" {
		p.i += 2
		t = &tsType{kind: "array", elems: []*tsType{t}}
	}
	return t
}

func (p *tsParser) primary() *tsType {
	switch tok := p.peek(); {
	case tok == "{":
		return p.object()
	case tok == "[":
		p.next()
		t := &tsType{kind: "tuple"}
		for p.peek() != "]" && p.err == "" {
			t.elems = append(t.elems, p.typ())
			if p.peek() == "," {
				p.next()
			}
		}
		p.expect("]")
		return t
	case tok == "(":
		p.next()
		t := p.typ()
		p.expect(")")
		return t
	case strings.HasPrefix(tok, "'"):
		p.next()
		return &tsType{kind: "literal", name: strings.Trim(tok, "'")}
	case tok == "number" || tok == "string" || tok == "boolean" || tok == "null" || tok == "true":
		p.next()
		return &tsType{kind: tok}
	case tok != "" && (unicode.IsLetter(rune(tok[0])) || tok[0] == '_'):
		p.next()
		return &tsType{kind: "ref", name: tok}
	}
	if p.err == "" {
		p.err = "unexpected " + strconv.Quote(p.peek()) + " at token " + strconv.Itoa(p.i)
	}
	p.next()
	return &tsType{kind: "null"}
}

// object parses { members } (an interface body or an object literal).
func (p *tsParser) object() *tsType {
	p.expect("{")
	t := &tsType{kind: "object"}
	for p.peek() != "}" && p.err == "" {
		if p.peek() == "[" { // [key: string]: T
			p.next()
			p.next()
			p.expect(":")
			p.typ()
			p.expect("]")
			p.expect(":")
			t.index = p.typ()
		} else {
			m := tsMember{name: p.next()}
			if p.peek() == "?" {
				p.next()
				m.optional = true
			}
			p.expect(":")
			m.typ = p.typ()
			t.members = append(t.members, m)
		}
		if p.peek() == ";" || p.peek() == "," {
			p.next()
		}
	}
	p.expect("}")
	return t
}

// check holds v, a tree as values.go makes it, to typ; it returns the
// problems found, each with the path to the value. seen collects the
// optional members met (name: "Interface.member").
func (s *schema) check(v any, typ *tsType, path string, seen map[string]bool) []string {
	return s.checkIn(v, typ, path, "", seen)
}

func (s *schema) checkIn(v any, typ *tsType, path, owner string, seen map[string]bool) []string {
	bad := func(want string) []string { return []string{path + ": " + describeValue(v) + ", want " + want} }
	switch typ.kind {
	case "number":
		if _, ok := v.(float64); !ok {
			return bad("a number")
		}
	case "string":
		if _, ok := v.(string); !ok {
			return bad("a string")
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return bad("a boolean")
		}
	case "true":
		if v != true {
			return bad("true")
		}
	case "null":
		if v != nil {
			return bad("null")
		}
	case "literal":
		if v != typ.name {
			return bad(strconv.Quote(typ.name))
		}
	case "ref":
		switch typ.name {
		case "Uint8Array":
			if _, ok := v.([]byte); !ok {
				return bad("a Uint8Array")
			}
			return nil
		case "Float32Array":
			if _, ok := v.([]float32); !ok {
				return bad("a Float32Array")
			}
			return nil
		case "Float64Array":
			if _, ok := v.([]float64); !ok {
				return bad("a Float64Array")
			}
			return nil
		}
		d, err := s.decl(typ.name)
		if err != nil {
			return []string{path + ": " + err.Error()}
		}
		return s.checkIn(v, d, path, typ.name, seen)
	case "array":
		a, ok := v.([]any)
		if !ok {
			return bad("an array")
		}
		var out []string
		for i, e := range a {
			out = append(out, s.checkIn(e, typ.elems[0], path+"["+strconv.Itoa(i)+"]", owner, seen)...)
		}
		return out
	case "tuple":
		a, ok := v.([]any)
		if !ok || len(a) != len(typ.elems) {
			return bad("a tuple of " + strconv.Itoa(len(typ.elems)))
		}
		var out []string
		for i, e := range a {
			out = append(out, s.checkIn(e, typ.elems[i], path+"["+strconv.Itoa(i)+"]", owner, seen)...)
		}
		return out
	case "union":
		var first []string
		for _, alt := range typ.elems {
			probs := s.checkIn(v, alt, path, owner, seen)
			if len(probs) == 0 {
				return nil
			}
			if first == nil {
				first = probs
			}
		}
		return append([]string{path + ": no alternative of the union fits"}, first...)
	case "inter":
		var out []string
		for _, part := range typ.elems {
			out = append(out, s.checkIn(v, part, path, owner, seen)...)
		}
		return out
	case "object":
		o, ok := v.(map[string]any)
		if !ok {
			return bad("an object")
		}
		var out []string
		known := map[string]bool{}
		for _, m := range typ.members {
			known[m.name] = true
			e, present := o[m.name]
			if !present {
				if !m.optional {
					out = append(out, path+": missing member "+m.name)
				}
				continue
			}
			if m.optional && owner != "" {
				seen[owner+"."+m.name] = true
			}
			out = append(out, s.checkIn(e, m.typ, path+"."+m.name, "", seen)...)
		}
		keys := make([]string, 0, len(o))
		for k := range o {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if known[k] {
				continue
			}
			if typ.index == nil {
				out = append(out, path+": member "+k+" is not in the schema")
				continue
			}
			out = append(out, s.checkIn(o[k], typ.index, path+"."+k, "", seen)...)
		}
		return out
	default:
		return []string{path + ": unknown schema type " + typ.kind}
	}
	return nil
}

// optionals lists the optional members of the named interfaces, as
// "Interface.member".
func (s *schema) optionals(t *testing.T, names ...string) []string {
	t.Helper()
	var out []string
	for _, n := range names {
		d, err := s.decl(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range d.members {
			if m.optional {
				out = append(out, n+"."+m.name)
			}
		}
	}
	return out
}

func describeValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case []any:
		return "an array of " + strconv.Itoa(len(x))
	case map[string]any:
		return "an object"
	case []byte:
		return "[]byte"
	case []float32:
		return "[]float32"
	case []float64:
		return "[]float64"
	}
	return "a Go value the page cannot receive"
}

// TestSchemaParser holds the reader above to a hand-written declaration.
func TestSchemaParser(t *testing.T) {
	s := &schema{src: `// a comment
interface A { x: number; y?: 'a' | 'b'; /* note */ z: [number, string] | null; w: { k: boolean }[]; m: Float32Array }
type B = { [name: string]: number | string };`, decls: map[string]*tsType{}}
	a := &tsType{kind: "ref", name: "A"}
	seen := map[string]bool{}
	good := map[string]any{"x": 1.0, "y": "b", "z": []any{2.0, "s"}, "w": []any{map[string]any{"k": true}}, "m": []float32{1}}
	if p := s.check(good, a, "v", seen); len(p) > 0 || !seen["A.y"] {
		t.Errorf("a good value: %q (seen %v)", p, seen)
	}
	for _, tt := range []struct {
		v    map[string]any
		want string
	}{
		{map[string]any{"x": 1.0, "z": nil, "w": []any{}, "m": []float32{}}, ""},
		{map[string]any{"x": "1", "z": nil, "w": []any{}, "m": []float32{}}, "v.x: \"1\", want a number"},
		{map[string]any{"z": nil, "w": []any{}, "m": []float32{}}, "v: missing member x"},
		{map[string]any{"x": 1.0, "y": "c", "z": nil, "w": []any{}, "m": []float32{}}, "v.y: no alternative"},
		{map[string]any{"x": 1.0, "z": []any{1.0}, "w": []any{}, "m": []float32{}}, "v.z: no alternative"},
		{map[string]any{"x": 1.0, "z": nil, "w": []any{map[string]any{"k": 1.0}}, "m": []float32{}}, "v.w[0].k: 1, want a boolean"},
		{map[string]any{"x": 1.0, "z": nil, "w": []any{}, "m": []float64{}}, "v.m: []float64, want a Float32Array"},
		{map[string]any{"x": 1.0, "z": nil, "w": []any{}, "m": []float32{}, "extra": 1.0}, "v: member extra is not in the schema"},
	} {
		p := s.check(tt.v, a, "v", map[string]bool{})
		if got := strings.Join(p, "; "); (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%v: problems %q, want %q", tt.v, got, tt.want)
		}
	}
	b := &tsType{kind: "ref", name: "B"}
	if p := s.check(map[string]any{"steps": 3.0, "rule": "x"}, b, "b", seen); len(p) > 0 {
		t.Errorf("index signature: %q", p)
	}
	if p := s.check(map[string]any{"steps": true}, b, "b", seen); len(p) == 0 {
		t.Error("index signature: a boolean passed for number | string")
	}
}

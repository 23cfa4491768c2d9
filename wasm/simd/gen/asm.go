package main

// A small WebAssembly assembler: enough of the binary format (version 1,
// with the SIMD128 and bulk-memory instructions) to write the kernel
// module, and a text listing of the same instructions in the .wat syntax.
// Each instruction method appends its encoding to the function body and
// one line to the listing, so the two cannot disagree.
//
// References: the WebAssembly core specification, 2.0, chapter 5 (binary
// format) and the SIMD proposal's BinarySIMD.md (opcodes after the 0xfd
// prefix, encoded as LEB128).

import (
	"bytes"
	"fmt"
	"math"
	"strings"
)

// valType is a value type's binary code.
type valType byte

const (
	i32  valType = 0x7f
	i64  valType = 0x7e
	f32  valType = 0x7d
	f64  valType = 0x7c
	v128 valType = 0x7b
)

func (t valType) String() string {
	switch t {
	case i32:
		return "i32"
	case i64:
		return "i64"
	case f32:
		return "f32"
	case f64:
		return "f64"
	case v128:
		return "v128"
	}
	return fmt.Sprintf("type(%#x)", byte(t))
}

// module is a module under construction: it imports one memory (Go's) or
// one table, and defines and exports functions.
type module struct {
	memModule, memName     string // the imported memory, if memName != ""
	tableModule, tableName string // the imported funcref table, if tableName != ""
	tableMin               uint32
	funcs                  []*function
}

// local is a parameter or local variable of a function.
type local struct {
	idx  uint32
	name string
	typ  valType
}

// label is an enclosing block, loop or if, for br and br_if.
type label struct {
	depth int // nesting depth inside the label's construct
	name  string
}

// function is a function under construction.
type function struct {
	name    string
	doc     string // one line for the listing
	params  []local
	results []valType
	locals  []local
	code    bytes.Buffer
	text    strings.Builder
	depth   int // open blocks
}

// newFunc adds an exported function to m.
func (m *module) newFunc(name, doc string, results ...valType) *function {
	f := &function{name: name, doc: doc, results: results}
	m.funcs = append(m.funcs, f)
	return f
}

// param adds a parameter; all parameters come before any local.
func (f *function) param(name string, t valType) local {
	if len(f.locals) > 0 {
		panic("gen: " + f.name + ": parameter " + name + " after a local")
	}
	l := local{uint32(len(f.params)), name, t}
	f.params = append(f.params, l)
	return l
}

// local adds a local variable.
func (f *function) local(name string, t valType) local {
	l := local{uint32(len(f.params) + len(f.locals)), name, t}
	f.locals = append(f.locals, l)
	return l
}

// emit appends an instruction's bytes and its text.
func (f *function) emit(text string, b ...byte) {
	f.code.Write(b)
	f.text.WriteString(strings.Repeat("  ", f.depth+2))
	f.text.WriteString(text)
	f.text.WriteByte('\n')
}

// uleb and sleb encode LEB128 numbers.
func uleb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			c |= 0x80
		}
		b = append(b, c)
		if v == 0 {
			return b
		}
	}
}

func sleb(v int64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		done := (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0)
		if !done {
			c |= 0x80
		}
		b = append(b, c)
		if done {
			return b
		}
	}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// Structured control. body runs with the new label in scope.

func (f *function) block(name string, body func(l label)) {
	f.emit("block $"+name, 0x02, 0x40)
	f.depth++
	body(label{f.depth, name})
	f.depth--
	f.emit("end", 0x0b)
}

func (f *function) loop(name string, body func(l label)) {
	f.emit("loop $"+name, 0x03, 0x40)
	f.depth++
	body(label{f.depth, name})
	f.depth--
	f.emit("end", 0x0b)
}

// ifThen pops an i32 and runs then when it is not zero.
func (f *function) ifThen(then func()) { f.ifElse(then, nil) }

// ifElse pops an i32 and runs then when it is not zero, els otherwise.
func (f *function) ifElse(then, els func()) {
	f.emit("if", 0x04, 0x40)
	f.depth++
	then()
	if els != nil {
		f.depth--
		f.emit("else", 0x05)
		f.depth++
		els()
	}
	f.depth--
	f.emit("end", 0x0b)
}

func (f *function) rel(l label) []byte {
	if l.depth > f.depth {
		panic("gen: " + f.name + ": branch to $" + l.name + " outside its construct")
	}
	return uleb(uint64(f.depth - l.depth))
}

func (f *function) br(l label)   { f.emit("br $"+l.name, cat([]byte{0x0c}, f.rel(l))...) }
func (f *function) brIf(l label) { f.emit("br_if $"+l.name, cat([]byte{0x0d}, f.rel(l))...) }
func (f *function) ret()         { f.emit("return", 0x0f) }

// forRange runs body for i = i, i+step, ... while i < end (unsigned, for
// addresses); i and end are locals set by the caller, i advances.
func (f *function) forRange(name string, i, end local, step int32, body func()) {
	f.loopBelow(name, i, end, body, func() {
		f.get(i)
		f.i32Const(step)
		f.i32Add()
		f.tee(i)
	})
}

// whileBelow runs body while p < end (unsigned), testing before the first
// run; body advances p.
func (f *function) whileBelow(name string, p, end local, body func()) {
	f.loopBelow(name, p, end, body, func() { f.get(p) })
}

// loopBelow runs body while i < end (unsigned), testing before the first
// run; after each run next leaves i's new value on the stack.
func (f *function) loopBelow(name string, i, end local, body, next func()) {
	f.block(name+"_done", func(done label) {
		f.get(i)
		f.get(end)
		f.i32GeU()
		f.brIf(done)
		f.loop(name, func(l label) {
			body()
			next()
			f.get(end)
			f.i32LtU()
			f.brIf(l)
		})
	})
}

func (f *function) get(l local) {
	f.emit("local.get $"+l.name, cat([]byte{0x20}, uleb(uint64(l.idx)))...)
}
func (f *function) set(l local) {
	f.emit("local.set $"+l.name, cat([]byte{0x21}, uleb(uint64(l.idx)))...)
}
func (f *function) tee(l local) {
	f.emit("local.tee $"+l.name, cat([]byte{0x22}, uleb(uint64(l.idx)))...)
}

// Constants and scalar arithmetic.

func (f *function) i32Const(v int32) {
	f.emit(fmt.Sprintf("i32.const %d", v), cat([]byte{0x41}, sleb(int64(v)))...)
}

func (f *function) f32Const(v float32) {
	b := math.Float32bits(v)
	f.emit(fmt.Sprintf("f32.const %g", v), 0x43, byte(b), byte(b>>8), byte(b>>16), byte(b>>24))
}

func (f *function) op(name string, code byte) { f.emit(name, code) }

func (f *function) i32Eqz()  { f.op("i32.eqz", 0x45) }
func (f *function) i32Eq()   { f.op("i32.eq", 0x46) }
func (f *function) i32LtS()  { f.op("i32.lt_s", 0x48) }
func (f *function) i32LtU()  { f.op("i32.lt_u", 0x49) }
func (f *function) i32GtS()  { f.op("i32.gt_s", 0x4a) }
func (f *function) i32GeU()  { f.op("i32.ge_u", 0x4f) }
func (f *function) i32Add()  { f.op("i32.add", 0x6a) }
func (f *function) i32Sub()  { f.op("i32.sub", 0x6b) }
func (f *function) i32Mul()  { f.op("i32.mul", 0x6c) }
func (f *function) i32And()  { f.op("i32.and", 0x71) }
func (f *function) i32Shl()  { f.op("i32.shl", 0x74) }
func (f *function) i32ShrU() { f.op("i32.shr_u", 0x76) }
func (f *function) i32ShrS() { f.op("i32.shr_s", 0x75) }
func (f *function) i32Xor()  { f.op("i32.xor", 0x73) }
func (f *function) f32Ne()   { f.op("f32.ne", 0x5c) }
func (f *function) f32Add()  { f.op("f32.add", 0x92) }
func (f *function) f32Mul()  { f.op("f32.mul", 0x94) }
func (f *function) f64Add()  { f.op("f64.add", 0xa0) }

// i32ReinterpretF32 and f32ReinterpretI32 move a value's bits between the
// two types.
func (f *function) i32ReinterpretF32() { f.op("i32.reinterpret_f32", 0xbc) }
func (f *function) f32ReinterpretI32() { f.op("f32.reinterpret_i32", 0xbe) }

// f64PromoteF32 is f64.promote_f32.
func (f *function) f64PromoteF32() { f.op("f64.promote_f32", 0xbb) }

// sel pops c, b, a and pushes c != 0 ? a : b (select).
func (f *function) sel() { f.op("select", 0x1b) }

// memarg encodes a memory immediate: alignment (log2 bytes) and offset.
func memarg(align, offset uint32) []byte { return cat(uleb(uint64(align)), uleb(uint64(offset))) }

func memText(name string, offset uint32) string {
	if offset == 0 {
		return name
	}
	return fmt.Sprintf("%s offset=%d", name, offset)
}

// The memory instructions take the address from the stack; offset is
// added to it. Alignment hints are natural for scalars and 4 bytes for
// vectors (float32 arrays are 4-byte aligned, not 16).
func (f *function) i32Load(off uint32) {
	f.emit(memText("i32.load", off), cat([]byte{0x28}, memarg(2, off))...)
}
func (f *function) f32Load(off uint32) {
	f.emit(memText("f32.load", off), cat([]byte{0x2a}, memarg(2, off))...)
}
func (f *function) f32Store(off uint32) {
	f.emit(memText("f32.store", off), cat([]byte{0x38}, memarg(2, off))...)
}
func (f *function) i32Store(off uint32) {
	f.emit(memText("i32.store", off), cat([]byte{0x36}, memarg(2, off))...)
}

// SIMD128.

func (f *function) simd(name string, op uint32, imm ...byte) {
	f.emit(name, cat([]byte{0xfd}, uleb(uint64(op)), imm)...)
}

func (f *function) simdMem(name string, op, align, off uint32) {
	f.emit(memText(name, off), cat([]byte{0xfd}, uleb(uint64(op)), memarg(align, off))...)
}

func (f *function) v128Load(off uint32)        { f.simdMem("v128.load", 0x00, 2, off) }
func (f *function) v128Store(off uint32)       { f.simdMem("v128.store", 0x0b, 2, off) }
func (f *function) v128Load32Splat(off uint32) { f.simdMem("v128.load32_splat", 0x09, 2, off) }
func (f *function) v128Load64Zero(off uint32)  { f.simdMem("v128.load64_zero", 0x5d, 2, off) }

// v128Store32Lane stores lane i of a vector: (address, vector) on the stack.
func (f *function) v128Store32Lane(off uint32, lane byte) {
	f.emit(memText("v128.store32_lane", off)+fmt.Sprintf(" %d", lane), cat([]byte{0xfd}, uleb(0x5a), memarg(2, off), []byte{lane})...)
}

func (f *function) v128Const(v [16]byte) {
	var s []string
	for _, c := range v {
		s = append(s, fmt.Sprint(c))
	}
	f.emit("v128.const i8x16 "+strings.Join(s, " "), cat([]byte{0xfd}, uleb(0x0c), v[:])...)
}

// v128Zero pushes a zero vector.
func (f *function) v128Zero() { f.v128Const([16]byte{}) }

// i32x4Const pushes four int32 lanes.
func (f *function) i32x4Const(a, b, c, d int32) {
	var v [16]byte
	for i, x := range []int32{a, b, c, d} {
		u := uint32(x)
		v[4*i], v[4*i+1], v[4*i+2], v[4*i+3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
	}
	f.emit(fmt.Sprintf("v128.const i32x4 %d %d %d %d", a, b, c, d), cat([]byte{0xfd}, uleb(0x0c), v[:])...)
}

// i8x16Shuffle picks 16 bytes of two vectors (0-15 the first, 16-31 the second).
func (f *function) i8x16Shuffle(lanes [16]byte) {
	var s []string
	for _, c := range lanes {
		s = append(s, fmt.Sprint(c))
	}
	f.emit("i8x16.shuffle "+strings.Join(s, " "), cat([]byte{0xfd}, uleb(0x0d), lanes[:])...)
}

func (f *function) f32x4ExtractLane(lane byte) {
	f.emit(fmt.Sprintf("f32x4.extract_lane %d", lane), 0xfd, 0x1f, lane)
}

func (f *function) f32x4Splat()    { f.simd("f32x4.splat", 0x13) }
func (f *function) i32x4Splat()    { f.simd("i32x4.splat", 0x11) }
func (f *function) i32x4GtS()      { f.simd("i32x4.gt_s", 0x3b) }
func (f *function) i32x4Eq()       { f.simd("i32x4.eq", 0x37) }
func (f *function) i32x4Add()      { f.simd("i32x4.add", 0xae) }
func (f *function) f32x4Gt()       { f.simd("f32x4.gt", 0x44) }
func (f *function) v128And()       { f.simd("v128.and", 0x4e) }
func (f *function) v128AndNot()    { f.simd("v128.andnot", 0x4f) }
func (f *function) v128Or()        { f.simd("v128.or", 0x50) }
func (f *function) v128Xor()       { f.simd("v128.xor", 0x51) }
func (f *function) v128Bitselect() { f.simd("v128.bitselect", 0x52) }
func (f *function) f32x4Add()      { f.simd("f32x4.add", 0xe4) }
func (f *function) f32x4Sub()      { f.simd("f32x4.sub", 0xe5) }
func (f *function) f32x4Mul()      { f.simd("f32x4.mul", 0xe6) }

// The integer lanes of the resize kernels (gen/resize.go).
func (f *function) f64ConvertI32S()           { f.op("f64.convert_i32_s", 0xb7) }
func (f *function) i16x8Splat()               { f.simd("i16x8.splat", 0x10) }
func (f *function) f64x2Splat()               { f.simd("f64x2.splat", 0x14) }
func (f *function) i16x8ExtendLowI8x16U()     { f.simd("i16x8.extend_low_i8x16_u", 0x89) }
func (f *function) i16x8ExtendHighI8x16U()    { f.simd("i16x8.extend_high_i8x16_u", 0x8a) }
func (f *function) i32x4DotI16x8S()           { f.simd("i32x4.dot_i16x8_s", 0xba) }
func (f *function) i32x4ExtmulLowI16x8S()     { f.simd("i32x4.extmul_low_i16x8_s", 0xbc) }
func (f *function) i32x4ExtmulHighI16x8S()    { f.simd("i32x4.extmul_high_i16x8_s", 0xbd) }
func (f *function) i16x8NarrowI32x4S()        { f.simd("i16x8.narrow_i32x4_s", 0x85) }
func (f *function) i8x16NarrowI16x8U()        { f.simd("i8x16.narrow_i16x8_u", 0x66) }
func (f *function) f64x2ConvertLowI32x4S()    { f.simd("f64x2.convert_low_i32x4_s", 0xfe) }
func (f *function) f64x2Div()                 { f.simd("f64x2.div", 0xf3) }
func (f *function) i32x4TruncSatF64x2SZero()  { f.simd("i32x4.trunc_sat_f64x2_s_zero", 0xfc) }
func (f *function) v128Load32Zero(off uint32) { f.simdMem("v128.load32_zero", 0x5c, 2, off) }
func (f *function) i32x4AllTrue()             { f.simd("i32x4.all_true", 0xa3) }

// signature encodes f's function type.
func (f *function) signature() []byte {
	var ps []byte
	for _, p := range f.params {
		ps = append(ps, byte(p.typ))
	}
	rs := make([]byte, len(f.results))
	for j, r := range f.results {
		rs[j] = byte(r)
	}
	return cat([]byte{0x60}, uleb(uint64(len(ps))), ps, uleb(uint64(len(rs))), rs)
}

// types returns the module's function types, one per distinct signature
// in order of first use, and each function's type index.
func (m *module) types() (types [][]byte, funcType []int) {
	typeIdx := map[string]int{}
	for _, f := range m.funcs {
		t := f.signature()
		k, ok := typeIdx[string(t)]
		if !ok {
			k = len(types)
			typeIdx[string(t)] = k
			types = append(types, t)
		}
		funcType = append(funcType, k)
	}
	return types, funcType
}

// callIndirect calls entry i of table 0 with f's own signature, whose
// type index in the module is typ (module.types).
func (f *function) callIndirect(typ int) {
	f.emit(fmt.Sprintf("call_indirect (type %d)", typ), cat([]byte{0x11}, uleb(uint64(typ)), []byte{0x00})...)
}

// encode returns the module's binary.
func (m *module) encode() []byte {
	var out bytes.Buffer
	out.Write([]byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00})
	section := func(id byte, body []byte) {
		out.WriteByte(id)
		out.Write(uleb(uint64(len(body))))
		out.Write(body)
	}
	name := func(s string) []byte { return cat(uleb(uint64(len(s))), []byte(s)) }
	vec := func(items [][]byte) []byte { return cat(uleb(uint64(len(items))), bytes.Join(items, nil)) }

	types, funcType := m.types()
	section(1, vec(types))
	// Imports: the memory, limits {min 0, no max}; the table, funcref
	// {min tableMin, no max}.
	var imports [][]byte
	if m.memName != "" {
		imports = append(imports, cat(name(m.memModule), name(m.memName), []byte{0x02, 0x00, 0x00}))
	}
	if m.tableName != "" {
		imports = append(imports, cat(name(m.tableModule), name(m.tableName), []byte{0x01, 0x70, 0x00}, uleb(uint64(m.tableMin))))
	}
	section(2, vec(imports))
	var fs [][]byte
	for _, k := range funcType {
		fs = append(fs, uleb(uint64(k)))
	}
	section(3, vec(fs))
	var ex [][]byte
	for i, f := range m.funcs {
		ex = append(ex, cat(name(f.name), []byte{0x00}, uleb(uint64(i))))
	}
	section(7, vec(ex))
	var bodies [][]byte
	for _, f := range m.funcs {
		if f.depth != 0 {
			panic("gen: " + f.name + ": unclosed block")
		}
		// Locals, run-length encoded by type.
		var groups [][]byte
		for i := 0; i < len(f.locals); {
			j := i
			for j < len(f.locals) && f.locals[j].typ == f.locals[i].typ {
				j++
			}
			groups = append(groups, cat(uleb(uint64(j-i)), []byte{byte(f.locals[i].typ)}))
			i = j
		}
		body := cat(vec(groups), f.code.Bytes(), []byte{0x0b})
		bodies = append(bodies, cat(uleb(uint64(len(body))), body))
	}
	section(10, vec(bodies))
	// The name section: function and local names, for stack traces and
	// disassemblers.
	var fnames, lnames [][]byte
	for i, f := range m.funcs {
		fnames = append(fnames, cat(uleb(uint64(i)), name(f.name)))
		var ls [][]byte
		for _, l := range append(append([]local(nil), f.params...), f.locals...) {
			ls = append(ls, cat(uleb(uint64(l.idx)), name(l.name)))
		}
		lnames = append(lnames, cat(uleb(uint64(i)), vec(ls)))
	}
	sub := func(id byte, body []byte) []byte { return cat([]byte{id}, uleb(uint64(len(body))), body) }
	section(0, cat(name("name"), sub(1, vec(fnames)), sub(2, vec(lnames))))
	return out.Bytes()
}

// wat returns the module's text listing.
func (m *module) wat(header string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(header), "\n") {
		b.WriteString(";; " + l + "\n")
	}
	b.WriteString("(module\n")
	if m.memName != "" {
		fmt.Fprintf(&b, "  (import %q %q (memory 0))\n", m.memModule, m.memName)
	}
	if m.tableName != "" {
		fmt.Fprintf(&b, "  (import %q %q (table %d funcref))\n", m.tableModule, m.tableName, m.tableMin)
	}
	for _, f := range m.funcs {
		fmt.Fprintf(&b, "\n  ;; %s\n  (func $%s (export %q)", f.doc, f.name, f.name)
		for _, p := range f.params {
			fmt.Fprintf(&b, " (param $%s %s)", p.name, p.typ)
		}
		for _, r := range f.results {
			fmt.Fprintf(&b, " (result %s)", r)
		}
		b.WriteString("\n")
		for _, l := range f.locals {
			fmt.Fprintf(&b, "    (local $%s %s)\n", l.name, l.typ)
		}
		b.WriteString(f.text.String())
		b.WriteString("  )\n")
	}
	b.WriteString(")\n")
	return b.String()
}

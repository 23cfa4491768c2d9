// Command wasmsize breaks a Go wasm module's code down by package, from its
// name section: build without -s -w so that the names are there.
//
//	GOOS=js GOARCH=wasm go build -trimpath -o /tmp/worker.wasm ./wasm/worker
//	go run ./scripts/wasmsize /tmp/worker.wasm             # bytes of code per package
//	go run ./scripts/wasmsize /tmp/worker.wasm mavis_nn.   # the functions whose names contain mavis_nn.
//
// Names are as the Go linker writes them for wasm: "/" and "-" become "_"
// ("github.com_mavis_xai_mavis_nn.Build", "encoding_json.Marshal"). The
// first line gives the code and data section sizes and the function count.
// Code and data shrink together: the data section holds each linked
// function's tables and each linked type. To see why a function is linked,
// build with -ldflags=-dumpdep and follow the "a -> b" edges.
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

func main() {
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: wasmsize file.wasm [name-substring]")
		flag.PrintDefaults()
	}
	top := flag.Int("n", 45, "packages to list")
	flag.Parse()
	if flag.NArg() < 1 || flag.NArg() > 2 {
		flag.Usage()
		os.Exit(2)
	}
	b, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasmsize:", err)
		os.Exit(1)
	}
	m, err := parse(b)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasmsize:", flag.Arg(0)+":", err)
		os.Exit(1)
	}
	if len(m.names) == 0 {
		fmt.Fprintln(os.Stderr, "wasmsize: no name section: build without -ldflags=-s")
		os.Exit(1)
	}
	if flag.NArg() == 2 {
		for i, size := range m.bodies {
			if n := m.names[i+m.imports]; strings.Contains(n, flag.Arg(1)) {
				fmt.Printf("%8d %s\n", size, n)
			}
		}
		return
	}
	byPkg := map[string]int{}
	total := 0
	for i, size := range m.bodies {
		byPkg[pkgOf(m.names[i+m.imports])] += size
		total += size
	}
	pkgs := make([]string, 0, len(byPkg))
	for p := range byPkg {
		pkgs = append(pkgs, p)
	}
	sort.Slice(pkgs, func(i, j int) bool { return byPkg[pkgs[i]] > byPkg[pkgs[j]] })
	fmt.Printf("code %d data %d funcs %d\n", total, m.data, len(m.bodies))
	for _, p := range pkgs[:min(len(pkgs), *top)] {
		fmt.Printf("%8d %s\n", byPkg[p], p)
	}
}

// module is what wasmsize reads from a module.
type module struct {
	imports int            // imported functions (they come first in the index space)
	bodies  []int          // code size of each defined function
	names   map[int]string // function index to name
	data    int            // data section size
}

// pkgOf returns the package part of a linker symbol name: up to the first
// "." after the last "_"-separated path element ("github.com_x_y.F" keeps
// the dot in github.com).
func pkgOf(n string) string {
	start := 0
	if strings.HasPrefix(n, "github.com_") {
		start = len("github.com_")
	} else if d := strings.LastIndex(n, "/"); d >= 0 {
		start = d
	}
	if e := strings.Index(n[start:], "."); e >= 0 {
		return n[:start+e]
	}
	return n
}

// reader reads LEB128 numbers and byte strings from a section.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uleb() int {
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > 1<<31 {
		r.err = errors.New("bad LEB128 number")
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

func (r *reader) bytes(n int) []byte {
	if n > len(r.b) {
		r.err = errors.New("truncated section")
		r.b = nil
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}

func parse(b []byte) (module, error) {
	m := module{names: map[int]string{}}
	if len(b) < 8 || string(b[:4]) != "\x00asm" {
		return m, errors.New("not a wasm module")
	}
	r := reader{b: b[8:]}
	for len(r.b) > 0 && r.err == nil {
		id := r.bytes(1)
		size := r.uleb()
		s := reader{b: r.bytes(size)}
		if r.err != nil {
			break
		}
		switch id[0] {
		case 2: // imports
			for range s.uleb() {
				s.bytes(s.uleb()) // module
				s.bytes(s.uleb()) // name
				kind := s.bytes(1)
				if len(kind) == 0 {
					break
				}
				switch kind[0] {
				case 0: // function
					s.uleb()
					m.imports++
				case 1: // table
					s.bytes(1)
					if f := s.uleb(); f&1 != 0 {
						s.uleb()
						s.uleb()
					} else {
						s.uleb()
					}
				case 2: // memory
					if f := s.uleb(); f&1 != 0 {
						s.uleb()
						s.uleb()
					} else {
						s.uleb()
					}
				case 3: // global
					s.bytes(2)
				}
			}
		case 10: // code
			for range s.uleb() {
				n := s.uleb()
				m.bodies = append(m.bodies, n)
				s.bytes(n)
			}
		case 11: // data
			m.data = size
		case 0: // custom
			if string(s.bytes(s.uleb())) != "name" {
				continue
			}
			for len(s.b) > 0 && s.err == nil {
				sid := s.bytes(1)
				sub := reader{b: s.bytes(s.uleb())}
				if len(sid) == 0 || sid[0] != 1 {
					continue
				}
				for range sub.uleb() {
					i := sub.uleb()
					m.names[i] = string(sub.bytes(sub.uleb()))
				}
				if sub.err != nil {
					return m, sub.err
				}
			}
		}
		if s.err != nil {
			return m, s.err
		}
	}
	return m, r.err
}

package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/mavis-xai/mavis/nn"
)

var wnid = regexp.MustCompile(`^n[0-9]{8}$`)

// parseClasses reads one class per line: "wnid name words" (a WordNet id
// such as n01443537 then its name) or just "name". Blank lines and lines
// starting with # are skipped.
func parseClasses(r io.Reader, src string) ([]nn.Class, error) {
	var out []nn.Class
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		id, name, ok := strings.Cut(s, " ")
		name = strings.TrimSpace(name)
		if ok && wnid.MatchString(id) && name != "" {
			out = append(out, nn.Class{ID: id, Name: name})
			continue
		}
		if wnid.MatchString(s) {
			out = append(out, nn.Class{ID: s, Name: s})
			continue
		}
		out = append(out, nn.Class{ID: s, Name: s})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("classes: %s: %v", src, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("classes: %s lists no classes", src)
	}
	seen := map[string]int{}
	for i, c := range out {
		if j, dup := seen[c.ID]; dup {
			return nil, fmt.Errorf("classes: %s: %q appears at entries %d and %d", src, c.ID, j+1, i+1)
		}
		seen[c.ID] = i
	}
	return out, nil
}

// setClasses sets m.Classes from a file, or the default of a built-in
// architecture, and checks the count against the model's outputs.
func setClasses(m *nn.Model, path, builtin string) error {
	var cs []nn.Class
	switch {
	case path != "":
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("classes: %v", err)
		}
		defer f.Close()
		if cs, err = parseClasses(f, path); err != nil {
			return err
		}
	case builtin == "mavis":
		cs = mavisClasses
	default:
		return nil
	}
	if out := m.Shapes[len(m.Shapes)-1][2]; len(cs) != out {
		return fmt.Errorf("classes: %d given, the model has %d outputs", len(cs), out)
	}
	m.Classes = cs
	return nil
}

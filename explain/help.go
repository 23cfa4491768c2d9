package main

// --help text at about 80 columns: the flags' documentation and the
// method list come from the registry and the flag definitions, whose
// lines are long, so they are wrapped here.

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// helpWidth is the column --help wraps at.
const helpWidth = 80

// wrap fills words into lines of at most width columns; every line after
// the first starts with indent spaces, and the first with first spaces
// (a word longer than a line gets a line of its own).
func wrap(s string, first, indent, width int) string {
	var b strings.Builder
	col := first
	b.WriteString(strings.Repeat(" ", first))
	start := true
	for _, w := range strings.Fields(s) {
		if !start && col+1+len([]rune(w)) > width {
			b.WriteString("\n" + strings.Repeat(" ", indent))
			col, start = indent, true
		}
		if !start {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += len([]rune(w))
		start = false
	}
	return b.String()
}

// printFlags is flag.PrintDefaults with each flag's text wrapped to
// helpWidth columns under its name.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		head := "  -" + f.Name
		if name != "" {
			head += " " + name
		}
		switch {
		case f.DefValue == "" || f.DefValue == "0" || f.DefValue == "false":
		case name == "string":
			usage += fmt.Sprintf(" (default %q)", f.DefValue)
		default:
			usage += fmt.Sprintf(" (default %v)", f.DefValue)
		}
		fmt.Fprintf(w, "%s\n%s\n", head, wrap(usage, 8, 8, helpWidth))
	})
}

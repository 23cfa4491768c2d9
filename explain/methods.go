package main

// The explanation methods and their flags, all from xai's registry: every
// parameter of every method is a flag -<method>-<param> (-ig-steps,
// -smoothgrad-samples, ...), documented in --help from the registry, and
// -methods names methods by their registry names. Nothing here lists a
// method.

import (
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/mavis-xai/mavis/xai"
)

// methodFlags holds the per-method parameter flags as given.
type methodFlags struct {
	set map[string]map[string]string // method -> param -> value as typed
}

// register adds one flag per parameter of every registered method to fs.
func (mf *methodFlags) register(fs *flag.FlagSet) {
	mf.set = map[string]map[string]string{}
	for _, m := range xai.Methods() {
		for _, p := range m.Params {
			name, param := m.Name, p.Name
			doc := fmt.Sprintf("%s: %s (%s; default %v)", m.Label, p.Doc, paramRange(p), p.Default)
			if w := p.With; w != nil {
				doc += fmt.Sprintf("; only with -%s-%s %s", name, w.Param, strings.Join(w.Values, " or "))
			}
			fs.Func(name+"-"+param, doc, func(s string) error {
				if mf.set[name] == nil {
					mf.set[name] = map[string]string{}
				}
				mf.set[name][param] = s
				return nil
			})
		}
	}
}

// paramRange describes the values a parameter takes.
func paramRange(p xai.Param) string {
	switch p.Kind {
	case xai.Int:
		return fmt.Sprintf("a whole number %g..%g", p.Min, p.Max)
	case xai.Float:
		return fmt.Sprintf("%g..%g", p.Min, p.Max)
	case xai.Choice:
		return strings.Join(p.Choices, ", ")
	}
	return "true or false"
}

// options resolves the flags given into each method's Options, checking
// them against the registry; errors name the flag.
func (mf *methodFlags) options() (map[string]xai.Options, error) {
	out := map[string]xai.Options{}
	methods := make([]string, 0, len(mf.set))
	for name := range mf.set {
		methods = append(methods, name)
	}
	slices.Sort(methods)
	for _, name := range methods {
		m, err := xai.Lookup(name)
		if err != nil {
			return nil, err
		}
		o := xai.Options{}
		for param, s := range mf.set[name] {
			o[param] = s
		}
		for param := range o {
			if _, err := m.Resolve(xai.Options{param: o[param]}); err != nil {
				return nil, fmt.Errorf("-%s-%s", name, strings.TrimPrefix(err.Error(), "xai: "+name+": "))
			}
		}
		out[name] = o
	}
	return out, nil
}

// parseMethods reads -methods: registry names, comma-separated;
// "default": the page's default methods and every fast one
// (xai.QuickMethods); "page": the page's default methods; "all": every
// method.
func parseMethods(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(strings.ToLower(f))
		var names []string
		switch f {
		case "":
			continue
		case "default":
			names = xai.QuickMethods()
		case "page":
			names = xai.DefaultMethods()
		case "all":
			for _, m := range xai.Methods() {
				names = append(names, m.Name)
			}
		default:
			if _, err := xai.Lookup(f); err != nil {
				return nil, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "xai: "))
			}
			names = []string{f}
		}
		for _, n := range names {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out, nil
}

// methodsHelp lists the methods for --help: name, label, what the map
// shows and the paper, grouped by family.
func methodsHelp() string {
	var b strings.Builder
	b.WriteString("\n" + wrap("Methods (-methods NAME,...; \"default\": the page's "+strings.Join(xai.DefaultMethods(), ",")+
		" and every method marked fast; \"page\": the page's only; \"all\": every one):", 0, 2, helpWidth) + "\n")
	family := xai.Family("")
	for _, m := range xai.Methods() {
		if m.Family != family {
			family = m.Family
			fmt.Fprintf(&b, "\n  %s\n", familyTitle(family))
		}
		// The name, then the label, what the map shows and the paper,
		// wrapped in a column of their own.
		const col = 17
		text := m.Label + ". " + m.Doc
		if m.Fast {
			text += " Fast: a few passes."
		}
		doc := wrap(text, col, col, helpWidth)
		fmt.Fprintf(&b, "  %-14s %s\n%s\n", m.Name, doc[col:], wrap(m.Paper, col, col, helpWidth))
	}
	return b.String()
}

func familyTitle(f xai.Family) string {
	if d := f.Doc(); d != "" {
		return f.Label() + " (" + d + "):"
	}
	return f.Label() + ":"
}

package xai

import "testing"

// Every family has a heading of its own, not its identifier.
func TestFamilyLabel(t *testing.T) {
	seen := map[string]Family{}
	for _, f := range Families {
		l := f.Label()
		if l == "" || l == string(f) {
			t.Errorf("family %q has no label (%q)", f, l)
		}
		if g, ok := seen[l]; ok {
			t.Errorf("families %q and %q share the label %q", g, f, l)
		}
		seen[l] = f
	}
}

package xai

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEListsMethods: the README's method table lists every registered
// method by its registry name with its paper's address, so that adding a
// method without documenting it fails.
func TestREADMEListsMethods(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		for _, m := range Methods() {
			if strings.Contains(line, "| `"+m.Name+"` |") && !strings.Contains(line, "("+m.URL+")") {
				t.Errorf("README's row for %s does not link its paper %s", m.Name, m.URL)
			}
		}
	}
	for _, m := range Methods() {
		if !strings.Contains(string(data), "| `"+m.Name+"` |") {
			t.Errorf("README's method table lacks %s", m.Name)
		}
	}
}

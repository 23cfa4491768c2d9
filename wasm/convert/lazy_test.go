//go:build !(js && wasm)

package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestConverterIsLazy: nothing on the way to the first prediction loads the
// converter. No page file imports convert.js statically (import() when a
// Keras file arrives is the way: api.d.ts section 5) or names
// convert-worker.js or convert.wasm, except convert.js, which starts the
// worker, and the worker, which fetches the wasm.
func TestConverterIsLazy(t *testing.T) {
	static := regexp.MustCompile(`(?m)^\s*import\s[^(]*['"]\./convert\.js['"]|<script[^>]*convert|importScripts\([^)]*convert`)
	names := regexp.MustCompile(`convert-worker\.js|convert\.wasm`)
	files, _ := filepath.Glob("../../www/*.js")
	html, _ := filepath.Glob("../../www/*.html")
	files = append(files, html...)
	if len(files) < 3 {
		t.Fatalf("only %d page files found", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(f)
		if m := static.Find(b); m != nil {
			t.Errorf("%s loads the converter statically: %q", base, m)
		}
		if base != "convert.js" && base != "convert-worker.js" && names.Match(b) {
			t.Errorf("%s names %s: only convert.js starts the converter", base, names.Find(b))
		}
	}
}

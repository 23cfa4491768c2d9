package main

import (
	"bytes"
	"os"
	"testing"
)

// TestViewerPages: www/viewer-2d.html and www/viewer.html, the two builds'
// pages, differ only in the wasm their preload link names (viewer.js
// fetches that one). Each names its own: the preload starts the wasm's
// request with the scripts' (www/viewer.js), and a page cannot choose it
// at run time without an inline script, which the Content-Security-Policy
// forbids.
func TestViewerPages(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile("../../www/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	gpu, flat := read("viewer.html"), read("viewer-2d.html")
	for _, p := range []struct {
		page []byte
		wasm string
	}{{gpu, "viewer.wasm"}, {flat, "viewer-2d.wasm"}} {
		if n := bytes.Count(p.page, []byte(`rel="preload"`)); n != 1 || !bytes.Contains(p.page, []byte(`<link rel="preload" href="`+p.wasm+`" as="fetch" crossorigin>`)) {
			t.Errorf("the page of %s must preload it and nothing else (%d preload links)", p.wasm, n)
		}
	}
	if !bytes.Equal(bytes.Replace(flat, []byte(`href="viewer-2d.wasm"`), []byte(`href="viewer.wasm"`), 1), gpu) {
		t.Errorf("www/viewer-2d.html differs from www/viewer.html in more than its preload link")
	}
}

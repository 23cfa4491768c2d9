//go:build js && wasm && canvas2d

package main

// The viewer built with -tags canvas2d (www/viewer-2d.wasm, the page's
// default) has the 2D canvas only: no Ebitengine, a third of the bytes,
// and none of Ebitengine's start-up (its shader compiler), which on a
// first visit held the page's maps back (www/BENCHMARKS.md, session 37).

// newTarget returns the 2D canvas and run, which waits for ever.
func newTarget(post func(map[string]any)) (target, func() error, error) {
	return newFlatTarget(post)
}

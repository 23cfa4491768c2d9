//go:build js && wasm && !canvas2d

package main

import (
	"syscall/js"

	"github.com/hajimehoshi/ebiten/v2"
)

// newTarget returns the Ebitengine Game, which draws on the GPU, and run,
// which runs its loop; in a browser without WebGL 2, which Ebitengine
// needs, the 2D canvas (flat) instead.
func newTarget(post func(map[string]any)) (target, func() error, error) {
	if !hasWebGL2() {
		js.Global().Get("console").Call("info", "viewer: this browser offers no WebGL 2; the maps are drawn on a 2D canvas")
		return newFlatTarget(post)
	}
	game, err := newGame(post)
	if err != nil {
		return nil, nil, err
	}
	return game, func() error {
		ebiten.SetWindowTitle("MAVIS-XAI viewer")
		ebiten.SetRunnableOnUnfocused(true)
		ebiten.SetScreenClearedEveryFrame(false) // Draw repaints only after a change
		// Frames only on input, resizing and schedule (game.go), so that an
		// idle viewer costs the page's thread nothing. (The mode is
		// deprecated since Ebitengine 2.5 in favour of
		// SetScreenClearedEveryFrame(false), which saves the drawing but
		// still runs Update on every animation frame: in a trace of the
		// idle page in headless Chromium, its thread was busy 133-146 ms a
		// second with that alone, 82-85 ms in this mode while the loop
		// still ticked, and 7 ms once the loop waited in viewer.js.)
		ebiten.SetFPSMode(ebiten.FPSModeVsyncOffMinimum)
		return ebiten.RunGame(game)
	}, nil
}

// hasWebGL2 reports whether a canvas of this document gives a WebGL 2
// context, which Ebitengine needs. The context it tried is let go at once.
func hasWebGL2() bool {
	gl := js.Global().Get("document").Call("createElement", "canvas").Call("getContext", "webgl2")
	if !gl.Truthy() {
		return false
	}
	if lose := gl.Call("getExtension", "WEBGL_lose_context"); lose.Truthy() {
		lose.Call("loseContext")
	}
	return true
}

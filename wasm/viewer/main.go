//go:build js && wasm

// Command viewer draws an image with its explanation maps over it,
// compiled to js/wasm and run in a same-origin iframe. It has two builds:
//
//   - www/viewer-2d.wasm (-tags canvas2d, in www/viewer-2d.html), the
//     page's default: the maps drawn on a 2D canvas by the CPU (flat.go);
//   - www/viewer.wasm (in www/viewer.html, the page with ?viewer=gpu): an
//     Ebitengine program, which draws them on the GPU with WebGL 2 (game.go),
//     and on the 2D canvas in a browser without WebGL 2.
//
// Both draw the same pictures. www/viewer.js receives the page's messages
// and calls the global object this program registers (contract in
// www/api.d.ts):
//
//	viewer.setColormaps(names, luts)   the lookup tables xai built (256 RGBA entries each), by name
//	viewer.setImage(rgba Uint8Array, width, height)
//	viewer.setSlots(labels)            one empty panel per label, any number
//	viewer.setMap(slot, label, float32Bytes Uint8Array, width, height, lo, hi, colormap, signed)
//	                                   the raw map, coloured from lo to hi on the named colormap
//	                                   (the worker's xai.DisplayScale); empty bytes clear the slot
//	viewer.setStyle(opacity, layout, selected)
//	viewer.png(slot)                   the overlay arrives later as {type:"png", slot, png}
//
// It posts {type:"ready"}, {type:"shown", at} (the first map drawn),
// {type:"hover", slot, label, x, y, value}, {type:"layout", layout,
// selected} and {type:"png", ...} to the parent.
// When it ends (the viewer could not start), it leaves the reason in the
// global viewerError for viewer.js.
// On the GPU, after each call it asks for a frame and calls viewerWake(),
// which viewer.js defines: the frame loop waits there while nothing
// changes.
package main

import (
	"fmt"
	"math"
	"syscall/js"
)

func main() {
	post := func(msg map[string]any) {
		v := js.Global().Get("Object").New()
		for k, x := range msg {
			if b, ok := x.([]byte); ok {
				a := js.Global().Get("Uint8Array").New(len(b))
				js.CopyBytesToJS(a, b)
				x = a
			}
			v.Set(k, x)
		}
		js.Global().Get("parent").Call("postMessage", v, js.Global().Get("location").Get("origin"))
	}
	// Why the program ends, for viewer.js, which tells the page.
	stop := func(err error) { js.Global().Set("viewerError", err.Error()) }
	g, run, err := newTarget(post)
	if err != nil {
		stop(err)
		return
	}
	api := js.Global().Get("Object").New()
	api.Set("setImage", fn(3, func(a []js.Value) error {
		b, err := bytesArg(a[0])
		if err != nil {
			return err
		}
		w, h := a[1].Int(), a[2].Int()
		if w < 1 || h < 1 || w > 4096 || h > 4096 || len(b) != 4*w*h {
			return fmt.Errorf("viewer: %d bytes for a %dx%d RGBA image", len(b), w, h)
		}
		g.queue(func() { g.setImage(b, w, h) })
		return nil
	}))
	api.Set("setColormaps", fn(2, func(a []js.Value) error {
		if a[0].Type() != js.TypeObject || a[1].Type() != js.TypeObject || a[0].Length() != a[1].Length() {
			return fmt.Errorf("viewer: setColormaps(names, luts): two arrays of the same length")
		}
		n := a[0].Length()
		names, luts := make([]string, n), make([][]byte, n)
		for i := range n {
			b, err := bytesArg(a[1].Index(i))
			if err != nil {
				return err
			}
			names[i] = a[0].Index(i).String()
			if len(b) != 4*256 {
				return fmt.Errorf("viewer: colormap %s: %d bytes, want 256 RGBA entries (1024)", names[i], len(b))
			}
			luts[i] = b
		}
		g.queue(func() { g.setColormaps(names, luts) })
		return nil
	}))
	api.Set("setSlots", fn(1, func(a []js.Value) error {
		if a[0].Type() != js.TypeObject || a[0].Length() > maxSlots {
			return fmt.Errorf("viewer: setSlots(labels): an array of at most %d labels", maxSlots)
		}
		labels := make([]string, a[0].Length())
		for i := range labels {
			labels[i] = a[0].Index(i).String()
		}
		g.queue(func() { g.setSlots(labels) })
		return nil
	}))
	api.Set("setMap", fn(9, func(a []js.Value) error {
		slot, label := a[0].Int(), a[1].String()
		sc := scale{Lo: float32(a[5].Float()), Hi: float32(a[6].Float()), Colormap: a[7].String(), Signed: a[8].Truthy()}
		b, err := bytesArg(a[2])
		if err != nil {
			return err
		}
		w, h := a[3].Int(), a[4].Int()
		if slot < 0 || slot >= maxSlots {
			return fmt.Errorf("viewer: slot %d out of range 0..%d", slot, maxSlots-1)
		}
		if len(b) == 0 {
			g.queue(func() { g.setMap(slot, label, nil, 0, 0, scale{}) })
			return nil
		}
		if w < 1 || h < 1 || w > 4096 || h > 4096 || len(b) != 4*w*h {
			return fmt.Errorf("viewer: %d bytes for a %dx%d float32 map", len(b), w, h)
		}
		data := make([]float32, w*h)
		for i := range data {
			data[i] = math.Float32frombits(uint32(b[4*i]) | uint32(b[4*i+1])<<8 | uint32(b[4*i+2])<<16 | uint32(b[4*i+3])<<24)
		}
		g.queue(func() {
			if !g.hasColormap(sc.Colormap) {
				post(map[string]any{"type": "error", "error": "viewer: unknown colormap " + sc.Colormap + " (setColormaps first)"})
			}
			g.setMap(slot, label, data, w, h, sc)
		})
		return nil
	}))
	api.Set("setStyle", fn(3, func(a []js.Value) error {
		s := style{Opacity: a[0].Float(), Layout: a[1].String(), Selected: a[2].Int()}
		g.queue(func() { g.setStyle(s) })
		return nil
	}))
	api.Set("png", fn(1, func(a []js.Value) error {
		slot := a[0].Int()
		if slot < 0 || slot >= maxSlots {
			return fmt.Errorf("viewer: slot %d out of range 0..%d", slot, maxSlots-1)
		}
		g.requestPNG(slot)
		return nil
	}))
	js.Global().Set("viewer", api)
	post(map[string]any{"type": "ready"})
	if err := run(); err != nil {
		stop(err)
	}
}

// target is what the page's calls reach: flat or the Ebitengine Game
// (newTarget). queue runs f where the target draws (Game's next Update).
type target interface {
	queue(f func())
	setImage(rgba []byte, w, h int)
	setColormaps(names []string, luts [][]byte)
	setSlots(labels []string)
	setMap(i int, label string, data []float32, w, h int, sc scale)
	setStyle(s style)
	hasColormap(name string) bool
	requestPNG(slot int)
}

// fn wraps f as a JS function that returns null or the error's text, and
// never lets a panic end the Go program.
func fn(nargs int, f func([]js.Value) error) js.Func {
	return js.FuncOf(func(this js.Value, args []js.Value) (res any) {
		defer func() {
			if r := recover(); r != nil {
				res = fmt.Sprintf("viewer: internal error: %v", r)
			}
		}()
		if len(args) < nargs {
			return fmt.Sprintf("viewer: %d arguments, want %d", len(args), nargs)
		}
		if err := f(args); err != nil {
			return err.Error()
		}
		return nil
	})
}

// bytesArg copies a Uint8Array (created in this realm: viewer.js re-wraps
// what the parent sends) into a new Go slice.
func bytesArg(v js.Value) ([]byte, error) {
	if v.Type() != js.TypeObject || !v.InstanceOf(js.Global().Get("Uint8Array")) {
		return nil, fmt.Errorf("viewer: want a Uint8Array of this window")
	}
	b := make([]byte, v.Get("byteLength").Int())
	js.CopyBytesToGo(b, v)
	return b, nil
}

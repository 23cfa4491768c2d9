//go:build js && wasm

package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math"
	"slices"
	"syscall/js"
)

// flat draws the maps on a 2D canvas, by the CPU: the same calls, messages
// and pictures as Game, without Ebitengine. It is the page's viewer
// (www/viewer-2d.wasm, canvas2d.go), and the Ebitengine build's in a
// browser without WebGL 2 (switched off, blocked for its graphics driver,
// or a hardened browser's default). layout.go's composeTo does what
// overlay.kage does on the GPU, and levelsUp what Ebitengine's filters do.
// Everything runs in the page's calls and the canvas's events; a redraw
// waits for a timer, so that a burst of calls draws once.
type flat struct {
	post   func(map[string]any)
	canvas js.Value // on screen, in place of Ebitengine's
	ctx    js.Value // its 2D context

	base   []byte   // the image upscaled to overlay resolution (nearest), RGBA
	baseC  js.Value // base on a canvas of its own, for drawImage
	vw, vh int      // the image
	bw, bh int      // base
	panels []flatPanel
	st     style
	luts   map[string][]byte // by colormap name: 256 RGBA entries
	rects  []image.Rectangle
	scale  float64

	px, py        int // the pointer, in device pixels; -1 when away
	hover, hx, hy int // the panel under it (-1 for none) and its cell
	lastSent      string
	shown         bool // the first map drawn was reported
	pending       bool // a redraw is on its timer
	full          bool // it must paint the whole screen, not only the pointer's panels
	redraw        js.Func
}

// flatPanel is one map with its display levels at overlay resolution and
// its composed overlay, on a canvas of its own.
type flatPanel struct {
	mapInfo
	up    []byte // levelsUp
	pix   []byte // the overlay, RGBA, base's size
	c     js.Value
	dirty bool // pix must be composed again
}

func newFlat(post func(map[string]any)) (*flat, error) {
	doc := js.Global().Get("document")
	f := &flat{post: post, px: -1, py: -1, hover: -1, st: style{Opacity: 0.5, Layout: "grid"}, luts: map[string][]byte{}}
	f.canvas = doc.Call("createElement", "canvas")
	f.ctx = f.canvas.Call("getContext", "2d")
	if !f.ctx.Truthy() {
		return nil, fmt.Errorf("viewer: this browser gives no canvas to draw the maps on")
	}
	s := f.canvas.Get("style")
	s.Set("width", "100%")
	s.Set("height", "100%")
	s.Set("display", "block")
	// In the Ebitengine build, its package put its canvas in the body when
	// it loaded; it would cover this one, and it resizes itself on the
	// window's resize.
	if old := doc.Call("querySelector", "canvas"); old.Truthy() {
		old.Call("remove")
	}
	doc.Get("body").Call("appendChild", f.canvas)
	f.redraw = js.FuncOf(func(js.Value, []js.Value) any {
		f.pending = false
		f.draw()
		return nil
	})
	js.Global().Call("addEventListener", "resize", js.FuncOf(func(js.Value, []js.Value) any {
		f.full = true
		f.schedule()
		return nil
	}))
	for _, ev := range []string{"mousemove", "mouseleave", "click"} {
		f.canvas.Call("addEventListener", ev, js.FuncOf(func(_ js.Value, a []js.Value) any {
			x, y := -1, -1
			if ev != "mouseleave" {
				x = int(a[0].Get("offsetX").Float() * f.scale)
				y = int(a[0].Get("offsetY").Float() * f.scale)
			}
			f.pointer(x, y, ev == "click")
			return nil
		}))
	}
	return f, nil
}

// newFlatTarget returns a new flat and run, which waits for ever: flat
// draws from the page's calls and the canvas's events.
func newFlatTarget(post func(map[string]any)) (target, func() error, error) {
	f, err := newFlat(post)
	if err != nil {
		return nil, nil, err
	}
	return f, func() error { select {} }, nil
}

// queue runs f at once: there is no frame loop to wait for.
func (f *flat) queue(fn func()) {
	fn()
	f.full = true
	f.schedule()
}

// schedule has the screen drawn again once the current calls are done.
func (f *flat) schedule() {
	if !f.pending {
		f.pending = true
		js.Global().Call("setTimeout", f.redraw, 0)
	}
}

func (f *flat) setImage(rgba []byte, w, h int) {
	k := upscale(w, h)
	f.vw, f.vh, f.bw, f.bh = w, h, w*k, h*k
	f.base = make([]byte, 4*f.bw*f.bh)
	for y := range f.bh {
		for x := range f.bw {
			copy(f.base[4*(y*f.bw+x):4*(y*f.bw+x)+4], rgba[4*((y/k)*w+x/k):])
		}
	}
	f.baseC = toCanvas(js.Value{}, f.base, f.bw, f.bh)
	for i := range f.panels {
		f.setMap(i, f.panels[i].label, nil, 0, 0, scale{})
	}
}

func (f *flat) setSlots(labels []string) {
	f.panels = make([]flatPanel, len(labels))
	for i, l := range labels {
		f.panels[i].label = l
	}
}

func (f *flat) setMap(i int, label string, data []float32, w, h int, sc scale) {
	for len(f.panels) <= i {
		f.panels = append(f.panels, flatPanel{})
	}
	p := &f.panels[i]
	*p = flatPanel{mapInfo: mapInfo{label: label, w: w, h: h, data: data, sc: sc}}
	if data == nil || f.base == nil {
		return
	}
	p.up = levelsUp(&p.mapInfo, f.vw, f.vh, f.bw, f.bh)
	p.pix = make([]byte, len(f.base))
	p.dirty = true
}

func (f *flat) setColormaps(names []string, luts [][]byte) {
	f.luts = map[string][]byte{}
	for i, n := range names {
		f.luts[n] = luts[i]
	}
	f.dirtyAll()
}

func (f *flat) setStyle(s style) {
	s.Opacity = min(max(s.Opacity, 0), 1)
	f.st = s
	f.dirtyAll()
}

func (f *flat) dirtyAll() {
	for i := range f.panels {
		f.panels[i].dirty = true
	}
}

func (f *flat) hasColormap(name string) bool {
	_, ok := f.luts[name]
	return ok
}

// requestPNG posts panel slot's overlay (or the bare image) as a PNG
// file, as Game's sendPNG does.
func (f *flat) requestPNG(slot int) {
	msg := map[string]any{"type": "png", "slot": slot}
	defer func() { f.post(msg) }()
	if slot >= len(f.panels) {
		msg["error"] = fmt.Sprintf("no map %d (the viewer has %d)", slot, len(f.panels))
		return
	}
	f.compose(slot)
	pix := f.panels[slot].pix
	if pix == nil {
		pix = f.base
	}
	if pix == nil {
		msg["error"] = "no image"
		return
	}
	img := &image.RGBA{Pix: pix, Stride: 4 * f.bw, Rect: image.Rect(0, 0, f.bw, f.bh)}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		msg["error"] = err.Error()
		return
	}
	msg["png"] = buf.Bytes()
}

// compose brings panel i's overlay up to date.
func (f *flat) compose(i int) {
	p := &f.panels[i]
	if !p.dirty || p.pix == nil {
		return
	}
	p.dirty = false
	lut := f.luts[p.sc.Colormap]
	if lut == nil {
		lut = make([]byte, 4*256) // an unknown colormap (the page was told): black
	}
	composeTo(p.pix, f.base, p.up, lut, f.st.Opacity)
	p.c = toCanvas(p.c, p.pix, f.bw, f.bh)
}

// pointer takes the pointer at (x, y), in device pixels ((-1, -1) when it
// left), clicked or not: a click shows one map alone, or all again, as in
// Game.input. What is under the pointer is found again at every draw, as
// maps and panels change under a still pointer.
func (f *flat) pointer(x, y int, clicked bool) {
	f.px, f.py = x, y
	if clicked {
		if _, _, _, _, click := pointAt(f.rects, f.maps(), &f.st, x, y, true); click != nil {
			f.post(click)
			f.full = true
		}
	}
	f.schedule()
}

// maps lists the panels' maps, for pointAt.
func (f *flat) maps() []*mapInfo {
	ms := make([]*mapInfo, len(f.panels))
	for i := range f.panels {
		ms[i] = &f.panels[i].mapInfo
	}
	return ms
}

// draw paints the screen: each panel's label strip and its overlay (or
// the bare image, or an empty box), as Game.Draw does. When only what is
// under the pointer changed, it paints again the panels it left and
// entered, not the whole screen (with 23 maps, a whole screen took 32-45
// ms a move without a GPU here).
func (f *flat) draw() {
	win := js.Global()
	f.scale = win.Get("devicePixelRatio").Float()
	if !(f.scale > 0) {
		f.scale = 1
	}
	sw := int(f.canvas.Get("clientWidth").Float() * f.scale)
	sh := int(f.canvas.Get("clientHeight").Float() * f.scale)
	full := f.full
	if f.canvas.Get("width").Int() != sw || f.canvas.Get("height").Int() != sh {
		f.canvas.Set("width", sw)
		f.canvas.Set("height", sh)
		full = true
	}
	aspect := 1.0
	if f.vh > 0 {
		aspect = float64(f.vw) / float64(f.vh)
	}
	rects := layout(sw, sh, len(f.panels), aspect, f.st.Layout == "single", f.st.Selected, f.scale)
	full = full || !slices.Equal(rects, f.rects)
	f.rects, f.full = rects, false
	was, wx, wy := f.hover, f.hx, f.hy
	var msg map[string]any
	f.hover, f.hx, f.hy, msg, _ = pointAt(f.rects, f.maps(), &f.st, f.px, f.py, false)
	if key := fmt.Sprint(msg); key != f.lastSent {
		f.lastSent = key
		f.post(msg)
	}
	if full {
		f.ctx.Set("fillStyle", css(background))
		f.ctx.Call("fillRect", 0, 0, sw, sh)
		for i := range f.rects {
			f.drawPanel(i)
		}
		return
	}
	if was != f.hover || wx != f.hx || wy != f.hy {
		if was >= 0 && was < len(f.rects) {
			f.drawPanel(was)
		}
		if f.hover >= 0 && f.hover != was {
			f.drawPanel(f.hover)
		}
	}
}

// drawPanel paints panel i over what was there: its label strip, its
// picture and, when the pointer is on it, the marker of the cell under it.
func (f *flat) drawPanel(i int) {
	r, p, c := f.rects[i], &f.panels[i], f.ctx
	if r.Empty() {
		return
	}
	lh := math.Round(labelHeight * f.scale)
	// The strip, the picture and a margin for the marker's line.
	c.Set("fillStyle", css(background))
	c.Call("fillRect", r.Min.X-2, float64(r.Min.Y)-lh, r.Dx()+4, float64(r.Dy())+lh+2)
	f.compose(i)
	c.Set("font", fmt.Sprintf("%dpx sans-serif", int(math.Round(12*f.scale))))
	c.Set("fillStyle", "#ffffff")
	c.Set("textBaseline", "middle")
	c.Call("fillText", caption(i, &p.mapInfo, f.hover == i, f.hx, f.hy), float64(r.Min.X)+2*f.scale, float64(r.Min.Y)-lh/2)
	src := p.c
	if p.pix == nil {
		src = f.baseC
	}
	if !src.Truthy() {
		c.Set("fillStyle", css(empty))
		c.Call("fillRect", r.Min.X, r.Min.Y, r.Dx(), r.Dy())
		return
	}
	c.Set("imageSmoothingEnabled", true)
	c.Call("drawImage", src, r.Min.X, r.Min.Y, r.Dx(), r.Dy())
	if p.pix != nil && !f.shown {
		f.shown = true
		perf := js.Global().Get("performance")
		f.post(map[string]any{"type": "shown", "at": perf.Get("timeOrigin").Float() + perf.Call("now").Float()})
	}
	if f.hover == i {
		cw, ch := float64(r.Dx())/float64(p.w), float64(r.Dy())/float64(p.h)
		c.Set("strokeStyle", css(marker))
		c.Set("lineWidth", 1.5)
		c.Call("strokeRect", float64(r.Min.X)+cw*float64(f.hx), float64(r.Min.Y)+ch*float64(f.hy), max(cw, 3), max(ch, 3))
	}
}

// toCanvas puts RGBA pixels (w x h) on canvas c, or on a new canvas when c
// is not one of that size, and returns it.
func toCanvas(c js.Value, pix []byte, w, h int) js.Value {
	arr := js.Global().Get("Uint8ClampedArray").New(len(pix))
	js.CopyBytesToJS(arr, pix)
	if !c.Truthy() || c.Get("width").Int() != w || c.Get("height").Int() != h {
		c = js.Global().Get("document").Call("createElement", "canvas")
		c.Set("width", w)
		c.Set("height", h)
	}
	c.Call("getContext", "2d").Call("putImageData", js.Global().Get("ImageData").New(arr, w, h), 0, 0)
	return c
}

// css writes c as a CSS colour.
func css(c interface{ RGBA() (r, g, b, a uint32) }) string {
	r, g, b, _ := c.RGBA()
	return fmt.Sprintf("rgb(%d,%d,%d)", r>>8, g>>8, b>>8)
}

//go:build js && wasm && !canvas2d

package main

import (
	"bytes"
	_ "embed"
	"fmt"
	"image"
	"image/png"
	"math"
	"slices"
	"sync"
	"syscall/js"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"
	"github.com/hajimehoshi/ebiten/v2/vector"
)

//go:embed overlay.kage
var overlayKage []byte

// panel is one map (mapInfo) with its upscaled display levels and the
// cached overlay.
type panel struct {
	mapInfo
	up      *ebiten.Image // display levels at overlay resolution
	overlay *ebiten.Image // image and map composed by the shader
	dirty   bool          // the overlay must be composed again
}

// Game draws the input image with any number of maps over it. JS callbacks
// only queue commands (under mu); Update applies them, handles input and
// composes overlays that changed; Draw only draws cached images.
type Game struct {
	mu    sync.Mutex
	inbox []func()
	pngs  []int

	shader   *ebiten.Shader
	view     *ebiten.Image // the input as the model sees it
	base     *ebiten.Image // view upscaled to overlay resolution (nearest)
	vw, vh   int
	panels   []panel
	st       style
	rows     map[string]int // the lookup image's row of each colormap, by name
	lut      *ebiten.Image  // 256 x len(rows): the colormaps' 256 RGBA entries, as xai built them (the page sends them)
	rects    []image.Rectangle
	sw, sh   int
	scale    float64
	hover    int // panel under the pointer, -1 for none
	hx, hy   int
	lastSent string
	labels   map[string]*ebiten.Image // the texts of the label strips, rendered (text)
	// version counts the changes Update made to what is shown; Draw
	// repaints only when it differs from drawn, so an idle viewer costs
	// no rendering (the screen keeps its last frame).
	version, drawn int
	shown          bool // the first map drawn was reported ("shown")

	post func(msg map[string]any) // to the parent page
}

func newGame(post func(map[string]any)) (*Game, error) {
	sh, err := ebiten.NewShader(overlayKage)
	if err != nil {
		return nil, fmt.Errorf("viewer: shader: %v", err)
	}
	g := &Game{shader: sh, hover: -1, post: post, st: style{Opacity: 0.5, Layout: "grid"},
		rows: map[string]int{}, lut: ebiten.NewImage(256, 1), labels: map[string]*ebiten.Image{}}
	return g, nil
}

// queue runs f at the start of the next Update.
func (g *Game) queue(f func()) {
	g.mu.Lock()
	g.inbox = append(g.inbox, f)
	g.mu.Unlock()
	schedule()
}

// schedule asks for a frame. The viewer runs in Ebitengine's minimum-FPS
// mode (main): Update and Draw run on input, on resizing and when asked,
// not 60 times a second. The frame loop, which would still tick every
// frame, waits in viewer.js until viewerWake.
func schedule() {
	ebiten.ScheduleFrame()
	if wake := js.Global().Get("viewerWake"); wake.Type() == js.TypeFunction {
		wake.Invoke()
	}
}

// setImage replaces the image (RGBA, w x h) and clears every map.
func (g *Game) setImage(rgba []byte, w, h int) {
	if g.view != nil {
		g.view.Deallocate()
		g.base.Deallocate()
	}
	g.vw, g.vh = w, h
	g.view = ebiten.NewImage(w, h)
	g.view.WritePixels(rgba)
	k := upscale(w, h)
	g.base = ebiten.NewImage(w*k, h*k)
	op := &ebiten.DrawImageOptions{}
	op.GeoM.Scale(float64(k), float64(k))
	g.base.DrawImage(g.view, op)
	for i := range g.panels {
		g.setMap(i, g.panels[i].label, nil, 0, 0, scale{})
	}
}

// setSlots makes one empty panel per label.
func (g *Game) setSlots(labels []string) {
	for i := range g.panels {
		g.setMap(i, "", nil, 0, 0, scale{})
	}
	g.panels = make([]panel, len(labels))
	for i, l := range labels {
		g.panels[i].label = l
	}
}

// setMap replaces the map of slot i (w x h values; nil clears it), shown
// on scale sc, and uploads its display levels: the only WritePixels of a
// map. A slot past the last adds panels.
func (g *Game) setMap(i int, label string, data []float32, w, h int, sc scale) {
	for len(g.panels) <= i {
		g.panels = append(g.panels, panel{})
	}
	p := &g.panels[i]
	p.label, p.data, p.w, p.h, p.sc = label, data, w, h, sc
	if p.up != nil {
		p.up.Deallocate()
		p.overlay.Deallocate()
		p.up, p.overlay = nil, nil
	}
	if data == nil || g.base == nil {
		return
	}
	levels := make([]byte, 4*w*h)
	levelsTo(levels, data, sc.Lo, sc.Hi, sc.Signed)
	// The levels with a border of their edge pixels: Ebitengine's linear
	// filter reads half a pixel past a source's edge, where there is no
	// guarantee what it finds (AddressUnsafe), and the border makes that
	// the edge's value (clamped, as xai.Resize and flat.go's levelsUp).
	small := ebiten.NewImage(w+2, h+2)
	small.WritePixels(padEdges(levels, w, h))
	bw, bh := g.base.Bounds().Dx(), g.base.Bounds().Dy()
	p.up = ebiten.NewImage(bw, bh)
	op := &ebiten.DrawImageOptions{}
	op.GeoM.Scale(float64(bw)/float64(w), float64(bh)/float64(h))
	if w < g.vw || h < g.vh {
		op.Filter = ebiten.FilterLinear // a coarse CAM: bilinear upsampling
	}
	p.up.DrawImage(small.SubImage(image.Rect(1, 1, w+1, h+1)).(*ebiten.Image), op)
	small.Deallocate()
	p.overlay = ebiten.NewImage(bw, bh)
	p.dirty = true
}

// hasColormap reports whether setColormaps named the colormap.
func (g *Game) hasColormap(name string) bool {
	_, ok := g.rows[name]
	return ok
}

// requestPNG has the next frame post slot's PNG (sendPNG).
func (g *Game) requestPNG(slot int) {
	g.mu.Lock()
	g.pngs = append(g.pngs, slot)
	g.mu.Unlock()
	schedule()
}

// setColormaps uploads the lookup tables (256 RGBA entries each), one row
// of the lookup image per name.
func (g *Game) setColormaps(names []string, luts [][]byte) {
	g.lut.Deallocate()
	g.lut = ebiten.NewImage(256, max(1, len(names)))
	pix := make([]byte, 4*256*len(names))
	g.rows = map[string]int{}
	for i, n := range names {
		g.rows[n] = i
		copy(pix[4*256*i:], luts[i])
	}
	g.lut.WritePixels(pix)
	g.dirtyAll()
}

// setStyle applies s.
func (g *Game) setStyle(s style) {
	s.Opacity = min(max(s.Opacity, 0), 1)
	g.st = s
	g.dirtyAll()
}

// dirtyAll makes every overlay compose again.
func (g *Game) dirtyAll() {
	for i := range g.panels {
		g.panels[i].dirty = true
	}
}

func (g *Game) Update() error {
	g.mu.Lock()
	inbox, pngs := g.inbox, g.pngs
	g.inbox, g.pngs = nil, nil
	g.mu.Unlock()
	for _, f := range inbox {
		f()
	}
	if len(inbox) > 0 {
		g.version++
	}
	for i := range g.panels {
		if g.compose(i) {
			g.version++
		}
	}
	for _, i := range pngs {
		g.sendPNG(i)
	}
	rects := layout(g.sw, g.sh, len(g.panels), g.aspect(), g.st.Layout == "single", g.st.Selected, g.scale)
	if !slices.Equal(rects, g.rects) {
		g.rects = rects
		g.version++
	}
	g.input()
	return nil
}

func (g *Game) aspect() float64 {
	if g.vh == 0 {
		return 1
	}
	return float64(g.vw) / float64(g.vh)
}

// compose redraws panel i's overlay when its map or the style changed,
// and reports whether it did.
func (g *Game) compose(i int) bool {
	p := &g.panels[i]
	if !p.dirty || p.overlay == nil {
		return false
	}
	p.dirty = false
	// A quad over the base image; the lookup image is a source of another
	// size, which the pixel-unit shader addresses from imageSrc0Origin.
	b := g.base.Bounds()
	w, h := float32(b.Dx()), float32(b.Dy())
	vs := []ebiten.Vertex{
		{DstX: 0, DstY: 0, SrcX: 0, SrcY: 0, ColorR: 1, ColorG: 1, ColorB: 1, ColorA: 1},
		{DstX: w, DstY: 0, SrcX: w, SrcY: 0, ColorR: 1, ColorG: 1, ColorB: 1, ColorA: 1},
		{DstX: 0, DstY: h, SrcX: 0, SrcY: h, ColorR: 1, ColorG: 1, ColorB: 1, ColorA: 1},
		{DstX: w, DstY: h, SrcX: w, SrcY: h, ColorR: 1, ColorG: 1, ColorB: 1, ColorA: 1},
	}
	op := &ebiten.DrawTrianglesShaderOptions{Blend: ebiten.BlendCopy}
	op.Images[0], op.Images[1], op.Images[2] = g.base, p.up, g.lut
	op.Uniforms = map[string]any{"Opacity": float32(g.st.Opacity), "Row": float32(g.rows[p.sc.Colormap])}
	p.overlay.DrawTrianglesShader(vs, []uint16{0, 1, 2, 1, 2, 3}, g.shader, op)
	return true
}

// input tracks the mouse for hover values and clicks. Touches never reach
// the viewer (viewer.js keeps them for the page's scrolling): a tap comes
// as the mouse click a browser sends after it.
func (g *Game) input() {
	x, y := ebiten.CursorPosition()
	clicked := inpututil.IsMouseButtonJustPressed(ebiten.MouseButtonLeft)
	var click, msg map[string]any
	g.hover, g.hx, g.hy, msg, click = pointAt(g.rects, g.maps(), &g.st, x, y, clicked)
	if click != nil {
		g.post(click)
	}
	if key := fmt.Sprint(msg); key != g.lastSent {
		g.lastSent = key
		g.version++ // the hover marker and value moved
		g.post(msg)
	}
}

// maps lists the panels' maps, for pointAt.
func (g *Game) maps() []*mapInfo {
	ms := make([]*mapInfo, len(g.panels))
	for i := range g.panels {
		ms[i] = &g.panels[i].mapInfo
	}
	return ms
}

// sendPNG posts panel i's overlay (or the bare image) as a PNG file.
func (g *Game) sendPNG(i int) {
	if i >= len(g.panels) {
		g.post(map[string]any{"type": "png", "slot": i, "error": fmt.Sprintf("no map %d (the viewer has %d)", i, len(g.panels))})
		return
	}
	src := g.panels[i].overlay
	if src == nil {
		src = g.base
	}
	if src == nil {
		g.post(map[string]any{"type": "png", "slot": i, "error": "no image"})
		return
	}
	b := src.Bounds()
	img := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	src.ReadPixels(img.Pix)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		g.post(map[string]any{"type": "png", "slot": i, "error": err.Error()})
		return
	}
	g.post(map[string]any{"type": "png", "slot": i, "png": buf.Bytes()})
}

func (g *Game) Draw(screen *ebiten.Image) {
	if g.drawn == g.version && g.version > 0 {
		return
	}
	g.drawn = g.version
	screen.Fill(background)
	for i, r := range g.rects {
		if r.Empty() {
			continue
		}
		p := &g.panels[i]
		src := p.overlay
		if src == nil {
			src = g.base
		}
		g.text(screen, caption(i, &p.mapInfo, g.hover == i, g.hx, g.hy), r.Min.X, r.Min.Y-int(math.Round(labelHeight*g.scale)))
		if src == nil {
			vector.DrawFilledRect(screen, float32(r.Min.X), float32(r.Min.Y), float32(r.Dx()), float32(r.Dy()), empty, false)
			continue
		}
		sb := src.Bounds()
		op := &ebiten.DrawImageOptions{Filter: ebiten.FilterLinear}
		op.GeoM.Scale(float64(r.Dx())/float64(sb.Dx()), float64(r.Dy())/float64(sb.Dy()))
		op.GeoM.Translate(float64(r.Min.X), float64(r.Min.Y))
		screen.DrawImage(src, op)
		if p.overlay != nil && !g.shown {
			// When the first map is drawn (its frame is shown at the end of
			// this animation frame), as the time since 1970 in ms: the page
			// may hear it hundreds of ms later (BENCHMARKS.md, session 34).
			g.shown = true
			perf := js.Global().Get("performance")
			g.post(map[string]any{"type": "shown", "at": perf.Get("timeOrigin").Float() + perf.Call("now").Float()})
		}
		if g.hover == i {
			cw, ch := float32(r.Dx())/float32(p.w), float32(r.Dy())/float32(p.h)
			vector.StrokeRect(screen, float32(r.Min.X)+cw*float32(g.hx), float32(r.Min.Y)+ch*float32(g.hy),
				max(cw, 3), max(ch, 3), 1.5, marker, false)
		}
	}
}

// text draws s in the label strip whose top left is (x, y), in device
// pixels: white, in the browser's sans-serif font, 12 CSS pixels high,
// rendered by a 2D canvas of the viewer's document (so any script shows,
// and the text is as sharp as the page's). Each text is rendered once and
// kept; the hover's text changes with the pointer, so the kept ones are
// dropped past 64.
func (g *Game) text(screen *ebiten.Image, s string, x, y int) {
	img := g.labels[s]
	if img == nil {
		if len(g.labels) >= 64 {
			g.dropLabels()
		}
		img = renderText(s, g.scale)
		g.labels[s] = img
	}
	if img == nil {
		return
	}
	op := &ebiten.DrawImageOptions{}
	op.GeoM.Translate(float64(x), float64(y))
	screen.DrawImage(img, op)
}

func (g *Game) dropLabels() {
	for _, l := range g.labels {
		if l != nil {
			l.Deallocate()
		}
	}
	clear(g.labels)
}

// textCanvas is the 2D canvas renderText draws on (made at its first
// call), and its context.
var textCanvas, textCtx js.Value

// renderText renders s for text: an image the height of a label strip at
// the device scale, its text centred vertically, with premultiplied alpha
// as Ebitengine wants. It returns nil when the document cannot render
// text.
func renderText(s string, scale float64) *ebiten.Image {
	if textCtx.IsUndefined() {
		doc := js.Global().Get("document")
		if !doc.Truthy() {
			return nil
		}
		textCanvas = doc.Call("createElement", "canvas")
		opts := js.Global().Get("Object").New()
		opts.Set("willReadFrequently", true) // each text is read back (getImageData)
		textCtx = textCanvas.Call("getContext", "2d", opts)
	}
	ctx := textCtx
	if !ctx.Truthy() {
		return nil
	}
	font := fmt.Sprintf("%dpx sans-serif", int(math.Round(12*scale)))
	ctx.Set("font", font)
	w := min(int(math.Ceil(ctx.Call("measureText", s).Get("width").Float()))+int(math.Ceil(4*scale)), 4096)
	h := int(math.Round(labelHeight * scale))
	textCanvas.Set("width", w) // clears the canvas and resets the context's state
	textCanvas.Set("height", h)
	ctx.Set("font", font)
	ctx.Set("fillStyle", "#ffffff")
	ctx.Set("textBaseline", "middle")
	ctx.Call("fillText", s, 2*scale, float64(h)/2)
	px := make([]byte, 4*w*h)
	js.CopyBytesToGo(px, ctx.Call("getImageData", 0, 0, w, h).Get("data"))
	for i := 0; i < len(px); i += 4 { // the canvas gives straight alpha
		a := uint16(px[i+3])
		px[i] = byte(uint16(px[i]) * a / 255)
		px[i+1] = byte(uint16(px[i+1]) * a / 255)
		px[i+2] = byte(uint16(px[i+2]) * a / 255)
	}
	img := ebiten.NewImage(w, h)
	img.WritePixels(px)
	return img
}

// Layout uses device pixels, so that maps stay sharp on high-density
// screens; rectangles are computed for that size.
func (g *Game) Layout(w, h int) (int, int) {
	if s := ebiten.Monitor().DeviceScaleFactor(); s != g.scale {
		g.scale = s
		g.dropLabels() // rendered for the old scale
	}
	g.sw, g.sh = int(float64(w)*g.scale), int(float64(h)*g.scale)
	return g.sw, g.sh
}

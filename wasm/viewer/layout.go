package main

import (
	"fmt"
	"image"
	"image/color"
	"math"
)

// This file holds the viewer's geometry, map scaling, pointer and (for the
// 2D canvas, flat.go) composition in plain Go, so that it is tested
// natively.

// maxSlots bounds the number of map panels the page may ask for.
const maxSlots = 64

// The viewer's colours: behind the panels, an empty panel, the hover
// marker.
var (
	background = color.RGBA{0x16, 0x1b, 0x22, 0xff}
	empty      = color.RGBA{0x24, 0x2b, 0x35, 0xff}
	marker     = color.RGBA{0xff, 0xff, 0xff, 0xff}
)

// mapInfo is a panel's map as the page sent it: the raw w x h grid (for
// hover values) and its colour scale.
type mapInfo struct {
	label string
	w, h  int
	data  []float32
	sc    scale
}

// scale is how a panel's values become colours: [Lo, Hi] onto its
// colormap (a name of setColormaps), as the page chose them (the worker
// computed the scale with xai.DisplayScale); Signed maps show a flat scale
// in zero's colour.
type scale struct {
	Lo, Hi   float32
	Colormap string
	Signed   bool
}

// style is what the page controls without recomputing a map.
type style struct {
	Opacity  float64
	Layout   string // "grid" or "single"
	Selected int
}

// labelHeight is the height of the text strip above each panel, in device
// pixels at scale 1.
const labelHeight = 18

// layout places n panels of aspect w:h (image width over height) on a
// screen of sw x sh pixels: all of them in the grid (1x4, 2x2 or 4x1,
// whichever makes the panels largest), or only panel sel when single. Each
// rectangle is the image area; its label sits in the labelHeight*scale
// strip above it. Panels not shown get an empty rectangle.
func layout(sw, sh, n int, aspect float64, single bool, sel int, scale float64) []image.Rectangle {
	rects := make([]image.Rectangle, n)
	if n == 0 || sw <= 0 || sh <= 0 || !(aspect > 0) {
		return rects
	}
	lh := int(math.Round(labelHeight * scale))
	gap := int(math.Round(6 * scale))
	fit := func(cw, ch int) (int, int) { // largest w x h of the aspect inside cw x (ch - label)
		ch -= lh
		if cw <= 0 || ch <= 0 {
			return 0, 0
		}
		w := float64(cw)
		h := w / aspect
		if h > float64(ch) {
			h = float64(ch)
			w = h * aspect
		}
		return int(w), int(h)
	}
	if single {
		if sel < 0 || sel >= n {
			sel = 0
		}
		w, h := fit(sw, sh)
		x, y := (sw-w)/2, (sh-h-lh)/2+lh
		rects[sel] = image.Rect(x, y, x+w, y+h)
		return rects
	}
	bestCols, bestW, bestH := 1, 0, 0
	for cols := 1; cols <= n; cols++ {
		rows := (n + cols - 1) / cols
		w, h := fit((sw-gap*(cols-1))/cols, (sh-gap*(rows-1))/rows)
		if w*h > bestW*bestH {
			bestCols, bestW, bestH = cols, w, h
		}
	}
	cols := bestCols
	rows := (n + cols - 1) / cols
	cellW, cellH := bestW, bestH+lh
	x0 := (sw - cols*cellW - (cols-1)*gap) / 2
	y0 := (sh - rows*cellH - (rows-1)*gap) / 2
	for i := range n {
		c, r := i%cols, i/cols
		x := x0 + c*(cellW+gap)
		y := y0 + r*(cellH+gap) + lh
		rects[i] = image.Rect(x, y, x+bestW, y+bestH)
	}
	return rects
}

// levelsTo writes the 8-bit display level of every map value into the R,
// G and B bytes of dst (RGBA, alpha 255): t = (v − lo)/(hi − lo) clipped to
// [0, 1], the colour scale the page sends (xai.DisplayScale, computed by
// the worker for the chosen rule), as xai.NormalizeTo computes it; the
// shader colours t through the panel's lookup table. A flat scale (no
// contrast: hi <= lo, or not finite) gives 0, or 0.5 (zero's colour on a
// diverging colormap) for a signed map. NaNs give 0.
func levelsTo(dst []byte, data []float32, lo, hi float32, signed bool) {
	d := float64(hi) - float64(lo)
	flat := !(d > 0) || math.IsInf(d, 0)
	for i, v := range data {
		var t float64
		switch {
		case flat && signed:
			t = 0.5
		case flat || v != v:
		default:
			t = min(max((float64(v)-float64(lo))/d, 0), 1)
		}
		b := byte(t*255 + 0.5)
		dst[4*i], dst[4*i+1], dst[4*i+2], dst[4*i+3] = b, b, b, 255
	}
}

// padEdges returns the RGBA image px (w x h) inside a one-pixel border
// that repeats its edge pixels: (w+2) x (h+2).
func padEdges(px []byte, w, h int) []byte {
	out := make([]byte, 4*(w+2)*(h+2))
	for y := range h + 2 {
		sy := min(max(y-1, 0), h-1)
		for x := range w + 2 {
			sx := min(max(x-1, 0), w-1)
			copy(out[4*(y*(w+2)+x):4*(y*(w+2)+x)+4], px[4*(sy*w+sx):])
		}
	}
	return out
}

// cell maps a point inside r to the map cell (column x, row y) of a
// w x h grid stretched over r; ok is false outside r.
func cell(r image.Rectangle, px, py, w, h int) (x, y int, ok bool) {
	if !image.Pt(px, py).In(r) || w <= 0 || h <= 0 {
		return 0, 0, false
	}
	x = (px - r.Min.X) * w / r.Dx()
	y = (py - r.Min.Y) * h / r.Dy()
	return min(x, w-1), min(y, h-1), true
}

// upscale returns the integer factor that brings a view of w x h pixels to
// at least 224 pixels on its longer side, the resolution overlays are
// composed at.
func upscale(w, h int) int {
	return max(1, (224+max(w, h)-1)/max(w, h))
}

// pointAt finds the panel under the pointer at (x, y), in the screen's
// pixels: its index (-1 for none) and the map cell there, with the hover
// message for the page. A click on a panel shows it alone, or all of them
// again: st changes, and click is the layout message for the page (nil
// without one).
func pointAt(rects []image.Rectangle, maps []*mapInfo, st *style, x, y int, clicked bool) (i, cx, cy int, hover, click map[string]any) {
	i, hover = -1, map[string]any{"type": "hover"}
	for k, r := range rects {
		m := maps[k]
		px, py, ok := cell(r, x, y, m.w, m.h)
		if !ok || m.data == nil {
			continue
		}
		i, cx, cy = k, px, py
		hover = map[string]any{"type": "hover", "slot": k, "label": m.label, "x": px, "y": py,
			"value": float64(m.data[py*m.w+px]), "w": m.w, "h": m.h}
		if clicked {
			single := st.Layout != "single"
			st.Layout, st.Selected = "grid", k
			if single {
				st.Layout = "single"
			}
			click = map[string]any{"type": "layout", "layout": st.Layout, "selected": k}
		}
	}
	return i, cx, cy, hover, click
}

// caption is the text of panel i's label strip, with the value under the
// pointer when it is over the panel at cell (hx, hy).
func caption(i int, m *mapInfo, hovered bool, hx, hy int) string {
	label := m.label
	if label == "" {
		label = fmt.Sprintf("map %d", i+1)
	}
	if hovered && hy*m.w+hx < len(m.data) {
		label += fmt.Sprintf("  (%d,%d) %.4g", hx, hy, m.data[hy*m.w+hx])
	}
	return label
}

// levelsUp returns the display levels (levelsTo) of map m at overlay
// resolution, bw x bh, one byte per pixel, as game.go's GPU path makes
// them: a map coarser than the image (vw x vh) is upsampled bilinearly,
// sampled at pixel centres and clamped at the edges (Ebitengine's linear
// filter), and stored in 8 bits; any other by nearest neighbour.
func levelsUp(m *mapInfo, vw, vh, bw, bh int) []byte {
	small := make([]byte, 4*m.w*m.h)
	levelsTo(small, m.data, m.sc.Lo, m.sc.Hi, m.sc.Signed)
	at := func(x, y int) float64 { return float64(small[4*(y*m.w+x)]) }
	linear := m.w < vw || m.h < vh
	sx, sy := float64(m.w)/float64(bw), float64(m.h)/float64(bh)
	up := make([]byte, bw*bh)
	for y := range bh {
		fy := (float64(y)+0.5)*sy - 0.5
		for x := range bw {
			fx := (float64(x)+0.5)*sx - 0.5
			if !linear {
				up[y*bw+x] = small[4*(min(int(fy+0.5), m.h-1)*m.w+min(int(fx+0.5), m.w-1))]
				continue
			}
			x0, y0 := int(math.Floor(fx)), int(math.Floor(fy))
			ax, ay := fx-float64(x0), fy-float64(y0)
			cx := func(x int) int { return min(max(x, 0), m.w-1) }
			cy := func(y int) int { return min(max(y, 0), m.h-1) }
			top := at(cx(x0), cy(y0))*(1-ax) + at(cx(x0+1), cy(y0))*ax
			bottom := at(cx(x0), cy(y0+1))*(1-ax) + at(cx(x0+1), cy(y0+1))*ax
			up[y*bw+x] = byte(top*(1-ay) + bottom*ay + 0.5)
		}
	}
	return up
}

// composeTo writes into dst (RGBA) the image base (RGBA, the same size)
// with the colours of the display levels (one byte per pixel) over it at
// the given opacity, each level coloured by lut's entry (256 RGBA
// entries), as overlay.kage composes them on the GPU: (1 − a)·image +
// a·colour, rounded. Both terms come from tables of the 256 values a byte
// can take, so a pixel costs three lookups and additions a channel.
func composeTo(dst, base, levels, lut []byte, opacity float64) {
	var keep [256]float64      // v·(1 − a)
	var colour [256][3]float64 // lut[l]·a
	for v := range keep {
		keep[v] = float64(v) * (1 - opacity)
		for c := range 3 {
			colour[v][c] = float64(lut[4*v+c]) * opacity
		}
	}
	for i, l := range levels {
		b, d, c := base[4*i:4*i+3:4*i+3], dst[4*i:4*i+4:4*i+4], &colour[l]
		d[0] = byte(keep[b[0]] + c[0] + 0.5)
		d[1] = byte(keep[b[1]] + c[1] + 0.5)
		d[2] = byte(keep[b[2]] + c[2] + 0.5)
		d[3] = 255
	}
}

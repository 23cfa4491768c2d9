package main

import (
	"image"
	"math"
)

// This file holds the viewer's geometry and map scaling in plain Go, so
// that it is tested natively.

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

// mode is how the shader (overlay.kage) colours a panel's display levels
// t: the values of its Mode uniform.
type mode int

const (
	// plain: t = v/max on the colormap (the lookup image's row 0).
	plain mode = iota
	// magnitude: an ordinary map with negative values, t = 0.5 + 0.5
	// v/max|v|, coloured by |2t − 1| on the colormap.
	magnitude
	// diverging: a signed map, t = 0.5 + 0.5 v/max|v| (0.5 is zero) on
	// the diverging colormap (row 1).
	diverging
)

// normalizeTo writes the 8-bit display level of every map value into the
// R, G and B bytes of dst (RGBA, alpha 255): v/max for a map without
// negative values, 0.5 + 0.5 v/max|v| for a signed one (the page says so:
// its method's display is "signed") or one with negative values. It
// returns the mode the shader colours the levels in. NaNs show as 0.
func normalizeTo(dst []byte, data []float32, signed bool) mode {
	var lo, hi float32
	for _, v := range data {
		if v == v {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	m := plain
	switch {
	case signed:
		m = diverging
	case lo < 0:
		m = magnitude
	}
	scale := float32(0)
	if a := max(-lo, hi); a > 0 {
		scale = 1 / a
	}
	for i, v := range data {
		var t float32
		switch {
		case v != v:
		case m != plain:
			t = 0.5 + 0.5*v*scale
		default:
			t = v * scale
		}
		b := byte(min(max(t*255+0.5, 0), 255))
		dst[4*i], dst[4*i+1], dst[4*i+2], dst[4*i+3] = b, b, b, 255
	}
	return m
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

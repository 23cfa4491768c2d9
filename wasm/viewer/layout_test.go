package main

import (
	"image"
	"math"
	"testing"

	"github.com/mavis-xai/mavis/xai"
)

func TestLayout(t *testing.T) {
	for _, tt := range []struct {
		name   string
		sw, sh int
		single bool
		sel    int
		want   []image.Rectangle
	}{
		// 800x200: four in a row; cells (800-3*6)/4 = 195 wide and 200-18 =
		// 182 high hold 182x182 images; 4*182+3*6 = 746 wide, centred: x0 = 27.
		{"row", 800, 200, false, 0, []image.Rectangle{
			image.Rect(27, 18, 209, 200), image.Rect(215, 18, 397, 200),
			image.Rect(403, 18, 585, 200), image.Rect(591, 18, 773, 200)}},
		// 400x436: 2x2 cells of 197 x (436-6)/2 = 215, images 197x197 under
		// 18-pixel labels, the second row at 18+197+6+18 = 239.
		{"grid", 400, 436, false, 0, []image.Rectangle{
			image.Rect(0, 18, 197, 215), image.Rect(203, 18, 400, 215),
			image.Rect(0, 239, 197, 436), image.Rect(203, 239, 400, 436)}},
		{"single", 300, 318, true, 2, []image.Rectangle{{}, {}, image.Rect(0, 18, 300, 318), {}}},
	} {
		got := layout(tt.sw, tt.sh, 4, 1, tt.single, tt.sel, 1)
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: panel %d at %v, want %v", tt.name, i, got[i], tt.want[i])
			}
		}
	}
	// Panels never overlap and stay on screen, for many screen shapes.
	for _, s := range [][2]int{{320, 640}, {1280, 400}, {375, 300}, {1000, 1000}} {
		rs := layout(s[0], s[1], 4, 1, false, 0, 2)
		for i, a := range rs {
			if !a.In(image.Rect(0, 0, s[0], s[1])) || a.Empty() {
				t.Errorf("%dx%d: panel %d at %v is off screen or empty", s[0], s[1], i, a)
			}
			for j := i + 1; j < len(rs); j++ {
				if a.Overlaps(rs[j]) {
					t.Errorf("%dx%d: panels %d and %d overlap", s[0], s[1], i, j)
				}
			}
		}
	}
}

// TestLevels: the display levels are xai.NormalizeTo's values in 8 bits
// (hand-worked below), for ordinary and signed scales.
func TestLevels(t *testing.T) {
	for _, tt := range []struct {
		in     []float32
		lo, hi float32
		signed bool
		want   []byte
	}{
		{[]float32{0, 1, 2, 4}, 0, 4, false, []byte{0, 64, 128, 255}},
		// The 99th percentile below the max: values above it clip to the top.
		{[]float32{0, 1, 2, 400}, 0, 2, false, []byte{0, 128, 255, 255}},
		{[]float32{-2, 0, 1, 2}, -2, 2, true, []byte{0, 128, 191, 255}},
		{[]float32{-8, -1, 0, 1, 8}, -1, 1, true, []byte{0, 0, 128, 255, 255}},
		// A flat scale (an all-zero map): the bottom colour, or zero's
		// colour on a diverging colormap.
		{[]float32{0, 0}, 0, 0, false, []byte{0, 0}},
		{[]float32{0, 0}, 0, 0, true, []byte{128, 128}},
		{[]float32{float32(math.NaN()), 1}, 0, 1, false, []byte{0, 255}},
	} {
		dst := make([]byte, 4*len(tt.in))
		levelsTo(dst, tt.in, tt.lo, tt.hi, tt.signed)
		norm := make([]float32, len(tt.in))
		xai.NormalizeTo(norm, tt.in, xai.Scale{Lo: tt.lo, Hi: tt.hi})
		for i, w := range tt.want {
			if dst[4*i] != w || dst[4*i+1] != w || dst[4*i+2] != w || dst[4*i+3] != 255 {
				t.Errorf("levelsTo(%v, [%g, %g])[%d] = %v, want %d", tt.in, tt.lo, tt.hi, i, dst[4*i:4*i+4], w)
			}
			if tt.hi > tt.lo && math.Abs(float64(dst[4*i])-255*float64(norm[i])) > 0.5 {
				t.Errorf("levelsTo(%v, [%g, %g])[%d] = %d, xai.NormalizeTo %g", tt.in, tt.lo, tt.hi, i, dst[4*i], norm[i])
			}
		}
	}
}

func TestCell(t *testing.T) {
	r := image.Rect(10, 20, 234, 244) // 224 pixels showing a 7x7 map: 32 per cell
	for _, tt := range []struct {
		px, py, x, y int
		ok           bool
	}{
		{10, 20, 0, 0, true}, {41, 51, 0, 0, true}, {42, 52, 1, 1, true},
		{233, 243, 6, 6, true}, {234, 100, 0, 0, false}, {9, 30, 0, 0, false},
	} {
		x, y, ok := cell(r, tt.px, tt.py, 7, 7)
		if x != tt.x || y != tt.y || ok != tt.ok {
			t.Errorf("cell(%d, %d) = %d, %d, %v, want %d, %d, %v", tt.px, tt.py, x, y, ok, tt.x, tt.y, tt.ok)
		}
	}
}

func TestUpscale(t *testing.T) {
	for _, tt := range []struct{ w, h, k int }{{28, 28, 8}, {224, 224, 1}, {100, 50, 3}, {1000, 10, 1}} {
		if k := upscale(tt.w, tt.h); k != tt.k {
			t.Errorf("upscale(%d, %d) = %d, want %d", tt.w, tt.h, k, tt.k)
		}
	}
}

// TestPadEdges: a 2x1 image in a border of its edge pixels.
func TestPadEdges(t *testing.T) {
	a, b := []byte{1, 2, 3, 4}, []byte{5, 6, 7, 8}
	got := padEdges(append(append([]byte{}, a...), b...), 2, 1)
	row := append(append(append(append([]byte{}, a...), a...), b...), b...)
	want := append(append(append([]byte{}, row...), row...), row...)
	if string(got) != string(want) {
		t.Errorf("padEdges = %v, want %v", got, want)
	}
}

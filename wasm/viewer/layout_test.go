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

// TestLevelsUp: display levels at overlay resolution, hand-worked. A map
// at the image's size is enlarged by nearest neighbour; a coarser one
// bilinearly, sampled at pixel centres and clamped at the edges, as
// Ebitengine's linear filter does on the GPU.
func TestLevelsUp(t *testing.T) {
	nearest := &mapInfo{w: 2, h: 2, data: []float32{0, 1, 2, 3}, sc: scale{Lo: 0, Hi: 3}}
	got := levelsUp(nearest, 2, 2, 4, 4)
	want := []byte{0, 0, 85, 85, 0, 0, 85, 85, 170, 170, 255, 255, 170, 170, 255, 255}
	if string(got) != string(want) {
		t.Errorf("2x2 map on a 2x2 image, 4x4 overlay: %v, want %v", got, want)
	}
	// A 2x1 map of levels 0 and 255 on a 4x1 image: the four centres fall
	// at -0.25, 0.25, 0.75 and 1.25 of the map's pixels.
	coarse := &mapInfo{w: 2, h: 1, data: []float32{0, 1}, sc: scale{Lo: 0, Hi: 1}}
	got = levelsUp(coarse, 4, 1, 4, 1)
	want = []byte{0, 64, 191, 255}
	if string(got) != string(want) {
		t.Errorf("2x1 map on a 4x1 image: %v, want %v", got, want)
	}
}

// TestComposeTo: the 2D canvas's overlay mixes the image with the lookup
// table's colour as overlay.kage does: (1 − a)·image + a·colour, rounded.
func TestComposeTo(t *testing.T) {
	lut := make([]byte, 4*256)
	copy(lut[4*3:], []byte{10, 20, 30, 255})
	base := []byte{100, 150, 200, 255, 1, 2, 3, 255}
	dst := make([]byte, 8)
	composeTo(dst, base, []byte{3, 0}, lut, 0.25)
	want := []byte{78, 118, 158, 255, 1, 2, 2, 255} // 77.5, 117.5, 157.5 round up; 0.75·3 = 2.25
	if string(dst) != string(want) {
		t.Errorf("composeTo = %v, want %v", dst, want)
	}
}

// TestPointAt: the panel and cell under the pointer, the page's hover
// message, and a click that shows one map alone, then all again.
func TestPointAt(t *testing.T) {
	rects := []image.Rectangle{image.Rect(0, 18, 100, 118), image.Rect(106, 18, 206, 118)}
	maps := []*mapInfo{
		{label: "a", w: 2, h: 2, data: []float32{1, 2, 3, 4}},
		{label: "b", w: 4, h: 4, data: make([]float32, 16)},
	}
	maps[1].data[4*2+3] = 7
	st := style{Layout: "grid"}
	i, x, y, hover, click := pointAt(rects, maps, &st, 205, 70, false)
	if i != 1 || x != 3 || y != 2 || click != nil || hover["value"] != 7.0 || hover["label"] != "b" {
		t.Errorf("over b's cell (3, 2): panel %d cell (%d, %d), hover %v, click %v", i, x, y, hover, click)
	}
	if c := caption(1, maps[1], true, x, y); c != "b  (3,2) 7" {
		t.Errorf("caption = %q", c)
	}
	if i, _, _, hover, _ = pointAt(rects, maps, &st, 103, 70, false); i != -1 || len(hover) != 1 {
		t.Errorf("between the panels: panel %d, hover %v", i, hover)
	}
	_, _, _, _, click = pointAt(rects, maps, &st, 10, 30, true)
	if st.Layout != "single" || st.Selected != 0 || click["layout"] != "single" || click["selected"] != 0 {
		t.Errorf("a click on a: style %+v, message %v; want a alone", st, click)
	}
	_, _, _, _, click = pointAt(rects, maps, &st, 10, 30, true)
	if st.Layout != "grid" || click["layout"] != "grid" {
		t.Errorf("a second click: style %+v, message %v; want every map", st, click)
	}
	if c := caption(2, &mapInfo{}, false, 0, 0); c != "map 3" {
		t.Errorf("caption of an unnamed panel = %q", c)
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

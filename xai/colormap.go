package xai

import (
	"image/color"
	"math"
	"slices"
	"strings"
)

// Colormap maps [0, 1] to colours. It holds matplotlib's 256-entry lookup
// table of the colormap, the colours at v = i/255 (a listed colormap's
// entries themselves; a segmented one evaluated at linspace(0, 1, 256), as
// matplotlib builds its tables), and At interpolates linearly between
// them. Colormaps is the one list of them: the explain command, the
// worker and the page's viewer (which samples LUT) all use it.
type Colormap struct {
	Name  string // "viridis": what ColormapByName, -colormap and the page use
	Label string // "Viridis"
	// Diverging colormaps have a neutral middle (v = 0.5) for zero, for
	// signed maps on a symmetric scale (see DisplayScale).
	Diverging bool
	table     [256][3]float64 // sRGB, channels in [0, 1]
}

// At returns the colour for v, clamped to [0, 1]; NaN gives At(0). It is
// the lookup table interpolated linearly at 255·v, rounded to 8 bits: a
// viewer that samples LUT's 256 texels with linear filtering at
// (0.5 + 255·v)/256 draws the same colour within one unit.
func (cm *Colormap) At(v float64) color.RGBA {
	if !(v > 0) {
		v = 0
	}
	p := min(v, 1) * 255
	i := min(int(p), 254)
	f := p - float64(i)
	a, b := cm.table[i], cm.table[i+1]
	ch := func(c int) uint8 { return unit8(a[c] + (b[c]-a[c])*f) }
	return color.RGBA{ch(0), ch(1), ch(2), 255}
}

// LUT returns the 256-entry lookup table as RGBA bytes (1024 bytes; entry
// i is the colour at v = i/255, alpha 255), for a viewer to sample.
func (cm *Colormap) LUT() []byte {
	out := make([]byte, 4*256)
	for i, c := range cm.table {
		out[4*i], out[4*i+1], out[4*i+2], out[4*i+3] = unit8(c[0]), unit8(c[1]), unit8(c[2]), 255
	}
	return out
}

// unit8 rounds a channel in [0, 1] (clamped) to 0..255.
func unit8(y float64) uint8 { return uint8(math.Round(255 * min(max(y, 0), 1))) }

// The colormaps. viridis, magma, inferno and turbo are matplotlib's listed
// tables (colormap_data.go: its sources and licences); jet, hot and grey
// are matplotlib's segment data (matplotlib/_cm.py, _jet_data, _hot_data,
// _gray_data), exactly; coolwarm is Moreland's 33 colours
// (_coolwarm_data); rdbu_r is ColorBrewer's 11-class RdBu (Cynthia
// Brewer, as matplotlib's _RdBu_data) reversed: negative blue, zero
// near-white (#f7f7f7), positive red.
var (
	Viridis = &Colormap{Name: "viridis", Label: "Viridis", table: millionths(&viridisTable)}
	Inferno = &Colormap{Name: "inferno", Label: "Inferno", table: millionths(&infernoTable)}
	Magma   = &Colormap{Name: "magma", Label: "Magma", table: millionths(&magmaTable)}
	Turbo   = &Colormap{Name: "turbo", Label: "Turbo", table: millionths(&turboTable)}
	Jet     = &Colormap{Name: "jet", Label: "Jet", table: segmented(
		[]anchor{{0, 0}, {0.35, 0}, {0.66, 1}, {0.89, 1}, {1, 0.5}},
		[]anchor{{0, 0}, {0.125, 0}, {0.375, 1}, {0.64, 1}, {0.91, 0}, {1, 0}},
		[]anchor{{0, 0.5}, {0.11, 1}, {0.34, 1}, {0.65, 0}, {1, 0}},
	)}
	Hot = &Colormap{Name: "hot", Label: "Hot", table: segmented(
		[]anchor{{0, 0.0416}, {0.365079, 1}, {1, 1}},
		[]anchor{{0, 0}, {0.365079, 0}, {0.746032, 1}, {1, 1}},
		[]anchor{{0, 0}, {0.746032, 0}, {1, 1}},
	)}
	Grey     = &Colormap{Name: "grey", Label: "Grey", table: segmented([]anchor{{0, 0}, {1, 1}}, []anchor{{0, 0}, {1, 1}}, []anchor{{0, 0}, {1, 1}})}
	Coolwarm = &Colormap{Name: "coolwarm", Label: "Coolwarm (diverging)", Diverging: true, table: fromAnchors(coolwarmAnchors[:])}
	RdBuR    = &Colormap{Name: "rdbu_r", Label: "RdBu reversed (diverging)", Diverging: true, table: reversed(fromList(rgb8(
		0x67001f, 0xb2182b, 0xd6604d, 0xf4a582, 0xfddbc7, 0xf7f7f7, 0xd1e5f0, 0x92c5de, 0x4393c3, 0x2166ac, 0x053061)))}
)

// colormaps is the list Colormaps returns: sequential first, then the
// diverging ones.
var colormaps = []*Colormap{Viridis, Inferno, Magma, Turbo, Jet, Hot, Grey, RdBuR, Coolwarm}

// Colormaps returns every colormap, sequential ones first. The slice is a
// copy; the Colormaps are shared and must not be changed.
func Colormaps() []*Colormap { return slices.Clone(colormaps) }

// ColormapNames lists the colormaps ColormapByName knows.
func ColormapNames() []string {
	var s []string
	for _, c := range colormaps {
		s = append(s, c.Name)
	}
	return s
}

// ColormapByName returns the colormap called name (any case; "gray" is
// grey), or an error listing them.
func ColormapByName(name string) (*Colormap, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "gray" {
		n = "grey"
	}
	if i := slices.IndexFunc(colormaps, func(c *Colormap) bool { return c.Name == n }); i >= 0 {
		return colormaps[i], nil
	}
	return nil, errorf("xai: unknown colormap %q (have %s)", name, strings.Join(ColormapNames(), ", "))
}

// millionths turns a listed table in millionths into channel values.
func millionths(t *[256][3]uint32) [256][3]float64 {
	var out [256][3]float64
	for i, c := range t {
		out[i] = [3]float64{float64(c[0]) / 1e6, float64(c[1]) / 1e6, float64(c[2]) / 1e6}
	}
	return out
}

// anchor is one point (x, y) of a channel's piecewise-linear curve, both
// in [0, 1] (matplotlib's segment data without discontinuities).
type anchor struct{ x, y float64 }

// segmented evaluates three channel curves at v = i/255, as matplotlib's
// LinearSegmentedColormap builds its 256-entry table.
func segmented(r, g, b []anchor) [256][3]float64 {
	var t [256][3]float64
	for i := range t {
		v := float64(i) / 255
		t[i] = [3]float64{curve(r, v), curve(g, v), curve(b, v)}
	}
	return t
}

// curve evaluates a piecewise-linear curve (ascending x from 0 to 1) at v.
func curve(a []anchor, v float64) float64 {
	k := 1
	for k < len(a)-1 && a[k].x < v {
		k++
	}
	p, q := a[k-1], a[k]
	if q.x <= p.x {
		return p.y
	}
	return p.y + (q.y-p.y)*(v-p.x)/(q.x-p.x)
}

// fromAnchors builds a table from colours at positions: rows of
// {x, r, g, b}.
func fromAnchors(rows [][4]float64) [256][3]float64 {
	var r, g, b []anchor
	for _, row := range rows {
		r, g, b = append(r, anchor{row[0], row[1]}), append(g, anchor{row[0], row[2]}), append(b, anchor{row[0], row[3]})
	}
	return segmented(r, g, b)
}

// fromList builds a table from evenly spaced colours, as matplotlib's
// LinearSegmentedColormap.from_list does.
func fromList(rgb [][3]float64) [256][3]float64 {
	rows := make([][4]float64, len(rgb))
	for i, c := range rgb {
		rows[i] = [4]float64{float64(i) / float64(len(rgb)-1), c[0], c[1], c[2]}
	}
	return fromAnchors(rows)
}

// reversed is a table read backwards (matplotlib's "_r" colormaps).
func reversed(t [256][3]float64) [256][3]float64 {
	slices.Reverse(t[:])
	return t
}

func rgb8(hex ...uint32) [][3]float64 {
	out := make([][3]float64, len(hex))
	for i, h := range hex {
		out[i] = [3]float64{float64(h>>16) / 255, float64(h>>8&0xff) / 255, float64(h&0xff) / 255}
	}
	return out
}

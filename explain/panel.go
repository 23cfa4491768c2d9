package main

// Titled panels: xai.Panel's figure with a title strip above it (the
// method, the class and the target) and the values the colour bar's ends
// stand for beside the bar (and zero, where the scale spans it). Text
// needs a font, and xai imports only nn and the standard library
// (STYLE.md), so the titling lives here, in the one command that writes
// panels: golang.org/x/image/font/basicfont's 7x13 face (ASCII; x/image is
// already a dependency, for nn/imagefile's decoders), placed with
// xai.PanelOptions.Layout. xai.Panel itself stays std-only.

import (
	"image"
	"image/color"
	"image/draw"
	"strconv"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/mavis-xai/mavis/xai"
)

// face is the panels' font: 7 pixels per character, 13 per line.
var face = basicfont.Face7x13

const (
	pad     = 4 // pixels around the title and below the panel
	tick    = 3 // length of the colour bar's tick marks
	tickGap = 5 // from a tick to its label (3 made "0" read as "-0")
)

// barLabel is one value written beside the colour bar, at a fraction of
// its height from the top (0: the top row, 1: the bottom row).
type barLabel struct {
	Text string
	At   float64
}

// barLabels returns the values the bar's ends stand for, "<=" / ">=" when
// values beyond them were clipped, and 0 when the scale spans it.
func barLabels(s xai.Scale, below, above bool) []barLabel {
	if s.Flat() {
		return []barLabel{{"all " + value(s.Hi), 1}}
	}
	top, bottom := value(s.Hi), value(s.Lo)
	if above {
		top = ">=" + top
	}
	if below {
		bottom = "<=" + bottom
	}
	l := []barLabel{{top, 0}, {bottom, 1}}
	if s.Lo < 0 && s.Hi > 0 {
		l = append(l, barLabel{"0", float64(s.Hi) / (float64(s.Hi) - float64(s.Lo))})
	}
	return l
}

// value prints a colour bar value in at most 3 significant digits.
func value(v float32) string {
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(float64(v), 'g', 3, 32)
}

// titledPanel draws xai.Panel's figure of m over orig with title lines
// above it and the values of the colour bar (scale s of o, clipped below
// or above) beside the bar. Title text is ASCII (see ascii).
func titledPanel(orig *image.RGBA, m xai.Map, o xai.PanelOptions, title []string) *image.RGBA {
	s := xai.MinMaxScale(m.Data)
	if o.Scale != nil {
		s = *o.Scale
	}
	labels := barLabels(s, false, false)
	below, above := s.Clipped(m.Data)
	if !s.Flat() {
		labels = barLabels(s, below, above)
	}
	width := 0
	for _, l := range labels {
		width = max(width, textWidth(l.Text))
	}
	o.BarMargin = tick + tickGap + 1 + width
	panel, _ := xai.Panel(orig, m, o)
	l := o.Layout(orig.Bounds().Size())
	for i := range title {
		title[i] = ascii(title[i])
		width = max(width, textWidth(title[i])+2*pad)
	}
	top := 2*pad + len(title)*face.Height
	half := face.Height / 2
	out := image.NewRGBA(image.Rect(0, 0, max(l.Size.X, width), top+l.Size.Y+half+pad))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	for i, t := range title {
		text(out, pad, pad+i*face.Height+face.Ascent, t)
	}
	draw.Draw(out, panel.Bounds().Add(image.Pt(0, top)), panel, image.Point{}, draw.Src)
	bar := l.Bar.Add(image.Pt(0, top))
	for _, b := range labels {
		y := bar.Min.Y + int(b.At*float64(bar.Dy()-1)+0.5)
		// A tick marks an inner value (0); the ends' labels sit at the
		// bar's ends without one, which next to ">=" read as "->=".
		if b.At > 0 && b.At < 1 {
			for x := bar.Max.X; x < bar.Max.X+tick; x++ {
				out.SetRGBA(x, y, color.RGBA{0, 0, 0, 255})
			}
		}
		// The text's middle (x-height) on the tick.
		text(out, bar.Max.X+tick+tickGap, y+face.Ascent-half-1, b.Text)
	}
	return out
}

func textWidth(s string) int { return len(s) * face.Advance }

// text writes s in black with its baseline at y.
func text(dst *image.RGBA, x, y int, s string) {
	d := font.Drawer{Dst: dst, Src: image.Black, Face: face, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// ascii replaces what the 7x13 face lacks: "×" by "x", dashes and minus
// signs by "-", any other non-ASCII character by "?".
func ascii(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r < 0x7f:
			return r
		case r == '×':
			return 'x'
		case r == '−' || r == '–' || r == '—':
			return '-'
		}
		return '?'
	}, s)
}

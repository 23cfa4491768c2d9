package xai

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	"github.com/mavis-xai/mavis/nn"
)

// Rendering: maps become images only here. Computation never renders.

// InputImage turns one model input (1 x H x W x C, values in the range of
// the preprocessing contract p: 0..255 or 0..1; C = 3 RGB or 1 grey) back
// into an image, so that overlays sit on exactly what the model saw.
func InputImage(x *nn.Tensor, p nn.Preprocess) *image.RGBA {
	H, W, C := x.Shape[1], x.Shape[2], x.Shape[3]
	_, hi := inputRange(p)
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	for h := range H {
		for w := range W {
			px := x.Data[(h*W+w)*C : (h*W+w+1)*C]
			v := func(c int) uint8 {
				if c >= len(px) {
					c = 0
				}
				f := float64(px[c]) / hi * 255
				return uint8(math.Round(min(max(f, 0), 255)))
			}
			o := img.PixOffset(w, h)
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = v(0), v(1), v(2), 255
		}
	}
	return img
}

// HeatmapTo colours m (H x W x 1, the size of dst's bounds) with cm after
// normalising by s, and reports a flat scale (then every pixel has the
// colormap's lowest colour).
func HeatmapTo(dst *image.RGBA, m Map, cm *Colormap, s Scale) (flat bool) {
	b := dst.Bounds()
	if m.C != 1 || m.H != b.Dy() || m.W != b.Dx() {
		panic(sprintf("xai: HeatmapTo: map %v for a %dx%d image", m, b.Dx(), b.Dy()))
	}
	norm := make([]float32, len(m.Data))
	flat = NormalizeTo(norm, m.Data, s)
	for h := range m.H {
		for w := range m.W {
			c := cm.At(float64(norm[h*m.W+w]))
			o := dst.PixOffset(b.Min.X+w, b.Min.Y+h)
			dst.Pix[o], dst.Pix[o+1], dst.Pix[o+2], dst.Pix[o+3] = c.R, c.G, c.B, 255
		}
	}
	return flat
}

// Heatmap upsamples m (h x w x 1) bilinearly to width x height, normalises
// it with s and colours it with cm.
func Heatmap(m Map, width, height int, cm *Colormap, s Scale) (img *image.RGBA, flat bool) {
	img = image.NewRGBA(image.Rect(0, 0, width, height))
	up := m
	if m.H != height || m.W != width {
		up = Resize(m, height, width)
	}
	return img, HeatmapTo(img, up, cm, s)
}

// OverlayTo writes dst = (1 − alpha)·base + alpha·heat, pixel by pixel
// over dst's bounds (base and heat are read at the same coordinates).
func OverlayTo(dst *image.RGBA, base image.Image, heat *image.RGBA, alpha float64) {
	b := dst.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			br, bg, bb, _ := base.At(x, y).RGBA()
			hc := heat.RGBAAt(x, y)
			mix := func(bv uint32, hv uint8) uint8 {
				return uint8(math.Round((1-alpha)*float64(bv>>8) + alpha*float64(hv)))
			}
			dst.SetRGBA(x, y, color.RGBA{mix(br, hc.R), mix(bg, hc.G), mix(bb, hc.B), 255})
		}
	}
}

// PanelOptions configures Panel.
type PanelOptions struct {
	Colormap *Colormap // default Jet
	Alpha    float64   // overlay opacity of the heatmap (default 0.4)
	Scale    *Scale    // normalisation; nil: min–max of the map
	Gap      int       // pixels between tiles (default 8)
	// BarMargin is the blank width right of the colour bar, for a caller
	// to write the values its ends stand for (default 0: none).
	BarMargin int
}

// PanelLayout is where Panel puts its parts, for a caller that labels
// them (the explain command writes titles and the colour bar's values).
type PanelLayout struct {
	Size image.Point // the whole panel
	// Tiles are the input, the overlay, the heatmap and the raw map.
	Tiles [4]image.Rectangle
	// Bar is the colour bar: its top row is the scale's Hi, its bottom row
	// Lo.
	Bar image.Rectangle
}

func (o PanelOptions) defaults() PanelOptions {
	if o.Colormap == nil {
		o.Colormap = Jet
	}
	if o.Alpha == 0 {
		o.Alpha = 0.4
	}
	if o.Gap == 0 {
		o.Gap = 8
	}
	return o
}

// Layout returns the layout of a panel over an input image of size
// orig: four tiles of that size in a row, the colour bar (1/16 of the
// width, at least 6 pixels) between the third and the fourth, then
// BarMargin blank pixels.
func (o PanelOptions) Layout(orig image.Point) PanelLayout {
	o = o.defaults()
	W, H, gap := orig.X, orig.Y, o.Gap
	bar := max(W/16, 6)
	var l PanelLayout
	for i := range l.Tiles {
		x := i * (W + gap)
		if i == 3 {
			x += bar + gap + o.BarMargin
		}
		l.Tiles[i] = image.Rect(x, 0, x+W, H)
	}
	bx := l.Tiles[2].Max.X + gap/2
	l.Bar = image.Rect(bx, 0, bx+bar, H)
	l.Size = image.Pt(l.Tiles[3].Max.X, H)
	return l
}

// Panel lays out the original notebook's figure in one image: the input,
// the heatmap overlaid on it, the heatmap alone with a colour bar, and
// the raw map at its own resolution (nearest-neighbour enlarged so each
// cell stays visible); see PanelOptions.Layout. orig is the model input
// (see InputImage); m is h x w x 1 at any resolution. It reports a flat
// map (no contrast, such as an all-zero Grad-CAM), drawn in the
// colormap's lowest colour.
func Panel(orig image.Image, m Map, o PanelOptions) (img *image.RGBA, flat bool) {
	o = o.defaults()
	cm := o.Colormap
	s := MinMaxScale(m.Data)
	if o.Scale != nil {
		s = *o.Scale
	}
	ob := orig.Bounds()
	W, H := ob.Dx(), ob.Dy()
	l := o.Layout(ob.Size())
	img = image.NewRGBA(image.Rectangle{Max: l.Size})
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(img, l.Tiles[0], orig, ob.Min, draw.Src)
	heat, flat := Heatmap(m, W, H, cm, s)
	ov := img.SubImage(l.Tiles[1]).(*image.RGBA)
	shifted := &shiftedImage{orig, ob.Min.Sub(l.Tiles[1].Min)}
	OverlayTo(ov, shifted, &image.RGBA{Pix: heat.Pix, Stride: heat.Stride, Rect: heat.Rect.Add(l.Tiles[1].Min)}, o.Alpha)
	draw.Draw(img, l.Tiles[2], heat, image.Point{}, draw.Src)
	// The colour bar: top is 1 (the scale's Hi), bottom 0 (Lo).
	for y := range H {
		c := cm.At(1 - float64(y)/float64(max(H-1, 1)))
		for x := l.Bar.Min.X; x < l.Bar.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
	// The raw map, nearest neighbour.
	raw := NewMap(H, W, 1)
	for y := range H {
		for x := range W {
			raw.Data[y*W+x] = m.Data[(y*m.H/H)*m.W+x*m.W/W]
		}
	}
	HeatmapTo(img.SubImage(l.Tiles[3]).(*image.RGBA), raw, cm, s)
	return img, flat
}

// shiftedImage reads an image at coordinates offset by d.
type shiftedImage struct {
	image.Image
	d image.Point
}

func (s *shiftedImage) At(x, y int) color.Color { return s.Image.At(x+s.d.X, y+s.d.Y) }

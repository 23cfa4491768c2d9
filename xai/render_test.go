package xai

import (
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/mavis-xai/mavis/nn"
)

func TestColormapAnchors(t *testing.T) {
	tests := []struct {
		cm   *Colormap
		v    float64
		want color.RGBA
	}{
		{Jet, 0, color.RGBA{0, 0, 128, 255}},       // (0, 0, 0.5)
		{Jet, 1, color.RGBA{128, 0, 0, 255}},       // (0.5, 0, 0)
		{Jet, 0.5, color.RGBA{123, 255, 123, 255}}, // r (0.5−0.35)/0.31 = 0.484, g 1, b (0.65−0.5)/0.31
		{Hot, 0, color.RGBA{11, 0, 0, 255}},        // 0.0416
		{Hot, 1, color.RGBA{255, 255, 255, 255}},
		{Viridis, 0, color.RGBA{68, 1, 84, 255}},             // #440154
		{Viridis, 128. / 255, color.RGBA{33, 145, 140, 255}}, // #21918c
		{Viridis, 1, color.RGBA{253, 231, 37, 255}},          // #fde725
		{Inferno, 0, color.RGBA{0, 0, 4, 255}},               // #000004
		{Inferno, 1, color.RGBA{252, 255, 164, 255}},         // #fcffa4
		{RdBuR, 0, color.RGBA{0x05, 0x30, 0x61, 255}},
		{RdBuR, 0.5, color.RGBA{0xf7, 0xf7, 0xf6, 255}}, // the mean of RdBu at 127/255 and 128/255
		{RdBuR, 1, color.RGBA{0x67, 0x00, 0x1f, 255}},
		{Viridis, math.NaN(), color.RGBA{68, 1, 84, 255}},
		{Viridis, -3, color.RGBA{68, 1, 84, 255}},
		{Viridis, 7, color.RGBA{253, 231, 37, 255}},
	}
	for _, tt := range tests {
		if got := tt.cm.At(tt.v); got != tt.want {
			t.Errorf("%s(%v): got %v, want %v", tt.cm.Name, tt.v, got, tt.want)
		}
	}
	for _, n := range ColormapNames() {
		if cm, err := ColormapByName(n); err != nil || cm.Name != n {
			t.Errorf("ColormapByName(%q): %v %v", n, cm, err)
		}
	}
	if _, err := ColormapByName("parula"); err == nil {
		t.Error("ColormapByName(parula): no error")
	}
}

func TestResizeBilinear(t *testing.T) {
	src := Map{H: 2, W: 2, C: 1, Data: []float32{
		0, 1,
		2, 3,
	}}
	got := Resize(src, 4, 4)
	near(t, "2x2 to 4x4", got.Data, []float32{
		0, 0.25, 0.75, 1,
		0.5, 0.75, 1.25, 1.5,
		1.5, 1.75, 2.25, 2.5,
		2, 2.25, 2.75, 3,
	}, 1e-6)
	// Same size is the identity; a constant map stays constant.
	near(t, "identity", Resize(src, 2, 2).Data, src.Data, 0)
	c := Resize(Map{H: 7, W: 7, C: 1, Data: make([]float32, 49)}, 224, 224)
	for _, v := range c.Data {
		if v != 0 {
			t.Fatalf("constant map resampled to %v", v)
		}
	}
}

func TestNormalize(t *testing.T) {
	src := []float32{-1, 0, 1, 3, float32(math.NaN())}
	dst := make([]float32, len(src))
	if flat := NormalizeTo(dst, src, MinMaxScale(src)); flat {
		t.Fatal("flat")
	}
	near(t, "min-max", dst, []float32{0, 0.25, 0.5, 1, 0}, 1e-7)
	if s := SymmetricScale(src, 100); s != (Scale{-3, 3}) {
		t.Errorf("symmetric scale %v, want {-3 3}", s)
	}
	if s := PercentileScale([]float32{5, 1, 4, 2, 3, 100}, 0, 80); s != (Scale{1, 5}) {
		t.Errorf("percentile scale %v, want {1 5}", s)
	}
	if s := MinMaxScale([]float32{1, 2}, []float32{-4, 0}); s != (Scale{-4, 2}) {
		t.Errorf("shared scale %v, want {-4 2}", s)
	}
	m := Map{H: 1, W: 2, C: 3, Data: []float32{1, -2, 0.5, -1, -1, -1}}
	var r Map
	ReduceTo(&r, m, MaxAbs)
	near(t, "max abs", r.Data, []float32{2, 1}, 0)
	ReduceTo(&r, m, SumAbs)
	near(t, "sum abs", r.Data, []float32{3.5, 3}, 0)
	ReduceTo(&r, m, Sum)
	near(t, "sum", r.Data, []float32{-0.5, -3}, 0)
}

// TestZeroMapRenders: an all-zero map (a Grad-CAM with no support) is an
// explicit flat state drawn in the colormap's lowest colour, never NaN.
func TestZeroMapRenders(t *testing.T) {
	zero := NewMap(7, 7, 1)
	dst := make([]float32, 49)
	if !NormalizeTo(dst, zero.Data, MinMaxScale(zero.Data)) {
		t.Error("all-zero map: not flat")
	}
	for _, v := range dst {
		if v != 0 {
			t.Fatalf("normalised zero map has %v", v)
		}
	}
	orig := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for _, cm := range []*Colormap{Jet, Viridis, Hot, Inferno, RdBuR} {
		img, flat := Panel(orig, zero, PanelOptions{Colormap: cm})
		if !flat {
			t.Errorf("%s: zero map not flagged flat", cm.Name)
		}
		low := cm.At(0)
		// The heatmap tile (third) is uniformly the lowest colour.
		x0 := 2 * (32 + 8)
		for y := range 32 {
			for x := x0; x < x0+32; x++ {
				if got := img.RGBAAt(x, y); got != low {
					t.Fatalf("%s: heatmap pixel (%d,%d) %v, want %v", cm.Name, x, y, got, low)
				}
			}
		}
	}
	// The GAP model's class 2 has an all-zero Grad-CAM.
	ex := New(gapModel(t))
	r, err := ex.GradCAM(input(4, 4, 1, gapInput...), CAMOptions{Target: Target{Class: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Zero {
		t.Error("class 2 Grad-CAM: Zero not set")
	}
	for _, v := range r.Norm.Data {
		if v != 0 || v != v {
			t.Fatalf("class 2 normalised map has %v", v)
		}
	}
}

func TestPanelLayout(t *testing.T) {
	orig := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := range orig.Pix {
		orig.Pix[i] = 200
		if i%4 == 3 {
			orig.Pix[i] = 255
		}
	}
	m := Map{H: 2, W: 2, C: 1, Data: []float32{0, 1, 2, 3}}
	img, flat := Panel(orig, m, PanelOptions{Colormap: Viridis, Alpha: 0.5, Gap: 4})
	if flat {
		t.Fatal("flat")
	}
	if w := img.Bounds().Dx(); w != 4*16+6+4*4 {
		t.Errorf("panel width %d, want %d", w, 4*16+6+4*4)
	}
	if got := img.RGBAAt(0, 0); got != (color.RGBA{200, 200, 200, 255}) {
		t.Errorf("original tile pixel %v", got)
	}
	// A margin right of the bar shifts the raw tile by its width; the bar
	// stays where it was (x 2·(16+4) + 16 + 2 = 58).
	o := PanelOptions{Gap: 4, BarMargin: 30}
	l := o.Layout(image.Pt(16, 16))
	if l.Size.X != 4*16+6+4*4+30 || l.Bar != image.Rect(58, 0, 64, 16) || l.Tiles[3].Min.X != 3*(16+4)+6+4+30 {
		t.Errorf("layout with a 30-pixel bar margin: %+v", l)
	}
	if wide, _ := Panel(orig, m, o); wide.Bounds().Size() != l.Size || wide.RGBAAt(58, 0) != Jet.At(1) || wide.RGBAAt(58, 15) != Jet.At(0) {
		t.Errorf("panel %v, bar top %v bottom %v; want size %v, bar %v to %v", wide.Bounds(), wide.RGBAAt(58, 0), wide.RGBAAt(58, 15), l.Size, Jet.At(1), Jet.At(0))
	}
	// The raw tile's top-left cell has the lowest value, its bottom-right
	// the highest.
	x3 := 3*(16+4) + 6 + 4
	if got := img.RGBAAt(x3, 0); got != Viridis.At(0) {
		t.Errorf("raw tile top-left %v, want %v", got, Viridis.At(0))
	}
	if got := img.RGBAAt(x3+15, 15); got != Viridis.At(1) {
		t.Errorf("raw tile bottom-right %v, want %v", got, Viridis.At(1))
	}
	// Overlay: half of 200 and half of the heat colour at the top-left.
	h := Viridis.At(0)
	want := color.RGBA{uint8(math.Round(100 + float64(h.R)/2)), uint8(math.Round(100 + float64(h.G)/2)), uint8(math.Round(100 + float64(h.B)/2)), 255}
	if got := img.RGBAAt(16+4, 0); got != want {
		t.Errorf("overlay pixel %v, want %v", got, want)
	}
}

func TestInputImage(t *testing.T) {
	x := input(1, 2, 3, 0, 128, 255, 10, 20, 300)
	img := InputImage(x, nn.Preprocess{Scale: "0..255"})
	if got := img.RGBAAt(0, 0); got != (color.RGBA{0, 128, 255, 255}) {
		t.Errorf("pixel 0: %v", got)
	}
	if got := img.RGBAAt(1, 0); got != (color.RGBA{10, 20, 255, 255}) { // 300 clamps
		t.Errorf("pixel 1: %v", got)
	}
	g := input(1, 1, 1, 0.5)
	if got := InputImage(g, nn.Preprocess{Scale: "0..1"}).RGBAAt(0, 0); got != (color.RGBA{128, 128, 128, 255}) {
		t.Errorf("grey 0..1: %v", got)
	}
}

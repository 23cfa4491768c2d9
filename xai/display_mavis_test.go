//go:build !js

package xai_test

import (
	"image"
	"math"
	"path/filepath"
	"testing"

	"github.com/mavis-xai/mavis/internal/sharedtest"
	"github.com/mavis-xai/mavis/xai"
)

// TestDisplayMAVIS: on the fixture photos, with the original MAVIS model,
// the gradient maps under their default display rule are not a dark
// field with a few hot pixels: more than 40% of the pixels differ from the
// colormap's bottom colour (for the signed Gradient × Input, from its
// zero colour), and more than under ScaleMax; and more than 10% of them
// reach a tenth of the scale, at least 1.5 times as many as under
// ScaleMax. Measured: 47.0% not at the bottom for Saliency on
// "astronaut", whose gradient sits on the helmet and the flag (90% of its
// pixels are below 13% of the 99th percentile, the median at 0.2%), 88.5%
// to 100% elsewhere (16.8% to 99.8% under ScaleMax); at a tenth of the
// scale or more 10.8% to 62.8% (0.2% to 37.0% under ScaleMax).
func TestDisplayMAVIS(t *testing.T) {
	m := loadMAVIS(t)
	ex := xai.New(m)
	dir := sharedtest.Fixtures(t)
	for _, photo := range []string{"astronaut", "chelsea", "immunohistochemistry", "rocket"} {
		x := readInput(t, filepath.Join(dir, photo, "input.png"))
		for _, method := range []string{"saliency", "inputxgrad"} {
			r, err := ex.Explain(x, xai.Request{Method: method, Target: xai.Target{Class: -1}})
			if err != nil {
				t.Fatal(err)
			}
			meth, _ := xai.Lookup(method)
			cm := meth.Display.Colormap()
			s := xai.DisplayScale(r.Display, meth.Display, xai.ScaleDefault)
			img := image.NewRGBA(image.Rect(0, 0, r.Display.W, r.Display.H))
			bottom := cm.At(0)
			if cm.Diverging {
				bottom = cm.At(0.5)
			}
			notBottom := func(s xai.Scale) float64 {
				xai.HeatmapTo(img, r.Display, cm, s)
				other := 0
				for i := 0; i < len(img.Pix); i += 4 {
					if img.Pix[i] != bottom.R || img.Pix[i+1] != bottom.G || img.Pix[i+2] != bottom.B {
						other++
					}
				}
				return float64(other) / float64(len(img.Pix)/4)
			}
			// tenth is the fraction of pixels at a tenth of the scale or more.
			tenth := func(s xai.Scale) float64 {
				n := 0
				for _, v := range r.Display.Data {
					if math.Abs(float64(v)) >= 0.1*float64(s.Hi) {
						n++
					}
				}
				return float64(n) / float64(len(r.Display.Data))
			}
			smax := xai.DisplayScale(r.Display, meth.Display, xai.ScaleMax)
			f, fmax := notBottom(s), notBottom(smax)
			v, vmax := tenth(s), tenth(smax)
			t.Logf("%s %s: scale %v, %.1f%% of the pixels not at the bottom colour and %.1f%% at a tenth of the scale or more (ScaleMax: %.1f%% and %.1f%%)",
				photo, method, s, 100*f, 100*v, 100*fmax, 100*vmax)
			if f <= 0.4 || f <= fmax {
				t.Errorf("%s %s: %.1f%% of the pixels differ from the bottom colour %v (%.1f%% under ScaleMax), want more than 40%% and more than under ScaleMax",
					photo, method, 100*f, bottom, 100*fmax)
			}
			if v <= 0.1 || v < 1.5*vmax {
				t.Errorf("%s %s: %.1f%% of the pixels at a tenth of the scale or more (%.1f%% under ScaleMax), want more than 10%% and 1.5 times as many",
					photo, method, 100*v, 100*vmax)
			}
		}
	}
}

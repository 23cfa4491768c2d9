package xai

import (
	"image"
	"image/color"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestColouredFraction: the coloured fraction of hand-made images: grey,
// a quarter pure red, chroma just under and at FitChroma, and transparent
// red, which shows as white.
func TestColouredFraction(t *testing.T) {
	fill := func(f func(x, y int) color.Color) image.Image {
		img := image.NewNRGBA(image.Rect(0, 0, 4, 4))
		for y := range 4 {
			for x := range 4 {
				img.Set(x, y, f(x, y))
			}
		}
		return img
	}
	grey := color.NRGBA{120, 120, 120, 255}
	for _, tt := range []struct {
		name string
		img  image.Image
		want float64
	}{
		{"grey", fill(func(x, y int) color.Color { return grey }), 0},
		{"quarter red", fill(func(x, y int) color.Color {
			if y == 0 {
				return color.NRGBA{255, 0, 0, 255}
			}
			return grey
		}), 0.25},
		{"chroma 31", fill(func(x, y int) color.Color { return color.NRGBA{131, 100, 110, 255} }), 0},
		{"chroma 32", fill(func(x, y int) color.Color { return color.NRGBA{132, 100, 110, 255} }), 1},
		{"transparent red", fill(func(x, y int) color.Color { return color.NRGBA{255, 0, 0, 0} }), 0},
		{"grey image type", image.NewGray(image.Rect(0, 0, 3, 3)), 0},
	} {
		if got := colouredFraction(tt.img); got != tt.want {
			t.Errorf("%s: colouredFraction = %v, want %v", tt.name, got, tt.want)
		}
	}
	// The *image.NRGBA fast path reads what At reads: random pixels and
	// alphas (a sub-image, so offsets matter), against the same image
	// behind another type.
	rng := rand.New(rand.NewPCG(4, 5))
	img := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
	}
	sub := img.SubImage(image.Rect(3, 2, 37, 29)).(*image.NRGBA)
	if got, want := colouredFraction(sub), colouredFraction(struct{ image.Image }{sub}); got != want || got == 0 || got == 1 {
		t.Errorf("NRGBA: colouredFraction = %v, through At %v (want equal, strictly between 0 and 1)", got, want)
	}
}

// TestFitGrid: over fitSamples pixels a side the colour check reads an
// even grid (a 1024-pixel side: every second pixel, so a picture red on
// its odd columns only is grey to it and one red on its even columns is
// coloured), and an image of only the grid's pixels, as the page's worker
// keeps them, gives the same fraction as the whole image.
func TestFitGrid(t *testing.T) {
	for _, odd := range []int{1, 0} {
		img := image.NewNRGBA(image.Rect(0, 0, 1024, 3))
		for y := range 3 {
			for x := range 1024 {
				c := color.NRGBA{90, 90, 90, 255}
				if x%2 == odd {
					c = color.NRGBA{255, 0, 0, 255}
				}
				img.SetNRGBA(x, y, c)
			}
		}
		if got, want := colouredFraction(img), float64(1-odd); got != want {
			t.Errorf("red on the columns x %% 2 == %d of a 1024x3 picture: colouredFraction = %v, want %v", odd, got, want)
		}
	}
	rng := rand.New(rand.NewPCG(6, 1))
	for _, sz := range [][2]int{{1500, 700}, {513, 1000}, {100, 3000}, {512, 512}, {7, 3}} {
		w, h := sz[0], sz[1]
		img := image.NewNRGBA(image.Rect(0, 0, w, h))
		for i := range img.Pix {
			img.Pix[i] = uint8(rng.IntN(256))
			if i%4 == 3 && rng.IntN(2) == 0 {
				img.Pix[i] = 255
			}
		}
		xs, ys := FitGrid(w, h)
		if len(xs) != min(w, fitSamples) || len(ys) != min(h, fitSamples) {
			t.Errorf("%dx%d: a grid of %dx%d", w, h, len(xs), len(ys))
		}
		grid := image.NewNRGBA(image.Rect(0, 0, len(xs), len(ys)))
		for j, y := range ys {
			for i, x := range xs {
				grid.SetNRGBA(i, j, img.NRGBAAt(x, y))
			}
		}
		if got, want := colouredFraction(grid), colouredFraction(img); got != want || want == 0 || want == 1 {
			t.Errorf("%dx%d: colouredFraction of the grid's pixels %v, of the picture %v (want equal, strictly between 0 and 1)", w, h, got, want)
		}
	}
}

// TestFitVerdict: which problems each combination of signs gives.
func TestFitVerdict(t *testing.T) {
	for _, tt := range []struct {
		name    string
		f       Fit
		outside bool
		want    []string // substrings, one per problem, in order
	}{
		{"grey model, colour photo, sure", Fit{Coloured: 0.9, Grey: true, Top: 0.95}, true, []string{"reads grey pictures and this one is in colour (90%", "95.0% confidence does not make"}},
		{"grey model, colour photo, unsure", Fit{Coloured: 0.2, Grey: true, Top: 0.4}, true, []string{"in colour (20%", "only 40.0%"}},
		{"grey model, colour photo, between", Fit{Coloured: 0.2, Grey: true, Top: 0.7}, true, []string{"in colour", "a guess"}},
		{"grey model, little colour", Fit{Coloured: 0.05, Grey: true, Top: 0.99}, false, nil},
		{"colour model, grey picture", Fit{Coloured: 0, Top: 0.7}, true, []string{"reads colour pictures and this one is grey", "a guess"}},
		{"colour model, some colour", Fit{Coloured: 0.02, Top: 0.7}, false, nil},
		{"no source image", Fit{Coloured: -1, Top: 0.99}, false, nil},
		{"far, sure", Fit{Coloured: 0.5, Shift: 8.5, ShiftLayer: "bn_4", Top: 0.9999}, true, []string{"(layer bn_4)", "100.0% confidence"}},
		{"near the threshold", Fit{Coloured: 0.5, Shift: FitShift - 0.01, ShiftLayer: "bn", Top: 0.9999}, false, nil},
		{"in domain, unsure", Fit{Coloured: 0.5, Shift: 1, ShiftLayer: "bn", Top: 0.3}, false, []string{"unsure: its top class has only 30.0%"}},
	} {
		f := tt.f
		f.verdict(10, true)
		if f.Outside != tt.outside || len(f.Problems) != len(tt.want) {
			t.Errorf("%s: Outside %v, problems %q; want %v and %d problems", tt.name, f.Outside, f.Problems, tt.outside, len(tt.want))
			continue
		}
		for i, w := range tt.want {
			if !strings.Contains(f.Problems[i], w) {
				t.Errorf("%s: problem %d = %q, want it to contain %q", tt.name, i, f.Problems[i], w)
			}
		}
		if !strings.Contains(f.Limits, "cannot tell whether the picture shows one of the model's classes") {
			t.Errorf("%s: Limits = %q", tt.name, f.Limits)
		}
	}
	f := Fit{Coloured: 0.5, Top: 0.9}
	f.verdict(5, false)
	if !strings.Contains(f.Limits, "no BatchNorm statistics") {
		t.Errorf("a model without BatchNorm: Limits = %q", f.Limits)
	}
}

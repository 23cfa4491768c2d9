package xai

import (
	"math"
)

// Box is an axis-aligned object box on the model's input grid, in pixels:
// columns X0 <= x < X1 and rows Y0 <= y < Y1 (half-open, like
// image.Rectangle).
type Box struct {
	X0 int `json:"x0"`
	Y0 int `json:"y0"`
	X1 int `json:"x1"`
	Y1 int `json:"y1"`
}

func (b Box) String() string { return sprintf("(%d,%d)-(%d,%d)", b.X0, b.Y0, b.X1, b.Y1) }

// check validates b on an h x w grid.
func (b Box) check(h, w int) error {
	if b.X0 < 0 || b.Y0 < 0 || b.X1 > w || b.Y1 > h || b.X0 >= b.X1 || b.Y0 >= b.Y1 {
		return errorf("xai: box %v is empty or outside the %dx%d input", b, w, h)
	}
	return nil
}

// ScaleBox maps a box on an image of iw x ih pixels, given with inclusive
// corners (x0, y0)-(x1, y1) as in Tiny ImageNet's val_annotations.txt, to
// the half-open box covering the same area on a w x h input grid (the
// image stretched to the input, as nn's preprocessing does without a
// crop). The result is clamped to the grid and at least one pixel wide.
func ScaleBox(x0, y0, x1, y1, iw, ih, w, h int) (Box, error) {
	if iw < 1 || ih < 1 || w < 1 || h < 1 {
		return Box{}, errorf("xai: box on a %dx%d image for a %dx%d input", iw, ih, w, h)
	}
	if x0 < 0 || y0 < 0 || x1 < x0 || y1 < y0 || x1 >= iw || y1 >= ih {
		return Box{}, errorf("xai: box (%d,%d)-(%d,%d) is not inside the %dx%d image", x0, y0, x1, y1, iw, ih)
	}
	sx, sy := float64(w)/float64(iw), float64(h)/float64(ih)
	b := Box{
		X0: int(math.Floor(float64(x0) * sx)), Y0: int(math.Floor(float64(y0) * sy)),
		X1: int(math.Ceil(float64(x1+1) * sx)), Y1: int(math.Ceil(float64(y1+1) * sy)),
	}
	b.X1, b.Y1 = min(max(b.X1, b.X0+1), w), min(max(b.Y1, b.Y0+1), h)
	return b, nil
}

// PointingGame reports whether the maximum of map m, brought to the h x w
// input grid (see eval_maps.go), lies in box b grown by tol pixels on
// every side: one trial of the pointing game of Zhang et al., "Top-down
// Neural Attention by Excitation Backprop" (ECCV 2016, IJCV 2018; they use
// tol = 15 pixels). The first maximum in row-major order counts; an
// all-NaN map misses.
func PointingGame(m Map, h, w int, b Box, tol int) (bool, error) {
	if err := checkMap(m); err != nil {
		return false, err
	}
	if err := b.check(h, w); err != nil {
		return false, err
	}
	pix := make([]float32, h*w)
	pixelMapTo(pix, h, w, m)
	return pointingGame(pix, h, w, b, tol), nil
}

func pointingGame(pix []float32, h, w int, b Box, tol int) bool {
	best, at := math.Inf(-1), -1
	for i, v := range pix {
		if float64(v) > best {
			best, at = float64(v), i
		}
	}
	if at < 0 {
		return false
	}
	y, x := at/w, at%w
	return x >= b.X0-tol && x < b.X1+tol && y >= b.Y0-tol && y < b.Y1+tol
}

// RelevanceMass returns the relevance mass accuracy of Arras, Osman and
// Samek, "CLEVR-XAI: A benchmark dataset for the ground truth evaluation
// of neural network explanations" (Information Fusion 2022):
// the share of the positive relevance that falls inside the box,
//
//	mass = Σ_{p in box} max(R_p, 0) / Σ_p max(R_p, 0)
//
// with R the map brought to the h x w input grid (channels summed first,
// as they pool relevance over channels). 1 when all positive relevance is
// in the box, 0 when none is or the map has no positive value.
func RelevanceMass(m Map, h, w int, b Box) (float64, error) {
	if err := checkMap(m); err != nil {
		return 0, err
	}
	if err := b.check(h, w); err != nil {
		return 0, err
	}
	pix := make([]float32, h*w)
	pixelMapTo(pix, h, w, m)
	return relevanceMass(pix, h, w, b), nil
}

func relevanceMass(pix []float32, h, w int, b Box) float64 {
	var in, all float64
	for y := range h {
		for x := range w {
			v := float64(pix[y*w+x])
			if !(v > 0) || math.IsInf(v, 0) {
				continue
			}
			all += v
			if x >= b.X0 && x < b.X1 && y >= b.Y0 && y < b.Y1 {
				in += v
			}
		}
	}
	if all == 0 {
		return 0
	}
	return in / all
}

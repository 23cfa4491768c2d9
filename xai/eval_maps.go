package xai

import (
	"cmp"
	"math"
	"slices"
)

// Preparing maps for the faithfulness metrics (metrics*.go, deletion.go,
// sanity.go, localisation.go).
//
// Every metric works on a relevance value per input pixel, so a map is
// first brought to the model's input grid:
//
//  1. channels: an H x W x C map (Integrated Gradients' attributions, a
//     signed gradient) becomes H x W by summing over channels, the
//     reduction that keeps IG's completeness (Σ_pixels = Σ_all). Maps with
//     C = 1 (Grad-CAM, Saliency) are used as they are;
//  2. resolution: a map smaller or larger than the input (Grad-CAM's 7 x 7
//     against 224 x 224) is resized bilinearly with half-pixel centres by
//     ResizeTo (the renderer's upsampler: OpenCV's INTER_LINEAR
//     convention, which pytorch-grad-cam uses to draw its overlays), so
//     the metrics rank the pixels of the overlay the user sees;
//  3. ranking: pixels (or patches) are sorted by relevance, largest first;
//     equal values keep row-major order (the smaller index first), NaN
//     counts as −Inf, so the order is deterministic.

// pixelMapTo writes the relevance of every input pixel, an h x w grid in
// row-major order, into dst (len h*w): m reduced over channels (sum) and
// resized bilinearly to h x w. It panics when m is empty.
func pixelMapTo(dst []float32, h, w int, m Map) {
	if m.H < 1 || m.W < 1 || m.C < 1 || len(m.Data) != m.H*m.W*m.C {
		panic(sprintf("xai: map %v with %d values", m, len(m.Data)))
	}
	if len(dst) != h*w {
		panic(sprintf("xai: pixel map of %d values for %dx%d", len(dst), h, w))
	}
	src := m.Data
	if m.C > 1 {
		if m.H == h && m.W == w {
			src = dst // reduce straight into dst
		} else {
			src = make([]float32, m.H*m.W)
		}
		for p := range m.H * m.W {
			var s float64
			for _, v := range m.Data[p*m.C : (p+1)*m.C] {
				s += float64(v)
			}
			src[p] = float32(s)
		}
	}
	if m.H == h && m.W == w {
		copy(dst, src)
		return
	}
	ResizeTo(Map{H: h, W: w, C: 1, Data: dst}, Map{H: m.H, W: m.W, C: 1, Data: src})
}

// units describes how pixels are grouped for deletion and insertion: the
// input's h x w pixels in square patches of side patch (1: single pixels).
// Patch (i, j) covers rows i·patch .. min((i+1)·patch, h) − 1.
type units struct {
	h, w, patch int
	ph, pw      int // patches per column and row
}

func newUnits(h, w, patch int) units {
	if patch < 1 {
		patch = 1
	}
	return units{h: h, w: w, patch: patch, ph: (h + patch - 1) / patch, pw: (w + patch - 1) / patch}
}

func (u units) count() int { return u.ph * u.pw }

// pixels calls f for every pixel index (row-major in h x w) of unit i.
func (u units) pixels(i int, f func(p int)) {
	r0, c0 := (i/u.pw)*u.patch, (i%u.pw)*u.patch
	for r := r0; r < min(r0+u.patch, u.h); r++ {
		for c := c0; c < min(c0+u.patch, u.w); c++ {
			f(r*u.w + c)
		}
	}
}

// rankTo writes into order the unit indices sorted by relevance, largest
// first, ties (and NaNs, which count as −Inf) in index order. A unit's
// relevance is the mean of its pixels in pix (h x w); score receives it
// (len u.count()).
func (u units) rankTo(order []int32, score []float64, pix []float32) {
	if u.patch == 1 {
		for i, v := range pix {
			score[i] = nanLow(float64(v))
		}
	} else {
		for i := range score {
			var s float64
			var n int
			u.pixels(i, func(p int) { s += float64(pix[p]); n++ })
			score[i] = nanLow(s / float64(n))
		}
	}
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := cmp.Compare(score[b], score[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
}

func nanLow(v float64) float64 {
	if v != v {
		return math.Inf(-1)
	}
	return v
}

// RankPixels returns the pixel indices (row-major in h x w) of m brought to
// an h x w grid (see above), most relevant first, ties in row-major order.
// It is the order in which Deletion removes pixels.
func RankPixels(m Map, h, w int) []int {
	if h < 1 || w < 1 || m.H < 1 || m.W < 1 || m.C < 1 || len(m.Data) != m.H*m.W*m.C {
		panic(sprintf("xai: ranking map %v at %dx%d", m, h, w))
	}
	pix := make([]float32, h*w)
	pixelMapTo(pix, h, w, m)
	u := newUnits(h, w, 1)
	order := make([]int32, u.count())
	u.rankTo(order, make([]float64, u.count()), pix)
	out := make([]int, len(order))
	for i, v := range order {
		out[i] = int(v)
	}
	return out
}

// checkMap validates a map given to a metric (user data: an error, not a
// panic).
func checkMap(m Map) error {
	if m.H < 1 || m.W < 1 || m.C < 1 || m.H > 1<<14 || m.W > 1<<14 || m.C > 1<<12 {
		return errorf("xai: map %v is empty or too large", m)
	}
	if len(m.Data) != m.H*m.W*m.C {
		return errorf("xai: map %v holds %d values, want %d", m, len(m.Data), m.H*m.W*m.C)
	}
	return nil
}

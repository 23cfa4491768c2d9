package xai

import "math"

// Map is an H x W x C grid of float32 values in row-major HWC order, like a
// one-sample nn.Tensor: element (h, w, c) is Data[(h*W+w)*C+c] (Offset
// computes it). CAM and saliency maps have C = 1, gradients and
// attributions have the input's channels.
type Map struct {
	H, W, C int
	Data    []float32
}

// NewMap returns a zeroed h x w x c map.
func NewMap(h, w, c int) Map {
	if h < 0 || w < 0 || c < 0 {
		panic(sprintf("xai: negative map shape %dx%dx%d", h, w, c))
	}
	return Map{H: h, W: w, C: c, Data: make([]float32, h*w*c)}
}

// Offset returns the index in Data of element (h, w, c).
func (m Map) Offset(h, w, c int) int { return (h*m.W+w)*m.C + c }

// Shape returns the shape as a slice (H, W) when C = 1, else (H, W, C),
// the layout of the .npy files the fixtures and the explain command use.
func (m Map) Shape() []int {
	if m.C == 1 {
		return []int{m.H, m.W}
	}
	return []int{m.H, m.W, m.C}
}

func (m Map) String() string { return sprintf("%dx%dx%d", m.H, m.W, m.C) }

// reshape makes m an h x w x c map, reusing its storage when large enough.
// The contents are unspecified.
func (m *Map) reshape(h, w, c int) {
	n := h * w * c
	if cap(m.Data) < n {
		m.Data = make([]float32, n)
	}
	m.H, m.W, m.C, m.Data = h, w, c, m.Data[:n]
}

// MinMax returns the smallest and largest value of data (0, 0 when empty).
// NaNs are skipped.
func MinMax(data []float32) (lo, hi float32) {
	first := true
	for _, v := range data {
		if v != v {
			continue
		}
		if first {
			lo, hi, first = v, v, false
			continue
		}
		lo, hi = fmin(lo, v), fmax(hi, v)
	}
	return lo, hi
}

// fmin and fmax are the builtins min and max of two float32s (a NaN wins,
// −0 is below +0) in comparisons. Go's wasm port calls the runtime for the
// builtins on floats (runtime.fmin32, runtime.fmax32), which made the page's
// loops over every value of a map several times slower than comparisons.
func fmin(a, b float32) float32 {
	switch {
	case a < b:
		return a
	case b < a:
		return b
	case a != a || b != b:
		return a + b // NaN
	}
	return math.Float32frombits(math.Float32bits(a) | math.Float32bits(b)) // equal; min(+0, −0) = −0
}

func fmax(a, b float32) float32 {
	switch {
	case a > b:
		return a
	case b > a:
		return b
	case a != a || b != b:
		return a + b // NaN
	}
	return math.Float32frombits(math.Float32bits(a) & math.Float32bits(b)) // equal; max(+0, −0) = +0
}

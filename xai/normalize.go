package xai

import "math"

// Scale is the value range [Lo, Hi] that normalisation maps to [0, 1].
// A flat scale (Hi <= Lo, or not finite) marks a map with no contrast,
// such as an all-zero Grad-CAM: it normalises to all zeros, which
// renders as the colormap's lowest colour, and is reported, never turned
// into NaN.
type Scale struct{ Lo, Hi float32 }

// Flat reports whether s has no extent.
func (s Scale) Flat() bool {
	return !(s.Hi > s.Lo) || math.IsInf(float64(s.Hi-s.Lo), 0)
}

// MinMaxScale returns [min, max] over every map given: pass several maps
// for one scale shared across methods.
func MinMaxScale(maps ...[]float32) Scale {
	var s Scale
	first := true
	for _, m := range maps {
		lo, hi := MinMax(m)
		if len(m) == 0 {
			continue
		}
		if first {
			s, first = Scale{lo, hi}, false
			continue
		}
		s.Lo, s.Hi = min(s.Lo, lo), max(s.Hi, hi)
	}
	return s
}

// PercentileScale returns [lo-th, hi-th percentile] of data (percentages
// in [0, 100], nearest rank), clipping outliers: (1, 99) is a common
// choice for saliency maps, whose few large values otherwise leave the
// rest dark.
func PercentileScale(data []float32, lo, hi float64) Scale {
	s := make([]float32, 0, len(data))
	for _, v := range data {
		if v == v { // NaNs are left out
			s = append(s, v)
		}
	}
	if len(s) == 0 {
		return Scale{}
	}
	rank := func(p float64) float32 {
		p = min(max(p, 0), 100)
		return selectNth(s, int(math.Round(p/100*float64(len(s)-1))))
	}
	return Scale{rank(lo), rank(hi)}
}

// selectNth returns the value sorting s would put at index k, reordering
// s (Hoare's FIND, as in Wirth's Algorithms + Data Structures = Programs,
// 1976, §2.3.4: expected linear time, and equal values split evenly). The
// pivot's index is drawn from a fixed-seed generator, so that no natural
// order of a map makes it quadratic. It stands in for a sort because the
// browser's worker links one instantiation of the generic sort (see
// internal/order) and a float32 sort is 14 KB of its wasm; s holds no
// NaNs.
func selectNth(s []float32, k int) float32 {
	lo, hi := 0, len(s)-1
	seed := uint64(len(s))*0x9e3779b97f4a7c15 | 1
	for lo < hi {
		seed ^= seed << 13
		seed ^= seed >> 7
		seed ^= seed << 17
		x := s[lo+int(seed%uint64(hi-lo+1))]
		i, j := lo, hi
		for i <= j {
			for s[i] < x {
				i++
			}
			for x < s[j] {
				j--
			}
			if i <= j {
				s[i], s[j] = s[j], s[i]
				i++
				j--
			}
		}
		if j < k {
			lo = i
		}
		if k < i {
			hi = j
		}
	}
	return s[k]
}

// SymmetricScale returns [−M, M] with M the largest |value| (or its
// percentile p < 100), so that 0 maps to 0.5: the midpoint of a diverging
// colormap.
func SymmetricScale(data []float32, p float64) Scale {
	abs := make([]float32, 0, len(data))
	for _, v := range data {
		if v == v {
			abs = append(abs, float32(math.Abs(float64(v))))
		}
	}
	m := PercentileScale(abs, p, p).Hi
	if p >= 100 {
		_, m = MinMax(abs)
	}
	return Scale{-m, m}
}

// NormalizeTo writes (src − Lo)/(Hi − Lo) clipped to [0, 1] into dst
// (len(dst) >= len(src)). A flat scale writes zeros and returns true. NaN
// values become 0.
func NormalizeTo(dst, src []float32, s Scale) (flat bool) {
	if s.Flat() {
		clear(dst[:len(src)])
		return true
	}
	d := float64(s.Hi) - float64(s.Lo)
	for i, v := range src {
		x := (float64(v) - float64(s.Lo)) / d
		if !(x > 0) {
			x = 0
		}
		dst[i] = float32(min(x, 1))
	}
	return false
}

// Reduction turns an H x W x C map into H x W.
type Reduction int

const (
	MaxAbs Reduction = iota // max_c |v| (Saliency)
	SumAbs                  // Σ_c |v| (the original notebook's IG display)
	Sum                     // Σ_c v, signed (for a diverging colormap)
)

// ReduceTo writes the channel reduction of src into dst (reshaped to
// H x W x 1).
func ReduceTo(dst *Map, src Map, r Reduction) {
	dst.reshape(src.H, src.W, 1)
	for p := range dst.Data {
		var acc float64
		for _, v := range src.Data[p*src.C : (p+1)*src.C] {
			switch r {
			case MaxAbs: // max(acc, |v|) in comparisons (see fmax); a NaN stays
				if a := math.Abs(float64(v)); a > acc || a != a {
					acc = a
				}
			case SumAbs:
				acc += math.Abs(float64(v))
			default:
				acc += float64(v)
			}
		}
		dst.Data[p] = float32(acc)
	}
}

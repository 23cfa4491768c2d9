package xai

import (
	"slices"
	"testing"
)

// TestBilinearHalfPixel: upsampling 2x2 to 4x4 with half-pixel centres
// (OpenCV's INTER_LINEAR): source centres sit at output 0.5 and 2.5, so
// row/column weights are (1, ¾·+¼·, ¼·+¾·, 1) — worked by hand:
//
//	src = 0 4     out =  0  1  3  4
//	      8 12           2  3  5  6
//	                     6  7  9 10
//	                     8  9 11 12
func TestBilinearHalfPixel(t *testing.T) {
	got := make([]float32, 16)
	pixelMapTo(got, 4, 4, evMap(2, 2, []float32{0, 4, 8, 12}))
	want := []float32{0, 1, 3, 4, 2, 3, 5, 6, 6, 7, 9, 10, 8, 9, 11, 12}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	// Channels are summed first; same size is a copy.
	m := NewMap(1, 2, 3)
	copy(m.Data, []float32{1, 2, 3, -1, -1, 5})
	got = make([]float32, 2)
	pixelMapTo(got, 1, 2, m)
	if !slices.Equal(got, []float32{6, 3}) {
		t.Errorf("channel sum: got %v, want [6 3]", got)
	}
}

// TestRankPixelsTies: most relevant first, ties in row-major order, NaN
// last.
func TestRankPixelsTies(t *testing.T) {
	nan := float32(0)
	nan = nan / nan
	m := evMap(2, 3, []float32{
		1, 5, 1,
		nan, 5, 2,
	})
	got := RankPixels(m, 2, 3)
	want := []int{1, 4, 5, 0, 2, 3}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

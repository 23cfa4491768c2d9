package xai

// Bilinear resampling of maps. It lives here, with the standard library
// only, rather than in nfnt/resize (which nn may use): xai imports only nn
// and std, and nfnt/resize works on image.Image, whose 8- or 16-bit
// channels would quantise a float map before it is normalised.

// ResizeTo resamples src bilinearly into dst (dst.H x dst.W, src.C
// channels; dst.Data must hold dst.H*dst.W*src.C values). Pixel centres
// are aligned (the convention of OpenCV's INTER_LINEAR and of
// TensorFlow's resize with half_pixel_centers): output pixel (i, j)
// samples src at ((i+0.5)·H/h − 0.5, (j+0.5)·W/w − 0.5), clamped to the
// edge.
func ResizeTo(dst Map, src Map) {
	if dst.C != src.C || len(dst.Data) < dst.H*dst.W*dst.C {
		panic("xai: ResizeTo: dst and src disagree on channels, or dst is short")
	}
	C := src.C
	for i := range dst.H {
		y0, y1, fy := sample(i, dst.H, src.H)
		for j := range dst.W {
			x0, x1, fx := sample(j, dst.W, src.W)
			for c := range C {
				a := float64(src.Data[(y0*src.W+x0)*C+c])
				b := float64(src.Data[(y0*src.W+x1)*C+c])
				d := float64(src.Data[(y1*src.W+x0)*C+c])
				e := float64(src.Data[(y1*src.W+x1)*C+c])
				top := a + (b-a)*fx
				bot := d + (e-d)*fx
				dst.Data[(i*dst.W+j)*C+c] = float32(top + (bot-top)*fy)
			}
		}
	}
}

// sample returns the two source indices around output index i and the
// weight of the second.
func sample(i, out, in int) (i0, i1 int, f float64) {
	s := (float64(i)+0.5)*float64(in)/float64(out) - 0.5
	if s <= 0 {
		return 0, 0, 0
	}
	if s >= float64(in-1) {
		return in - 1, in - 1, 0
	}
	i0 = int(s)
	return i0, i0 + 1, s - float64(i0)
}

// Resize returns src resampled to h x w (see ResizeTo).
func Resize(src Map, h, w int) Map {
	dst := NewMap(h, w, src.C)
	ResizeTo(dst, src)
	return dst
}

// cornerTap is one output index of a resampling with aligned corners: the
// two source indices around it and the weight f of the second.
type cornerTap struct {
	i0, i1 int
	f      float64
}

// cornerTaps returns the taps of bilinear resampling from in to out
// samples with aligned corners (torch's interpolate(mode='bilinear',
// align_corners=True), Score-CAM's masks): output d samples the source at
// s = d·(in−1)/(out−1), i0 = floor(s), i1 = min(i0+1, in−1), f = s − i0,
// so the first and last samples of both grids coincide. A single output
// samples s = 0.
func cornerTaps(out, in int) []cornerTap {
	taps := make([]cornerTap, out)
	for d := range taps {
		var s float64
		if out > 1 {
			s = float64(d) * float64(in-1) / float64(out-1)
		}
		i0 := min(int(s), in-1)
		taps[d] = cornerTap{i0, min(i0+1, in-1), s - float64(i0)}
	}
	return taps
}

// upsampleCornersTo writes channel c of src resampled with aligned corners
// (rows then columns) into dst, in float64.
//
//	dst: (len(rows), len(cols))   tmp: (len(rows), src.W) scratch
//	src: (src.H, src.W, src.C)
func upsampleCornersTo(dst, tmp []float64, src Map, c int, rows, cols []cornerTap) {
	W := len(cols)
	for d, t := range rows {
		for j := range src.W {
			a := float64(src.Data[src.Offset(t.i0, j, c)])
			b := float64(src.Data[src.Offset(t.i1, j, c)])
			tmp[d*src.W+j] = a*(1-t.f) + b*t.f
		}
	}
	for d := range rows {
		row := tmp[d*src.W : (d+1)*src.W]
		for e, t := range cols {
			dst[d*W+e] = row[t.i0]*(1-t.f) + row[t.i1]*t.f
		}
	}
}

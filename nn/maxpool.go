package nn

import (
	"math"
)

// MaxPool2D takes the maximum over each window (Keras's MaxPooling2D).
//
// Backward passes a window's whole gradient to one element: the first
// maximal one in row-major order (argmax with strict >), as TensorFlow on
// the CPU and PyTorch do. With Same padding, positions outside the input are
// ignored.
type MaxPool2D struct {
	name   string
	PH, PW int // pool size
	SH, SW int // strides
	Pad    Padding
	y, dx  *Tensor
	arg    []int32 // per output element, the input index of its maximum
	xshape [4]int
	rows   poolRows  // the 2x2 passes' rows split over the workers
	scaled []float32 // forwardScaled's two input rows
}

var _ Layer = (*MaxPool2D)(nil)

// NewMaxPool2D returns a max-pooling layer.
func NewMaxPool2D(name string, ph, pw, sh, sw int, pad Padding) *MaxPool2D {
	return &MaxPool2D{name: name, PH: ph, PW: pw, SH: sh, SW: sw, Pad: pad}
}

func (m *MaxPool2D) Name() string { return m.name }

func (m *MaxPool2D) OutputShape(in [3]int) ([3]int, error) {
	if m.Pad == Valid && (in[0] < m.PH || in[1] < m.PW) {
		return [3]int{}, errorf("nn: %s: input %dx%d smaller than pool %dx%d", m.name, in[0], in[1], m.PH, m.PW)
	}
	oh, _ := window(in[0], m.PH, m.SH, m.Pad)
	ow, _ := window(in[1], m.PW, m.SW, m.Pad)
	return [3]int{oh, ow, in[2]}, nil
}

// outputs sizes the output and argmax buffers for input x and returns
// the output's height and width and the windows' top and left padding.
func (m *MaxPool2D) outputs(x *Tensor) (oh, ow, ph, pw int) {
	oh, ph = window(x.Shape[1], m.PH, m.SH, m.Pad)
	ow, pw = window(x.Shape[2], m.PW, m.SW, m.Pad)
	m.xshape = x.Shape
	m.y = reuse(m.y, [4]int{x.Shape[0], oh, ow, x.Shape[3]})
	if cap(m.arg) < m.y.Len() {
		m.arg = make([]int32, m.y.Len())
	}
	m.arg = m.arg[:m.y.Len()]
	return oh, ow, ph, pw
}

func (m *MaxPool2D) Forward(x *Tensor) *Tensor {
	N, H, W, C := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	oh, ow, ph, pw := m.outputs(x)
	if m.PH == 2 && m.PW == 2 && m.SH == 2 && m.SW == 2 && ph == 0 && pw == 0 {
		m.rows.run(false, m.y.Data, m.arg, x.Data, N, H, W, C, oh, ow)
		return m.y
	}
	m.poolTo(m.y.Data, m.arg, x.Data, N, H, W, C, oh, ow, ph, pw)
	return m.y
}

// pools2x2 reports whether the layer is the 2x2, stride-2 pool without
// padding (pool2x2To's) for input shape s: one that forwardScaled runs.
func (m *MaxPool2D) pools2x2(s [4]int) bool {
	if m.PH != 2 || m.PW != 2 || m.SH != 2 || m.SW != 2 || s[1] < 2 || s[2] < 2 {
		return false
	}
	_, ph := window(s[1], m.PH, m.SH, m.Pad)
	_, pw := window(s[2], m.PW, m.SW, m.Pad)
	return ph == 0 && pw == 0
}

// forwardScaled is Forward on x·s + t (s, t per channel, a BatchNorm at
// inference; pools2x2 must hold), without writing x·s + t whole: for
// each output row it scales the two input rows into a scratch buffer
// (scaleShiftTo, as BatchNorm.Forward does) and pools those. The outputs
// and the positions of the maxima are bit for bit Forward's on the
// scaled tensor.
func (m *MaxPool2D) forwardScaled(x *Tensor, s, t []float32) *Tensor {
	N, H, W, C := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	oh, ow, _, _ := m.outputs(x)
	row := pool2x2Row(C)
	at := fastPool2x2RowAt
	if C%4 != 0 {
		at = nil
	}
	span := 2 * W * C
	if cap(m.scaled) < span {
		m.scaled = make([]float32, span)
	}
	rows := m.scaled[:span]
	for n := range N {
		for i := range oh {
			base := (n*H + 2*i) * W * C
			scaleShiftTo(rows, x.Data[base:base+span], s, t)
			o := (n*oh + i) * ow * C
			if at != nil {
				at(m.y.Data[o:], m.arg[o:], rows, base, W, C, ow)
				continue
			}
			// The row as image 0, row 0 of a two-row input: its maxima's
			// positions are in rows; moved to x's.
			row(m.y.Data[o:], m.arg[o:], rows, 0, 0, 2, W, C, 1, ow)
			arg := m.arg[o : o+ow*C]
			for k := range arg {
				arg[k] += int32(base)
			}
		}
	}
	return m.y
}

func (m *MaxPool2D) Backward(dy *Tensor) *Tensor {
	mustShape(m.name, "backward", dy.Shape, m.y.Shape)
	m.dx = reuse(m.dx, m.xshape)
	if m.pool2x2Back(dy) {
		return m.dx
	}
	// Clearing and scattering (2.3 ms under wasm at 224x224x64) beats
	// writing each window's four inputs with masks (4.6 ms): the clear is
	// one bulk fill.
	m.dx.Zero()
	for o, g := range dy.Data {
		if a := m.arg[o]; a >= 0 {
			m.dx.Data[a] += g
		}
	}
	return m.dx
}

// pool2x2Back writes the input gradient with fastPool2x2Back when there is
// one and the layer is the 2x2, stride-2 pool without padding that
// pool2x2To computes, and reports whether it did.
func (m *MaxPool2D) pool2x2Back(dy *Tensor) bool {
	N, H, W, C := m.xshape[0], m.xshape[1], m.xshape[2], m.xshape[3]
	oh, ph := window(H, m.PH, m.SH, m.Pad)
	ow, pw := window(W, m.PW, m.SW, m.Pad)
	if fastPool2x2Back == nil || C%4 != 0 || m.PH != 2 || m.PW != 2 || m.SH != 2 || m.SW != 2 || ph != 0 || pw != 0 {
		return false
	}
	dx := m.dx.Data
	m.rows.run(true, dx, m.arg, dy.Data, N, H, W, C, oh, ow)
	for n := range N {
		// The inputs in no window: an odd last row and column.
		if H > 2*oh {
			clear(dx[((n*H+2*oh)*W)*C : (n*H+H)*W*C])
		}
		if W > 2*ow {
			for r := range 2 * oh {
				clear(dx[((n*H+r)*W+2*ow)*C : (n*H+r+1)*W*C])
			}
		}
	}
	return true
}

// poolRows runs a 2x2 pass (pool2x2To's rows, or fastPool2x2Back's) over
// the output rows of a batch: a row per call, as pool2x2To does, with
// one worker (under wasm); natively with several, the rows split among
// them (each row writes its own outputs, so the result does not depend on
// the split).
type poolRows struct {
	parallelRun
	back            bool
	y, x            []float32 // forward: y, x; backward: dx, dy
	arg             []int32
	h, w, c, oh, ow int
}

func (p *poolRows) run(back bool, y []float32, arg []int32, x []float32, N, H, W, C, oh, ow int) {
	nw := workers()
	if nw == 1 || N*oh*ow*C < 1<<14 {
		if !back {
			pool2x2To(y, arg, x, N, H, W, C, oh, ow)
			return
		}
		for n := range N {
			for i := range oh {
				fastPool2x2Back(y, x, arg, n, i, H, W, C, oh, ow)
			}
		}
		return
	}
	p.back, p.y, p.x, p.arg = back, y, x, arg
	p.h, p.w, p.c, p.oh, p.ow = H, W, C, oh, ow
	p.parallelRun.run(p, N*oh, max(1, N*oh/(4*nw)), nw)
	p.y, p.x, p.arg = nil, nil, nil
}

func (p *poolRows) runRange(_, lo, hi int) {
	row := pool2x2Row(p.c)
	for r := lo; r < hi; r++ {
		n, i := r/p.oh, r%p.oh
		if p.back {
			fastPool2x2Back(p.y, p.x, p.arg, n, i, p.h, p.w, p.c, p.oh, p.ow)
		} else {
			row(p.y, p.arg, p.x, n, i, p.h, p.w, p.c, p.oh, p.ow)
		}
	}
}

// pool2x2Row returns the row kernel of a 2x2, stride-2 pool of c
// channels: the vector one when there is one for c, else pool2x2RowTo.
func pool2x2Row(c int) func(y []float32, arg []int32, x []float32, n, i, h, w, c, oh, ow int) {
	if fastPool2x2Row != nil && c%4 == 0 {
		return fastPool2x2Row
	}
	return pool2x2RowTo
}

// pool2x2To is the forward pass of the common 2x2, stride-2 window without
// padding: the same rule as the general loop (the first maximum in
// row-major order wins, by strict >), with the four candidates of a window
// compared without branches (gtMask): on activations the comparisons are
// coin flips, and a mispredicted branch costs more than the whole window.
//
//	y, arg: (n, oh, ow, c)   x: (n, h, w, c)
func pool2x2To(y []float32, arg []int32, x []float32, N, H, W, C, oh, ow int) {
	row := pool2x2Row(C)
	for n := range N {
		for i := range oh {
			row(y, arg, x, n, i, H, W, C, oh, ow)
		}
	}
}

// pool2x2RowTo computes output row i of image n for pool2x2To. (A call
// per row, not one per layer: under wasm a running call keeps V8's
// baseline code, and the first pass of a page would run unoptimized.)
func pool2x2RowTo(y []float32, arg []int32, x []float32, n, i, H, W, C, oh, ow int) {
	for j := range ow {
		o := ((n*oh+i)*ow + j) * C
		p00 := ((n*H+2*i)*W + 2*j) * C
		p01, p10 := p00+C, p00+W*C
		p11 := p10 + C
		yr, ar := y[o:o+C], arg[o:o+C]
		x00, x01, x10, x11 := x[p00:p00+C], x[p01:p01+C], x[p10:p10+C], x[p11:p11+C]
		for c := range yr {
			v := x00[c]
			vb, a := math.Float32bits(v), uint32(p00+c)
			u := x01[c]
			m := gtMask(u, v)
			vb ^= (vb ^ math.Float32bits(u)) & m
			a ^= (a ^ uint32(p01+c)) & m
			v = math.Float32frombits(vb)
			u = x10[c]
			m = gtMask(u, v)
			vb ^= (vb ^ math.Float32bits(u)) & m
			a ^= (a ^ uint32(p10+c)) & m
			v = math.Float32frombits(vb)
			u = x11[c]
			m = gtMask(u, v)
			vb ^= (vb ^ math.Float32bits(u)) & m
			a ^= (a ^ uint32(p11+c)) & m
			yr[c], ar[c] = math.Float32frombits(vb), int32(a)
		}
	}
}

// gtMask returns all ones when u > v and zero otherwise (false for NaNs,
// as u > v is). Go compiles it to a select, not a branch.
func gtMask(u, v float32) uint32 {
	var m uint32
	if u > v {
		m = ^uint32(0)
	}
	return m
}

// poolTo is the general forward pass: any window, stride and padding.
//
//	y, arg: (n, oh, ow, c)   x: (n, h, w, c)
func (m *MaxPool2D) poolTo(y []float32, arg []int32, x []float32, N, H, W, C, oh, ow, ph, pw int) {
	for n := range N {
		for i := range oh {
			for j := range ow {
				o := ((n*oh+i)*ow + j) * C
				yr, ar := y[o:o+C], arg[o:o+C]
				for c := range yr {
					yr[c] = float32(math.Inf(-1))
					ar[c] = -1
				}
				for di := range m.PH {
					h := i*m.SH + di - ph
					if h < 0 || h >= H {
						continue
					}
					for dj := range m.PW {
						w := j*m.SW + dj - pw
						if w < 0 || w >= W {
							continue
						}
						base := ((n*H+h)*W + w) * C
						for c, v := range x[base : base+C] {
							// Strict >: the first maximum in row-major order wins.
							if v > yr[c] || ar[c] < 0 {
								yr[c] = v
								ar[c] = int32(base + c)
							}
						}
					}
				}
			}
		}
	}
}

package nn

import (
	"math"
	"strconv"
)

// Delta runs a model's forward pass incrementally: after a full pass it
// takes an input that differs from the previous one only at some pixels,
// and recomputes only the layer outputs those pixels can reach, reusing
// every other value of the previous pass. Deletion and insertion curves
// (xai) change 1/k of the image per step, and the early high-resolution
// convolutions, where most of a CNN's time goes, change only near those
// pixels.
//
// The result is the full forward pass, bit for bit: every value Delta
// recomputes goes through the same kernels as Layer.Forward (a Conv2D's
// dirty outputs are computed by the same convolution kernel on a gathered
// copy of their input windows, in runs along a row on the row path, else
// in 2x2 blocks, Winograd's tiles; a 2x2 max-pool's by its row kernel;
// see delta_layers.go), and a value it keeps is one whose inputs did not
// change.
//
// How the changed region travels (delta_layers.go): a Conv2D's output
// positions whose window holds a changed input are recomputed, a
// MaxPool2D's windows touching a changed input are pooled again, BatchNorm
// (inference) and ReLU recompute the changed positions, and Dropout
// (inference) passes its input on. After each recomputation the new
// values are compared with the old ones, and only positions whose bits
// changed count as changed for the next layer (a ReLU that stays at zero,
// a maximum that stays the maximum stop the spread). A Conv2D with at
// least 9/10 of its blocks dirty is recomputed whole, and so is everything
// after it. The layers from the first one of another kind (Flatten,
// Dense, Softmax) on run their own Forward on every call.
//
// Delta keeps its own buffers for the incremental layers' outputs (a
// BatchNorm after a Conv2D is applied in the convolution's buffer as the
// values are stored, so the pair needs one: about 21 MB per sample for
// MAVIS at 224x224), so the model's own buffers, its Output and its
// Backward are neither used nor disturbed; the layers after the
// incremental part run their Forward, so their outputs and caches do
// change. When the parameters of the incremental layers changed since the
// last pass (Delta compares them with a copy), Update runs a full pass. In
// training mode the layers from the first BatchNorm or Dropout on run
// their Forward. A Delta is not safe for concurrent use.
type Delta struct {
	m    *Model
	last int // the layer whose output Forward and Update return

	n     int         // batch size of the kept state; 0: no state
	pre   int         // layers 0..pre-1 run incrementally
	outs  []*Tensor   // outs[i]: output of layer i < pre (own buffer, or an alias of its input)
	chg   [][]bool    // chg[i]: positions of outs[i] changed by the last call
	st    [][]float32 // st[i]: a BatchNorm's inference scale and shift
	fused []bool      // fused[i]: BatchNorm i is applied by Conv2D i-1
	dirty []bool      // scratch: output positions to recompute
	tmp   []bool      // scratch: window rows and which hold any (deltaWindowsTo)
	blk   []int32     // scratch: dirty blocks
	xs    []float32   // scratch: gathered input windows
	ys    []float32   // scratch: their outputs
	row   []float32   // scratch: one position's channels, or a run's
	arg   []int32     // scratch: a run's maxima's indices (pool2x2Run)
	flags []int32     // scratch: deltaStoreRun's
	runs  []deltaRun  // scratch: a Conv2D's runs of dirty positions (row path)
	rt    deltaRuns   // their computation
	par   paramStamp  // the incremental layers' parameters at the last pass

	// Work is the fraction of the incremental convolutions' multiply-adds
	// the last call spent (1 for a full pass), for benchmarks and tuning.
	Work float64
}

// NewDelta returns an incremental runner for m whose passes run layers
// 0..last (m.Logits() for the scores before a final softmax,
// len(m.Layers)-1 for the model's output).
func NewDelta(m *Model, last int) *Delta {
	if last < 0 || last >= len(m.Layers) {
		panic("nn: delta: last layer " + strconv.Itoa(last) + " outside 0.." + strconv.Itoa(len(m.Layers)-1))
	}
	return &Delta{m: m, last: last}
}

// Forward runs x, (N, H, W, C), through layers 0..last and keeps every
// incremental layer's output for the Updates that follow. It returns the
// output of layer last (owned by that layer or by d: copy what you keep).
func (d *Delta) Forward(x *Tensor) *Tensor { return d.run(x, nil) }

// Update runs x, which must differ from the input of the previous
// Forward or Update only at the pixels marked in changed, and returns what
// Forward(x) would. changed has one entry per pixel, (N, H, W) in
// row-major order, whatever the channel count; a changed pixel left
// unmarked gives wrong results. Without a previous pass of the same batch
// size (or after a switch into or out of training mode) it runs a full
// pass.
func (d *Delta) Update(x *Tensor, changed []bool) *Tensor {
	if len(changed) != x.Shape[0]*x.Shape[1]*x.Shape[2] {
		panic("nn: delta: changed mask of " + strconv.Itoa(len(changed)) + " pixels for input " + x.String())
	}
	return d.run(x, changed)
}

func (d *Delta) run(x *Tensor, changed []bool) *Tensor {
	m := d.m
	in := m.Spec.Input
	if x.Shape[1] != in[0] || x.Shape[2] != in[1] || x.Shape[3] != in[2] || len(x.Data) != x.Len() {
		panic("nn: delta: model input " + x.String() + ", want Nx" + strconv.Itoa(in[0]) + "x" + strconv.Itoa(in[1]) + "x" + strconv.Itoa(in[2]))
	}
	if pre := d.prefix(); pre != d.pre || x.Shape[0] != d.n {
		d.setup(x.Shape[0], pre)
		changed = nil
	}
	if !d.sameParams() {
		changed = nil
	}
	d.n = 0 // no valid state while the pass runs (a panic leaves none)
	y, chg := x, changed
	var work, total float64
	for i := range d.pre {
		var w float64
		y, chg, w = d.layer(i, y, chg)
		if c, ok := m.Layers[i].(*Conv2D); ok {
			s := m.Shapes[i]
			f := float64(s[0] * s[1] * c.KH * c.KW * c.In * c.Out)
			total += f
			work += w * f
		}
	}
	d.n = x.Shape[0]
	d.Work = 1
	if total > 0 {
		d.Work = work / total
	}
	m.passes++ // the layers after the prefix are the model's own
	for i := d.pre; i <= d.last; i++ {
		y = m.Layers[i].Forward(y)
	}
	return y
}

// prefix returns how many leading layers (up to last) Delta can run
// incrementally: Conv2D, BatchNorm, MaxPool2D, Dropout and activation
// layers, none of them in training mode.
func (d *Delta) prefix() int {
	for i, l := range d.m.Layers[:d.last+1] {
		switch l := l.(type) {
		case *Conv2D:
			if l.Act == Softmax {
				return i
			}
		case *BatchNorm:
			if l.Training {
				return i
			}
		case *Dropout:
			if l.Training && l.Rate != 0 {
				return i
			}
		case *MaxPool2D, *ActivationLayer:
		default:
			return i
		}
	}
	return d.last + 1
}

// sameParams reports whether the incremental layers' parameters are
// those of the last pass, and records them: a kept output is only valid
// for the weights that computed it. (One pass over the weights, about
// 110 thousand values for MAVIS, is small against a forward pass.)
func (d *Delta) sameParams() bool { return d.par.same(d.m.Layers[:d.pre]) }

// paramStamp is a copy of some layers' parameter values, to tell whether
// they have changed since.
type paramStamp []float32

// same reports whether the parameters of layers are those recorded (false
// when nothing is), and records them.
func (s *paramStamp) same(layers []Layer) bool {
	same, k := *s != nil, 0
	var vs [4][]float32 // a layer's parameter values (Params would allocate its slice)
	for _, l := range layers {
		n := 0
		switch l := l.(type) {
		case *Conv2D:
			vs[0], vs[1], n = l.Kernel.Value, biasValue(l.Bias), 2
		case *Dense:
			vs[0], vs[1], n = l.Kernel.Value, biasValue(l.Bias), 2
		case *BatchNorm:
			vs[0], vs[1], vs[2], vs[3], n = l.Gamma.Value, l.Beta.Value, l.Mean.Value, l.Var.Value, 4
		}
		// One call site: with the comparison inlined once per kind of
		// parameter, this function was 14 KB of wasm, which V8 compiled
		// again with TurboFan (85-90 ms of CPU) during the first map of
		// a cold page.
		for _, v := range vs[:n] {
			same = s.check(k, v, same)
			k += len(v)
		}
	}
	*s = (*s)[:k]
	return same
}

// check compares v with the values recorded at offset k, and records v
// there when they differ or when nothing matched before (same false).
func (s *paramStamp) check(k int, v []float32, same bool) bool {
	if k+len(v) > len(*s) {
		*s = append((*s)[:k], make([]float32, len(v))...)
		same = false
	}
	if !same || !SameBits((*s)[k:k+len(v)], v) {
		copy((*s)[k:], v)
		return false
	}
	return true
}

// SameBits reports whether a and b hold the same values bit for bit (NaNs
// by their bits, −0 apart from +0): the test of a kept result's inputs.
func SameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	var diff uint32
	for i, v := range a {
		diff |= math.Float32bits(v) ^ math.Float32bits(b[i])
	}
	return diff == 0
}

// setup sizes the buffers for batch n with layers 0..pre-1 incremental.
func (d *Delta) setup(n, pre int) {
	m := d.m
	d.pre = pre
	d.outs = make([]*Tensor, pre)
	d.chg = make([][]bool, pre)
	d.st = make([][]float32, pre)
	d.fused = make([]bool, pre)
	in := m.Spec.Input
	most := n * in[0] * in[1]
	for i := range pre {
		s := m.Shapes[i]
		most = max(most, n*s[0]*s[1])
		d.chg[i] = make([]bool, n*s[0]*s[1])
		switch l := m.Layers[i].(type) {
		case *Conv2D, *MaxPool2D:
			d.outs[i] = NewTensor(n, s[0], s[1], s[2])
		case *BatchNorm:
			d.st[i] = make([]float32, 2*l.C)
			if _, ok := m.Layers[i-1].(*Conv2D); i > 0 && ok {
				d.fused[i] = true // applied by the convolution, in its buffer
				continue
			}
			d.outs[i] = NewTensor(n, s[0], s[1], s[2])
		case *ActivationLayer:
			if l.Act != Linear {
				d.outs[i] = NewTensor(n, s[0], s[1], s[2])
			}
		}
	}
	d.dirty = make([]bool, most)
	d.tmp = make([]bool, 2*most) // deltaWindowsTo's n*h*(ow+1): ow <= w, and no input has more than most positions
}

// layer runs layer i on x given the input positions changed since the
// last call (nil: all of them). It returns the output, the output
// positions that changed (nil: all) and the fraction of output positions
// recomputed.
func (d *Delta) layer(i int, x *Tensor, chg []bool) (*Tensor, []bool, float64) {
	switch l := d.m.Layers[i].(type) {
	case *Conv2D:
		return d.conv(i, l, x, chg)
	case *BatchNorm:
		if !d.fused[i] {
			return d.batchNorm(i, l, x, chg)
		}
	case *MaxPool2D:
		return d.maxPool(i, l, x, chg)
	case *ActivationLayer:
		if l.Act != Linear {
			return d.relu(i, x, chg)
		}
	}
	// Dropout at inference, a linear activation: the identity; a
	// BatchNorm after a Conv2D: applied by the convolution.
	d.outs[i] = x
	return x, chg, 0
}

// deltaStore copies src into dst and reports whether any value's bits
// differ (NaNs compare by their bits too).
func deltaStore(dst, src []float32) bool {
	dst = dst[:len(src)]
	var diff uint32
	for j, v := range src {
		diff |= math.Float32bits(v) ^ math.Float32bits(dst[j])
		dst[j] = v
	}
	return diff != 0
}

// deltaStoreRun copies src into dst, len(out) positions of c channels,
// and marks in out the positions whose values changed bits (deltaStore's,
// on fastStoreDiff when there is one for c); flags is its scratch.
func deltaStoreRun(dst, src []float32, out []bool, flags *[]int32, c int) {
	if fastStoreDiff != nil && c%4 == 0 {
		*flags = grow(*flags, len(out))
		fastStoreDiff(dst, src, *flags, c)
		for p, f := range *flags {
			if f != 0 {
				out[p] = true
			}
		}
		return
	}
	for p := range out {
		if deltaStore(dst[p*c:(p+1)*c], src[p*c:(p+1)*c]) {
			out[p] = true
		}
	}
}

// deltaWindowsTo marks in dst (n, oh, ow) every output position whose window
// rows [oy*sh−ph, oy*sh−ph+kh) and columns [ox*sw−pw, ox*sw−pw+kw) hold
// a position marked in src (n, h, w); tmp is scratch of n*h*(ow+1). It
// returns the number of positions marked. Its cost follows the marked
// positions: a row of src with none costs a scan, and a row of windows
// with none is not read.
func deltaWindowsTo(dst, tmp, src []bool, n, h, w, oh, ow, kh, kw, sh, sw, ph, pw int) int {
	has, tmp := tmp[:n*h], tmp[n*h:n*h*(ow+1)]
	// Columns first: tmp[r, ox] = any src[r, window(ox)]. Input column x
	// is in the windows of ox = ceil((x+pw−kw+1)/sw) .. floor((x+pw)/sw).
	for r := range n * h {
		s, t := src[r*w:(r+1)*w], tmp[r*ow:(r+1)*ow]
		clear(t)
		has[r] = false
		for x, v := range s {
			if !v {
				continue
			}
			lo := 0
			if a := x + pw - kw + 1; a > 0 {
				lo = (a + sw - 1) / sw
			}
			for ox := lo; ox <= min(ow-1, (x+pw)/sw); ox++ {
				t[ox] = true
			}
			has[r] = true
		}
	}
	count := 0
	for b := range n {
		for oy := range oh {
			lo, hi := max(oy*sh-ph, 0), min(oy*sh-ph+kh, h)
			dr := dst[(b*oh+oy)*ow : (b*oh+oy+1)*ow]
			clear(dr)
			for iy := lo; iy < hi; iy++ {
				if !has[b*h+iy] {
					continue
				}
				for ox, v := range tmp[(b*h+iy)*ow : (b*h+iy+1)*ow] {
					if v && !dr[ox] {
						dr[ox] = true
						count++
					}
				}
			}
		}
	}
	return count
}

package xai

import (
	"math/rand/v2"

	"github.com/mavis-xai/mavis/nn"
)

// RISEOptions configures RISE.
type RISEOptions struct {
	Target Target
	Masks  int     // N, the random masks (default 500)
	Grid   int     // s, the side of the masks' low-resolution grid (default 7)
	P      float64 // the probability that a grid cell is kept (default 0.5)
	Seed   uint64  // seeds the masks; equal seeds give equal masks on every platform
	// Progress, when not nil, is called after every pass with the number
	// of images scored and their total (Masks + 1: x first).
	Progress func(done, total int)
	// Cancel, when not nil, stops the computation between passes.
	Cancel Canceller
}

// RISEMap is a RISE explanation.
type RISEMap struct {
	Prediction     // at x
	Map        Map // H x W x 1
	// Scores are f(x ⊙ M_i), one per mask.
	Scores      []float64
	Evaluations int // forward passes: the masks and x
}

// RISE computes Randomized Input Sampling for Explanation (Petsiuk, Das
// and Saenko, "RISE: Randomized Input Sampling for Explanation of
// Black-box Models", BMVC 2018, sec. 3, eq. 6) for x (1 x H x W x C):
//
//	Map = (1 / (N p)) Σ_{i=1..N} f(x ⊙ M_i) M_i
//
// with f the target's score (the logit z_c by default, or p_c) of x's
// class, and the masks made as in the paper and its code
// (eclique/RISE): an s x s grid of cells kept (1) with probability p or
// dropped (0); upsampled bilinearly to (s+1)·C_H x (s+1)·C_W pixels, where
// C_H = ceil(H/s) and C_W = ceil(W/s) are the cell sizes (pixel centres
// aligned, edges replicated: skimage's resize with order 1 and mode
// 'reflect'); and cropped to H x W at a random shift of 0..C_H−1 rows and
// 0..C_W−1 columns. The same mask multiplies every channel. The masked
// images run Batch at a time through forward passes.
//
// Mask i depends only on the seed and i (its own PCG stream), so the
// masks are the same whatever the batch size or the split across workers.
func (ex *Explainer) RISE(x *nn.Tensor, o RISEOptions) (RISEMap, error) {
	var r RISEMap
	n, err := o.evaluations()
	if err != nil {
		return r, err
	}
	p := &ex.rise.part
	if err := ex.risePart(p, x, o, 0, n); err != nil {
		return r, err
	}
	ex.rise.one[0] = p
	err = ex.riseCombine(&r, x, o, ex.rise.one[:])
	return r, err
}

func (o RISEOptions) defaults() (masks, grid int, p float64, err error) {
	masks, grid, p = o.Masks, o.Grid, o.P
	if masks == 0 {
		masks = 500
	}
	if grid == 0 {
		grid = 7
	}
	if p == 0 {
		p = 0.5
	}
	switch {
	case masks < 1 || masks > maxSteps:
		err = errorf("xai: rise masks %d out of range 1..%d", masks, maxSteps)
	case grid < 1 || grid > 1024:
		err = errorf("xai: rise grid %d out of range 1..1024", grid)
	case !(p > 0 && p <= 1):
		err = errorf("xai: rise p %g out of range (0, 1]", o.P)
	}
	return masks, grid, p, err
}

func (o RISEOptions) evaluations() (int, error) {
	n, _, _, err := o.defaults()
	return n + 1, err
}

// riseState is the explainer's RISE storage.
type riseState struct {
	part  Part
	one   [1]*Part
	order []*Part
	mask  riseMask
	acc   []float64 // Σ f_i M_i
	m     []float32 // one mask
}

func (st *riseState) maskBuf(n int) []float32 {
	if cap(st.m) < n {
		st.m = make([]float32, n)
	}
	return st.m[:n]
}

// riseMask generates RISE's masks for one input size and grid.
type riseMask struct {
	h, w, s int
	p       float64
	ch, cw  int       // cell sizes ceil(H/s), ceil(W/s)
	ry, rx  []axisTap // per upsampled row and column: grid taps
	grid    []float64 // s x s: the current mask's cells
	rows    []float64 // H x s: the grid interpolated to the mask's rows
	pcg     rand.PCG
	rng     *rand.Rand
}

// axisTap interpolates between grid cells i0 and i1 with weights 1−f, f.
type axisTap struct {
	i0, i1 int32
	f      float64
}

// setup prepares m for h x w masks on an s x s grid.
func (m *riseMask) setup(h, w, s int, p float64) {
	if m.h == h && m.w == w && m.s == s && m.p == p && m.rng != nil {
		return
	}
	m.h, m.w, m.s, m.p = h, w, s, p
	m.ch, m.cw = (h+s-1)/s, (w+s-1)/s
	m.ry, m.rx = axisTaps((s+1)*m.ch, s), axisTaps((s+1)*m.cw, s)
	m.grid, m.rows = make([]float64, s*s), make([]float64, h*s)
	m.rng = rand.New(&m.pcg)
}

// axisTaps returns the bilinear taps of an axis of s cells resized to n
// pixels with aligned pixel centres: pixel a samples the grid at
// (a + 0.5)·s/n − 0.5, clamped to the first and last cell.
func axisTaps(n, s int) []axisTap {
	t := make([]axisTap, n)
	for a := range t {
		src := (float64(a)+0.5)*float64(s)/float64(n) - 0.5
		src = min(max(src, 0), float64(s-1))
		i0 := int(src)
		i1 := min(i0+1, s-1)
		t[a] = axisTap{int32(i0), int32(i1), src - float64(i0)}
	}
	return t
}

// riseTag picks RISE's family of random streams.
const riseTag = 0x815e

// maskTo writes mask i (h x w) for the seed into dst.
func (m *riseMask) maskTo(dst []float32, seed uint64, i int) {
	seedStream(&m.pcg, seed, riseTag, i)
	for j := range m.grid {
		m.grid[j] = 0
		if m.rng.Float64() < m.p {
			m.grid[j] = 1
		}
	}
	dy, dx := m.rng.IntN(m.ch), m.rng.IntN(m.cw)
	s := m.s
	for y := range m.h {
		t := m.ry[y+dy]
		g0, g1, r := m.grid[int(t.i0)*s:int(t.i0+1)*s], m.grid[int(t.i1)*s:int(t.i1+1)*s], m.rows[y*s:(y+1)*s]
		for j := range r {
			r[j] = (1-t.f)*g0[j] + t.f*g1[j]
		}
	}
	for y := range m.h {
		r, d := m.rows[y*s:(y+1)*s], dst[y*m.w:(y+1)*m.w]
		for x := range d {
			t := m.rx[x+dx]
			d[x] = float32((1-t.f)*r[t.i0] + t.f*r[t.i1])
		}
	}
}

// seedStream seeds pcg with stream i of a seeded method's family tag:
// every (seed, tag, i) gets its own stream, independent of the others.
func seedStream(pcg *rand.PCG, seed, tag uint64, i int) {
	pcg.Seed(mix64(seed^mix64(tag)), mix64(uint64(i)+tag<<32))
}

// mix64 is SplitMix64's finaliser: a bijection that scatters nearby
// inputs.
func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// risePart scores evaluations [lo, hi): 0 is x, i ≥ 1 is x ⊙ M_i
// (dst.Sum[i−lo] holds the score). A part without x needs
// Target.Class ≥ 0.
func (ex *Explainer) risePart(dst *Part, x *nn.Tensor, o RISEOptions, lo, hi int) error {
	if err := ex.check(x, o.Target); err != nil {
		return err
	}
	masks, grid, p, err := o.defaults()
	if err != nil {
		return err
	}
	n := masks + 1
	if lo < 0 || hi > n || lo >= hi {
		return errorf("xai: rise evaluations %d..%d are not a non-empty range within 0..%d", lo, hi, n)
	}
	if lo > 0 && o.Target.Class < 0 {
		return errorf("xai: rise evaluations %d..%d exclude x (evaluation 0), so they need the class explained (Target.Class ≥ 0), not the predicted class", lo, hi)
	}
	in := ex.Model.InputShape()
	H, W, C := in[0], in[1], in[2]
	mk := &ex.rise.mask
	mk.setup(H, W, grid, p)
	m := ex.rise.maskBuf(H * W)
	dst.Sum = resize64(dst.Sum, hi-lo)
	dst.Lo, dst.Hi, dst.Evaluations, dst.BaselineScore = lo, hi, n, 0
	point := func(i int, d []float32) {
		if i += lo; i == 0 {
			copy(d, x.Data)
			return
		}
		mk.maskTo(m, o.Seed, i)
		for q, mv := range m {
			for c := range C {
				d[q*C+c] = x.Data[q*C+c] * mv
			}
		}
	}
	use := func(i int, score float64) { dst.Sum[i] = score }
	class, done, err := ex.eng.scan(o.Cancel, hi-lo, ex.batch(), o.Target, point, use, o.Progress)
	if err != nil {
		return errorf("xai: rise stopped after %d of %d images: %w", done, hi-lo, err)
	}
	if lo == 0 {
		setPrediction(&dst.Prediction, o.Target, class, ex.eng.p0, ex.eng.z0, dst.Sum[0])
	}
	dst.Class = class
	if lo > 0 {
		dst.Prediction.Class, dst.Prediction.Target, dst.Prediction.Score = class, o.Target, 0
		dst.Prediction.Probs, dst.Prediction.Logits = dst.Prediction.Probs[:0], dst.Prediction.Logits[:0]
	}
	return nil
}

// riseCombine writes the RISE map of x made of parts (any order) that
// cover every evaluation once. The masks are made again and the sum
// Σ f_i M_i taken in mask order, so the map does not depend on the split,
// bit for bit.
func (ex *Explainer) riseCombine(dst *RISEMap, x *nn.Tensor, o RISEOptions, parts []*Part) error {
	if err := ex.check(x, o.Target); err != nil {
		return err
	}
	masks, grid, p, err := o.defaults()
	if err != nil {
		return err
	}
	n := masks + 1
	st := &ex.rise
	ord, err := chainParts(st.order[:0], parts, n, "rise", func(p *Part) int { return p.Hi - p.Lo })
	st.order = ord
	defer clear(ord)
	if err != nil {
		return err
	}
	if o.Target.Class >= 0 && ord[0].Class != o.Target.Class {
		return errorf("xai: a rise part explains class %d, want %d", ord[0].Class, o.Target.Class)
	}
	in := ex.Model.InputShape()
	H, W := in[0], in[1]
	st.mask.setup(H, W, grid, p)
	st.acc = resize64(st.acc, H*W)
	clear(st.acc)
	dst.Scores = resize64(dst.Scores, masks)
	m := st.maskBuf(H * W)
	for _, pt := range ord {
		for i := max(pt.Lo, 1); i < pt.Hi; i++ {
			f := pt.Sum[i-pt.Lo]
			dst.Scores[i-1] = f
			st.mask.maskTo(m, o.Seed, i)
			for j, v := range m {
				st.acc[j] += f * float64(v)
			}
		}
	}
	dst.Map.reshape(H, W, 1)
	norm := float64(masks) * p
	for j, v := range st.acc {
		dst.Map.Data[j] = float32(v / norm)
	}
	px := &ord[0].Prediction
	setPrediction(&dst.Prediction, o.Target, ord[0].Class, px.Probs, px.Logits, px.Score)
	dst.Evaluations = n
	return nil
}

func init() {
	register(Method{Name: "rise", Label: "RISE", Family: FamilyPerturbation, Display: DisplayMax, Seeded: true,
		Paper: "Petsiuk, Das and Saenko, \"RISE: Randomized Input Sampling for Explanation of Black-box Models\", BMVC 2018",
		URL:   "https://arxiv.org/abs/1806.07421",
		Doc:   "The score averaged over many random masks of the image, credited to the pixels each mask kept: bright regions are those whose presence keeps the score high. Black box: it uses forward passes only.",
		Params: []Param{
			{Name: "masks", Label: "Masks", Kind: Int, Default: 500, Min: 1, Max: maxSteps, Doc: "random masks scored (the paper uses 4000 to 8000)"},
			{Name: "grid", Label: "Grid", Kind: Int, Default: 7, Min: 1, Max: 1024, Doc: "cells per side of the masks' low-resolution grid"},
			{Name: "p", Label: "Keep probability", Kind: Float, Default: 0.5, Min: 0.01, Max: 1, Doc: "probability that a grid cell is kept"},
		},
		run: func(ex *Explainer, x *nn.Tensor, r *Request, v Values, dst *Result) error {
			rm, err := ex.RISE(x, riseOptions(r, v))
			if err != nil {
				return err
			}
			riseResult(dst, &rm)
			return nil
		},
		split: &splitter{
			evaluations: func(ex *Explainer, r *Request, v Values) (int, error) {
				return riseOptions(r, v).evaluations()
			},
			part: func(ex *Explainer, dst *Part, x *nn.Tensor, r *Request, v Values, lo, hi int) error {
				return ex.risePart(dst, x, riseOptions(r, v), lo, hi)
			},
			combine: func(ex *Explainer, dst *Result, x *nn.Tensor, r *Request, v Values, parts []*Part) error {
				var rm RISEMap
				if err := ex.riseCombine(&rm, x, riseOptions(r, v), parts); err != nil {
					return err
				}
				riseResult(dst, &rm)
				return nil
			},
		}})
}

func riseOptions(r *Request, v Values) RISEOptions {
	return RISEOptions{Target: r.Target, Masks: v.Int("masks"), Grid: v.Int("grid"), P: v.Float("p"), Seed: r.Seed,
		Progress: r.Progress, Cancel: r.Cancel}
}

func riseResult(dst *Result, rm *RISEMap) {
	dst.setPrediction(rm.Prediction)
	dst.Map.reshape(rm.Map.H, rm.Map.W, 1)
	copy(dst.Map.Data, rm.Map.Data)
	dst.Zero, dst.Passes = allZero(rm.Map.Data), rm.Evaluations
}

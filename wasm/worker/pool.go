package main

import (
	"errors"
	"math"
	"strconv"
	"time"
	"unsafe"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

// This file is the worker pool's logic (issue 6), in plain Go like
// session.go: Integrated Gradients split over several workers, each with
// its own copy of the model. The page's pool (www/pool.js) asks the main
// worker for the plan (igPlan: the number of gradient evaluations and the
// preprocessed input), gives each helper worker a range of evaluations
// (igPart with the input), computes the first range in the main worker
// (igPart without an input: the current one, the part kept here) and hands
// the helpers' partial sums back to the main worker (igCombine), which
// adds them with xai.CombineIGTo and answers as explain does. All the math
// stays in Go; JavaScript only moves typed arrays.

// poolState is a session's share of the pool: the part of the current
// input computed here, and a helper's input and part.
type poolState struct {
	own     xai.IGPart // the main worker's part of the current input
	ownOpts Options    // the options it was computed with
	ownX    []float32  // a copy of the input it was computed for
	ownM    *nn.Model  // and the model
	ownOK   bool

	x    *nn.Tensor // a helper's input
	part xai.IGPart // a helper's part (its Sum is what igPart returns)
	recv []xai.IGPart
	ptrs []*xai.IGPart

	eval evalSplit // evaluate split by method (metrics_pool.go)
}

func itoa(i int) string { return strconv.Itoa(i) }

// igOptions turns the page's options into xai's (Progress aside).
func igOptions(o Options) (xai.IGOptions, error) {
	kind, err := xai.ParseScore(o.Score)
	if err != nil {
		return xai.IGOptions{}, err
	}
	io := xai.IGOptions{Target: xai.Target{Class: -1, Kind: kind}, Steps: o.Steps}
	if o.Class != nil {
		io.Target.Class = *o.Class
	}
	if io.Rule, err = xai.ParseRule(o.Rule); err != nil {
		return xai.IGOptions{}, err
	}
	if io.Baseline, err = xai.ParseBaseline(o.Baseline); err != nil {
		return xai.IGOptions{}, err
	}
	io.Baseline.Sigma, io.Baseline.Seed = o.Sigma, o.Seed
	return io, nil
}

// igPlan returns the number of gradient evaluations Integrated Gradients
// with o computes for the current input, and that input (1 x H x W x C,
// aliasing the session's buffer until the next predict), which the pool
// hands to its helpers.
func (s *session) igPlan(o Options) (int, []float32, error) {
	if s.m == nil || s.x == nil {
		return 0, nil, errors.New("worker: no image to explain (call predict first)")
	}
	io, err := igOptions(o)
	if err != nil {
		return 0, nil, err
	}
	n, err := io.Evaluations()
	if err != nil {
		return 0, nil, err
	}
	return n, s.x.Data, nil
}

// igPart computes the Integrated-Gradients path sum over the evaluations
// [lo, hi). With x nil it is the main worker's part of the current input,
// kept for igCombine (lo must then be 0: the main worker's part holds x and
// resolves the class). With x, the input igPlan gave (H*W*C values), it is
// a helper's part; when o asks for the predicted class (and the range
// excludes x) the helper first predicts x to resolve it. The part aliases
// the session's buffers until the next call.
func (s *session) igPart(x []float32, o Options, lo, hi int, progress func(done, total int)) (*xai.IGPart, error) {
	if s.m == nil {
		return nil, errors.New("worker: no model loaded")
	}
	io, err := igOptions(o)
	if err != nil {
		return nil, err
	}
	io.Progress = progress
	pl := &s.pool
	if x == nil {
		if s.x == nil {
			return nil, errors.New("worker: no image to explain (call predict first)")
		}
		if lo != 0 {
			return nil, errors.New("worker: the main worker's IG part must start at evaluation 0 (it holds x), not " + strconv.Itoa(lo))
		}
		pl.ownOK = false
		if err := s.ex.IGPathSumTo(&pl.own, s.x, io, lo, hi); err != nil {
			return nil, err
		}
		pl.ownOpts, pl.ownX, pl.ownM, pl.ownOK = o, append(pl.ownX[:0], s.x.Data...), s.m, true
		return &pl.own, nil
	}
	in := s.m.InputShape()
	if len(x) != in[0]*in[1]*in[2] {
		return nil, errors.New("worker: an IG input of " + strconv.Itoa(len(x)) + " values, want " +
			strconv.Itoa(in[0]) + "x" + strconv.Itoa(in[1]) + "x" + strconv.Itoa(in[2]) + " = " + strconv.Itoa(in[0]*in[1]*in[2]))
	}
	if pl.x == nil || pl.x.Shape != [4]int{1, in[0], in[1], in[2]} {
		pl.x = s.m.NewInput(1)
	}
	copy(pl.x.Data, x)
	if io.Target.Class < 0 && lo > 0 {
		p, err := s.ex.Predict(pl.x)
		if err != nil {
			return nil, err
		}
		io.Target.Class = p.Class
	}
	if err := s.ex.IGPathSumTo(&pl.part, pl.x, io, lo, hi); err != nil {
		return nil, err
	}
	return &pl.part, nil
}

// PartIn is a part computed by a helper, as igCombine receives it: Sum is
// the float64 path sum's little-endian bytes.
type PartIn struct {
	Lo, Hi, Evaluations, Class int
	BaselineScore              float64
	Sum                        []byte
}

// igCombine adds the helpers' parts to the main worker's own (igPart
// without an input, for the same input and options) and answers as explain
// does for Integrated Gradients: the result, the display map and the full
// attribution, which is also kept for evaluate.
func (s *session) igCombine(o Options, in []PartIn) (Explanation, []float32, []float32, error) {
	start := time.Now()
	if s.m == nil || s.x == nil {
		return Explanation{}, nil, nil, errors.New("worker: no image to explain (call predict first)")
	}
	pl := &s.pool
	if !pl.ownOK || pl.ownM != s.m || !sameOptions(pl.ownOpts, o) || !equal32(pl.ownX, s.x.Data) {
		return Explanation{}, nil, nil, errors.New("worker: this worker's own IG part is missing or was computed for another image or other options; explain again")
	}
	io, err := igOptions(o)
	if err != nil {
		return Explanation{}, nil, nil, err
	}
	n := len(s.x.Data)
	if cap(pl.recv) < len(in) {
		pl.recv = make([]xai.IGPart, len(in))
	}
	pl.recv = pl.recv[:len(in)]
	pl.ptrs = append(pl.ptrs[:0], &pl.own)
	for i, p := range in {
		if len(p.Sum) != 8*n {
			return Explanation{}, nil, nil, errors.New("worker: IG part " + strconv.Itoa(p.Lo) + ".." + strconv.Itoa(p.Hi) +
				" holds " + strconv.Itoa(len(p.Sum)) + " bytes, want " + strconv.Itoa(8*n) + " (float64 per input value)")
		}
		r := &pl.recv[i]
		if cap(r.Sum) < n {
			r.Sum = make([]float64, n)
		}
		r.Sum = r.Sum[:n]
		copy(float64Bytes(r.Sum), p.Sum)
		r.Lo, r.Hi, r.Evaluations, r.Class, r.BaselineScore = p.Lo, p.Hi, p.Evaluations, p.Class, p.BaselineScore
		pl.ptrs = append(pl.ptrs, r)
	}
	if err := s.ex.CombineIGTo(&s.att, s.x, io, pl.ptrs); err != nil {
		return Explanation{}, nil, nil, err
	}
	clear(pl.ptrs)
	pl.ownOK = false
	r, disp, full := s.igExplanation(o)
	r.MS = ms(start)
	return r, disp, full, nil
}

// igExplanation is explain's answer for the attribution in s.att, which it
// also keeps for evaluate: session.explain's for "ig", and igCombine's.
func (s *session) igExplanation(o Options) (Explanation, []float32, []float32) {
	a := &s.att
	r := Explanation{Method: "ig", Score: a.Target.Kind.String()}
	r.Shape, r.Full = [2]int{a.Map.H, a.Map.W}, a.Map.Shape()
	disp := s.channelSum(a.Map)
	r.IG = &IGInfo{Steps: a.Steps, Rule: a.Rule.String(), Baseline: a.Baseline.String(),
		BaselineScore: a.BaselineScore, Sum: a.Sum, Gap: a.Gap, Evaluations: a.Evaluations}
	if d := math.Abs(a.Score - a.BaselineScore); d > 0 {
		r.IG.RelGap = a.Gap / d
	}
	r.Zero = a.Sum == 0
	gap := xai.IGGap(*a)
	s.keepMap(o, a.Class, a.Map, &gap)
	r.Class, r.Value, r.Probs = a.Class, a.Score, a.Probs
	r.Min, r.Max = xai.MinMax(disp)
	return r, disp, a.Map.Data
}

// sameOptions reports whether a and b ask for the same explanation.
func sameOptions(a, b Options) bool {
	ca, cb := -1, -1
	if a.Class != nil {
		ca = *a.Class
	}
	if b.Class != nil {
		cb = *b.Class
	}
	a.Class, b.Class = nil, nil
	return ca == cb && a == b
}

func equal32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// float64Bytes views float64s as their little-endian bytes (wasm and the
// native test machines are little-endian), without copying.
func float64Bytes(f []float64) []byte {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), 8*len(f))
}

// float32sTo copies little-endian float32 bytes into dst.
func float32sTo(dst []float32, b []byte) {
	if len(dst) == 0 {
		return
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 4*len(dst)), b)
}

package main

import (
	"errors"
	"maps"
	"time"
	"unsafe"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

// This file is the worker pool's logic (issue 6), in plain Go like
// session.go: a method the registry can split (xai.Method.Splittable:
// Integrated Gradients today) computed by several workers, each with its
// own copy of the model. The page's pool (www/pool.js) asks the main
// worker for the plan (splitPlan: the number of evaluations and the
// preprocessed input), gives each helper worker a range of evaluations
// (splitPart with the input), computes the first range in the main worker
// (splitPart without an input: the current one, the part kept here) and
// hands the helpers' parts back to the main worker (splitCombine), which
// adds them with xai's CombineTo and answers as explain does. All the
// math stays in Go; JavaScript only moves typed arrays.

// poolState is a session's share of the pool: the part of the current
// input computed here, and a helper's input and part.
type poolState struct {
	own     xai.Part   // the main worker's part of the current input
	ownOpts Options    // the options it was computed with
	ownVals xai.Values // and their resolved values
	ownX    []float32  // a copy of the input it was computed for
	ownM    *nn.Model  // and the model
	ownOK   bool

	x    *nn.Tensor // a helper's input
	part xai.Part   // a helper's part (its Sum is what splitPart returns)
	ptrs []*xai.Part
}

// splitPlan returns the number of evaluations o's method (which must be
// splittable) runs for the current input, and that input (1 x H x W x C,
// aliasing the session's buffer until the next predict), which the pool
// hands to its helpers.
func (s *session) splitPlan(o Options) (SplitPlan, error) {
	if s.m == nil || s.x == nil {
		return SplitPlan{}, errors.New("worker: no image to explain (call predict first)")
	}
	n, err := s.ex.Evaluations(o.request(nil))
	if err != nil {
		return SplitPlan{}, err
	}
	return SplitPlan{Evaluations: n, Input: s.x.Data, Class: s.pred}, nil
}

// splitPart computes the evaluations [lo, hi) of o's method. With x nil it
// is the main worker's part of the current input, kept for splitCombine
// (lo must then be 0: the main worker's part holds x and resolves the
// class). With x, the input splitPlan gave (H*W*C values), it is a
// helper's part; when o asks for the predicted class (and the range
// excludes x) the helper first predicts x to resolve it. The part aliases
// the session's buffers until the next call.
func (s *session) splitPart(x []float32, o Options, lo, hi int, progress func(done, total int)) (*xai.Part, error) {
	if s.m == nil {
		return nil, errors.New("worker: no model loaded")
	}
	r := o.request(progress)
	pl := &s.pool
	if x == nil {
		if s.x == nil {
			return nil, errors.New("worker: no image to explain (call predict first)")
		}
		if lo != 0 {
			return nil, errors.New("worker: the main worker's part must start at evaluation 0 (it holds x), not " + itoa(lo))
		}
		pl.ownOK = false
		if err := s.ex.PartTo(&pl.own, s.x, r, lo, hi); err != nil {
			return nil, err
		}
		vals, err := resolve(o)
		if err != nil {
			return nil, err
		}
		pl.ownOpts, pl.ownVals, pl.ownX, pl.ownM, pl.ownOK = o, vals, append(pl.ownX[:0], s.x.Data...), s.m, true
		return &pl.own, nil
	}
	in := s.m.InputShape()
	if len(x) != in[0]*in[1]*in[2] {
		return nil, errors.New("worker: an input of " + itoa(len(x)) + " values to split, want " + dims(in[:]) + " = " + itoa(in[0]*in[1]*in[2]))
	}
	if pl.x == nil || pl.x.Shape != [4]int{1, in[0], in[1], in[2]} {
		pl.x = s.m.NewInput(1)
	}
	copy(pl.x.Data, x)
	if r.Target.Class < 0 && lo > 0 {
		p, err := s.ex.Predict(pl.x)
		if err != nil {
			return nil, err
		}
		r.Target.Class = p.Class
	}
	if err := s.ex.PartTo(&pl.part, pl.x, r, lo, hi); err != nil {
		return nil, err
	}
	return &pl.part, nil
}

// splitCombine adds the helpers' parts to the main worker's own (splitPart
// without an input, for the same input and options) and answers as
// explain does; the map is also kept for evaluate.
func (s *session) splitCombine(o Options, parts []xai.Part) (Explanation, error) {
	start := time.Now()
	if s.m == nil || s.x == nil {
		return Explanation{}, errors.New("worker: no image to explain (call predict first)")
	}
	pl := &s.pool
	vals, err := resolve(o)
	if err != nil {
		return Explanation{}, err
	}
	if !pl.ownOK || pl.ownM != s.m || !sameRequest(pl.ownOpts, pl.ownVals, o, vals) || !nn.SameBits(pl.ownX, s.x.Data) {
		return Explanation{}, errors.New("worker: this worker's own part is missing or was computed for another image or other options; explain again")
	}
	pl.ptrs = append(pl.ptrs[:0], &pl.own)
	for i := range parts {
		pl.ptrs = append(pl.ptrs, &parts[i])
	}
	err = s.ex.CombineTo(&s.res, s.x, o.request(nil), pl.ptrs)
	clear(pl.ptrs)
	if err != nil {
		return Explanation{}, err
	}
	pl.ownOK = false
	return s.explanation(o, start), nil
}

// resolve returns o's method options with the defaults filled in.
func resolve(o Options) (xai.Values, error) {
	m, err := xai.Lookup(o.Method)
	if err != nil {
		return nil, err
	}
	return m.Resolve(o.Params)
}

// sameRequest reports whether a and b (with their resolved values) ask
// for the same explanation.
func sameRequest(a Options, av xai.Values, b Options, bv xai.Values) bool {
	return a.Method == b.Method && a.Target == b.Target && a.Layer == b.Layer && a.Seed == b.Seed && maps.Equal(av, bv)
}

// float32Bytes and float64Bytes view floats as their little-endian bytes
// (wasm and the native test machines are little-endian), without copying.
func float32Bytes(f []float32) []byte {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), 4*len(f))
}

func float64Bytes(f []float64) []byte {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), 8*len(f))
}

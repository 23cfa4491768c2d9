package main

import (
	"errors"
	"time"

	"github.com/mavis-xai/mavis/xai"
)

// This file splits evaluate (the faithfulness metrics) by method across the
// worker pool, in plain Go like metrics.go. The page's pool asks the main
// worker for its kept maps and input (evalPlan), gives each helper some
// methods' maps (evalInstall, then the usual evaluate), restricts the main
// worker to the other methods (evalOnly, then the usual evaluate) and hands
// every part's per-method results back to the main worker (evalCombine),
// which restores its maps, puts the results in explain order and ranks them
// as evaluate does.

// evalSplit is the main worker's state while its kept maps are restricted
// to its share of the methods.
type evalSplit struct {
	all   []evalMap // every kept map, in explain order
	sub   []evalMap // the share installed as s.maps
	start time.Time
	token int // the page's name for this split
}

// evalPlan returns the kept maps of the current input (in explain order;
// they alias the session's until the next explain) and the input.
func (s *session) evalPlan() (EvalPlan, error) {
	s.evalRestore()
	if s.m == nil || s.x == nil {
		return EvalPlan{}, errors.New("worker: no image to evaluate (call predict first)")
	}
	if len(s.maps) == 0 {
		return EvalPlan{}, errors.New("worker: no maps to evaluate (call explain first)")
	}
	return EvalPlan{Maps: s.maps, Input: s.x.Data}, nil
}

// evalOnly restricts the kept maps to the given methods until evalCombine
// with the same token, so that evaluate computes the main worker's share
// only.
func (s *session) evalOnly(methods []string, token int) error {
	s.evalRestore()
	if len(s.maps) == 0 {
		return errors.New("worker: no maps to evaluate (call explain first)")
	}
	var sub []evalMap
	for _, name := range methods {
		i := s.mapIndex(s.maps, name)
		if i < 0 {
			return errors.New("worker: no " + name + " map to evaluate")
		}
		sub = append(sub, s.maps[i])
	}
	if len(sub) == 0 {
		return errors.New("worker: evalOnly needs at least one method")
	}
	// sub is a copy: keepMap replaces entries of s.maps in place.
	s.pool.eval = evalSplit{all: s.maps, sub: append([]evalMap(nil), sub...), start: time.Now(), token: token}
	s.maps = sub
	return nil
}

func (s *session) mapIndex(maps []evalMap, method string) int {
	for i := range maps {
		if maps[i].method == method {
			return i
		}
	}
	return -1
}

// evalRestore puts back every kept map after evalOnly, unless the maps
// changed since (a new image or explanation), and reports whether it did.
func (s *session) evalRestore() bool {
	e := &s.pool.eval
	if e.all == nil {
		return false
	}
	all := e.all
	same := len(s.maps) == len(e.sub)
	for i := 0; same && i < len(s.maps); i++ {
		same = sameMap(s.maps[i], e.sub[i])
	}
	*e = evalSplit{start: e.start}
	if same {
		s.maps = all
	}
	return same
}

func sameMap(a, b evalMap) bool {
	return a.method == b.method && len(a.m.Data) == len(b.m.Data) &&
		(len(a.m.Data) == 0 || &a.m.Data[0] == &b.m.Data[0])
}

// evalInstall makes a helper's input and maps current, for evaluate.
func (s *session) evalInstall(x []float32, maps []evalMap) error {
	if s.m == nil {
		return errors.New("worker: no model loaded")
	}
	in := s.m.InputShape()
	if len(x) != in[0]*in[1]*in[2] {
		return errors.New("worker: an input of " + itoa(len(x)) + " values to evaluate, want " + itoa(in[0]*in[1]*in[2]))
	}
	if len(maps) == 0 {
		return errors.New("worker: no maps to evaluate")
	}
	for _, e := range maps {
		if e.m.H < 1 || e.m.W < 1 || e.m.C < 1 || len(e.m.Data) != e.m.H*e.m.W*e.m.C {
			return errors.New("worker: the " + e.method + " map holds " + itoa(len(e.m.Data)) + " values, not " +
				itoa(e.m.H) + "x" + itoa(e.m.W) + "x" + itoa(e.m.C))
		}
	}
	if s.x == nil {
		s.x = s.m.NewInput(1)
	}
	copy(s.x.Data, x)
	s.pred = -1
	s.maps = append(s.maps[:0], maps...)
	s.pool.eval = evalSplit{}
	return nil
}

// evalCombine restores the main worker's maps after evalOnly with the same
// token and merges every part's results (the main worker's own among them)
// into evaluate's answer: one result per kept map, in explain order,
// ranked. A map's completeness gap is the main worker's. A token other than
// the current split's (a cancelled run's, once a newer run has begun)
// changes nothing.
func (s *session) evalCombine(o EvalOptions, parts []MethodEvaluation, token int) (Evaluation, error) {
	start := s.pool.eval.start
	if s.pool.eval.all != nil && s.pool.eval.token != token {
		return Evaluation{}, errors.New("worker: these metrics were cancelled; a newer evaluation runs")
	}
	if !s.evalRestore() {
		return Evaluation{}, errors.New("worker: the maps changed while their metrics were computed; evaluate again")
	}
	mo, err := s.metricsOptions(o)
	if err != nil {
		return Evaluation{}, err
	}
	r := Evaluation{Steps: mo.Steps, Patch: mo.Patch, Input: s.m.InputShape()}
	scores := make([]xai.MethodScore, 0, len(s.maps))
	for _, e := range s.maps {
		var me *MethodEvaluation
		for i := range parts {
			if parts[i].Method == e.method {
				if me != nil {
					return Evaluation{}, errors.New("worker: two results for " + e.method)
				}
				me = &parts[i]
			}
		}
		if me == nil {
			return Evaluation{}, errors.New("worker: no result for " + e.method)
		}
		if me.Metrics.Class != e.class {
			return Evaluation{}, errors.New("worker: the " + e.method + " result scores class " + itoa(me.Metrics.Class) + ", want " + itoa(e.class))
		}
		m := *me
		m.Label, m.Gap = xai.MethodLabel(e.method), e.gap
		sc := xai.ScoreOf(e.method, m.Metrics)
		sc.SetCheck(e.check)
		sc.Sanity = m.Sanity
		r.Methods = append(r.Methods, m)
		scores = append(scores, sc)
	}
	if len(parts) != len(s.maps) {
		return Evaluation{}, errors.New("worker: " + itoa(len(parts)) + " results for " + itoa(len(s.maps)) + " maps")
	}
	r.Ranking = xai.Rank(scores)
	r.MS = ms(start)
	return r, nil
}

package main

import (
	"errors"
	"slices"
	"time"

	"github.com/mavis-xai/mavis/xai"
)

// This file splits evaluate (the faithfulness metrics) by method across the
// worker pool, in plain Go like metrics.go. The page's pool asks the main
// worker for its kept maps, their version and the input (evalPlan), gives
// each helper the maps and the input (evalInstall), and has every worker
// evaluate one method at a time (evaluate with EvalOptions.Methods), each
// taking the next method when it is free. It hands every result back to the
// main worker (evalCombine), which puts them in explain order and ranks them
// as evaluate does, unless its maps changed meanwhile. No state is kept
// between these calls but the maps' version.

// evalPlan returns the kept maps of the current input (in explain order;
// they alias the session's until the next explain), their version and the
// input.
func (s *session) evalPlan() (EvalPlan, error) {
	if s.m == nil || s.x == nil {
		return EvalPlan{}, errors.New("worker: no image to evaluate (call predict first)")
	}
	if len(s.maps) == 0 {
		return EvalPlan{}, errors.New("worker: no maps to evaluate (call explain first)")
	}
	return EvalPlan{Maps: s.maps, Version: s.mapsVersion, Input: s.x.Data}, nil
}

// mapsOf returns the kept maps of the given methods, in that order; nil
// methods means every kept map.
func (s *session) mapsOf(methods []string) ([]evalMap, error) {
	if methods == nil {
		return s.maps, nil
	}
	if len(methods) == 0 {
		return nil, errors.New("worker: evaluate's methods name no method (omit them to evaluate every map)")
	}
	var out []evalMap
	for i, name := range methods {
		if slices.Contains(methods[:i], name) {
			return nil, errors.New("worker: " + name + " is named twice in evaluate's methods")
		}
		j := s.mapIndex(s.maps, name)
		if j < 0 {
			return nil, errors.New("worker: no " + name + " map to evaluate (explain it first)")
		}
		out = append(out, s.maps[j])
	}
	return out, nil
}

func (s *session) mapIndex(maps []evalMap, method string) int {
	for i := range maps {
		if maps[i].method == method {
			return i
		}
	}
	return -1
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
	s.mapsVersion++
	return nil
}

// evalCombine merges the results of a split evaluation of the maps of
// evalPlan's version into evaluate's answer: one result per kept map, in
// explain order, ranked. A map's completeness gap is the main worker's. If
// the maps changed since that version (a new image or explanation), it
// refuses: the results would mix two sets of maps.
func (s *session) evalCombine(o EvalOptions, parts []MethodEvaluation, version int) (Evaluation, error) {
	start := time.Now()
	if version != s.mapsVersion || len(s.maps) == 0 {
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

package main

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/xai"
)

// TestSessionSweep: the sweep of an explained IG map covers the map's
// baseline first (blur here), then black; the options it recommends, run
// through explain, give the recommended trial's gap, within the
// threshold; every trial of the map's own rule, steps and baseline gives
// the gap explain reported for it. A cancelled sweep stops with its own
// message; a method other than IG is refused.
func TestSessionSweep(t *testing.T) {
	var s session
	if _, err := s.load(testModel(t)); err != nil {
		t.Fatal(err)
	}
	_, pix := rgba()
	if _, err := s.predict(pix, 24, 24); err != nil {
		t.Fatal(err)
	}
	o := opts("ig", "steps", 25, "baseline", "blur", "sigma", 2.0)
	e, err := s.explain(o, nil)
	if err != nil {
		t.Fatal(err)
	}
	calls, last := 0, 0
	r, err := s.sweep(context.Background(), o, func(done, total int) { calls++; last = total })
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 || last != 2*(48+1+16) {
		t.Errorf("%d progress calls, total %d: want calls over 2 baselines of 65 passes", calls, last)
	}
	if len(r.Trials) != 14 || r.Trials[0].Baseline.String() != "blur(sigma=2)" || r.Trials[13].Baseline.String() != "black" {
		t.Fatalf("%d trials, first %v, last %v: want 7 per baseline, blur(sigma=2) then black", len(r.Trials), r.Trials[0], r.Trials[len(r.Trials)-1])
	}
	own := false
	for _, g := range r.Trials {
		if g.Rule == xai.Linspace && g.Steps == 25 && g.Baseline.Kind == xai.Blur {
			own = true
			if math.Abs(g.Rel-e.Check.Rel) > 1e-4*math.Max(1, math.Abs(e.Check.Rel)) {
				t.Errorf("%s: gap %g, explain's %g", g, g.Rel, e.Check.Rel)
			}
		}
	}
	if !own {
		t.Error("no trial with the map's own settings (linspace, 25 steps, blur)")
	}
	if r.Advice == "" {
		t.Error("no advice")
	}
	if r.Use == nil {
		t.Logf("no trial holds: %s", r.Advice)
	} else {
		u := Options{Method: "ig", Target: o.Target, Params: r.Use}
		e2, err := s.explain(u, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !e2.Check.Pass() || !strings.HasPrefix(r.Best, e2.Values.String("rule")+", ") {
			t.Errorf("the recommended %s (%v) gives %+v", r.Best, r.Use, e2.Check)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.sweep(ctx, o, func(int, int) {}); err != errSweepCancelled {
		t.Errorf("cancelled sweep: %v, want %v", err, errSweepCancelled)
	}
	if _, err := s.sweep(nil, opts("saliency"), nil); err == nil || !strings.Contains(err.Error(), "Integrated Gradients") {
		t.Errorf("saliency sweep: %v", err)
	}
	eo, err := decodeEvalOptions(map[string]any{"sweep": map[string]any{"method": "ig", "options": map[string]any{"steps": 7.0}}})
	if err != nil || eo.Sweep == nil || eo.Sweep.Method != "ig" || eo.Sweep.Params["steps"] != 7.0 {
		t.Errorf("decodeEvalOptions with sweep: %+v, %v", eo, err)
	}
	if _, err := decodeEvalOptions(map[string]any{"sweep": map[string]any{"method": "ig", "options": map[string]any{"steps": -1.0}}}); err == nil {
		t.Error("a sweep with bad IG options: no error")
	}
}

package xai

import (
	"math"
	"strings"
	"testing"
)

// TestCompletenessSweep: each trial's Σ attributions, computed from the
// path slopes on a shared grid, equals Σ of IntegratedGradients' map for
// the same rule, steps and baseline (computed apart, map by map).
func TestCompletenessSweep(t *testing.T) {
	ex := New(reluNet(t))
	x := reluInput()
	for _, kind := range []Score{Logit, Probability} {
		tg := Target{Class: -1, Kind: kind}
		trials, err := ex.CompletenessSweep(x, GapSweep{Target: tg, Grid: 12, GaussLegendre: []int{3, 8}})
		if err != nil {
			t.Fatal(err)
		}
		// Per baseline (black, blur): linspace and trapezoid at 12/d + 1
		// steps for d = 4, 2, 1 (4, 7, 13), then Gauss–Legendre 3 and 8.
		var got []string
		for _, g := range trials {
			got = append(got, g.String())
		}
		want := []string{}
		for _, b := range []string{"black", "blur(sigma=5)"} {
			for _, r := range []string{"linspace", "trapezoid"} {
				for _, m := range []string{"4", "7", "13"} {
					want = append(want, r+", "+m+" steps, baseline "+b)
				}
			}
			want = append(want, "gauss-legendre, 3 steps, baseline "+b, "gauss-legendre, 8 steps, baseline "+b)
		}
		if strings.Join(got, "; ") != strings.Join(want, "; ") {
			t.Fatalf("%v trials:\n%s\nwant\n%s", kind, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for _, g := range trials {
			a, err := New(reluNet(t)).IntegratedGradients(x, IGOptions{Target: tg, Steps: g.Steps, Rule: g.Rule, Baseline: g.Baseline})
			if err != nil {
				t.Fatal(err)
			}
			if d := math.Abs(g.Sum - a.Sum); d > 1e-5*math.Max(1, math.Abs(a.Sum)) {
				t.Errorf("%v %s: Σ attributions %.9g, IntegratedGradients %.9g", kind, g, g.Sum, a.Sum)
			}
			if d := math.Abs(g.Want - (a.Score - a.BaselineScore)); d > 1e-6*math.Max(1, math.Abs(g.Want)) {
				t.Errorf("%v %s: score difference %.9g, IntegratedGradients %.9g", kind, g, g.Want, a.Score-a.BaselineScore)
			}
			if g.Rel != IGGap(a) && math.Abs(g.Rel-IGGap(a)) > 1e-4*math.Max(1, math.Abs(g.Rel)) {
				t.Errorf("%v %s: relative gap %.6g, IntegratedGradients %.6g", kind, g, g.Rel, IGGap(a))
			}
			if g.Flat {
				t.Errorf("%v %s: flat", kind, g)
			}
		}
	}
	// A uniform image: its blur is itself, so that baseline is flat.
	u := reluInput()
	for i := range u.Data {
		u.Data[i] = 90
	}
	trials, err := ex.CompletenessSweep(u, GapSweep{Target: Predicted(), Baselines: []Baseline{{Kind: Blur}}, Grid: 4, GaussLegendre: []int{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != 6 || !trials[0].Flat || trials[0].Pass() {
		t.Errorf("uniform image, blur baseline: %+v, want six flat trials (linspace and trapezoid at 2, 3, 5 steps) that do not pass", trials)
	}
	for _, o := range []GapSweep{{Grid: 2}, {Grid: 2000}, {GaussLegendre: []int{0}}, {Baselines: []Baseline{{Kind: Blur, Sigma: -1}}}} {
		if _, err := ex.CompletenessSweep(x, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

func TestGapAdvice(t *testing.T) {
	black, blur := Baseline{Kind: Black}, Baseline{Kind: Blur}
	trials := []GapTrial{
		{Rule: Linspace, Steps: 13, Baseline: black, Rel: -84.8},
		{Rule: Linspace, Steps: 49, Baseline: black, Rel: -21.8},
		{Rule: Trapezoid, Steps: 49, Baseline: black, Rel: -10.9},
		{Rule: GaussLegendre, Steps: 16, Baseline: black, Rel: 0.36},
		{Rule: Linspace, Steps: 13, Baseline: blur, Rel: 0.09},
		{Rule: Trapezoid, Steps: 13, Baseline: blur, Rel: 0.001}, // passes, but not at 25 steps: no advice
		{Rule: Linspace, Steps: 49, Baseline: blur, Rel: 0.017},
		{Rule: Trapezoid, Steps: 25, Baseline: blur, Rel: 0.10},
		{Rule: GaussLegendre, Steps: 16, Baseline: blur, Rel: -0.02},
	}
	for _, tt := range []struct {
		name   string
		trials []GapTrial
		want   string
	}{
		{"the cheapest that passes", trials, "Measured on this image from the black baseline, the linspace rule misses by -8480% at 13, -2180% at 49 steps; what helps: gauss-legendre, 16 steps, baseline blur(sigma=5) (-2.0%, and within 5% at every larger step count tried)."},
		{"none passes", trials[:4], "Measured on this image from the black baseline, the linspace rule misses by -8480% at 13, -2180% at 49 steps; no rule, step count or baseline tried comes within 5%, the closest is gauss-legendre, 16 steps, baseline black (+36%)."},
		{"flat first baseline", []GapTrial{{Rule: Linspace, Steps: 13, Baseline: blur, Flat: true}, {Rule: Linspace, Steps: 13, Baseline: black, Rel: 0.01}},
			"On this image the blur(sigma=5) baseline scores as the image does, so its gaps say nothing; what helps: linspace, 13 steps, baseline black (+1.0%, and within 5% at every larger step count tried)."},
		{"none", nil, ""},
	} {
		if got := GapAdvice(tt.trials); got != tt.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

// TestGapTrialOptions: a trial's Options, run through the registry's
// Integrated Gradients, give the trial's Σ attributions; the sweep's
// baselines start with the map's own.
func TestGapTrialOptions(t *testing.T) {
	ex := New(reluNet(t))
	x := reluInput()
	tg := Target{Class: -1, Kind: Logit}
	bls := SweepBaselines(Baseline{Kind: Blur, Sigma: 2})
	if len(bls) != 2 || bls[0].Kind != Blur || bls[0].Sigma != 2 || bls[1].Kind != Black {
		t.Errorf("SweepBaselines(blur 2) = %v, want blur(sigma=2), black", bls)
	}
	if got := SweepBaselines(Baseline{Kind: White}); len(got) != 3 || got[1].Kind != Blur || got[2].Kind != Black {
		t.Errorf("SweepBaselines(white) = %v, want white, blur, black", got)
	}
	trials, err := ex.CompletenessSweep(x, GapSweep{Target: tg, Baselines: bls, Grid: 8, GaussLegendre: []int{4}})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range trials {
		var r Result
		if err := New(reluNet(t)).ExplainTo(&r, x, Request{Method: "ig", Target: tg, Options: g.Options()}); err != nil {
			t.Fatalf("%s: %v", g, err)
		}
		if r.Check == nil || math.Abs(r.Check.Sum-g.Sum) > 1e-5*math.Max(1, math.Abs(g.Sum)) {
			t.Errorf("%s: options %v give %+v, want Σ attributions %.9g", g, g.Options(), r.Check, g.Sum)
		}
	}
	if o := (GapTrial{Baseline: Baseline{Kind: Custom}}).Options(); o != nil {
		t.Errorf("a custom baseline's options: %v, want nil", o)
	}
}

//go:build !js

package xai_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/mavis-xai/mavis/xai"
)

// TestCompletenessSweepMAVIS holds the sweep's linspace sums, from the
// black baseline, to the fixtures' float64 reference (manifest.json's
// completeness by_steps, the probability target) on "chelsea", whose
// linspace gap is large: Σ attributions 9.62 at 10 steps for a score
// difference of 0.70.
func TestCompletenessSweepMAVIS(t *testing.T) {
	man, dir := readManifest(t)
	img, ok := man.Images["chelsea"]
	if !ok {
		t.Fatal("manifest.json has no chelsea")
	}
	comp := img.Completeness["probability"]
	x := readInput(t, filepath.Join(dir, "chelsea", "input.png"))
	ex := xai.New(loadMAVIS(t))
	// Grid 9: linspace (and trapezoid) at 10 steps, from the black
	// baseline only: 10 gradients.
	trials, err := ex.CompletenessSweep(x, xai.GapSweep{Target: xai.Target{Class: -1, Kind: xai.Probability},
		Baselines: []xai.Baseline{{Kind: xai.Black}}, Grid: 9, GaussLegendre: []int{}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, g := range trials {
		if g.Rule != xai.Linspace || g.Steps != 10 {
			continue
		}
		found = true
		want := comp.BySteps["10"].SumAttributions
		wantDiff := comp.ScoreX - comp.ScoreBaseline
		t.Logf("linspace 10: Σ %.6g (manifest %.6g), score difference %.6g (manifest %.6g), relative gap %+.4g", g.Sum, want, g.Want, wantDiff, g.Rel)
		if math.Abs(g.Sum-want) > 1e-3*math.Abs(want) {
			t.Errorf("Σ attributions %.6g, manifest %.6g", g.Sum, want)
		}
		if math.Abs(g.Want-wantDiff) > 1e-4 {
			t.Errorf("score difference %.6g, manifest %.6g", g.Want, wantDiff)
		}
		if g.Pass() {
			t.Errorf("the black baseline's linspace-10 gap %+.3g passes; the manifest's is %+.3g", g.Rel, (want-wantDiff)/math.Abs(wantDiff))
		}
	}
	if !found {
		t.Fatalf("no linspace 10-step trial in %v", trials)
	}
}

package xai_test

// DeepLIFT's summation-to-delta on the real MAVIS model: for every fixture
// image and both targets, against the black reference (and, for the
// logit, the white and blurred ones too), Σ contributions must equal
// Score(x) − Score(x⁰) to 1e-4 of the difference. The scores themselves
// are held to the fixtures' float64 references (manifest.json: Score(x)
// and Score(0) of each image and target).

import (
	"maps"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mavis-xai/mavis/xai"
)

func TestDeepLIFTConservationMAVIS(t *testing.T) {
	man, dir := readManifest(t)
	ex := xai.New(loadMAVIS(t))
	names := slices.Sorted(maps.Keys(man.Images))
	const tol = 1e-4
	worst := 0.0
	for _, name := range names {
		img := man.Images[name]
		x := readInput(t, filepath.Join(dir, name, "input.png"))
		for _, kind := range []xai.Score{xai.Logit, xai.Probability} {
			refs := []string{"black"}
			if kind == xai.Logit && !testing.Short() {
				refs = append(refs, "white", "blur")
			}
			for _, ref := range refs {
				r, err := ex.Explain(x, xai.Request{Method: "deeplift", Target: xai.Target{Class: -1, Kind: kind}, Options: xai.Options{"baseline": ref}})
				if err != nil {
					t.Fatal(err)
				}
				c := r.Check
				if r.Class != img.ClassIndex {
					t.Fatalf("%s: class %d, want %d", name, r.Class, img.ClassIndex)
				}
				// (grey128's blur is grey128 itself: no difference, no
				// contributions, and the gap must be exactly 0.)
				rel := 0.0
				if c.Gap != 0 {
					rel = math.Abs(c.Gap) / math.Abs(c.Want)
				}
				worst = max(worst, rel)
				t.Logf("%s %s %s: Σ contributions %.8g, Score(x) − Score(x⁰) = %.8g − %.8g = %.8g, relative gap %.2e",
					name, kind, ref, c.Sum, c.ScoreX, c.ScoreRef, c.Want, rel)
				if !(rel <= tol) {
					t.Errorf("%s %s %s: Σ contributions %.8g, Score(x) − Score(x⁰) = %.8g: relative gap %.2e > %g", name, kind, ref, c.Sum, c.Want, rel, tol)
				}
				if ref != "black" {
					continue
				}
				// The two scores against the float64 reference, with the
				// fixtures' probability scale factor.
				comp := img.Completeness[kind.String()]
				scale := 1.0
				if kind == xai.Probability {
					scale = max(1, 1e-4/img.OneMinusPC)
				}
				for _, s := range []struct {
					what      string
					got, want float64
				}{{"Score(x)", c.ScoreX, comp.ScoreX}, {"Score(black)", c.ScoreRef, comp.ScoreBaseline}} {
					if math.Abs(s.got-s.want) > 1e-4*math.Max(1, math.Abs(s.want))*scale {
						t.Errorf("%s %s: %s = %.8g, manifest %.8g", name, kind, s.what, s.got, s.want)
					}
				}
			}
		}
	}
	t.Logf("worst relative gap %.2e (limit %g)", worst, tol)
}

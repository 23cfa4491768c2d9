//go:build !js || goexperiment.simd

package xai_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/mavis-xai/mavis/xai"
)

// TestIGSplitFixture splits chelsea's IG-50 (logit target) into three parts
// as the page's worker pool does: the part holding x resolves the class,
// the others are given it, each part runs in its own Explainer (the pool's
// workers each hold a model) and the parts are combined in reverse order.
// The combined map meets the fixture ig_logit.npy within the manifest's
// tolerances, and completeness holds as the manifest states it: Σ IG, the
// scores at x and at the baseline.
func TestIGSplitFixture(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: IG-50 on MAVIS is 50 forward and backward passes")
	}
	man, dir := readManifest(t)
	img, ok := man.Images["chelsea"]
	if !ok {
		t.Fatal("manifest.json has no image chelsea")
	}
	fx := &fixture{t: t, man: man, dir: filepath.Join(dir, "chelsea"), scale: 1}
	x := readInput(t, filepath.Join(fx.dir, "input.png"))
	m := loadMAVIS(t)
	o := xai.IGOptions{Target: xai.Predicted(), Steps: 50}
	n, err := o.Evaluations()
	if err != nil || n != 50 {
		t.Fatalf("Evaluations() = %d, %v; want 50", n, err)
	}
	ranges := [][2]int{{0, 17}, {17, 34}, {34, 50}}
	parts := make([]*xai.IGPart, len(ranges))
	for i, r := range ranges {
		po := o
		if r[0] > 0 {
			po.Target.Class = parts[0].Class
		}
		parts[i] = new(xai.IGPart)
		if err := xai.New(m).IGPathSumTo(parts[i], x, po, r[0], r[1]); err != nil {
			t.Fatal(err)
		}
	}
	if parts[0].Class != img.ClassIndex {
		t.Fatalf("the part holding x resolved class %d, want %d", parts[0].Class, img.ClassIndex)
	}
	var a xai.Attribution
	if err := xai.New(m).CombineIGTo(&a, x, o, []*xai.IGPart{parts[2], parts[1], parts[0]}); err != nil {
		t.Fatal(err)
	}
	ref := fx.check("ig", "ig_logit", a.Map.Data)
	comp := img.Completeness["logit"]
	want := comp.BySteps["50"].SumAttributions
	// |Σ(test − ref)| ≤ √n ‖test − ref‖₂ ≤ √n · limit · ‖ref‖₂ (Cauchy–Schwarz).
	bound := math.Sqrt(float64(len(ref))) * fx.limit("ig", "rel_l2") * l2(ref)
	t.Logf("split IG-50: sum %.6g (manifest %.6g, bound %.3g), gap %.4g, Score(x) %.6g (manifest %.6g), Score(0) %.6g (manifest %.6g)",
		a.Sum, want, bound, a.Gap, a.Score, comp.ScoreX, a.BaselineScore, comp.ScoreBaseline)
	if !(math.Abs(a.Sum-want) <= bound) {
		t.Errorf("sum of attributions %.6g, manifest %.6g: difference beyond %.3g", a.Sum, want, bound)
	}
	if d := math.Abs(a.Score - comp.ScoreX); d > 1e-4*math.Max(1, math.Abs(comp.ScoreX)) {
		t.Errorf("Score(x) %.8g, manifest %.8g", a.Score, comp.ScoreX)
	}
	if d := math.Abs(a.BaselineScore - comp.ScoreBaseline); d > 1e-4*math.Max(1, math.Abs(comp.ScoreBaseline)) {
		t.Errorf("Score(baseline) %.8g, manifest %.8g", a.BaselineScore, comp.ScoreBaseline)
	}
	if g := a.Sum - (comp.ScoreX - comp.ScoreBaseline); math.Abs(a.Gap-g) > 1e-3*math.Max(1, math.Abs(g)) {
		t.Errorf("gap %.6g, but Σ IG − (Score(x) − Score(0)) from the manifest's scores is %.6g", a.Gap, g)
	}
}

//go:build !js || goexperiment.simd

package xai_test

// Parity with ../shared/fixtures/mavis: reference values computed in
// float64 from the real MAVIS weights by an independent implementation
// (fixtures/README.md is the specification; manifest.json holds the
// tolerances, read here rather than copied). Every file listed in the
// README is compared for every image and both targets, with the README's
// metrics and rules: the probability-target scale factor
// max(1, 1e-4/(1 − p_c)) on every limit but that of probs, saturated
// probability targets skipped, input-space gradients compared by rel_l2
// and frac_abs_over_1e-3_max_ref.

import (
	"flag"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

// The IG fixtures cost 50 or 300 forward and backward passes of MAVIS per
// image and target, so by default only chelsea's IG-50 for the logit target
// runs ("one"); the whole set is
//
//	go test -run TestFixtures -timeout 2h ./xai -args -xai.ig=all -xai.ig300=all
var (
	fixtureIG    = flag.String("xai.ig", "one", "fixture IG-50: all (every image and target), one (chelsea, logit) or none (-short: none)")
	fixtureIG300 = flag.String("xai.ig300", "none", "fixture IG-300: all, one (chelsea, logit) or none (-short: none); each image and target is 300 passes")
)

// igSet reports whether a fixture IG run covers image and target.
func igSet(mode, image string, kind xai.Score) bool {
	if testing.Short() {
		return false
	}
	switch mode {
	case "all":
		return true
	case "one":
		return image == "chelsea" && kind == xai.Logit
	}
	return false
}

func TestFixtures(t *testing.T) {
	man, dir := readManifest(t)
	m := loadMAVIS(t)
	ex := xai.New(m)
	names := slices.Sorted(maps.Keys(man.Images))
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			img := man.Images[name]
			fx := &fixture{t: t, man: man, dir: filepath.Join(dir, name), scale: 1}
			x := readInput(t, filepath.Join(fx.dir, "input.png"))
			pred, err := ex.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			if pred.Class != img.ClassIndex {
				t.Fatalf("predicted class %d, want %d", pred.Class, img.ClassIndex)
			}
			fx.check("probs", "probs", f32(pred.Probs))
			fx.check("logits", "logits", f32(pred.Logits))
			for _, kind := range []xai.Score{xai.Logit, xai.Probability} {
				tn := kind.String()
				if kind == xai.Probability && img.Saturated {
					t.Logf("%s: probability target saturated (1 - p_c = %.3g): skipped as the README says", tn, img.OneMinusPC)
					continue
				}
				fx.scale = 1
				if kind == xai.Probability {
					fx.scale = max(1, 1e-4/img.OneMinusPC)
				}
				tg := xai.Target{Class: -1, Kind: kind}
				for _, method := range []struct {
					file string
					run  func(x *nn.Tensor, o xai.CAMOptions) (xai.CAM, error)
					pos  bool
				}{
					{"gradcam", ex.GradCAM, false},
					{"gradcampp", ex.GradCAMPlusPlus, false},
					{"gradcampp_posnorm", ex.GradCAMPlusPlus, true},
				} {
					r, err := method.run(x, xai.CAMOptions{Target: tg, PosNorm: method.pos})
					if err != nil {
						t.Fatal(err)
					}
					if r.Layer != "conv2d_7" || r.Class != img.ClassIndex {
						t.Fatalf("%s: layer %q class %d, want conv2d_7 and %d", method.file, r.Layer, r.Class, img.ClassIndex)
					}
					if method.file == "gradcam" {
						if kind == xai.Logit {
							fx.check("conv2d_7", "conv2d_7", r.Act.Data)
						}
						fx.check("grad_conv2d_7", "grad_conv2d_7_"+tn, r.Grad.Data)
					}
					fx.check(method.file+"_weights", method.file+"_"+tn+"_weights", r.Weights)
					fx.check(method.file+"_raw", method.file+"_"+tn+"_raw", r.Raw.Data)
					fx.check(method.file, method.file+"_"+tn, r.Norm.Data)
				}
				s, err := ex.Saliency(x, tg)
				if err != nil {
					t.Fatal(err)
				}
				fx.check("saliency_grad", "saliency_grad_"+tn, s.Grad.Data)
				fx.check("saliency", "saliency_"+tn, s.Map.Data)
				zero := nn.NewTensor(1, 224, 224, 3)
				s, err = ex.Saliency(zero, xai.Target{Class: img.ClassIndex, Kind: kind})
				if err != nil {
					t.Fatal(err)
				}
				fx.check("ig_baseline_grad", "ig_baseline_grad_"+tn, s.Grad.Data)

				comp := img.Completeness[tn]
				for _, ig := range []struct {
					file  string
					steps int
					run   bool
				}{{"ig", 50, igSet(*fixtureIG, name, kind)}, {"ig300", 300, igSet(*fixtureIG300, name, kind)}} {
					if !ig.run {
						continue
					}
					start := time.Now()
					a, err := ex.IntegratedGradients(x, xai.IGOptions{Target: tg, Steps: ig.steps})
					if err != nil {
						t.Fatal(err)
					}
					if a.Class != img.ClassIndex {
						t.Fatalf("%s: class %d, want %d", ig.file, a.Class, img.ClassIndex)
					}
					ref := fx.check(ig.file, ig.file+"_"+tn, a.Map.Data)
					// Completeness: Σ IG against the manifest's sum for the
					// same m. The rel_l2 limit bounds it by Cauchy–Schwarz:
					// |Σ(test − ref)| ≤ √n ‖test − ref‖₂ ≤ √n · limit · ‖ref‖₂.
					want := comp.BySteps[fmt.Sprint(ig.steps)].SumAttributions
					bound := math.Sqrt(float64(len(ref))) * fx.limit(ig.file, "rel_l2") * l2(ref)
					t.Logf("%s %s: sum %.6g, manifest %.6g (difference %.3g, bound %.3g); gap %.4g; Score(x) %.6g (manifest %.6g), Score(0) %.6g (manifest %.6g); %v",
						ig.file, tn, a.Sum, want, a.Sum-want, bound, a.Gap, a.Score, comp.ScoreX, a.BaselineScore, comp.ScoreBaseline, time.Since(start).Round(time.Millisecond))
					if !(math.Abs(a.Sum-want) <= bound) {
						t.Errorf("%s %s: sum of attributions %.6g, manifest %.6g: difference beyond %.3g", ig.file, tn, a.Sum, want, bound)
					}
					if d := math.Abs(a.BaselineScore - comp.ScoreBaseline); d > 1e-4*math.Max(1, math.Abs(comp.ScoreBaseline))*fx.scale {
						t.Errorf("%s %s: Score(baseline) %.8g, manifest %.8g", ig.file, tn, a.BaselineScore, comp.ScoreBaseline)
					}
				}
			}
		})
	}
}

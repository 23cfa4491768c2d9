package xai_test

// Parity with the "Wave 2" section of ../shared/fixtures/README.md: the
// registry's methods against float64 references from an independent
// implementation, with the wave's own tolerance rules (manifest.json,
// wave2.tolerances), the same probability-target scale factor and the same
// skipping of saturated probability targets. Each method adds its files to
// wave2Files. It runs natively and as js/wasm under node (the browser's
// arithmetic), so what it runs must stay cheap enough for node (MAVIS runs
// at about 6 GFLOP/s there).

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mavis-xai/mavis/xai"
)

// wave2File is one reference file: the kind its tolerance rules name, the
// method that computes it and what of the Result it holds.
type wave2File struct {
	kind   string // the manifest's file kind, e.g. "hirescam_raw"
	method string // the registry name
	target bool   // one file per target (<kind with _<t> inserted>); false: one per image
	get    func(r xai.Result) []float32
	opts   xai.Options
}

// file returns the file name (without .npy) for target t.
func (f wave2File) file(t string) string {
	if !f.target {
		return f.kind
	}
	// hirescam_raw -> hirescam_<t>_raw; inputxgrad -> inputxgrad_<t>.
	for _, suffix := range []string{"_raw", "_weights", "_scores"} {
		if n := len(f.kind) - len(suffix); n > 0 && f.kind[n:] == suffix {
			return f.kind[:n] + "_" + t + suffix
		}
	}
	return f.kind + "_" + t
}

func resultMap(r xai.Result) []float32 { return r.Map.Data }

func resultWeights(r xai.Result) []float32 { return r.Weights }

// resultExtra returns the Result's extra array called name.
func resultExtra(name string) func(r xai.Result) []float32 {
	return func(r xai.Result) []float32 {
		for _, e := range r.Extras {
			if e.Name == name {
				return e.Data
			}
		}
		return nil
	}
}

var wave2Files = []wave2File{
	{kind: "inputxgrad", method: "inputxgrad", target: true, get: resultMap},
	{kind: "occlusion", method: "occlusion", target: true, get: resultMap},
	{kind: "hirescam_raw", method: "hirescam", target: true, get: resultMap},
	{kind: "xgradcam_weights", method: "xgradcam", target: true, get: resultWeights},
	{kind: "xgradcam_raw", method: "xgradcam", target: true, get: resultMap},
	{kind: "layercam_raw", method: "layercam", target: true, get: resultMap},
	{kind: "eigencam_raw", method: "eigencam", target: false, get: resultMap},
	{kind: "eigengradcam_raw", method: "eigengradcam", target: true, get: resultMap},
	{kind: "scorecam_scores", method: "scorecam", target: true, get: resultExtra("scores")},
	{kind: "scorecam_weights", method: "scorecam", target: true, get: resultWeights},
	{kind: "scorecam_raw", method: "scorecam", target: true, get: resultMap},
	{kind: "ablationcam_weights", method: "ablationcam", target: true, get: resultWeights},
	{kind: "ablationcam_raw", method: "ablationcam", target: true, get: resultMap},
	{kind: "guidedbackprop", method: "guidedbackprop", target: true, get: resultMap},
	{kind: "deconvnet", method: "deconvnet", target: true, get: resultMap},
	{kind: "guidedgradcam", method: "guidedgradcam", target: true, get: resultMap},
}

type wave2Manifest struct {
	Wave2 struct {
		Tolerances struct {
			Rules []struct {
				Files  []string `json:"files"`
				Metric string   `json:"metric"`
				Limit  float64  `json:"limit"`
			} `json:"rules"`
		} `json:"tolerances"`
		Images map[string]struct {
			ClassIndex int     `json:"class_index"`
			OneMinusPC float64 `json:"one_minus_p_c"`
			Saturated  bool    `json:"probability_target_saturated"`
			Files      map[string]struct {
				Shape []int `json:"shape"`
			} `json:"files"`
		} `json:"images"`
	} `json:"wave2"`
}

func TestFixturesWave2(t *testing.T) {
	man, dir := readManifest(t)
	var w2 wave2Manifest
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &w2); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if len(w2.Wave2.Images) == 0 || len(w2.Wave2.Tolerances.Rules) == 0 {
		t.Fatal("manifest.json: no wave2 images or tolerance rules")
	}
	// The fixture helper reads the wave's rules.
	wman := *man
	wman.Tolerances.Rules = wman.Tolerances.Rules[:0:0]
	for _, r := range w2.Wave2.Tolerances.Rules {
		wman.Tolerances.Rules = append(wman.Tolerances.Rules, struct {
			Files  []string `json:"files"`
			Metric string   `json:"metric"`
			Limit  float64  `json:"limit"`
		}{r.Files, r.Metric, r.Limit})
	}
	m := loadMAVIS(t)
	ex := xai.New(m)
	names := make([]string, 0, len(w2.Wave2.Images))
	for name := range w2.Wave2.Images {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			img := w2.Wave2.Images[name]
			fx := &fixture{t: t, man: &wman, dir: filepath.Join(dir, name), scale: 1}
			x := readInput(t, filepath.Join(fx.dir, "input.png"))
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
				// One Explain per method and options: several files
				// (weights, raw map, scores) come from one Result.
				results := map[string]xai.Result{}
				for _, f := range wave2Files {
					if !f.target && kind != xai.Logit {
						continue
					}
					listed, ok := img.Files[f.file(tn)+".npy"]
					if !ok {
						t.Errorf("%s.npy is not listed in the manifest's wave2 files", f.file(tn))
						continue
					}
					key := f.method + fmt.Sprint(f.opts)
					r, ok := results[key]
					if !ok {
						var err error
						r, err = ex.Explain(x, xai.Request{Method: f.method, Target: xai.Target{Class: -1, Kind: kind}, Options: f.opts})
						if err != nil {
							t.Fatalf("%s %s: %v", f.method, tn, err)
						}
						results[key] = r
					}
					if r.Class != img.ClassIndex {
						t.Fatalf("%s %s: class %d, want %d", f.method, tn, r.Class, img.ClassIndex)
					}
					got := f.get(r)
					if n := prod(listed.Shape); len(got) != n {
						t.Errorf("%s %s: %d values, the manifest's shape %v has %d", f.method, tn, len(got), listed.Shape, n)
						continue
					}
					fx.check(f.kind, f.file(tn), got)
				}
			}
		})
	}
}

func prod(s []int) int {
	n := 1
	for _, v := range s {
		n *= v
	}
	return n
}

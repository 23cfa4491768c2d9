package browsertest

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/mavis-xai/mavis/internal/sharedtest"
	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/nn/npy"
	"github.com/mavis-xai/mavis/weightsconv/keras"
)

type manifest struct {
	Classes []struct {
		Index int    `json:"index"`
		Wnid  string `json:"wnid"`
		Name  string `json:"name"`
	} `json:"classes"`
	Images map[string]struct {
		ClassIndex int     `json:"class_index"`
		OneMinusPc float64 `json:"one_minus_p_c"`
		Saturated  bool    `json:"probability_target_saturated"`
	} `json:"images"`
	Tolerances struct {
		Rules []toleranceRule `json:"rules"`
	} `json:"tolerances"`
	Wave2 struct {
		Tolerances struct {
			Rules []toleranceRule `json:"rules"`
		} `json:"tolerances"`
		Images map[string]struct {
			Files map[string]struct {
				Shape []int `json:"shape"`
			} `json:"files"`
		} `json:"images"`
	} `json:"wave2"`
}

// toleranceRule is one of the manifest's comparison rules: the file kinds
// it covers, a metric and its limit.
type toleranceRule struct {
	Files  []string `json:"files"`
	Metric string   `json:"metric"`
	Limit  float64  `json:"limit"`
}

func readManifest(t *testing.T, shared string) *manifest {
	t.Helper()
	var man manifest
	b, err := os.ReadFile(filepath.Join(shared, "fixtures", "mavis", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if len(man.Tolerances.Rules) == 0 || len(man.Wave2.Tolerances.Rules) == 0 || len(man.Wave2.Images) == 0 {
		t.Fatal("manifest.json: no tolerance rules, or no wave-2 rules or images")
	}
	return &man
}

// rules are the first set's tolerance rules and wave 2's.
func (m *manifest) rules() []toleranceRule {
	return append(slices.Clip(m.Tolerances.Rules), m.Wave2.Tolerances.Rules...)
}

// wave2File is one kind of wave-2 reference file, as the manifest's rules
// name it ("hirescam_raw", "scorecam_scores", "inputxgrad", ...): the
// method that computes it (the kind without its _raw, _weights or _scores),
// the part of the page's Explanation it holds (the full map, the CAM
// weights or an extra array) and whether there is one file per target.
type wave2File struct {
	kind, method, part string
	perTarget          bool
}

// file is the reference file's name (without .npy) for target t:
// hirescam_raw -> hirescam_<t>_raw, inputxgrad -> inputxgrad_<t>,
// eigencam_raw (one per image) as is.
func (f wave2File) file(t string) string {
	if !f.perTarget {
		return f.kind
	}
	if f.method == f.kind {
		return f.kind + "_" + t
	}
	return f.method + "_" + t + f.kind[len(f.method):]
}

// wave2Table is the wave-2 files of the registered methods.
type wave2Table []wave2File

func (w wave2Table) methods() []string {
	var out []string
	for _, f := range w {
		if !slices.Contains(out, f.method) {
			out = append(out, f.method)
		}
	}
	return out
}

func (w wave2Table) files(method string) []wave2File {
	var out []wave2File
	for _, f := range w {
		if f.method == method {
			out = append(out, f)
		}
	}
	return out
}

// target reports whether the method's files come one per target.
func (w wave2Table) target(method string) bool {
	for _, f := range w {
		if f.method == method && f.perTarget {
			return true
		}
	}
	return false
}

// wave2All is every wave-2 file kind of the manifest's rules, in their
// order.
func (m *manifest) wave2All() wave2Table {
	var any1 map[string]struct {
		Shape []int `json:"shape"`
	}
	for _, img := range m.Wave2.Images {
		any1 = img.Files
		break
	}
	var out wave2Table
	seen := map[string]bool{}
	for _, r := range m.Wave2.Tolerances.Rules {
		for _, kind := range r.Files {
			if seen[kind] {
				continue
			}
			seen[kind] = true
			f := wave2File{kind: kind, method: kind, part: "fullMap", perTarget: true}
			for suffix, part := range map[string]string{"_raw": "fullMap", "_weights": "weights", "_scores": "extra:scores"} {
				if m, ok := strings.CutSuffix(kind, suffix); ok {
					f.method, f.part = m, part
				}
			}
			if _, ok := any1[kind+".npy"]; ok {
				f.perTarget = false
			}
			out = append(out, f)
		}
	}
	return out
}

func (m *manifest) wave2Methods() []string { return m.wave2All().methods() }

// wave2Files is the wave-2 table of the methods in registered, and the
// manifest's methods that are not.
func (m *manifest) wave2Files(registered []string) (have wave2Table, missing []string) {
	for _, f := range m.wave2All() {
		if slices.Contains(registered, f.method) {
			have = append(have, f)
		} else if !slices.Contains(missing, f.method) {
			missing = append(missing, f.method)
		}
	}
	return have, missing
}

// writeMAVIS converts the original Keras weights into the page's format,
// with the fixture classes, into the served folder.
func writeMAVIS(t *testing.T, shared string, man manifest, path string) {
	t.Helper()
	c, err := keras.ReadFile(filepath.Join(shared, "mavis", "tiny_imagenet_model.checkpoint.weights.h5"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.BuildBuiltin("mavis")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Load(m); err != nil {
		t.Fatal(err)
	}
	for _, k := range man.Classes {
		m.Classes = append(m.Classes, nn.Class{ID: k.Wnid, Name: k.Name})
	}
	if err := nn.Save(path, m); err != nil {
		t.Fatal(err)
	}
}

// TestMAVISFixtures runs the built-in MAVIS model (www/models/mavis.safetensors,
// weightsconv's conversion of the original weights) in the page and holds
// the worker's answers to the float64 reference in ../shared/fixtures with
// the manifest's tolerance rules:
//   - the class and probabilities of every image;
//   - Grad-CAM and Grad-CAM++ (raw, 7x7) and Saliency for every image with
//     target=logit, the same for target=probability on chelsea, and
//     Integrated Gradients (50 steps) on chelsea;
//   - every "Wave 2" file (the README's section of that name: the CAM
//     family's maps, weights and Score-CAM's scores, Gradient x Input,
//     Guided Backprop, Deconvnet, Guided Grad-CAM, Occlusion) of every
//     image at both targets (a saturated probability target skipped, as
//     the README says), for each method the page's registry has: the
//     table is built from the manifest's wave-2 rules, so that a method
//     is checked here as soon as it is registered.
//
// The images go through the browser's decoder, as a dropped file would,
// and each method runs as the page runs it (app.explain: split across the
// worker pool when the registry can split it).
func TestMAVISFixtures(t *testing.T) {
	shared := sharedtest.Dir(t, sharedtest.Manifest, sharedtest.Weights)
	base := site(t)
	man := readManifest(t, shared)
	www := filepath.Join(siteDir, "www")
	os.MkdirAll(filepath.Join(www, "fixtures"), 0o755)
	for name := range man.Images {
		if err := copyFile(filepath.Join(shared, "fixtures", "mavis", name, "input.png"), filepath.Join(www, "fixtures", name+".png")); err != nil {
			t.Fatal(err)
		}
	}

	ctx, cancel := browser(t, 10*time.Minute)
	defer cancel()
	openLoaded(ctx, t, base+"?model=models/mavis.safetensors&autorun=0")
	if errs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`app.state.errors`)); len(errs) > 0 {
		t.Fatalf("loading the MAVIS model: %q", errs)
	}
	registered, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`app.state.model.methods.map((m) => m.name)`))
	if err != nil {
		t.Fatal(err)
	}
	wave2, missing := man.wave2Files(registered)
	for _, m := range missing {
		t.Logf("wave 2: %s is not in the page's registry yet: its fixtures are not checked", m)
	}
	if len(wave2) == 0 {
		t.Fatalf("no wave-2 method of the manifest (%v) is in the page's registry %v", man.wave2Methods(), registered)
	}
	checked := map[string]int{}
	for _, name := range []string{"astronaut", "chelsea", "rocket", "immunohistochemistry", "grey128"} {
		img, ok := man.Images[name]
		if !ok {
			t.Fatalf("manifest has no image %s", name)
		}
		fx := fixtureDir{t: t, man: man, dir: filepath.Join(shared, "fixtures", "mavis", name), name: name}
		// The jobs of this image: one explain call each, all in one
		// evaluation in the page.
		var jobs []pageJob
		for _, target := range []string{"logit", "probability"} {
			if target == "probability" && img.Saturated {
				t.Logf("%s: probability target saturated (1 - p_c = %.3g): skipped as the README says", name, img.OneMinusPc)
				continue
			}
			first := []string{}
			if target == "logit" || name == "chelsea" {
				first = []string{"gradcam", "gradcampp", "saliency"}
			}
			if target == "logit" && name == "chelsea" {
				first = append(first, "ig")
			}
			for _, m := range first {
				opts := map[string]any{}
				if m == "ig" {
					opts["steps"] = 50
				}
				jobs = append(jobs, pageJob{Method: m, Score: target, Options: opts})
			}
			for _, m := range wave2.methods() {
				if !wave2.target(m) && target != "logit" {
					continue // one file per image (Eigen-CAM): its logit run
				}
				jobs = append(jobs, pageJob{Method: m, Score: target, Options: map[string]any{}, Wave2: true})
			}
		}
		start := time.Now()
		r := runPageJobs(ctx, t, name, jobs)
		t.Logf("%s: %d explanations in the page in %v", name, len(jobs), time.Since(start).Round(time.Millisecond))
		if r.Class != img.ClassIndex {
			t.Errorf("%s: class %d, want %d", name, r.Class, img.ClassIndex)
		}
		fx.check("probs", "probs", r.Probs, 1)
		for i, j := range jobs {
			e := r.Runs[i]
			scale := 1.0
			if j.Score == "probability" {
				scale = math.Max(1, 1e-4/img.OneMinusPc)
			}
			if e.Class != img.ClassIndex {
				t.Errorf("%s %s %s: class %d explained, want %d", name, j.Method, j.Score, e.Class, img.ClassIndex)
			}
			if !j.Wave2 {
				switch j.Method {
				case "gradcam", "gradcampp":
					fx.check(j.Method+"_raw", j.Method+"_"+j.Score+"_raw", e.floats(t, "map"), scale)
				case "saliency":
					fx.check("saliency", "saliency_"+j.Score, e.floats(t, "map"), scale)
				case "ig":
					fx.check("ig", "ig_"+j.Score, e.floats(t, "fullMap"), scale)
				}
				continue
			}
			for _, f := range wave2.files(j.Method) {
				file := f.file(j.Score)
				if _, ok := man.Wave2.Images[name].Files[file+".npy"]; !ok {
					t.Errorf("%s: %s.npy is not listed in the manifest's wave-2 files", name, file)
					continue
				}
				fx.check(f.kind, file, e.floats(t, f.part), scale)
				checked[f.kind]++
			}
			t.Logf("%s %s %s: %.0f ms in the page", name, j.Method, j.Score, e.MS)
		}
	}
	var kinds []string
	for k, n := range checked {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
	}
	slices.Sort(kinds)
	t.Logf("wave-2 files checked in the page: %s", strings.Join(kinds, ", "))
}

// pageJob is one explain call of TestMAVISFixtures.
type pageJob struct {
	Method  string         `json:"method"`
	Score   string         `json:"score"`
	Options map[string]any `json:"options"`
	Wave2   bool           `json:"wave2"` // send the full map, the weights and the extras (else the display map)
}

// pageRun is the page's answer to one job: its float32 arrays as base64
// of their bytes (little-endian, as the page holds them).
type pageRun struct {
	Class  int
	MS     float64
	Arrays map[string]string // "map", "fullMap", "weights", "extra:<name>"
}

// pageAnswer is the page's prediction of an image and its answers to the
// jobs, in order.
type pageAnswer struct {
	Class int
	Probs []float64
	Runs  []pageRun
}

// floats decodes one of the run's arrays ("map", "fullMap", "weights",
// "extra:scores").
func (r pageRun) floats(t *testing.T, part string) []float64 {
	t.Helper()
	b64, ok := r.Arrays[part]
	if !ok {
		t.Errorf("the page's explanation has no %s (it has %v)", part, slices.Sorted(maps.Keys(r.Arrays)))
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(b)%4 != 0 {
		t.Fatalf("%s: %d bytes (%v)", part, len(b), err)
	}
	out := make([]float64, len(b)/4)
	for i := range out {
		out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
	}
	return out
}

// runPageJobs predicts fixtures/<name>.png in the page and runs the jobs
// on it, one explain after the other, in one evaluation.
func runPageJobs(ctx context.Context, t *testing.T, name string, jobs []pageJob) pageAnswer {
	t.Helper()
	jb, _ := json.Marshal(jobs)
	r, err := chromedp.Run(ctx, chromedp.Evaluate[pageAnswer](fmt.Sprintf(`(async () => {
		const b64 = (a) => {
			const f = a instanceof Float32Array ? a : Float32Array.from(a);
			const u = new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
			let s = '';
			for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode.apply(null, u.subarray(i, i + 0x8000));
			return btoa(s);
		};
		const blob = await (await fetch('fixtures/%s.png')).blob();
		const p = await app.rpc('predict', [blob]);
		const out = {class: p.class, probs: p.probs, runs: []};
		for (const j of %s) {
			const t0 = performance.now();
			const e = await app.explain({method: j.method, score: j.score, options: j.options});
			const arrays = {};
			if (!j.wave2) arrays.map = b64(e.map);
			if (j.wave2 || j.method === 'ig') arrays.fullMap = b64(e.fullMap);
			if (j.wave2 && e.weights) arrays.weights = b64(e.weights);
			if (j.wave2) for (const x of e.extras || []) arrays['extra:' + x.name] = b64(x.data);
			out.runs.push({class: e.class, ms: performance.now() - t0, arrays});
		}
		return out;
	})()`, name, jb), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(r.Runs) != len(jobs) {
		t.Fatalf("%s: %d answers for %d jobs", name, len(r.Runs), len(jobs))
	}
	return r
}

// fixtureDir compares the page's arrays with one image's reference files
// under the manifest's rules (the first set's and wave 2's).
type fixtureDir struct {
	t    *testing.T
	man  *manifest
	dir  string
	name string
}

// check compares got with <file>.npy under every rule for kind, each limit
// multiplied by scale (the probability target's factor; 1 for probs).
func (f fixtureDir) check(kind, file string, got []float64, scale float64) {
	t := f.t
	t.Helper()
	want := readNpy(t, f.dir, file+".npy")
	if len(got) != len(want) {
		t.Errorf("%s %s: %d values, want %d", f.name, file, len(got), len(want))
		return
	}
	n := 0
	for _, r := range f.man.rules() {
		if !slices.Contains(r.Files, kind) {
			continue
		}
		n++
		v := sharedtest.Metric(r.Metric, got, want)
		if lim := r.Limit * scale; !(v <= lim) {
			t.Errorf("%s %s: %s = %.4g, limit %.4g", f.name, file, r.Metric, v, lim)
		}
	}
	if n == 0 {
		t.Errorf("%s %s: the manifest has no tolerance rule for %q", f.name, file, kind)
	}
}

func readNpy(t *testing.T, dir, file string) []float64 {
	t.Helper()
	_, data, err := npy.Read(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(data))
	for i, v := range data {
		out[i] = float64(v)
	}
	return out
}

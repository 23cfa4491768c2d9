package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mavis-xai/mavis/internal/atomicfile"
	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/nn/imagefile"
	"github.com/mavis-xai/mavis/nn/npy"
	"github.com/mavis-xai/mavis/xai"
)

// job explains images with one model and one configuration.
type job struct {
	cfg       *config
	m         *nn.Model
	ex        *xai.Explainer
	kind      xai.Score
	class     int                   // -1: predicted
	baselines map[string]*nn.Tensor // per method, a baseline image
	cmap      *xai.Colormap         // -colormap; nil: each map kind's own
	rule      xai.ScaleRule         // -scale; xai.ScaleDefault: each map kind's own
}

func newJob(cfg *config, m *nn.Model) (*job, error) {
	j := &job{cfg: cfg, m: m, ex: xai.New(m), class: -1, baselines: map[string]*nn.Tensor{}}
	j.ex.Batch = cfg.batch
	var err error
	if j.kind, err = xai.ParseScore(cfg.target); err != nil {
		return nil, err
	}
	if cfg.class != "" {
		if j.class, err = findClass(m, cfg.class); err != nil {
			return nil, err
		}
	}
	for method, file := range cfg.baselines {
		img, ferr := readImage(file)
		if ferr != nil {
			p, _ := xai.Lookup(method)
			return nil, fmt.Errorf("-%s-baseline %q is neither %s, and not a readable image: %v", method, file, strings.Join(p.Param("baseline").Choices, ", "), ferr)
		}
		x, ierr := nn.ImageInput(img, m.Preprocess)
		if ierr != nil {
			return nil, fmt.Errorf("-%s-baseline %s: %v", method, file, ierr)
		}
		j.baselines[method] = x
	}
	if cfg.colormap != "" {
		if j.cmap, err = xai.ColormapByName(cfg.colormap); err != nil {
			return nil, fmt.Errorf("-colormap: %v", strings.TrimPrefix(err.Error(), "xai: "))
		}
	}
	if j.rule, err = xai.ParseScaleRule(cfg.scale); err != nil {
		return nil, fmt.Errorf("-scale: %v", strings.TrimPrefix(err.Error(), "xai: "))
	}
	// Check the layer once, before any image (not by explaining a black
	// input: Ablation-CAM, for one, refuses a score of 0 there).
	for _, name := range cfg.methods {
		if m, _ := xai.Lookup(name); m.Layer {
			if _, err := j.ex.CAMLayer(cfg.layer); err != nil {
				return nil, err
			}
			break
		}
	}
	return j, nil
}

// request is the registry request for one method.
func (j *job) request(method string, t xai.Target, progress func(done, total int)) xai.Request {
	return xai.Request{Method: method, Target: t, Layer: j.cfg.layer, Options: j.cfg.options[method],
		Seed: j.cfg.seed, Baseline: j.baselines[method], Progress: progress}
}

// findClass resolves -class: an index, a class id or a class name.
func findClass(m *nn.Model, s string) (int, error) {
	k := m.Shapes[m.Logits()][2]
	if i, err := strconv.Atoi(s); err == nil {
		if i < 0 || i >= k {
			return 0, fmt.Errorf("-class %d out of range 0..%d", i, k-1)
		}
		return i, nil
	}
	for i, c := range m.Classes {
		if strings.EqualFold(c.ID, s) || strings.EqualFold(c.Name, s) {
			return i, nil
		}
	}
	var names []string
	for i, c := range m.Classes {
		names = append(names, fmt.Sprintf("%d %s %s", i, c.ID, c.Name))
	}
	if len(names) == 0 {
		return 0, fmt.Errorf("-class %q: the model has no class names; give an index 0..%d", s, k-1)
	}
	return 0, fmt.Errorf("-class %q matches no class (have: %s)", s, strings.Join(names, "; "))
}

func readImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := imagefile.Decode(f)
	if err != nil {
		head := make([]byte, nn.SniffLen)
		n, _ := f.ReadAt(head, 0)
		if _, format := nn.Sniff(head[:n], int64(n)); format != "" && pictureAdvice[format] != "" {
			return nil, fmt.Errorf("%s", pictureAdvice[format])
		}
	}
	return img, err
}

// pictureAdvice says what to do with a picture in a format explain does
// not read, by nn.Sniff's name for it (the page says the same).
var pictureAdvice = map[string]string{
	"HEIF": "a HEIF (HEIC) picture, the format iPhones take photos in, which explain cannot read: save it as a JPEG or PNG (an iPhone takes JPEGs with Settings > Camera > Formats > Most Compatible)",
	"AVIF": "an AVIF picture, which explain does not read (nor does the page): save it as a JPEG, PNG or WebP",
}

// report is report.json.
type report struct {
	Image      string                    `json:"image"`
	Model      string                    `json:"model"`
	Input      [3]int                    `json:"input"`
	Preprocess nn.Preprocess             `json:"preprocess"`
	Top        []prediction              `json:"top"`
	Target     target                    `json:"target"`
	Methods    map[string]map[string]any `json:"methods"`
	Seconds    float64                   `json:"seconds"`
}

type prediction struct {
	Index int     `json:"index"`
	ID    string  `json:"id,omitempty"`
	Name  string  `json:"name,omitempty"`
	Prob  float64 `json:"probability"`
	Logit float64 `json:"logit"`
}

type target struct {
	Kind      string  `json:"kind"`
	Class     int     `json:"class"`
	ClassID   string  `json:"class_id,omitempty"`
	ClassName string  `json:"class_name,omitempty"`
	Predicted bool    `json:"predicted"` // the class was the prediction, not asked for
	Score     float64 `json:"score"`
}

// explain writes path's maps, panels and report.json into the folder dir,
// which exists.
func (j *job) explain(path, dir string, bar *progress) error {
	start := time.Now()
	img, err := readImage(path)
	if err != nil {
		return err
	}
	x, err := nn.ImageInput(img, j.m.Preprocess)
	if err != nil {
		return err
	}
	pred, err := j.ex.Predict(x)
	if err != nil {
		return err
	}
	t := xai.Target{Class: j.class, Kind: j.kind}
	c := pred.Class
	if j.class >= 0 {
		c = j.class
	}
	rep := report{Image: path, Model: j.cfg.model, Input: j.m.InputShape(), Preprocess: j.m.Preprocess,
		Methods: map[string]map[string]any{}}
	for _, i := range pred.TopK(j.cfg.topk) {
		id, name := j.className(i)
		rep.Top = append(rep.Top, prediction{Index: i, ID: id, Name: name, Prob: pred.Probs[i], Logit: pred.Logits[i]})
	}
	id, name := j.className(c)
	rep.Target = target{Kind: j.kind.String(), Class: c, ClassID: id, ClassName: name, Predicted: j.class < 0}
	if err := npy.Write(filepath.Join(dir, "probs.npy"), []int{len(pred.Probs)}, f32(pred.Probs)); err != nil {
		return err
	}
	orig := xai.InputImage(x, j.m.Preprocess)
	if err := writePNG(filepath.Join(dir, "input.png"), orig); err != nil {
		return err
	}
	for _, method := range j.cfg.methods {
		bar.method(method)
		t0 := time.Now()
		info, err := j.method(method, x, t, orig, dir, bar, &rep)
		if err != nil {
			return fmt.Errorf("%s: %v", method, err)
		}
		info["seconds"] = round(time.Since(t0).Seconds())
		rep.Methods[method] = info
	}
	rep.Seconds = round(time.Since(start).Seconds())
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, "report.json"), append(data, '\n'))
}

func (j *job) className(i int) (id, name string) {
	if i >= 0 && i < len(j.m.Classes) {
		return j.m.Classes[i].ID, j.m.Classes[i].Name
	}
	return "", ""
}

// method runs one method, writes its files and returns its report entry.
func (j *job) method(method string, x *nn.Tensor, t xai.Target, orig *image.RGBA, dir string, bar *progress, rep *report) (map[string]any, error) {
	r, err := j.ex.Explain(x, j.request(method, t, bar.steps))
	if err != nil {
		return nil, err
	}
	rep.Target.Score = r.Score
	if err := npy.Write(filepath.Join(dir, method+".npy"), r.Map.Shape(), r.Map.Data); err != nil {
		return nil, err
	}
	for _, e := range r.Extras {
		if err := npy.Write(filepath.Join(dir, method+"_"+e.Name+".npy"), e.Shape, e.Data); err != nil {
			return nil, err
		}
	}
	meth, _ := xai.Lookup(method)
	info := map[string]any{"label": meth.Label, "shape": r.Map.Shape(), "zero_map": r.Zero, "passes": r.Passes}
	for k, v := range r.Values {
		info[k] = v
	}
	if r.Layer != "" {
		info["layer"] = r.Layer
	}
	if r.Weights != nil {
		info["weights"] = r.Weights
	}
	if c := r.Check; c != nil {
		info["check"] = c.Name
		info["score_x"], info["score_baseline"] = c.ScoreX, c.ScoreRef
		info["sum_attributions"], info["completeness_gap"], info["relative_gap"] = c.Sum, c.Gap, jsonFloat(c.Rel)
		info["gap_limit"] = c.Threshold
		if len(c.Layers) > 0 {
			sums := make([]map[string]any, len(c.Layers))
			for i, l := range c.Layers {
				sums[i] = map[string]any{"layer": l.Layer, "sum": jsonFloat(l.Sum)}
			}
			info["layer_sums"] = sums // the relevance at each layer's input, input first
		}
	}
	if method == "ig" && j.baselines[method] != nil {
		info["baseline"] = "image " + j.cfg.baselines[method]
	}
	if c := r.Check; c != nil && c.Name == "completeness" && !c.Pass() && j.cfg.sweep {
		bar.method(method + " completeness sweep")
		trials, err := j.sweep(method, x, t, &r, bar.steps)
		if err != nil {
			return nil, err
		}
		var rows []map[string]any
		for _, g := range trials {
			rows = append(rows, map[string]any{"rule": g.Rule.String(), "steps": g.Steps, "baseline": g.Baseline.String(),
				"sum_attributions": g.Sum, "score_difference": g.Want, "relative_gap": jsonFloat(g.Rel), "flat": g.Flat})
		}
		info["completeness_sweep"] = rows
		advice := xai.GapAdvice(trials)
		if best, ok := xai.BestGapTrial(trials); ok && best.Pass() && best.Baseline.Kind != xai.Custom {
			advice += fmt.Sprintf(" (-%s-rule %s -%s-steps %d -%s-baseline %s)", method, best.Rule, method, best.Steps, method, best.Baseline.Kind)
		}
		info["advice"] = advice
		bar.clear()
		fmt.Fprintf(bar.w, "explain: %s: %s misses completeness by %+.1f%% of the score difference. %s\n", rep.Image, meth.Label, 100*c.Rel, advice)
	}
	cm, scale, display := j.display(meth, r.Display)
	info["display"], info["colormap"], info["scale"] = display, cm.Name, []float64{float64(scale.Lo), float64(scale.Hi)}
	if err := j.images(dir, method, orig, r.Display, cm, scale, j.title(meth, &r)); err != nil {
		return nil, err
	}
	return info, nil
}

// sweep measures the completeness gap of an Integrated-Gradients result r
// for other rules, step counts and baselines (xai.CompletenessSweep):
// from the baseline r used, then from a blur and from black when r's was
// neither.
func (j *job) sweep(method string, x *nn.Tensor, t xai.Target, r *xai.Result, progress func(done, total int)) ([]xai.GapTrial, error) {
	bl := xai.Baseline{Kind: xai.Custom, Image: j.baselines[method]}
	if bl.Image == nil {
		var err error
		if bl, err = xai.ParseBaseline(r.Values.String("baseline")); err != nil {
			return nil, err
		}
		bl.Sigma, bl.Seed = r.Values.Float("sigma"), j.cfg.seed
	}
	t.Class = r.Class
	return j.ex.CompletenessSweep(x, xai.GapSweep{Target: t, Baselines: xai.SweepBaselines(bl), Progress: progress})
}

// display returns the colormap and scale of a method's display map, the
// page's (xai.DisplayScale, each Display kind's rule and colormap unless
// -scale or -colormap say otherwise), and says in words how it is shown.
func (j *job) display(m *xai.Method, d xai.Map) (*xai.Colormap, xai.Scale, string) {
	cm := j.cmap
	if cm == nil {
		cm = m.Display.Colormap()
	}
	rule := j.rule
	if rule == xai.ScaleDefault {
		rule = m.Display.DefaultRule()
	}
	return cm, xai.DisplayScale(d, m.Display, rule), scaleText(m.Display, rule, cm)
}

// scaleText says how a map is coloured: "0 to the 99th percentile
// (inferno)".
func scaleText(d xai.Display, rule xai.ScaleRule, cm *xai.Colormap) string {
	if d == xai.DisplaySigned {
		if rule == xai.ScaleMax {
			return "symmetric around 0 to the largest |value| (" + cm.Name + ")"
		}
		return "symmetric around 0 to the " + rule.Label() + " of |value| (" + cm.Name + ")"
	}
	return "0 to the " + rule.Label() + " (" + cm.Name + ")"
}

// title is a panel's title: the method, the class and the target score,
// then how the colours are scaled.
func (j *job) title(m *xai.Method, r *xai.Result) []string {
	id, name := j.className(r.Class)
	class := strconv.Itoa(r.Class)
	if name != "" || id != "" {
		class = strings.TrimSpace(name+" "+id) + " (class " + class
	} else {
		class = "class " + class + " ("
	}
	if j.class < 0 {
		class += ", predicted)"
	} else {
		class += ", asked for)"
	}
	line := fmt.Sprintf("%s: %s, %s %.4g", m.Label, class, j.kind, r.Score)
	if j.kind != xai.Probability && r.Class < len(r.Probs) {
		line += fmt.Sprintf(", p %.3f", r.Probs[r.Class])
	}
	_, _, colours := j.display(m, r.Display)
	return []string{line, "colours: " + colours}
}

// images writes <name>_panel.png (titled, with the colour bar's values)
// and <name>_overlay.png for map m.
func (j *job) images(dir, name string, orig *image.RGBA, m xai.Map, cm *xai.Colormap, s xai.Scale, title []string) error {
	panel := titledPanel(orig, m, xai.PanelOptions{Colormap: cm, Alpha: j.cfg.alpha, Scale: &s}, title)
	if err := writePNG(filepath.Join(dir, name+"_panel.png"), panel); err != nil {
		return err
	}
	b := orig.Bounds()
	heat, _ := xai.Heatmap(m, b.Dx(), b.Dy(), cm, s)
	ov := image.NewRGBA(b)
	xai.OverlayTo(ov, orig, heat, j.cfg.alpha)
	return writePNG(filepath.Join(dir, name+"_overlay.png"), ov)
}

func writePNG(path string, img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	return atomicfile.Write(path, buf.Bytes())
}

func f32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func round(s float64) float64 { return math.Round(s*1000) / 1000 }

// jsonFloat turns NaN and infinities (which JSON cannot hold) into nil.
func jsonFloat(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

package main

// explain -evaluate DIR: the faithfulness report over a folder of images
// (issue 7). For every image it computes each method's map, scores it with
// xai.Evaluator (deletion and insertion curves, confidence drop, Gini,
// entropy, and the pointing game and relevance mass when a box is known),
// runs the randomisation check on the first images, ranks the methods, and
// writes report.md, metrics.json and PNG figures under -out.

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

// evalConfig holds the -evaluate flags.
type evalConfig struct {
	dir       string
	steps     int
	patch     int
	reference string
	logit     bool
	sanity    int
	limit     int
	batch     int
	tolerance int
}

// evaluateFlags registers the -evaluate flags on fs.
func evaluateFlags(fs *flag.FlagSet) *evalConfig {
	e := &evalConfig{}
	fs.StringVar(&e.dir, "evaluate", "", "evaluate the methods' faithfulness over the images in `DIR` (or a Tiny-ImageNet val folder with val_annotations.txt) and write report.md, metrics.json and figures under -out")
	fs.IntVar(&e.steps, "eval-steps", 32, "-evaluate: steps of the deletion and insertion curves")
	fs.IntVar(&e.patch, "eval-patch", 1, "-evaluate: side in pixels of the square patches removed together (1: single pixels)")
	fs.StringVar(&e.reference, "eval-reference", "rise", "-evaluate: what removed pixels become: rise (black for deletion, blurred for insertion), black or blur")
	fs.BoolVar(&e.logit, "eval-logit", false, "-evaluate: score the curves with the class logit instead of its probability")
	fs.IntVar(&e.sanity, "eval-sanity", 1, "-evaluate: run the randomisation sanity check on the first N images (0: none)")
	fs.IntVar(&e.limit, "eval-limit", 0, "-evaluate: evaluate at most N images (0: all)")
	fs.IntVar(&e.batch, "eval-batch", xai.DefaultEvalBatch, "-evaluate: perturbed images per forward pass")
	fs.IntVar(&e.tolerance, "eval-tolerance", 0, "-evaluate: pointing-game tolerance in input pixels")
	return e
}

const evaluateUsage = `
Evaluating which explanation to trust (-evaluate DIR):

  explain -model m.safetensors -evaluate DIR [-out OUT] [flags]

computes every method's map for each image in DIR and scores it: deletion
and insertion curves (RISE; AUC, insertion minus deletion ranks the
methods), the confidence drop when keeping the top 10/25/50%, Gini
sparseness, entropy, the randomisation sanity check (first -eval-sanity
images) and, for a Tiny-ImageNet-style folder (DIR/val_annotations.txt,
images in DIR/images), the pointing game and relevance mass inside the
object's box. It writes OUT/report.md (ending with the recommended method),
OUT/metrics.json and OUT/figures/*.png.

  # the four methods on a Tiny-ImageNet validation folder, first 200 images
  explain -model mavis.safetensors -evaluate tiny-imagenet-200/val \
      -eval-limit 200 -out eval

  # 8x8 patches, black reference for both curves, no sanity check
  explain -model mavis.safetensors -evaluate photos -eval-patch 8 \
      -eval-reference black -eval-sanity 0
`

// evalImage is one image to evaluate, with its object box when known.
type evalImage struct {
	path  string
	label string   // the annotated class id ("" when unknown)
	box   *[4]int  // x0, y0, x1, y1 inclusive, on the image's own pixels
	boxIn *xai.Box // the box on the model's input grid
}

// evalMethod is one method's result for one image.
type evalMethod struct {
	MapSeconds     float64           `json:"map_seconds"`
	MetricsSeconds float64           `json:"metrics_seconds"`
	Metrics        xai.MapMetrics    `json:"metrics"`
	Gap            *float64          `json:"completeness_gap,omitempty"` // relative (IG)
	Sanity         *xai.SanityResult `json:"sanity,omitempty"`
}

// evalRecord is one image's entry in metrics.json.
type evalRecord struct {
	Image     string                 `json:"image"`
	Label     string                 `json:"label,omitempty"`
	Predicted int                    `json:"predicted"`
	Class     int                    `json:"class"`
	Prob      float64                `json:"probability"`
	Box       *xai.Box               `json:"box,omitempty"`
	Methods   map[string]*evalMethod `json:"methods"`
	Ranking   xai.Ranking            `json:"ranking"`
}

// runEvaluate is explain -evaluate: it evaluates cfg's methods on model m
// over the images of ev.dir and writes the report under cfg.out. It
// returns the exit status (0 ok, 1 some images failed or nothing was
// evaluated, 2 bad flags).
func runEvaluate(cfg *config, ev *evalConfig, m *nn.Model, stdout, stderr io.Writer) int {
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "explain: -evaluate: "+format+"\n", a...)
		return code
	}
	ref, err := xai.ParseReference(ev.reference)
	if err != nil {
		return fail(2, "%v", err)
	}
	switch {
	case ev.steps < 1 || ev.steps > 10000:
		return fail(2, "-eval-steps %d out of range 1..10000", ev.steps)
	case ev.patch < 1 || ev.patch > max(m.InputShape()[0], m.InputShape()[1]):
		return fail(2, "-eval-patch %d out of range 1..%d", ev.patch, max(m.InputShape()[0], m.InputShape()[1]))
	case ev.sanity < 0 || ev.limit < 0 || ev.tolerance < 0:
		return fail(2, "-eval-sanity, -eval-limit and -eval-tolerance must not be negative")
	case ev.batch < 1 || ev.batch > 1024:
		return fail(2, "-eval-batch %d out of range 1..1024", ev.batch)
	}
	images, err := evalImages(ev.dir)
	if err != nil {
		return fail(1, "%v", err)
	}
	if ev.limit > 0 && len(images) > ev.limit {
		images = images[:ev.limit]
	}
	j, err := newJob(cfg, m)
	if err != nil {
		return fail(2, "%v", err)
	}
	scorer := xai.NewEvaluator(m)
	scorer.Batch = ev.batch
	opts := xai.MetricsOptions{Logit: ev.logit, Steps: ev.steps, Patch: ev.patch, Reference: ref, Tolerance: ev.tolerance}
	if err := os.MkdirAll(filepath.Join(cfg.out, "figures"), 0o755); err != nil {
		return fail(1, "%v", err)
	}
	bar := newProgress(stderr, len(images))
	var records []*evalRecord
	var skipped []skippedImage
	for i, im := range images {
		bar.start(i, im.path)
		rec, err := j.evaluateSafe(im, scorer, opts, i < ev.sanity, bar)
		if err != nil {
			bar.clear()
			fmt.Fprintf(stderr, "explain: %s: %v (skipped)\n", im.path, err)
			skipped = append(skipped, skippedImage{Image: im.path, Error: err.Error()})
			continue
		}
		records = append(records, rec)
	}
	bar.done()
	if len(records) == 0 {
		return fail(1, "no image of %d could be evaluated", len(images))
	}
	sum := summarise(cfg, ev, ref, records)
	sum.Skipped = skipped
	if err := writeEvaluation(cfg.out, sum, records); err != nil {
		return fail(1, "%v", err)
	}
	fmt.Fprintf(stdout, "explain: evaluated %d of %d images into %s; recommended: %s\n",
		len(records), len(images), filepath.Join(cfg.out, "report.md"), recommendedLabel(sum.Ranking))
	if len(skipped) > 0 {
		fmt.Fprintf(stderr, "explain: %s failed (listed in report.md and metrics.json)\n", imageCount(len(skipped)))
		return 1
	}
	return 0
}

func recommendedLabel(r xai.Ranking) string {
	if r.Trusted == "" {
		return "none"
	}
	return xai.MethodLabel(r.Trusted)
}

// evalImages lists the images of dir: a Tiny-ImageNet-style validation
// folder (dir/val_annotations.txt, images in dir/images or dir) with
// boxes, or the image files directly inside dir, sorted.
func evalImages(dir string) ([]evalImage, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	ann := filepath.Join(dir, "val_annotations.txt")
	if _, err := os.Stat(ann); err == nil {
		return readAnnotations(ann, dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []evalImage
	for _, e := range ents {
		if e.Type().IsRegular() && slices.Contains(imageExts, strings.ToLower(filepath.Ext(e.Name()))) {
			out = append(out, evalImage{path: filepath.Join(dir, e.Name())})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no images (%s) in this directory and no val_annotations.txt", dir, strings.Join(imageExts, ", "))
	}
	return out, nil
}

// readAnnotations reads Tiny ImageNet's val_annotations.txt: one line per
// image, tab-separated: file, WordNet id, x0, y0, x1, y1 (inclusive pixel
// corners on the 64x64 image). Images are looked up in dir/images, then
// dir.
func readAnnotations(path, dir string) ([]evalImage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	imgDir := filepath.Join(dir, "images")
	if st, err := os.Stat(imgDir); err != nil || !st.IsDir() {
		imgDir = dir
	}
	var out []evalImage
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 1<<16)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) != 6 {
			return nil, fmt.Errorf("%s:%d: %d fields, want 6 (file, class id, x0, y0, x1, y1)", path, line, len(fields))
		}
		name := fields[0]
		if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
			return nil, fmt.Errorf("%s:%d: file %q is not a plain file name", path, line, name)
		}
		var b [4]int
		for i, s := range fields[2:] {
			v, err := strconv.Atoi(s)
			if err != nil || v < 0 || v > 1<<16 {
				return nil, fmt.Errorf("%s:%d: box coordinate %q is not a pixel index", path, line, s)
			}
			b[i] = v
		}
		if b[2] < b[0] || b[3] < b[1] {
			return nil, fmt.Errorf("%s:%d: box (%d,%d)-(%d,%d) has its corners swapped", path, line, b[0], b[1], b[2], b[3])
		}
		out = append(out, evalImage{path: filepath.Join(imgDir, name), label: fields[1], box: &b})
		if len(out) > 1_000_000 {
			return nil, fmt.Errorf("%s: more than a million lines", path)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %v", path, line+1, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s lists no images", path)
	}
	return out, nil
}

// inputBox maps an image box to the model's input grid, following the
// preprocessing (a centre square crop first when p.Crop is "center").
// It returns nil when the box lies outside the crop.
func inputBox(b [4]int, bounds image.Rectangle, p nn.Preprocess) (*xai.Box, error) {
	iw, ih := bounds.Dx(), bounds.Dy()
	x0, y0, x1, y1 := b[0], b[1], b[2], b[3]
	if x1 >= iw || y1 >= ih {
		return nil, fmt.Errorf("box (%d,%d)-(%d,%d) is outside the %dx%d image", x0, y0, x1, y1, iw, ih)
	}
	if p.Crop == "center" {
		side := min(iw, ih)
		ox, oy := (iw-side)/2, (ih-side)/2
		x0, x1 = max(x0-ox, 0), min(x1-ox, side-1)
		y0, y1 = max(y0-oy, 0), min(y1-oy, side-1)
		if x1 < x0 || y1 < y0 {
			return nil, nil
		}
		iw, ih = side, side
	}
	box, err := xai.ScaleBox(x0, y0, x1, y1, iw, ih, p.Width, p.Height)
	if err != nil {
		return nil, err
	}
	return &box, nil
}

// evaluateSafe runs evaluate and turns a panic (a bug) into an error for
// this image.
func (j *job) evaluateSafe(im evalImage, s *xai.Evaluator, o xai.MetricsOptions, sanity bool, bar *progress) (rec *evalRecord, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	return j.evaluate(im, s, o, sanity, bar)
}

// evaluate computes and scores every method's map for one image.
func (j *job) evaluate(im evalImage, s *xai.Evaluator, o xai.MetricsOptions, sanity bool, bar *progress) (*evalRecord, error) {
	img, err := readImage(im.path)
	if err != nil {
		return nil, err
	}
	x, err := nn.ImageInput(img, j.m.Preprocess)
	if err != nil {
		return nil, err
	}
	pred, err := j.ex.Predict(x)
	if err != nil {
		return nil, err
	}
	c := pred.Class
	if j.class >= 0 {
		c = j.class
	}
	rec := &evalRecord{Image: im.path, Label: im.label, Predicted: pred.Class, Class: c, Prob: pred.Probs[c], Methods: map[string]*evalMethod{}}
	if im.box != nil {
		if rec.Box, err = inputBox(*im.box, img.Bounds(), j.m.Preprocess); err != nil {
			return nil, err
		}
	}
	o.Class, o.Box = c, rec.Box
	t := xai.Target{Class: c, Kind: j.kind}
	var scores []xai.MethodScore
	for _, method := range j.cfg.methods {
		bar.method(method)
		t0 := time.Now()
		res, err := j.ex.Explain(x, j.request(method, t, nil))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", method, err)
		}
		r := &evalMethod{MapSeconds: time.Since(t0).Seconds()}
		if res.Check != nil {
			r.Gap = &res.Check.Rel
		}
		bar.method(method + " metrics")
		o.Progress = bar.steps
		t1 := time.Now()
		if r.Metrics, err = s.Evaluate(context.Background(), x, res.Map, o); err != nil {
			return nil, fmt.Errorf("%s metrics: %v", method, err)
		}
		r.MetricsSeconds = time.Since(t1).Seconds()
		if sanity {
			bar.method(method + " sanity")
			san, err := xai.RandomisationCheck(context.Background(), j.m, x,
				func(ex *xai.Explainer, x *nn.Tensor, t xai.Target) (xai.Map, error) {
					ex.Batch = j.ex.Batch
					res, err := ex.Explain(x, j.request(method, t, nil))
					return res.Map, err
				}, xai.SanityOptions{Target: t, Seed: j.cfg.seed, Progress: bar.steps})
			if err != nil {
				return nil, fmt.Errorf("%s sanity check: %v", method, err)
			}
			r.Sanity = &san
		}
		rec.Methods[method] = r
		ms := xai.ScoreOf(method, r.Metrics)
		ms.Sanity = r.Sanity
		ms.SetCheck(res.Check)
		scores = append(scores, ms)
	}
	rec.Ranking = xai.Rank(scores)
	return rec, nil
}

// finite replaces NaN and infinities, which JSON cannot hold, by 0 (a
// helper for aggregate numbers; per-image metrics are finite by
// construction).
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

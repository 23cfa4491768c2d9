package main

// explain -evaluate DIR: the faithfulness report over a folder of images
// (issue 7). For every image it computes each method's map, scores it with
// xai.Evaluator (deletion and insertion curves, confidence drop, Gini,
// entropy, and the pointing game and relevance mass when a box is known),
// runs the randomisation check on the first images, ranks the methods, and
// writes report.md, metrics.json and PNG figures under -out.
//
// At dataset scale (issue 15) the work is split over files:
//
//	evaluate.go           flags, the images, the workers (-j), one image's evaluation
//	evaluate_log.go       OUT/evaluate.jsonl: results appended per image, resuming, refusing other settings
//	evaluate_shard.go     -shard K/N and JOB_COMPLETION_INDEX
//	evaluate_merge.go     explain -merge OUT DIR...
//	evaluate_report.go    the summary: means, intervals, ranking, per class
//	evaluate_stats.go     the paired tests, the metric checks, the references
//	evaluate_markdown.go  report.md, metrics.json, timings.json
//	evaluate_plot.go      the figures
//	evaluate_progress.go  the progress line over workers
//
// The summary depends only on the records (sorted by image) and the
// header's settings, so that any split of the work, any -j and any
// number of interruptions give the same metrics.json.

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/nn/imagefile"
	"github.com/mavis-xai/mavis/xai"
)

// evalConfig holds the -evaluate flags.
type evalConfig struct {
	dir       string
	steps     int
	patch     int
	reference string
	keepFill  string // -eval-keep-fill
	logit     bool
	sanity    int
	limit     int
	batch     int
	tolerance int
	jobs      int    // -j: images at once (0: one per CPU)
	shard     string // -shard K/N
	shards    int    // -shards N, with JOB_COMPLETION_INDEX
	restart   bool   // -eval-restart
	merge     string // -merge OUT (evaluate_merge.go)
}

// evaluateFlags registers the -evaluate flags on fs.
func evaluateFlags(fs *flag.FlagSet) *evalConfig {
	e := &evalConfig{}
	fs.StringVar(&e.dir, "evaluate", "", "evaluate the methods' faithfulness over the images in `DIR` (or a Tiny-ImageNet val folder with val_annotations.txt) and write report.md, metrics.json and figures under -out")
	fs.IntVar(&e.steps, "eval-steps", xai.DefaultCurveSteps, "-evaluate: steps of the deletion and insertion curves")
	fs.IntVar(&e.patch, "eval-patch", 1, "-evaluate: side in pixels of the square patches removed together (1: single pixels)")
	fs.StringVar(&e.reference, "eval-reference", "rise", "-evaluate: what removed pixels become: rise (black for deletion, blurred for insertion), black or blur")
	fs.StringVar(&e.keepFill, "eval-keep-fill", "black", "-evaluate: what the pixels not kept become for the confidence drop and increase: black (Chattopadhyay et al.) or blur")
	fs.BoolVar(&e.logit, "eval-logit", false, "-evaluate: score the curves with the class logit instead of its probability")
	fs.IntVar(&e.sanity, "eval-sanity", 1, "-evaluate: run the randomisation sanity check on the first N images of DIR (0: none)")
	fs.IntVar(&e.limit, "eval-limit", 0, "-evaluate: evaluate at most the first N images of DIR (0: all)")
	fs.IntVar(&e.batch, "eval-batch", xai.DefaultEvalBatch, "-evaluate: perturbed images per forward pass")
	fs.IntVar(&e.tolerance, "eval-tolerance", 0, "-evaluate: pointing-game tolerance in input pixels")
	fs.IntVar(&e.jobs, "j", 0, "-evaluate: images evaluated at once, each with its own copy of the model (default: the number of CPUs)")
	fs.StringVar(&e.shard, "shard", "", "-evaluate: evaluate only shard `K/N` of DIR (K from 0 to N-1; an image's shard is a hash of its path, see below)")
	fs.IntVar(&e.shards, "shards", 0, "-evaluate: N shards, this one being $JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)")
	fs.BoolVar(&e.restart, "eval-restart", false, "-evaluate: discard the results already in -out and start over (by default a rerun continues them)")
	fs.StringVar(&e.merge, "merge", "", "combine the -evaluate outputs (shards) given as arguments into `OUT`: report.md, metrics.json and figures as one run would write")
	return e
}

const evaluateUsage = `
Evaluating which explanation to trust (-evaluate DIR):

  explain -model m.safetensors -evaluate DIR [-out OUT] [flags]

computes the maps of -methods (by default the page's four and every fast
method; -methods all for all of them) for each image in DIR and scores
them: deletion and insertion curves (RISE; AUC, insertion minus deletion
ranks the methods), the confidence drop when keeping the top 10/25/50%,
Gini sparseness, entropy, the randomisation sanity check (first -eval-sanity
images) and, for a Tiny-ImageNet-style folder (DIR/val_annotations.txt,
images in DIR/images), the pointing game and relevance mass inside the
object's box. It writes OUT/report.md (means with 95% bootstrap intervals,
paired Wilcoxon tests between the methods, per-class tables, and the
recommended method with how sure it is), OUT/metrics.json and
OUT/figures/*.png; OUT/timings.json holds the times, which differ from run
to run, so that metrics.json does not.

Each image's results are appended to OUT/evaluate.jsonl as it finishes:
run the same command again after an interruption and it continues where
it stopped (saying how many images it skipped). A rerun with another
model, methods, options or metric settings, or by an explain that decodes
images into other pixels, is refused; give another -out, or -eval-restart
to start over. -j N evaluates N images at once (default:
one per CPU); the results do not depend on N.

Shards: -shard K/N evaluates the images whose path relative to DIR
hashes to K modulo N (SHA-256, first 8 bytes), so an image keeps its
shard when files are added. In a Kubernetes Indexed Job, -shards N takes
K from JOB_COMPLETION_INDEX. Give each shard its own -out, then

  explain -merge OUT SHARD-OUT...

writes OUT/report.md, metrics.json and figures as a single run over the
whole folder would (metrics.json byte for byte). -model is not needed.

  # the default methods on a Tiny-ImageNet validation folder, first 200
  # images
  explain -model mavis.safetensors -evaluate tiny-imagenet-200/val \
      -eval-limit 200 -out eval

  # 8x8 patches, black reference for both curves, no sanity check
  explain -model mavis.safetensors -evaluate photos -eval-patch 8 \
      -eval-reference black -eval-sanity 0

  # four shards on one machine with GNU parallel, then the report
  parallel explain -model mavis.safetensors -evaluate photos -j 1 \
      -shard {}/4 -out eval-{} ::: 0 1 2 3
  explain -merge eval eval-0 eval-1 eval-2 eval-3
`

// evalImage is one image to evaluate, with its object box when known.
type evalImage struct {
	path  string
	key   string   // path relative to the folder, slash-separated: the image's name in the results
	index int      // position in the folder's listing
	label string   // the annotated class id ("" when unknown)
	box   *[4]int  // x0, y0, x1, y1 inclusive, on the image's own pixels
	boxIn *xai.Box // the box on the model's input grid
}

// evalMethod is one method's result for one image.
type evalMethod struct {
	// MapSeconds and MetricsSeconds are left out of metrics.json (they
	// differ from run to run; timings.json has them).
	MapSeconds     float64        `json:"map_seconds,omitempty"`
	MetricsSeconds float64        `json:"metrics_seconds,omitempty"`
	Metrics        xai.MapMetrics `json:"metrics"`
	// Gap is the relative gap of the method's conservation check, named
	// by Check, with the limit above which the ranking flags it.
	Gap      *float64          `json:"completeness_gap,omitempty"`
	Check    string            `json:"check,omitempty"`
	GapLimit float64           `json:"gap_limit,omitempty"`
	Sanity   *xai.SanityResult `json:"sanity,omitempty"`
}

// evalRecord is one image's entry in metrics.json and evaluate.jsonl.
type evalRecord struct {
	Image     string                 `json:"image"` // relative to the folder
	Label     string                 `json:"label,omitempty"`
	Predicted int                    `json:"predicted"`
	Class     int                    `json:"class"`
	ClassName string                 `json:"class_name,omitempty"` // the class's name in the model, when it has one
	Prob      float64                `json:"probability"`
	Box       *xai.Box               `json:"box,omitempty"`
	Methods   map[string]*evalMethod `json:"methods"`
	Ranking   xai.Ranking            `json:"ranking"`
	// References is what the model makes of the references the metrics
	// fill removed pixels with (evaluate_stats.go).
	References []referenceScore `json:"references,omitempty"`
	// Seconds is the wall time of the whole image (timings.json).
	Seconds float64 `json:"seconds,omitempty"`
}

// metricsOptions are the xai options of ev's flags (Class and Box are
// per image), xai's defaults written out so that the settings in the log
// say what the numbers mean.
func (ev *evalConfig) metricsOptions(ref, keepFill xai.Reference) xai.MetricsOptions {
	return xai.MetricsOptions{Logit: ev.logit, Steps: ev.steps, Patch: ev.patch, Reference: ref, Tolerance: ev.tolerance,
		BlurSigma: xai.DefaultBlurSigma, Keep: xai.DefaultKeep(), KeepFill: keepFill}
}

// parseKeepFill reads -eval-keep-fill ("": black).
func parseKeepFill(s string) (xai.Reference, error) {
	if s == "" {
		return xai.BlackReference, nil
	}
	r, err := xai.ParseReference(s)
	if err != nil || r == xai.RISE {
		return 0, fmt.Errorf("-eval-keep-fill %q: want black or blur", s)
	}
	return r, nil
}

// runEvaluate is explain -evaluate: it evaluates cfg's methods on model m
// over the images of ev.dir (the shard's part of them, continuing the
// results already in cfg.out) and writes the report under cfg.out. It
// returns the exit status (0 ok, 1 some images failed or nothing was
// evaluated, 2 bad flags, 130 interrupted).
func runEvaluate(cfg *config, ev *evalConfig, m *nn.Model, stdout, stderr io.Writer) int {
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "explain: -evaluate: "+format+"\n", a...)
		return code
	}
	ref, err := xai.ParseReference(ev.reference)
	if err != nil {
		return fail(2, "%v", err)
	}
	keepFill, err := parseKeepFill(ev.keepFill)
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
	case ev.jobs < 0 || ev.jobs > maxJobs:
		return fail(2, "-j %d out of range 1..%d (0: one per CPU)", ev.jobs, maxJobs)
	}
	shard, err := resolveShard(ev.shard, ev.shards, getenv)
	if err != nil {
		return fail(2, "%v", err)
	}
	jobs := ev.jobs
	if jobs == 0 {
		jobs = runtime.NumCPU()
	}
	images, err := evalImages(ev.dir)
	ents, _ := os.ReadDir(ev.dir) // for the pictures evalImages leaves out
	if s := skippedPictures(ents); s != "" {
		fmt.Fprintf(stderr, "explain: -evaluate: %s: %s\n", ev.dir, s)
	}
	if err != nil {
		return fail(1, "%v", err)
	}
	listed := len(images)
	if ev.limit > 0 && len(images) > ev.limit {
		images = images[:ev.limit]
	}
	var selected []evalImage
	for _, im := range images {
		if shardOf(im.key, shard.N) == shard.K {
			selected = append(selected, im)
		}
	}
	j, err := newJob(cfg, m)
	if err != nil {
		return fail(2, "%v", err)
	}
	h, err := newHeader(cfg, ev, ref, keepFill, m, shard)
	if err != nil {
		return fail(1, "%v", err)
	}
	if err := os.MkdirAll(filepath.Join(cfg.out, "figures"), 0o755); err != nil {
		return fail(1, "%v", err)
	}
	lg, err := openLog(cfg.out, h, ev.restart, stderr)
	if err != nil {
		var changed *changedError
		if errors.As(err, &changed) {
			return fail(2, "%v", err)
		}
		return fail(1, "%v", err)
	}
	defer lg.close()

	var todo []evalImage
	for _, im := range selected {
		if lg.Records[im.key] == nil {
			todo = append(todo, im)
		}
	}
	jobs = max(min(jobs, len(todo)), 1)
	done := len(selected) - len(todo)
	what := "evaluating"
	if shard.sharded() {
		what = fmt.Sprintf("shard %s: %d of the %d images; evaluating", shard, len(selected), len(images))
	}
	if done > 0 {
		fmt.Fprintf(stderr, "explain: -evaluate: %s %d, skipping %d already in %s\n", what, len(todo), done, lg.path)
	} else {
		fmt.Fprintf(stderr, "explain: -evaluate: %s %d\n", what, len(todo))
	}
	host, _ := os.Hostname()
	if err := lg.append(logLine{Run: &runInfo{Started: time.Now().UTC().Format(time.RFC3339), Host: host, Listed: listed, Limit: ev.limit,
		Selected: len(selected), Done: done, Jobs: jobs}}); err != nil {
		return fail(1, "%v", err)
	}

	// The first interrupt (or a Kubernetes SIGTERM) stops the work and
	// keeps what is done; a second one kills at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()
	runErr := evaluateAll(ctx, j, jobs, todo, ev.metricsOptions(ref, keepFill), ev, lg, newEvalBar(stderr, len(selected), done, jobs), stderr)
	if runErr != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "explain: -evaluate: interrupted; %d of %d images are in %s: run the same command again to continue\n",
				countIn(lg, selected), len(selected), lg.path)
			return 130
		}
		return fail(1, "%v", runErr)
	}

	records, skipped := lg.selection(selected)
	if len(selected) == 0 && shard.sharded() {
		fmt.Fprintf(stdout, "explain: shard %s holds none of the %d images: nothing to evaluate (its %s still counts as done for explain -merge)\n", shard, len(images), logName)
		return 0
	}
	if len(records) == 0 {
		return fail(1, "no image of %d could be evaluated", len(selected))
	}
	if extra := len(lg.Records) - len(records); extra > 0 {
		fmt.Fprintf(stderr, "explain: -evaluate: %s in %s %s not among this run's images (-eval-limit, or files removed) and %s left out of this report\n",
			imageCount(extra), lg.path, map[bool]string{true: "is", false: "are"}[extra == 1], map[bool]string{true: "is", false: "are"}[extra == 1])
	}
	sum, err := summarise(h, records, skipped)
	if err != nil {
		return fail(1, "%v", err)
	}
	if err := writeEvaluation(cfg.out, sum, records, newTimings(h.Settings.Methods, records, lg.Runs)); err != nil {
		return fail(1, "%v", err)
	}
	fmt.Fprintf(stdout, "explain: evaluated %d of %d images into %s; recommended: %s\n",
		len(records), len(selected), filepath.Join(cfg.out, "report.md"), recommendedLabel(sum.Ranking))
	if shard.sharded() {
		fmt.Fprintf(stdout, "explain: this is shard %s; when every shard is done: explain -merge OUT SHARD-OUT...\n", shard)
	}
	if len(skipped) > 0 {
		fmt.Fprintf(stderr, "explain: %s failed (listed in report.md and metrics.json)\n", imageCount(len(skipped)))
		return 1
	}
	return 0
}

// maxJobs bounds -j (each worker holds a copy of the model and its
// buffers: about 155 MB for MAVIS).
const maxJobs = 256

// newHeader describes the run: what its results depend on.
func newHeader(cfg *config, ev *evalConfig, ref, keepFill xai.Reference, m *nn.Model, shard shardSpec) (evalHeader, error) {
	sum, err := fileSHA256(cfg.model)
	if err != nil {
		return evalHeader{}, fmt.Errorf("hashing the model: %v", err)
	}
	abs, err := filepath.Abs(ev.dir)
	if err != nil {
		return evalHeader{}, err
	}
	class := -1
	if cfg.class != "" {
		if class, err = findClass(m, cfg.class); err != nil {
			return evalHeader{}, err
		}
	}
	o := ev.metricsOptions(ref, keepFill)
	s := evalSettings{ModelSHA256: sum, Methods: slices.Clone(cfg.methods), Options: methodValues(cfg),
		Target: cfg.target, Class: class, Layer: cfg.layer, Seed: cfg.seed, Batch: cfg.batch,
		Steps: o.Steps, Patch: o.Patch, Reference: ref.String(), BlurSigma: o.BlurSigma, Keep: o.Keep, KeepFill: keepFill.String(),
		CurveScore: map[bool]string{false: "probability", true: "logit"}[ev.logit], Tolerance: ev.tolerance, Sanity: ev.sanity,
		Decoding: imagefile.Decoding}
	for method, file := range cfg.baselines {
		if s.Baselines == nil {
			s.Baselines = map[string]string{}
		}
		if s.Baselines[method], err = fileSHA256(file); err != nil {
			return evalHeader{}, err
		}
	}
	h := evalHeader{Format: logFormat, Model: cfg.model, Dir: ev.dir, DirAbs: abs, Shard: shard, Settings: s}
	for i := range m.Shapes[m.Logits()][2] {
		name := strconv.Itoa(i)
		if i < len(m.Classes) && m.Classes[i].Name != "" {
			name = m.Classes[i].Name
		}
		h.Classes = append(h.Classes, name)
	}
	return h, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	hs := sha256.New()
	if _, err := io.Copy(hs, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(hs.Sum(nil)), nil
}

// evaluateAll evaluates the images todo with n workers, each with its
// own copy of the model, appending each result to the log as it comes.
// It returns the first error writing the log, or ctx's when interrupted.
func evaluateAll(ctx context.Context, j *job, n int, todo []evalImage, o xai.MetricsOptions, ev *evalConfig, lg *evalLog, bar *evalBar, stderr io.Writer) error {
	type result struct {
		im      evalImage
		rec     *evalRecord
		err     error
		seconds float64
	}
	next := make(chan evalImage)
	results := make(chan result)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := []*job{j}
	for len(workers) < n {
		cp, err := j.m.Clone()
		if err != nil {
			return err
		}
		jw, err := newJob(j.cfg, cp)
		if err != nil {
			return err
		}
		workers = append(workers, jw)
	}
	var wg sync.WaitGroup
	for w, jw := range workers {
		scorer := xai.NewEvaluator(jw.m)
		scorer.Batch = ev.batch
		st := bar.worker(w)
		wg.Go(func() {
			for im := range next {
				st.start(im.key)
				t0 := time.Now()
				rec, err := jw.evaluateSafe(ctx, im, scorer, o, im.index < ev.sanity, st)
				results <- result{im, rec, err, time.Since(t0).Seconds()}
			}
		})
	}
	go func() {
		defer close(next)
		for _, im := range todo {
			select {
			case next <- im:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	var werr error
	for r := range results {
		if werr != nil || ctx.Err() != nil {
			continue // drain
		}
		if r.err != nil {
			bar.finished(r.im.key, r.seconds, r.err)
			werr = lg.append(logLine{Failed: &skippedImage{Image: r.im.key, Error: r.err.Error()}})
		} else {
			r.rec.Seconds = r.seconds
			if _, err := json.Marshal(r.rec); err != nil {
				// A number JSON cannot hold (a NaN from a method): this
				// image fails, the run goes on.
				err = fmt.Errorf("internal error: the results cannot be written as JSON: %v", err)
				bar.finished(r.im.key, r.seconds, err)
				werr = lg.append(logLine{Failed: &skippedImage{Image: r.im.key, Error: err.Error()}})
			} else {
				werr = lg.append(logLine{Image: r.rec})
				bar.finished(r.im.key, r.seconds, nil)
			}
		}
		if werr != nil {
			cancel()
		}
	}
	bar.done()
	if werr != nil {
		return werr
	}
	return ctx.Err()
}

// countIn counts the selected images with a record in the log.
func countIn(lg *evalLog, sel []evalImage) int {
	n := 0
	for _, im := range sel {
		if lg.Records[im.key] != nil {
			n++
		}
	}
	return n
}

// selection returns the log's records of the images sel, sorted by image
// (so that the report does not depend on the order they finished in),
// and the images of sel that failed.
func (lg *evalLog) selection(sel []evalImage) ([]*evalRecord, []skippedImage) {
	var recs []*evalRecord
	var failed []skippedImage
	for _, im := range sel {
		if r := lg.Records[im.key]; r != nil {
			recs = append(recs, r)
		} else if f := lg.Failed[im.key]; f != nil {
			failed = append(failed, *f)
		}
	}
	sortRecords(recs, failed)
	return recs, failed
}

// sortRecords orders records and failures by image name.
func sortRecords(recs []*evalRecord, failed []skippedImage) {
	slices.SortFunc(recs, func(a, b *evalRecord) int { return strings.Compare(a.Image, b.Image) })
	slices.SortFunc(failed, func(a, b skippedImage) int { return strings.Compare(a.Image, b.Image) })
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
		images, err := readAnnotations(ann, dir)
		imageKeys(dir, images)
		return images, err
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
	imageKeys(dir, out)
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no images (%s) in this directory and no val_annotations.txt", dir, strings.Join(imageExts, ", "))
	}
	return out, nil
}

// imageKeys names each image by its path relative to dir, with slashes
// (the same on every machine and system), and numbers them in order.
func imageKeys(dir string, images []evalImage) {
	for i := range images {
		im := &images[i]
		im.index = i
		im.key = filepath.Base(im.path)
		if rel, err := filepath.Rel(dir, im.path); err == nil {
			im.key = filepath.ToSlash(rel)
		}
	}
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

// evalStatus is told what an image's evaluation is doing (the progress
// bar's line for one worker).
type evalStatus interface {
	method(m string)
	steps(done, total int)
}

// evaluateSafe runs evaluate and turns a panic (a bug) into an error for
// this image.
func (j *job) evaluateSafe(ctx context.Context, im evalImage, s *xai.Evaluator, o xai.MetricsOptions, sanity bool, st evalStatus) (rec *evalRecord, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	return j.evaluate(ctx, im, s, o, sanity, st)
}

// evaluate computes and scores every method's map for one image.
func (j *job) evaluate(ctx context.Context, im evalImage, s *xai.Evaluator, o xai.MetricsOptions, sanity bool, st evalStatus) (*evalRecord, error) {
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
	rec := &evalRecord{Image: im.key, Label: im.label, Predicted: pred.Class, Class: c, Prob: pred.Probs[c], Methods: map[string]*evalMethod{}}
	_, rec.ClassName = j.className(c)
	if im.box != nil {
		if rec.Box, err = inputBox(*im.box, img.Bounds(), j.m.Preprocess); err != nil {
			return nil, err
		}
	}
	if rec.References, err = j.referenceScores(x, c, o.BlurSigma); err != nil {
		return nil, err
	}
	o.Class, o.Box = c, rec.Box
	t := xai.Target{Class: c, Kind: j.kind}
	var scores []xai.MethodScore
	for _, method := range j.cfg.methods {
		st.method(method)
		t0 := time.Now()
		res, err := j.ex.Explain(x, j.request(method, t, nil))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", method, err)
		}
		r := &evalMethod{MapSeconds: time.Since(t0).Seconds()}
		if c := res.Check; c != nil {
			r.Gap, r.Check, r.GapLimit = &c.Rel, c.Name, c.Threshold
		}
		st.method(method + " metrics")
		o.Progress = st.steps
		t1 := time.Now()
		if r.Metrics, err = s.Evaluate(ctx, x, res.Map, o); err != nil {
			return nil, fmt.Errorf("%s metrics: %v", method, err)
		}
		r.MetricsSeconds = time.Since(t1).Seconds()
		if sanity {
			st.method(method + " sanity")
			san, err := xai.RandomisationCheck(ctx, j.m, x,
				func(ex *xai.Explainer, x *nn.Tensor, t xai.Target) (xai.Map, error) {
					ex.Batch = j.ex.Batch
					res, err := ex.Explain(x, j.request(method, t, nil))
					return res.Map, err
				}, xai.SanityOptions{Target: t, Seed: j.cfg.seed, Progress: st.steps})
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

// referenceScores runs the model on the references the metrics fill
// removed pixels with (black, and x blurred by sigma pixels): the
// explained class's probability on each and the class it predicts,
// which tell whether a fill is neutral on this data (evaluate_stats.go).
func (j *job) referenceScores(x *nn.Tensor, class int, sigma float64) ([]referenceScore, error) {
	var out []referenceScore
	ref := &nn.Tensor{Shape: x.Shape, Data: make([]float32, len(x.Data))}
	for _, b := range []xai.Baseline{{Kind: xai.Black}, {Kind: xai.Blur, Sigma: sigma}} {
		if err := xai.BaselineTo(ref, x, b, j.m.Preprocess); err != nil {
			return nil, err
		}
		p, err := j.ex.Predict(ref)
		if err != nil {
			return nil, err
		}
		out = append(out, referenceScore{Name: b.Kind.String(), Prob: p.Probs[class], Top: p.Class, TopProb: p.Probs[p.Class]})
	}
	return out, nil
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

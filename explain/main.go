// Command explain computes Grad-CAM, Grad-CAM++, saliency (optionally
// SmoothGrad) and Integrated Gradients for images, with a model saved by
// nn.Save (a .safetensors file carrying its architecture, classes and
// preprocessing), and writes the maps as .npy arrays, PNG panels and
// overlays, and a report.json per image.
//
// Usage:
//
//	explain -model m.safetensors [flags] IMAGE|DIR...
//
// Run explain -help for the flags and examples.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

const usage = `explain computes explanation maps for image classifications.

Usage:

  explain -model m.safetensors [flags] IMAGE|DIR...

For every image (the files given, and the images directly inside every
directory given) it writes a folder named after the image file without its
extension under -out, holding:

  probs.npy            class probabilities (K)
  gradcam.npy          Grad-CAM map before normalisation, at the layer's resolution (h, w)
  gradcampp.npy        Grad-CAM++ map before normalisation (h, w)
  saliency.npy         max over channels of |dScore/dx| (H, W)
  saliency_grad.npy    dScore/dx (H, W, C)
  ig.npy               Integrated-Gradients attributions (H, W, C)
  smoothgrad.npy       SmoothGrad map (H, W) and smoothgrad_grad.npy (H, W, C), with -smoothgrad N
  <method>_panel.png   input | overlay | heatmap with colour bar | raw map
  <method>_overlay.png the heatmap over the input
  input.png            the model's input after preprocessing
  report.json          top-k predictions, target, parameters, completeness gap, timings

Flags may come before or after the images.

Examples:

  # all four methods for every image in a folder, default settings
  explain -model mavis.safetensors photos/

  # the softmax probability of class "goose" as the notebook did, IG with 300 steps
  explain -model mavis.safetensors -target probability -class goose -ig-steps 300 cat.png

  # only Grad-CAM at another layer, and SmoothGrad with 25 samples
  explain -model mavis.safetensors -methods gradcam,saliency -layer conv2d_6 -smoothgrad 25 cat.png

  # IG from a blurred baseline with the Gauss-Legendre rule
  explain -model mavis.safetensors -methods ig -ig-baseline blur -ig-rule gauss-legendre cat.png

Flags:
`

// config holds the parsed command line.
type config struct {
	model       string
	methods     []string
	target      string
	class       string
	layer       string
	igSteps     int
	igBaseline  string
	igRule      string
	igBatch     int
	smooth      int
	smoothNoise float64
	seed        uint64
	out         string
	topk        int
	colormap    string
	alpha       float64
	inputs      []string
	eval        *evalConfig // -evaluate mode (evaluate.go)
}

var allMethods = []string{"gradcam", "gradcampp", "saliency", "ig", "smoothgrad"}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "explain: %v\n(run explain -help for usage)\n", err)
		return 2
	}
	m, err := nn.Load(cfg.model)
	if err != nil {
		fmt.Fprintf(stderr, "explain: %v\n", err)
		return 1
	}
	if cfg.eval.dir != "" {
		return runEvaluate(cfg, cfg.eval, m, stdout, stderr)
	}
	images, failed := collect(cfg.inputs, stderr)
	if len(images) == 0 {
		fmt.Fprintf(stderr, "explain: no images to explain\n")
		return 1
	}
	job, err := newJob(cfg, m)
	if err != nil {
		fmt.Fprintf(stderr, "explain: %v\n", err)
		return 2
	}
	bar := newProgress(stderr, len(images))
	names := map[string]int{}
	for i, path := range images {
		dir := outDir(cfg.out, path, names)
		bar.start(i, path)
		if err := job.explainSafe(path, dir, bar); err != nil {
			bar.clear()
			fmt.Fprintf(stderr, "explain: %s: %v (skipped)\n", path, err)
			failed++
			continue
		}
	}
	bar.done()
	fmt.Fprintf(stdout, "explain: %d of %d images explained into %s\n", len(images)-min(failed, len(images)), len(images), cfg.out)
	if failed > 0 {
		fmt.Fprintf(stderr, "explain: %d input(s) failed\n", failed)
		return 1
	}
	return 0
}

func parse(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
		fmt.Fprint(stderr, evaluateUsage)
	}
	methods := fs.String("methods", "gradcam,gradcampp,saliency,ig", "comma-separated methods: "+strings.Join(allMethods, ", ")+" (smoothgrad is added when -smoothgrad N > 0)")
	fs.StringVar(&c.model, "model", "", "model file written by nn.Save (.safetensors; required)")
	fs.StringVar(&c.target, "target", "logit", "score to explain: logit (pre-softmax, default) or probability (softmax output, as the original notebook)")
	fs.StringVar(&c.class, "class", "", "class to explain: index, class id or class name (default: the predicted class)")
	fs.StringVar(&c.layer, "layer", "", "layer for Grad-CAM and Grad-CAM++ (default: the last convolution)")
	fs.IntVar(&c.igSteps, "ig-steps", 50, "Integrated-Gradients steps")
	fs.StringVar(&c.igBaseline, "ig-baseline", "black", "IG baseline: black, white, blur, noise, or an image FILE")
	fs.StringVar(&c.igRule, "ig-rule", "linspace", "IG rule: linspace (the original's inclusive linspace mean), trapezoid or gauss-legendre")
	fs.IntVar(&c.igBatch, "ig-batch", xai.DefaultBatch, "IG steps (and SmoothGrad samples) per forward/backward pass")
	fs.IntVar(&c.smooth, "smoothgrad", 0, "SmoothGrad samples (0: no SmoothGrad)")
	fs.Float64Var(&c.smoothNoise, "smoothgrad-noise", 0.15, "SmoothGrad noise standard deviation as a fraction of the input range")
	fs.Uint64Var(&c.seed, "seed", 1, "seed for SmoothGrad and the noise baseline")
	fs.StringVar(&c.out, "out", "explain-out", "output directory")
	fs.IntVar(&c.topk, "topk", 5, "predictions listed in report.json")
	fs.StringVar(&c.colormap, "colormap", "", "colormap for CAM panels (default jet; saliency uses hot, IG viridis): "+strings.Join(xai.ColormapNames(), ", "))
	fs.Float64Var(&c.alpha, "alpha", 0.4, "heatmap opacity in overlays")
	c.eval = evaluateFlags(fs)
	// Flags anywhere: parse, take one positional argument, continue.
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			return nil, err
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		c.inputs = append(c.inputs, rest[0])
		rest = rest[1:]
	}
	if c.model == "" {
		return nil, fmt.Errorf("-model is required")
	}
	if len(c.inputs) == 0 && c.eval.dir == "" {
		return nil, fmt.Errorf("no IMAGE or DIR given")
	}
	for _, s := range strings.Split(*methods, ",") {
		s = strings.TrimSpace(strings.ToLower(s))
		if s == "" {
			continue
		}
		if !slices.Contains(allMethods, s) {
			return nil, fmt.Errorf("unknown method %q (want %s)", s, strings.Join(allMethods, ", "))
		}
		if !slices.Contains(c.methods, s) {
			c.methods = append(c.methods, s)
		}
	}
	if c.smooth > 0 && !slices.Contains(c.methods, "smoothgrad") {
		c.methods = append(c.methods, "smoothgrad")
	}
	if len(c.methods) == 0 {
		return nil, fmt.Errorf("-methods is empty")
	}
	switch {
	case c.igSteps < 1 || c.igSteps > 100000:
		return nil, fmt.Errorf("-ig-steps %d out of range 1..100000", c.igSteps)
	case c.igBatch < 1 || c.igBatch > 1024:
		return nil, fmt.Errorf("-ig-batch %d out of range 1..1024", c.igBatch)
	case c.smooth < 0 || c.smooth > 100000:
		return nil, fmt.Errorf("-smoothgrad %d out of range 0..100000", c.smooth)
	case c.topk < 1:
		return nil, fmt.Errorf("-topk %d must be at least 1", c.topk)
	case !(c.alpha >= 0 && c.alpha <= 1):
		return nil, fmt.Errorf("-alpha %g outside [0, 1]", c.alpha)
	}
	if slices.Contains(c.methods, "smoothgrad") && c.smooth == 0 {
		c.smooth = 25
	}
	return c, nil
}

// imageExts are the extensions collect picks up inside directories.
var imageExts = []string{".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp"}

// collect expands the inputs into image paths; directories contribute the
// image files directly inside them, sorted. Missing inputs are reported
// and counted.
func collect(inputs []string, stderr io.Writer) (paths []string, failed int) {
	for _, in := range inputs {
		st, err := os.Stat(in)
		if err != nil {
			fmt.Fprintf(stderr, "explain: %v (skipped)\n", err)
			failed++
			continue
		}
		if !st.IsDir() {
			paths = append(paths, in)
			continue
		}
		ents, err := os.ReadDir(in)
		if err != nil {
			fmt.Fprintf(stderr, "explain: %v (skipped)\n", err)
			failed++
			continue
		}
		n := 0
		for _, e := range ents {
			if e.Type().IsRegular() && slices.Contains(imageExts, strings.ToLower(filepath.Ext(e.Name()))) {
				paths = append(paths, filepath.Join(in, e.Name()))
				n++
			}
		}
		if n == 0 {
			fmt.Fprintf(stderr, "explain: %s: no images (%s) in this directory\n", in, strings.Join(imageExts, ", "))
		}
	}
	return paths, failed
}

// outDir names the output folder after the image file without its
// extension; a second image with the same name gets its extension
// appended, then a number.
func outDir(out, path string, seen map[string]int) string {
	base := filepath.Base(path)
	name := strings.TrimSuffix(base, filepath.Ext(base))
	if name == "" || name == "." || name == ".." {
		name = "image"
	}
	if seen[name] > 0 {
		alt := strings.ReplaceAll(base, ".", "_")
		for seen[alt] > 0 {
			alt += "_" + strconv.Itoa(seen[name])
		}
		seen[name]++
		name = alt
	}
	seen[name]++
	return filepath.Join(out, name)
}

// explainSafe runs explain and turns a panic (a bug) into an error for
// this image, so one bad input never stops the batch.
func (j *job) explainSafe(path, dir string, bar *progress) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v\n%s", r, debug.Stack())
		}
	}()
	return j.explain(path, dir, bar)
}

// fmtDuration prints d as m:ss.
func fmtDuration(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

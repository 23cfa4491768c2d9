// Command explain computes explanation maps (every method of xai's
// registry: Grad-CAM, Saliency, Integrated Gradients, ...) for images, with
// a model saved by nn.Save (a .safetensors file carrying its architecture, classes and
// preprocessing) or a Keras file converted in memory as weightsconv would
// convert it (-arch for a weights-only file), and writes the maps as .npy arrays, PNG panels and
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

	"github.com/mavis-xai/mavis/xai"
)

const usage = `explain computes explanation maps for image classifications.

Usage:

  explain -model m.safetensors [flags] IMAGE|DIR...
  explain -model m.keras [flags] IMAGE|DIR...
  explain -model m.weights.h5 -arch mavis|SPEC.json [-classes FILE] [flags] \
      IMAGE|DIR...

A Keras -model (Keras 3 .keras or .weights.h5, Keras 2 .h5) is converted in
memory, exactly as weightsconv converts it; a weights-only file needs -arch.

For every image (the files given, and the images directly inside every
directory given) it writes a folder named after the image file without its
extension under -out, holding:

  probs.npy            class probabilities (K)
  <method>.npy         each method's map at its native resolution: a class
                       activation map before normalisation at its layer's
                       resolution (h, w); Saliency and SmoothGrad's max over
                       channels of |dScore/dx| (H, W); the attributions of
                       the other input-space methods (H, W, C)
  <method>_<extra>.npy what a method adds: saliency_grad.npy and
                       smoothgrad_grad.npy (dScore/dx, H, W, C), ...
  <method>_panel.png   input | overlay | heatmap | map, under a title (the
                       method, class and target score) and with a colour
                       bar marked with the values its ends (and zero)
                       stand for; colours as the page shows them (-scale,
                       -colormap)
  <method>_overlay.png the heatmap over the input
  input.png            the model's input after preprocessing
  report.json          top-k predictions, target, parameters, conservation
                       checks (IG's completeness gap and, when it is over
                       5%, the gap measured for other rules, step counts
                       and baselines, with advice), each map's colour
                       scale, timings

Images (PNG, JPEG, GIF, WebP, BMP) are read as the page's browser reads
them: a photo turned by its EXIF orientation, a JPEG's and a lossy WebP's
colours converted as Chromium's decoders convert them.

Flags may come before or after the images.

Examples:

  # the default methods for every image in a folder, default settings
  explain -model mavis.safetensors photos/

  # the softmax probability of class "goose" as the notebook did,
  # IG with 300 steps
  explain -model mavis.safetensors -target probability -class goose \
      -ig-steps 300 cat.png

  # Grad-CAM at another layer, Saliency, and SmoothGrad with 25 samples
  explain -model mavis.safetensors -methods gradcam,saliency \
      -layer conv2d_6 -smoothgrad 25 cat.png

  # IG from a blurred baseline with the Gauss-Legendre rule
  explain -model mavis.safetensors -methods ig -ig-baseline blur \
      -ig-rule gauss-legendre cat.png

  # the original Keras checkpoint itself, converted in memory
  explain -model tiny_imagenet_model.checkpoint.weights.h5 -arch mavis photos/

Flags:
`

// config holds the parsed command line.
type config struct {
	model     string
	keras     modelFlags // -arch and -classes for a Keras -model (model.go)
	methods   []string
	options   map[string]xai.Options // per method, from the -<method>-<param> flags
	baselines map[string]string      // per method, a -<method>-baseline image FILE
	target    string
	class     string
	layer     string
	batch     int
	seed      uint64
	out       string
	topk      int
	colormap  string
	scale     string
	sweep     bool
	alpha     float64
	inputs    []string
	eval      *evalConfig // -evaluate mode (evaluate.go)
}

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
	if cfg.eval.merge != "" {
		return runMerge(cfg.eval.merge, cfg.inputs, stdout, stderr)
	}
	m, err := loadModel(cfg.model, cfg.keras, stderr)
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
	if err := os.MkdirAll(cfg.out, 0o755); err != nil {
		fmt.Fprintf(stderr, "explain: -out: %v\n", err)
		return 1
	}
	bar := newProgress(stderr, len(images))
	w := &writer{total: len(images), out: cfg.out}
	defer w.catchInterrupt(stderr, bar.clear)()
	names := map[string]int{}
	for i, path := range images {
		dir, renamed := outDir(cfg.out, path, names)
		if renamed {
			bar.clear()
			fmt.Fprintf(stderr, "explain: %s has the same name as an earlier input; its maps go to %s\n", path, dir)
		}
		bar.start(i, path)
		if err := w.explain(job, path, dir, bar); err != nil {
			bar.clear()
			fmt.Fprintf(stderr, "explain: %s: %v (skipped)\n", path, err)
			failed++
			continue
		}
	}
	bar.done()
	fmt.Fprintf(stdout, "explain: %d of %d images explained into %s\n", w.done, len(images), cfg.out)
	if failed > 0 {
		fmt.Fprintf(stderr, "explain: %d input(s) failed\n", failed)
		return 1
	}
	return 0
}

func parse(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	// A bad flag gets its error and a pointer to -help (run), not the
	// whole help.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	methods := fs.String("methods", "default", "comma-separated methods (see Methods below), \"default\", \"page\" or \"all\"")
	fs.StringVar(&c.model, "model", "", "model: a .safetensors file (weightsconv, train), or a Keras .keras, .weights.h5 or .h5 file, converted in memory (required)")
	c.keras.register(fs)
	fs.StringVar(&c.target, "target", "logit", "score to explain: logit (pre-softmax, default) or probability (softmax output, as the original notebook)")
	fs.StringVar(&c.class, "class", "", "class to explain: index, class id or class name (default: the predicted class)")
	fs.StringVar(&c.layer, "layer", "", "layer for the class activation maps (default: the last convolution)")
	fs.IntVar(&c.batch, "ig-batch", xai.DefaultBatch, "inputs per forward/backward pass for the methods that run many (IG steps, SmoothGrad samples)")
	smooth := fs.Int("smoothgrad", 0, "shorthand: add SmoothGrad with N samples (as -methods ...,smoothgrad -smoothgrad-samples N)")
	var mf methodFlags
	mf.register(fs)
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the methods that draw random numbers (SmoothGrad, the noise baseline, ...)")
	fs.StringVar(&c.out, "out", "explain-out", "output directory")
	fs.IntVar(&c.topk, "topk", 5, "predictions listed in report.json")
	fs.StringVar(&c.colormap, "colormap", "", fmt.Sprintf("colormap of every panel and overlay: %s (default: by kind of map, %s for class activation maps, %s for gradient magnitudes, %s for signed maps)",
		strings.Join(xai.ColormapNames(), ", "), xai.DisplayMax.Colormap().Name, xai.DisplayPercentile.Colormap().Name, xai.DisplaySigned.Colormap().Name))
	fs.StringVar(&c.scale, "scale", "", fmt.Sprintf("top of the colour scale: %s, a percentile of the values (of |value| for signed maps; the few above it take the top colour) (default: by kind of map, %s for class activation maps, %s for the others)",
		scaleRules(), xai.DisplayMax.DefaultRule().Label(), xai.DisplayPercentile.DefaultRule()))
	fs.Float64Var(&c.alpha, "alpha", 0.4, "heatmap opacity in overlays")
	fs.BoolVar(&c.sweep, "completeness-sweep", true, "when Integrated Gradients misses completeness by more than 5%, measure the gap for other rules, step counts and baselines on that image (about 2.6 times the cost of a 50-step IG) and say what helps (report.json and stderr)")
	c.eval = evaluateFlags(fs)
	// Flags anywhere: parse, take one positional argument, continue.
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stderr, usage)
				printFlags(stderr, fs)
				fmt.Fprint(stderr, methodsHelp())
				fmt.Fprint(stderr, evaluateUsage)
			}
			return nil, err
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		c.inputs = append(c.inputs, rest[0])
		rest = rest[1:]
	}
	if c.eval.merge != "" {
		if c.eval.dir != "" {
			return nil, fmt.Errorf("-merge OUT combines finished -evaluate outputs; it does not take -evaluate")
		}
		return c, nil
	}
	if c.eval.dir != "" && len(c.inputs) > 0 {
		return nil, fmt.Errorf("-evaluate takes its images from %s, not from the arguments (%s): drop them, or explain them without -evaluate", c.eval.dir, strings.Join(c.inputs, " "))
	}
	if c.eval.dir == "" {
		var only []string
		fs.Visit(func(f *flag.Flag) {
			if strings.HasPrefix(f.Usage, "-evaluate: ") {
				only = append(only, "-"+f.Name)
			}
		})
		if len(only) > 0 {
			return nil, fmt.Errorf("%s %s only with -evaluate DIR", strings.Join(only, ", "), map[bool]string{true: "applies", false: "apply"}[len(only) == 1])
		}
	}
	if c.model == "" {
		return nil, fmt.Errorf("-model is required")
	}
	if len(c.inputs) == 0 && c.eval.dir == "" {
		return nil, fmt.Errorf("no IMAGE or DIR given")
	}
	var err error
	if c.methods, err = parseMethods(*methods); err != nil {
		return nil, err
	}
	if *smooth != 0 {
		if *smooth < 0 {
			return nil, fmt.Errorf("-smoothgrad %d must be positive", *smooth)
		}
		if mf.set["smoothgrad"] == nil {
			mf.set["smoothgrad"] = map[string]string{}
		}
		mf.set["smoothgrad"]["samples"] = strconv.Itoa(*smooth)
		if !slices.Contains(c.methods, "smoothgrad") {
			c.methods = append(c.methods, "smoothgrad")
		}
	}
	if len(c.methods) == 0 {
		return nil, fmt.Errorf("-methods is empty")
	}
	// A baseline that is not one of the choices is an image file.
	c.baselines = map[string]string{}
	for name, set := range mf.set {
		m, _ := xai.Lookup(name)
		if p := m.Param("baseline"); p != nil && set["baseline"] != "" {
			if _, err := p.Parse(set["baseline"]); err != nil {
				c.baselines[name] = set["baseline"]
				delete(set, "baseline")
			}
		}
	}
	if c.options, err = mf.options(); err != nil {
		return nil, err
	}
	switch {
	case c.batch < 1 || c.batch > 1024:
		return nil, fmt.Errorf("-ig-batch %d out of range 1..1024", c.batch)
	case c.topk < 1:
		return nil, fmt.Errorf("-topk %d must be at least 1", c.topk)
	case !(c.alpha >= 0 && c.alpha <= 1):
		return nil, fmt.Errorf("-alpha %g outside [0, 1]", c.alpha)
	}
	return c, nil
}

// scaleRules lists xai's colour scale rules: "max, p99.5, p99 or p98".
func scaleRules() string {
	var s []string
	for _, r := range xai.ScaleRules {
		s = append(s, string(r))
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// imageExts are the extensions collect picks up inside directories.
var imageExts = []string{".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp"}

// skippedPictures says how many of a folder's entries are HEIC or AVIF
// pictures, which explain cannot read and a folder's listing leaves out,
// and what to do ("" for none).
func skippedPictures(ents []os.DirEntry) string {
	n := 0
	for _, e := range ents {
		if e.Type().IsRegular() && slices.Contains([]string{".heic", ".heif", ".avif"}, strings.ToLower(filepath.Ext(e.Name()))) {
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%s in HEIC or AVIF left out, which explain cannot read: save %s as JPEG or PNG", count(n, "picture"), map[bool]string{true: "it", false: "them"}[n == 1])
}

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
		if s := skippedPictures(ents); s != "" {
			fmt.Fprintf(stderr, "explain: %s: %s\n", in, s)
		}
	}
	return paths, failed
}

// outDir names the output folder after the image file without its
// extension. An image whose name an earlier one took gets its parent
// folder's name in front (photos/cat.png after shots/cat.png: photos-cat),
// then its extension, then a number, and renamed reports it so that the
// caller can say where its maps went.
func outDir(out, path string, seen map[string]int) (dir string, renamed bool) {
	base := filepath.Base(path)
	name := strings.TrimSuffix(base, filepath.Ext(base))
	if name == "" || name == "." || name == ".." {
		name = "image"
	}
	if seen[name] > 0 {
		orig := name
		parent := filepath.Base(filepath.Dir(path))
		for _, alt := range []string{parent + "-" + orig, parent + "-" + strings.ReplaceAll(base, ".", "_")} {
			if parent != "." && parent != string(filepath.Separator) && seen[alt] == 0 {
				name = alt
				break
			}
		}
		for k := 2; seen[name] > 0; k++ {
			name = orig + "-" + strconv.Itoa(k)
		}
		renamed = true
	}
	seen[name]++
	return filepath.Join(out, name), renamed
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

// Command train trains an image classifier with the nn engine, as the
// original MAVIS-XAI notebook trained its Keras model, and evaluates saved
// models.
//
// Usage:
//
//	train -data PATH [flags]                       train, writing into -out
//	train -resume -out DIR [-epochs N]             continue an interrupted run
//	train -eval MODEL.safetensors -data PATH       evaluate: one accuracy line and a per-class table
//	train -reorganise TINY_IMAGENET_ROOT [-move]   sort val/images into val/<wnid>/ as the original's script did
//
// Run train -help for the flags and examples.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/mavis-xai/mavis/nn"
)

const usage = `train: train an image classifier, or evaluate one.

Usage:
  train -data PATH [flags]                      train; results go to -out (default run/)
  train -resume -out DIR [-epochs N]            continue the run in DIR after its last epoch,
                                                on the data it had
  train -eval MODEL -data PATH                  evaluate a .safetensors model
  train -reorganise ROOT [-move]                copy Tiny ImageNet val images into val/<wnid>/
  train -export-samples DIR -data PATH          one test image per class as PNG, for the page

Data (-data, -val; the layout is detected, or set -format):
  idx           MNIST / Fashion-MNIST IDX files (gzipped or not): a directory
                holding train-images-idx3-ubyte.gz etc. (training reads train-*,
                -eval reads t10k-*), or one images file.
  tinyimagenet  train/<wnid>/images/*.JPEG; validation read through
                val/val_annotations.txt (nothing to move first); -classes picks
                a subset; names from words.txt.
  folder        one subfolder per class, as Keras's image_dataset_from_directory:
                class names = sorted folder names, png/jpeg/gif/bmp images.
Images are resized to the model input with the model's preprocessing. Without
-val, a seeded -val-split of the training data is held out for validation.
Unreadable images and annotations naming missing files are skipped and counted.

Training follows the original: SGD lr 1e-4 momentum 0.9, L2 1e-4 on the
kernels as the architecture says, categorical cross-entropy, batch 128,
Glorot-uniform initialisation. Losses reported include the L2 penalty, as
Keras reports them. The best validation-loss weights are kept in
DIR/model.safetensors; DIR/last.safetensors + DIR/last.state allow -resume;
DIR/history.csv and DIR/curves.png show the curves. The same -seed, -batch and
-workers repeat a run exactly.

Examples:
  # the default model the page ships (see www/models/MODEL.md)
  train -arch fashion -data /usr/share/datasets/fashion-mnist -optimizer adam -lr 1e-3 -epochs 12 -out run-fashion
  train -eval run-fashion/model.safetensors -data /usr/share/datasets/fashion-mnist

  # the original MAVIS model on the original's five Tiny ImageNet classes
  train -arch mavis -data tiny-imagenet-200 -classes n01443537,n01629819,n01644900,n01770393,n01855672 -out run-mavis
  train -resume -out run-mavis -epochs 200
  train -resume -out run-mavis -epochs 300 -lr 1e-5     # continue with a lower learning rate

  # your own folders, your own architecture
  train -arch my-net.json -data photos/train -val photos/val -epochs 30

Flags:
`

type options struct {
	arch, data, val, format, classes string
	valSplit                         float64
	out                              string
	resume                           bool
	eval                             string
	reorganise                       string
	move                             bool
	exportDir                        string
	exportN                          int
	scale                            string
	limit                            int
	cfg                              Config
	quiet                            bool
	lrSet                            bool            // -lr given explicitly
	set                              map[string]bool // the flags given
}

// dataSettings are the data flags as a checkpoint keeps them.
func (o options) dataSettings() (*DataSettings, error) {
	d := &DataSettings{ValSplit: o.valSplit, Format: o.format, Classes: o.classes, Limit: o.limit}
	var err error
	if d.Data, err = filepath.Abs(o.data); err != nil {
		return nil, fmt.Errorf("train: %v", err)
	}
	if o.val != "" {
		if d.Val, err = filepath.Abs(o.val); err != nil {
			return nil, fmt.Errorf("train: %v", err)
		}
	}
	return d, nil
}

// dataText says what a run trains on: "DATA" and the flags that shape it.
func (o options) dataText() string {
	s := o.data
	if o.val != "" {
		s += " with -val " + o.val
	} else {
		s += fmt.Sprintf(" with -val-split %g", o.valSplit)
	}
	if o.classes != "" {
		s += " -classes " + o.classes
	}
	if o.limit > 0 {
		s += fmt.Sprintf(" -limit %d", o.limit)
	}
	return s
}

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := run(o, os.Stdout, os.Stderr); err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "train:") { // an error of nn's, say
			msg = "train: " + msg
		}
		fmt.Fprintln(os.Stderr, msg)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	// A bad flag gets its error and a pointer to -help, not the whole help.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&o.arch, "arch", "fashion", "architecture: a built-in ("+strings.Join(nn.BuiltinNames(), ", ")+") or a JSON spec file")
	fs.StringVar(&o.data, "data", "", "training data (or, with -eval, the data to evaluate)")
	fs.StringVar(&o.val, "val", "", "validation data in the same layout; for Tiny ImageNet and IDX the default is the dataset's own validation/test part when -val-split is 0")
	fs.Float64Var(&o.valSplit, "val-split", 0.1, "fraction of the training data held out for validation when -val is not given (seeded); 0 uses the dataset's own validation part (tinyimagenet: val/, idx: t10k) or none")
	fs.StringVar(&o.format, "format", "auto", "data layout: auto, folder, tinyimagenet or idx")
	fs.StringVar(&o.classes, "classes", "", "comma-separated class ids to use (Tiny ImageNet wnids or folder names); empty = all")
	fs.StringVar(&o.out, "out", "run", "output directory for the model, checkpoint, history.csv and curves.png")
	fs.BoolVar(&o.resume, "resume", false, "continue the run in -out from its last completed epoch, on the data it had (-data, -val, -val-split, -format, -classes, -limit given again take their place)")
	fs.StringVar(&o.eval, "eval", "", "evaluate this .safetensors model on -data (IDX: the t10k set; Tiny ImageNet: val) and exit; prints accuracy=... loss=... n=... (loss: mean cross-entropy plus the L2 penalty, as Keras evaluate) and a per-class table (cross-entropy alone)")
	fs.StringVar(&o.reorganise, "reorganise", "", "Tiny ImageNet root: copy val/images/* into val/<wnid>/ following val_annotations.txt, then exit")
	fs.StringVar(&o.exportDir, "export-samples", "", "write the first test image of each class of -data as PNG (plus index.json for the page) into this directory, then exit")
	fs.IntVar(&o.exportN, "export-n", 10, "with -export-samples: at most this many classes")
	fs.BoolVar(&o.move, "move", false, "with -reorganise: remove each original after its copy is verified")
	fs.StringVar(&o.scale, "scale", "auto", "input scale stored with the model: 0..1, 0..255, or auto (0..1 for fashion, 0..255 otherwise, as the original fed raw pixels)")
	fs.IntVar(&o.limit, "limit", 0, "use only the first N training samples (after the split; 0 = all), for quick trials")
	fs.IntVar(&o.cfg.Epochs, "epochs", 20, "number of epochs (in total, counting resumed ones)")
	fs.IntVar(&o.cfg.Batch, "batch", 128, "batch size")
	fs.StringVar(&o.cfg.Optimizer, "optimizer", "sgd", "sgd (with momentum) or adam")
	fs.Float64Var(&o.cfg.LR, "lr", 0, "learning rate (default 1e-4 for sgd, 1e-3 for adam)")
	fs.Float64Var(&o.cfg.Momentum, "momentum", 0.9, "SGD momentum")
	fs.Uint64Var(&o.cfg.Seed, "seed", 1, "seed for the initial weights, split, shuffling and dropout")
	fs.IntVar(&o.cfg.Patience, "patience", 5, "stop after this many epochs without a better validation loss (0: never)")
	fs.IntVar(&o.cfg.Workers, "workers", runtime.NumCPU(), "data-parallel model replicas per batch (cores to use)")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress bar")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, usage)
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return o, err
		}
		return o, fmt.Errorf("train: %v (see train -help)", err)
	}
	o.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	o.lrSet = o.set["lr"]
	if fs.NArg() > 0 {
		return o, fmt.Errorf("train: unexpected argument %q (see train -help)", fs.Arg(0))
	}
	if o.cfg.LR == 0 {
		o.cfg.LR = 1e-4
		if o.cfg.Optimizer == "adam" {
			o.cfg.LR = 1e-3
		}
	}
	switch {
	case o.reorganise != "":
	case o.resume:
	case o.exportDir != "" && o.data == "":
		return o, fmt.Errorf("train: -export-samples needs -data")
	case o.data == "":
		return o, fmt.Errorf("train: -data is required (see train -help)")
	}
	if o.cfg.Epochs < 1 || o.cfg.Epochs > 1e6 {
		return o, fmt.Errorf("train: -epochs %d, want 1..1000000", o.cfg.Epochs)
	}
	if o.cfg.Batch < 1 || o.cfg.Batch > 1<<16 {
		return o, fmt.Errorf("train: -batch %d, want 1..65536", o.cfg.Batch)
	}
	if o.cfg.Workers < 1 || o.cfg.Workers > 256 {
		return o, fmt.Errorf("train: -workers %d, want 1..256", o.cfg.Workers)
	}
	if !(o.cfg.LR > 0) || math.IsInf(o.cfg.LR, 0) {
		return o, fmt.Errorf("train: -lr %g, want > 0", o.cfg.LR)
	}
	if o.valSplit < 0 || o.valSplit >= 1 {
		return o, fmt.Errorf("train: -val-split %g, want 0 <= split < 1", o.valSplit)
	}
	return o, nil
}

func run(o options, stdout, stderr io.Writer) error {
	switch {
	case o.reorganise != "":
		return runReorganise(o, stdout, stderr)
	case o.eval != "":
		return runEval(o, stdout, stderr)
	case o.exportDir != "":
		d, err := loadData(o.data, o.loadOptions("test"), stderr)
		if err != nil {
			return err
		}
		files, err := ExportSamples(d, o.exportDir, o.exportN)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %d samples to %s: %s\n", len(files), o.exportDir, strings.Join(files, " "))
		return nil
	}
	return runTrain(o, stderr)
}

func (o options) loadOptions(split string) LoadOptions {
	lo := LoadOptions{Format: o.format, Split: split}
	if o.classes != "" {
		for _, c := range strings.Split(o.classes, ",") {
			if c = strings.TrimSpace(c); c != "" {
				lo.Classes = append(lo.Classes, c)
			}
		}
	}
	return lo
}

// loadData loads a dataset and reports its size and skips on log.
func loadData(path string, lo LoadOptions, log io.Writer) (*Dataset, error) {
	lo.Log = log
	d, err := Load(path, lo)
	if err != nil {
		return nil, err
	}
	reportSkips(d, log)
	return d, nil
}

func reportSkips(d *Dataset, log io.Writer) {
	if len(d.Skipped) == 0 {
		return
	}
	fmt.Fprintf(log, "train: %s: skipped %d input(s):\n", d.Source, len(d.Skipped))
	for i, s := range d.Skipped {
		if i == 10 {
			fmt.Fprintf(log, "  ... and %d more\n", len(d.Skipped)-10)
			break
		}
		fmt.Fprintf(log, "  %s\n", s)
	}
}

// buildModel builds the architecture for the data's classes: the last Dense
// layer gets one unit per class.
func buildModel(o options, classes []nn.Class, log io.Writer) (*nn.Model, error) {
	var spec nn.Spec
	var err error
	if _, e := os.Stat(o.arch); e == nil && strings.HasSuffix(o.arch, ".json") {
		data, err := os.ReadFile(o.arch)
		if err != nil {
			return nil, fmt.Errorf("train: %v", err)
		}
		if spec, err = nn.ParseSpec(data); err != nil {
			return nil, err
		}
	} else if spec, err = nn.Builtin(o.arch); err != nil {
		return nil, err
	}
	last := len(spec.Layers) - 1
	if spec.Layers[last].Class != "Dense" {
		return nil, fmt.Errorf("train: architecture %q must end in a Dense layer (it ends in %s)", o.arch, spec.Layers[last].Class)
	}
	if u := spec.Layers[last].Config.Units; u != len(classes) {
		fmt.Fprintf(log, "train: %s: last layer %s set to %d units for %d classes (was %d)\n", o.arch, spec.Layers[last].Name, len(classes), len(classes), u)
		spec.Layers[last].Config.Units = len(classes)
	}
	m, err := nn.Build(spec)
	if err != nil {
		return nil, err
	}
	m.Classes = classes
	switch o.scale {
	case "auto":
		if spec.Name == "fashion" {
			m.Preprocess.Scale = "0..1"
		}
	case "0..1", "0..255":
		m.Preprocess.Scale = o.scale
	default:
		return nil, fmt.Errorf("train: -scale %q, want 0..1, 0..255 or auto", o.scale)
	}
	nn.Init(m, o.cfg.Seed)
	return m, nil
}

func runTrain(o options, log io.Writer) error {
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("train: %v", err)
	}
	var t *Trainer
	var err error
	if o.resume {
		if t, err = resumeTrainer(o.out, o.cfg); err != nil {
			return err
		}
		if d, set := t.Data, o.set; d != nil { // the run's data, but for the flags given again
			if !set["data"] {
				o.data = d.Data
			}
			if !set["val"] {
				o.val = d.Val
			}
			if !set["val-split"] {
				o.valSplit = d.ValSplit
			}
			if !set["format"] {
				o.format = d.Format
			}
			if !set["classes"] {
				o.classes = d.Classes
			}
			if !set["limit"] {
				o.limit = d.Limit
			}
		}
		if o.data == "" {
			return fmt.Errorf("train: -resume: %s does not say what data the run trained on (its run is older than that): give the same -data (and -val, -classes, -limit) as the run had", filepath.Join(o.out, "last.state"))
		}
		fmt.Fprintf(log, "train: resuming %s after epoch %d, on %s\n", o.out, t.Epoch, o.dataText())
	} else if _, err := os.Stat(filepath.Join(o.out, "last.state")); err == nil {
		return fmt.Errorf("train: %s already holds a run: continue it with train -resume -out %s, or give another -out", o.out, o.out)
	}
	train, err := loadData(o.data, o.loadOptions("train"), log)
	if err != nil {
		return err
	}
	var val *Dataset
	switch {
	case o.val != "":
		if val, err = loadData(o.val, o.loadOptions("val"), log); err != nil {
			return err
		}
	case o.valSplit > 0:
		seed := o.cfg.Seed
		if t != nil {
			seed = t.Config.Seed // the split the interrupted run used
		}
		if train, val, err = train.Split(o.valSplit, seed); err != nil {
			return err
		}
	default:
		fmtName := o.format
		if fmtName == "" || fmtName == FormatAuto {
			if st, e := os.Stat(o.data); e == nil {
				fmtName = detectFormat(o.data, st.IsDir())
			}
		}
		if fmtName == FormatTinyImageNet || fmtName == FormatIDX {
			if val, err = loadData(o.data, o.loadOptions("val"), log); err != nil {
				return err
			}
		}
	}
	if o.limit > 0 && o.limit < train.Len() {
		idx := make([]int, o.limit)
		for i := range idx {
			idx[i] = i
		}
		train = train.Subset(idx)
	}
	if val != nil && !sameClasses(train.Classes, val.Classes) {
		return fmt.Errorf("train: the validation data's classes differ from the training data's")
	}
	if t == nil {
		m, err := buildModel(o, train.Classes, log)
		if err != nil {
			return err
		}
		if t, err = NewTrainer(m, o.cfg); err != nil {
			return err
		}
	} else {
		if !sameClasses(t.Model.Classes, train.Classes) {
			return fmt.Errorf("train: -resume: the data's classes differ from the checkpoint's")
		}
		t.Config.Epochs, t.Config.Patience = o.cfg.Epochs, o.cfg.Patience
		if o.lrSet && o.cfg.LR != t.Config.LR {
			fmt.Fprintf(log, "train: learning rate %g from epoch %d on (was %g)\n", o.cfg.LR, t.Epoch+1, t.Config.LR)
			t.SetLR(o.cfg.LR)
		}
	}
	if !o.quiet {
		t.Progress = log
	}
	if t.Data, err = o.dataSettings(); err != nil {
		return err
	}
	tr, other := t.Model.CountParams()
	nval := 0
	if val != nil {
		nval = val.Len()
	}
	fmt.Fprintf(log, "train: %s (%d trainable + %d other parameters), %d classes, %d training and %d validation images, %s lr %g, batch %d on %d workers\n",
		t.Model.Spec.Name, tr, other, len(train.Classes), train.Len(), nval, t.Config.Optimizer, t.Config.LR, t.Config.Batch, len(t.reps))
	return t.Fit(train, val, o.out, log)
}

func sameClasses(a, b []nn.Class) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID {
			return false
		}
	}
	return true
}

// Fit trains until Config.Epochs, or until Patience epochs pass without a
// better monitored loss, writing the outputs into dir after every epoch.
func (t *Trainer) Fit(train, val *Dataset, dir string, log io.Writer) error {
	best := filepath.Join(dir, "model.safetensors")
	for t.Epoch < t.Config.Epochs {
		if t.Config.Patience > 0 && t.Wait >= t.Config.Patience {
			break
		}
		rec, err := t.TrainEpoch(train, val)
		if err != nil {
			return err
		}
		if l := rec.Monitored(); l < t.Best {
			t.Best, t.Wait = l, 0
			meta := map[string]string{
				"source": fmt.Sprintf("mavis-xai train: epoch %d of %s, %s lr %g, batch %d, seed %d", rec.Epoch, t.Model.Spec.Name,
					t.Config.Optimizer, t.Config.LR, t.Config.Batch, t.Config.Seed),
				"val_loss":     strconv.FormatFloat(rec.ValLoss, 'f', 4, 64),
				"val_accuracy": strconv.FormatFloat(rec.ValAcc, 'f', 4, 64),
			}
			if err := nn.SaveWith(best, t.Model, meta); err != nil {
				return err
			}
			fmt.Fprintf(log, "train: epoch %d: best loss so far %.4f, saved %s\n", rec.Epoch, l, best)
		} else {
			t.Wait++
		}
		if err := t.saveCheckpoint(dir); err != nil {
			return err
		}
		if err := writeHistory(filepath.Join(dir, "history.csv"), t.History); err != nil {
			return err
		}
		png, err := plotCurves(t.History, t.Model.Spec.Name)
		if err != nil {
			return err
		}
		if err := writeAtomic(filepath.Join(dir, "curves.png"), png); err != nil {
			return err
		}
	}
	if t.Config.Patience > 0 && t.Wait >= t.Config.Patience {
		fmt.Fprintf(log, "train: stopped early after epoch %d: no better loss for %d epochs\n", t.Epoch, t.Wait)
	}
	fmt.Fprintf(log, "train: done; best loss %.4f in %s\n", t.Best, best)
	return nil
}

func runEval(o options, stdout, log io.Writer) error {
	m, err := nn.Load(o.eval)
	if err != nil {
		return err
	}
	d, err := loadData(o.data, o.loadOptions("test"), log)
	if err != nil {
		return err
	}
	if len(d.Classes) != len(m.Classes) {
		return fmt.Errorf("train: %s has %d classes, the data has %d", o.eval, len(m.Classes), len(d.Classes))
	}
	t, err := NewTrainer(m, Config{Batch: o.cfg.Batch, Workers: o.cfg.Workers, LR: 1, Optimizer: "sgd"})
	if err != nil {
		return err
	}
	e, err := t.Evaluate(d)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "accuracy=%.4f loss=%.4f n=%d\n", e.Acc, e.Loss, e.N)
	writeClassTable(stdout, m.Classes, e)
	return nil
}

// writeClassTable prints per-class support, accuracy (recall), precision
// and mean cross-entropy.
func writeClassTable(w io.Writer, classes []nn.Class, e Eval) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "class\tname\tn\taccuracy\tprecision\tloss\t")
	for k, c := range classes {
		n, hit, predicted := 0, e.Confusion[k][k], 0
		for j := range classes {
			n += e.Confusion[k][j]
			predicted += e.Confusion[j][k]
		}
		acc, prec, loss := math.NaN(), math.NaN(), math.NaN()
		if n > 0 {
			acc, loss = float64(hit)/float64(n), e.ClassCE[k]/float64(n)
		}
		if predicted > 0 {
			prec = float64(hit) / float64(predicted)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.4f\t%.4f\t%.4f\t\n", c.ID, c.Name, n, acc, prec, loss)
	}
	tw.Flush()
}

func runReorganise(o options, stdout, log io.Writer) error {
	rep, err := Reorganise(o.reorganise, o.move, log)
	if err != nil {
		return err
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(log, "train: reorganise:", p)
	}
	fmt.Fprintf(stdout, "copied=%d already=%d removed=%d problems=%d\n", rep.Copied, rep.Already, rep.Removed, len(rep.Problems))
	if !o.move {
		fmt.Fprintf(log, "train: reorganise: originals kept in %s (use -move to remove them after verification)\n", filepath.Join(o.reorganise, "val", "images"))
	}
	if len(rep.Problems) > 0 {
		return fmt.Errorf("train: reorganise: %d problem(s), listed above; no file was lost", len(rep.Problems))
	}
	return nil
}

package main

import (
	"fmt"
	"image"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/nn/imagefile"
)

// Dataset is a labelled set of images, held either as raw grey bytes (IDX
// files) or as image file paths decoded when a batch needs them.
type Dataset struct {
	Source  string     // where it came from, for messages
	Classes []nn.Class // in label order
	Labels  []int      // Labels[i] is the class index of sample i
	Skipped []string   // one message per input left out (unreadable image, missing file)

	// IDX: sample i is pix[i*rows*cols:][:rows*cols], grey, 0..255.
	pix        []byte
	rows, cols int
	// Image files: sample i is paths[i].
	paths []string
	// load, when set, replaces the sources above (custom or test data).
	load func(dst *nn.Tensor, n, i int) error
}

// Len returns the number of samples.
func (d *Dataset) Len() int { return len(d.Labels) }

// Counts returns the number of samples of each class.
func (d *Dataset) Counts() []int {
	c := make([]int, len(d.Classes))
	for _, l := range d.Labels {
		c[l]++
	}
	return c
}

// Subset returns the samples idx, in that order, sharing the classes.
func (d *Dataset) Subset(idx []int) *Dataset {
	s := &Dataset{Source: d.Source, Classes: d.Classes, rows: d.rows, cols: d.cols}
	s.Labels = make([]int, len(idx))
	for j, i := range idx {
		s.Labels[j] = d.Labels[i]
	}
	if d.pix != nil {
		n := d.rows * d.cols
		s.pix = make([]byte, len(idx)*n)
		for j, i := range idx {
			copy(s.pix[j*n:(j+1)*n], d.pix[i*n:(i+1)*n])
		}
	}
	if d.paths != nil {
		s.paths = make([]string, len(idx))
		for j, i := range idx {
			s.paths[j] = d.paths[i]
		}
	}
	return s
}

// Split shuffles the sample indices with a generator seeded by seed and
// returns the first (1-frac) as training and the rest as validation, as
// Keras's validation_split does after its seeded shuffle.
func (d *Dataset) Split(frac float64, seed uint64) (train, val *Dataset, err error) {
	if frac <= 0 || frac >= 1 {
		return nil, nil, fmt.Errorf("train: validation split %g outside (0, 1)", frac)
	}
	perm := rand.New(rand.NewPCG(seed, 0x73706c6974)).Perm(d.Len())
	nval := int(frac * float64(d.Len()))
	if nval < 1 || nval >= d.Len() {
		return nil, nil, fmt.Errorf("train: validation split %g of %d samples leaves an empty side", frac, d.Len())
	}
	cut := d.Len() - nval
	return d.Subset(perm[:cut]), d.Subset(perm[cut:]), nil
}

// Image returns sample i as an image (grey for IDX data).
func (d *Dataset) Image(i int) (image.Image, error) {
	if d.pix != nil {
		n := d.rows * d.cols
		return &image.Gray{Pix: d.pix[i*n : (i+1)*n], Stride: d.cols, Rect: image.Rect(0, 0, d.cols, d.rows)}, nil
	}
	return decodeFile(d.paths[i])
}

// LoadTo writes sample i, preprocessed by p, into sample n of dst.
//
// IDX data at the model's own size and channel count takes a direct path
// (a byte, or a byte/255 for scale 0..1); everything else goes through
// nn.ImageInputTo, the same preprocessing the explainers use.
func (d *Dataset) LoadTo(dst *nn.Tensor, n, i int, p nn.Preprocess) error {
	if d.load != nil {
		return d.load(dst, n, i)
	}
	if d.pix != nil && p.Height == d.rows && p.Width == d.cols && p.Channels == 1 {
		k := d.rows * d.cols
		out := dst.Sample(n)
		src := d.pix[i*k : (i+1)*k]
		div := float32(1)
		if p.Scale == "0..1" {
			div = 255 // divide, as nn.ImageInputTo does, for identical floats
		}
		for j, v := range src {
			out[j] = float32(v) / div
		}
		return nil
	}
	img, err := d.Image(i)
	if err != nil {
		return err
	}
	if err := nn.ImageInputTo(dst, n, img, p); err != nil {
		return fmt.Errorf("train: %s: %v", d.name(i), err)
	}
	return nil
}

// name describes sample i in messages.
func (d *Dataset) name(i int) string {
	if d.paths != nil {
		return d.paths[i]
	}
	return fmt.Sprintf("%s sample %d", d.Source, i)
}

// decodeFile opens and decodes one image file.
func decodeFile(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("train: %v", err)
	}
	defer f.Close()
	img, err := imagefile.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("train: %s: %v", path, strings.TrimPrefix(err.Error(), "nn: "))
	}
	return img, nil
}

// imageExt reports whether a file name has an image extension Keras's
// image_dataset_from_directory accepts (and we can decode).
func imageExt(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp":
		return true
	}
	return false
}

// Format names a dataset layout.
const (
	FormatAuto         = "auto"
	FormatFolder       = "folder"
	FormatTinyImageNet = "tinyimagenet"
	FormatIDX          = "idx"
)

// LoadOptions says which part of a dataset to read.
type LoadOptions struct {
	Format  string    // auto, folder, tinyimagenet, idx
	Split   string    // "train" or "val"/"test": Tiny ImageNet part, IDX file set
	Classes []string  // subset of class ids (Tiny ImageNet wnids, folder names); empty = all
	Log     io.Writer // progress of the image check on big folders; nil for none
}

// Load reads a dataset at path in the given layout; auto detects IDX files,
// the Tiny ImageNet layout (wnids.txt or val/val_annotations.txt), and
// otherwise reads a folder per class.
func Load(path string, o LoadOptions) (*Dataset, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("train: data: %v", err)
	}
	format := o.Format
	if format == "" || format == FormatAuto {
		format = detectFormat(path, st.IsDir())
	}
	var d *Dataset
	switch format {
	case FormatIDX:
		d, err = LoadIDX(path, o.Split)
	case FormatTinyImageNet:
		d, err = loadTinyImageNet(path, o.Split, o.Classes, o.Log)
	case FormatFolder:
		d, err = loadFolder(path, o.Classes, o.Log)
	default:
		return nil, fmt.Errorf("train: unknown data format %q (want auto, folder, tinyimagenet or idx)", format)
	}
	if err != nil {
		return nil, err
	}
	if d.Len() == 0 {
		return nil, fmt.Errorf("train: %s: no usable samples (%d skipped)", path, len(d.Skipped))
	}
	return d, nil
}

func detectFormat(path string, dir bool) string {
	if !dir {
		return FormatIDX
	}
	if _, err := findIDX(path, "train"); err == nil {
		return FormatIDX
	}
	if _, err := findIDX(path, "t10k"); err == nil {
		return FormatIDX
	}
	for _, f := range []string{"wnids.txt", filepath.Join("val", "val_annotations.txt")} {
		if _, err := os.Stat(filepath.Join(path, f)); err == nil {
			return FormatTinyImageNet
		}
	}
	return FormatFolder
}

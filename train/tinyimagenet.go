package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mavis-xai/mavis/nn"
)

// The Tiny ImageNet layout, as downloaded (tiny-imagenet-200.zip):
//
//	wnids.txt                        one WordNet id per line (the 200 classes)
//	words.txt                        "<wnid>\t<names, comma separated>" for all of WordNet
//	train/<wnid>/images/*.JPEG       500 training images per class
//	val/images/*.JPEG                10,000 validation images, not sorted by class
//	val/val_annotations.txt          "<file>\t<wnid>\t<x0>\t<y0>\t<x1>\t<y1>" per validation image
//
// loadTinyImageNet reads the validation set through val_annotations.txt, so
// nothing has to be moved first.

// OriginalClasses are the five classes the original MAVIS-XAI model learnt.
var OriginalClasses = []string{"n01443537", "n01629819", "n01644900", "n01770393", "n01855672"}

// maxTextFile bounds the text files we read (words.txt is about 2.7 MB).
const maxTextFile = 64 << 20

// loadTinyImageNet reads the train or val part of a Tiny ImageNet tree.
// Classes are the wnids given (or every wnid in wnids.txt, or else every
// folder under train/), sorted as image_dataset_from_directory sorts
// folder names; names come from words.txt (the first name listed) when it
// is present. A validation annotation that names a missing or unreadable
// file, or a wnid outside wnids.txt, is skipped and reported in Skipped.
// Progress goes to log when it is not nil.
func loadTinyImageNet(root, split string, only []string, log io.Writer) (*Dataset, error) {
	wnids, err := tinyClasses(root, only)
	if err != nil {
		return nil, err
	}
	words, err := readWords(filepath.Join(root, "words.txt"))
	if err != nil {
		return nil, err
	}
	d := &Dataset{Source: root}
	label := map[string]int{}
	for i, w := range wnids {
		name := w
		if s, ok := words[w]; ok {
			name = s
		}
		d.Classes = append(d.Classes, nn.Class{ID: w, Name: name})
		label[w] = i
	}
	var paths []string
	var labels []int
	switch split {
	case "", "train":
		for i, w := range wnids {
			dir := filepath.Join(root, "train", w, "images")
			entries, err := os.ReadDir(dir)
			if err != nil {
				d.Skipped = append(d.Skipped, fmt.Sprintf("class %s: %v", w, err))
				continue
			}
			n := 0
			for _, e := range entries {
				if !e.IsDir() && imageExt(e.Name()) {
					paths = append(paths, filepath.Join(dir, e.Name()))
					labels = append(labels, i)
					n++
				}
			}
			if n == 0 {
				d.Skipped = append(d.Skipped, fmt.Sprintf("class %s (%s) has no images", w, dir))
			}
		}
	case "val", "test":
		anns, bad, err := readAnnotations(root)
		if err != nil {
			return nil, err
		}
		d.Skipped = append(d.Skipped, bad...)
		all := map[string]bool{}
		if ids, err := readWnids(filepath.Join(root, "wnids.txt")); err == nil {
			for _, w := range ids {
				all[w] = true
			}
		}
		for _, a := range anns {
			i, ok := label[a.wnid]
			if !ok {
				if len(all) > 0 && !all[a.wnid] {
					d.Skipped = append(d.Skipped, fmt.Sprintf("val_annotations.txt line %d: wnid %s is not in wnids.txt", a.line, a.wnid))
				}
				continue
			}
			p := filepath.Join(root, "val", "images", a.file)
			if _, err := os.Stat(p); err != nil {
				d.Skipped = append(d.Skipped, fmt.Sprintf("val_annotations.txt line %d names a missing file: %s", a.line, p))
				continue
			}
			paths = append(paths, p)
			labels = append(labels, i)
		}
	default:
		return nil, fmt.Errorf("train: tiny imagenet: unknown split %q (want train or val)", split)
	}
	d.addChecked(paths, labels, log)
	return d, nil
}

// tinyClasses returns the sorted class wnids: only, else wnids.txt, else
// the folders under train/.
func tinyClasses(root string, only []string) ([]string, error) {
	var ids []string
	switch {
	case len(only) > 0:
		ids = slices.Clone(only)
	default:
		var err error
		ids, err = readWnids(filepath.Join(root, "wnids.txt"))
		if os.IsNotExist(err) {
			entries, err2 := os.ReadDir(filepath.Join(root, "train"))
			if err2 != nil {
				return nil, fmt.Errorf("train: tiny imagenet %s: no wnids.txt and %v", root, err2)
			}
			for _, e := range entries {
				if e.IsDir() {
					ids = append(ids, e.Name())
				}
			}
		} else if err != nil {
			return nil, err
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 {
		return nil, fmt.Errorf("train: tiny imagenet %s: no classes", root)
	}
	for _, w := range ids {
		if w == "" || strings.ContainsAny(w, `/\`) || w == "." || w == ".." {
			return nil, fmt.Errorf("train: tiny imagenet: bad class id %q", w)
		}
	}
	return ids, nil
}

// readWnids reads wnids.txt: one id per non-empty line.
func readWnids(path string) ([]string, error) {
	var ids []string
	err := readLines(path, func(n int, line string) error {
		if line = strings.TrimSpace(line); line != "" {
			ids = append(ids, line)
		}
		return nil
	})
	return ids, err
}

// readWords reads words.txt into wnid -> first name; a missing file gives
// an empty map (the wnids are then the names).
func readWords(path string) (map[string]string, error) {
	words := map[string]string{}
	err := readLines(path, func(n int, line string) error {
		id, names, ok := strings.Cut(line, "\t")
		if !ok {
			return nil
		}
		name, _, _ := strings.Cut(names, ",")
		words[strings.TrimSpace(id)] = strings.TrimSpace(name)
		return nil
	})
	if os.IsNotExist(err) {
		return words, nil
	}
	return words, err
}

type annotation struct {
	line       int
	file, wnid string
}

// readAnnotations reads val/val_annotations.txt; malformed lines and file
// names that would leave val/images are returned as skip messages.
func readAnnotations(root string) ([]annotation, []string, error) {
	path := filepath.Join(root, "val", "val_annotations.txt")
	var anns []annotation
	var bad []string
	err := readLines(path, func(n int, line string) error {
		if strings.TrimSpace(line) == "" {
			return nil
		}
		f := strings.Split(line, "\t")
		if len(f) < 2 {
			bad = append(bad, fmt.Sprintf("val_annotations.txt line %d: want <file>\\t<wnid>..., got %q", n, line))
			return nil
		}
		file, wnid := strings.TrimSpace(f[0]), strings.TrimSpace(f[1])
		if file == "" || file != filepath.Base(file) || file == ".." || file == "." {
			bad = append(bad, fmt.Sprintf("val_annotations.txt line %d: bad file name %q", n, file))
			return nil
		}
		anns = append(anns, annotation{line: n, file: file, wnid: wnid})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return anns, bad, nil
}

// readLines calls fn for every line of a text file of at most
// maxTextFile bytes. A missing file returns an error satisfying
// os.IsNotExist.
func readLines(path string, fn func(n int, line string) error) error {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return err
		}
		return fmt.Errorf("train: %v", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > maxTextFile {
		return fmt.Errorf("train: %s is %d bytes (at most %d)", path, st.Size(), maxTextFile)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		if err := fn(n, sc.Text()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("train: %s line %d: %v", path, n+1, err)
	}
	return nil
}

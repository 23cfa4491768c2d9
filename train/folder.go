package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mavis-xai/mavis/nn"
)

// LoadFolder reads a folder per class, as Keras's
// image_dataset_from_directory does: the class names are the sorted names
// of the subfolders of root, and each class's samples are the image files
// (png, jpeg, gif, bmp) anywhere below its folder, in sorted path order.
// only, when not empty, keeps those subfolders. Every image is decoded once
// up front: an unreadable one is left out and reported in Skipped. A class
// folder without images is kept (the label order stays Keras's) and
// reported in Skipped too.
func LoadFolder(root string, only []string) (*Dataset, error) {
	return loadFolder(root, only, nil)
}

func loadFolder(root string, only []string, log io.Writer) (*Dataset, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("train: %v", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && (len(only) == 0 || slices.Contains(only, e.Name())) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	for _, c := range only {
		if !slices.Contains(names, c) {
			return nil, fmt.Errorf("train: %s has no class folder %q", root, c)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("train: %s has no class subfolders (want one folder per class)", root)
	}
	d := &Dataset{Source: root}
	var paths []string
	var labels []int
	for label, name := range names {
		d.Classes = append(d.Classes, nn.Class{ID: name, Name: name})
		var files []string
		err := filepath.WalkDir(filepath.Join(root, name), func(p string, e os.DirEntry, err error) error {
			if err != nil {
				d.Skipped = append(d.Skipped, fmt.Sprintf("%s: %v", p, err))
				return nil
			}
			if !e.IsDir() && imageExt(e.Name()) {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("train: %v", err)
		}
		slices.Sort(files)
		if len(files) == 0 {
			d.Skipped = append(d.Skipped, fmt.Sprintf("class %q (%s) has no images", name, filepath.Join(root, name)))
		}
		for _, f := range files {
			paths = append(paths, f)
			labels = append(labels, label)
		}
	}
	d.addChecked(paths, labels, log)
	return d, nil
}

// addChecked decodes every image (on all cores) and appends the readable
// ones to d, recording the others in d.Skipped.
func (d *Dataset) addChecked(paths []string, labels []int, log io.Writer) {
	errs := make([]error, len(paths))
	var wg sync.WaitGroup
	var done atomic.Int64
	workers := max(1, runtime.GOMAXPROCS(0))
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(paths); i += workers {
				_, errs[i] = decodeFile(paths[i])
				done.Add(1)
			}
		}()
	}
	if log != nil && len(paths) > 0 {
		start := time.Now()
		tick := time.NewTicker(5 * time.Second)
		finished := make(chan struct{})
		go func() { wg.Wait(); close(finished) }()
	wait:
		for {
			select {
			case <-finished:
				break wait
			case <-tick.C:
				fmt.Fprintf(log, "train: %s: checked %d of %d images (%s)\n", d.Source, done.Load(), len(paths), clock(time.Since(start)))
			}
		}
		tick.Stop()
	}
	wg.Wait()
	for i, p := range paths {
		if errs[i] != nil {
			d.Skipped = append(d.Skipped, fmt.Sprintf("unreadable image skipped: %v", errs[i]))
			continue
		}
		d.paths = append(d.paths, p)
		d.Labels = append(d.Labels, labels[i])
	}
}

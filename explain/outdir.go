package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// An image's folder is written whole or not at all. explain writes the
// maps into a hidden sibling (.NAME.partial) and moves it into place only
// when every file is written, replacing an earlier run's folder: so a
// failed or interrupted image leaves nothing half-written, and a folder
// never mixes the files of two runs (another -methods, -class or model).

// partialDir is where the maps of the image whose folder is dir are
// written until they are all there.
func partialDir(dir string) string {
	return filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".partial")
}

// checkOwnDir refuses to replace a folder explain did not write: one that
// holds anything but .npy, .png and report.json files, or lacks the
// probs.npy explain writes first. A missing or empty folder is fine.
func checkOwnDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(ents) == 0 {
		return nil
	}
	own := false
	for _, e := range ents {
		name := e.Name()
		ok := e.Type().IsRegular() && (strings.HasSuffix(name, ".npy") || strings.HasSuffix(name, ".png") || name == "report.json")
		if !ok {
			return fmt.Errorf("%s exists and holds %s, which explain did not write; give another -out, or move that folder", dir, name)
		}
		own = own || name == "probs.npy"
	}
	if !own {
		return fmt.Errorf("%s exists and has no probs.npy, so explain did not write it; give another -out, or move that folder", dir)
	}
	return nil
}

// writer moves finished folders into place and, on an interrupt, removes
// the one being written, says how far the run got and exits.
type writer struct {
	mu      sync.Mutex
	partial string // the folder being written, "" between images
	done    int    // images explained
	total   int
	out     string
}

// catchInterrupt makes the first interrupt (Ctrl-C, or SIGTERM) end the
// run at once without a partial folder; clear runs before the message.
// The returned function stops catching.
func (w *writer) catchInterrupt(stderr io.Writer, clear func()) (stop func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	quit := make(chan struct{})
	go func() {
		select {
		case <-sig:
		case <-quit:
			return
		}
		w.mu.Lock() // wait for a folder being moved into place
		if w.partial != "" {
			// The image goes on being written meanwhile: remove the
			// folder until it is gone (then the writes fail).
			for range 100 {
				if os.RemoveAll(w.partial) == nil {
					if _, err := os.Stat(w.partial); os.IsNotExist(err) {
						break
					}
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		clear()
		fmt.Fprintf(stderr, "explain: interrupted; %d of %d images explained into %s (the image in progress left nothing behind)\n", w.done, w.total, w.out)
		os.Exit(130)
	}()
	return func() {
		signal.Stop(sig)
		close(quit)
	}
}

// explain writes path's maps into dir through its partial folder.
func (w *writer) explain(j *job, path, dir string, bar *progress) error {
	if err := checkOwnDir(dir); err != nil {
		return err
	}
	tmp := partialDir(dir)
	if err := os.RemoveAll(tmp); err != nil { // left by an interrupted run
		return err
	}
	w.mu.Lock()
	w.partial = tmp
	w.mu.Unlock()
	err := os.Mkdir(tmp, 0o755)
	if err == nil {
		err = j.explainSafe(path, tmp, bar)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err == nil {
		err = replaceDir(tmp, dir)
	}
	if err != nil {
		os.RemoveAll(tmp)
	} else {
		w.done++
	}
	w.partial = ""
	return err
}

// replaceDir moves the folder tmp to dir, replacing dir's folder if there
// is one.
func replaceDir(tmp, dir string) error {
	old := filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".old")
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	if err := os.Rename(dir, old); err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.Rename(old, dir)
		return err
	}
	return os.RemoveAll(old)
}

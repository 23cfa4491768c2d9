package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ReorganiseReport counts what Reorganise did.
type ReorganiseReport struct {
	Copied   int      // files copied (and verified) into val/<wnid>/
	Already  int      // destination already held an identical copy
	Removed  int      // originals removed after verification (move mode)
	Problems []string // missing sources, conflicts, failed copies: nothing was lost
}

// Reorganise does what the original's script did: it puts every validation
// image listed in val/val_annotations.txt into a folder per class,
// val/<wnid>/<file>, so that a folder-per-class loader can read val/. It
// never loses a file: each copy is written to a temporary name, synced,
// read back and compared by SHA-256 before it is renamed into place; an
// existing different destination is a conflict and is left alone; with move
// set, an original is removed only after its copy verified. Missing files
// and every other problem are reported, and the remaining files processed.
func Reorganise(root string, move bool, log io.Writer) (ReorganiseReport, error) {
	var rep ReorganiseReport
	anns, bad, err := readAnnotations(root)
	if err != nil {
		return rep, err
	}
	rep.Problems = append(rep.Problems, bad...)
	for _, a := range anns {
		if a.wnid == "" || a.wnid != filepath.Base(a.wnid) || a.wnid == "." || a.wnid == ".." || a.wnid == "images" {
			rep.Problems = append(rep.Problems, fmt.Sprintf("line %d: bad wnid %q", a.line, a.wnid))
			continue
		}
		src := filepath.Join(root, "val", "images", a.file)
		dst := filepath.Join(root, "val", a.wnid, a.file)
		sum, err := fileSum(src)
		if err != nil {
			if os.IsNotExist(err) {
				if _, e2 := fileSum(dst); e2 == nil {
					rep.Already++ // moved by an earlier run
					continue
				}
				rep.Problems = append(rep.Problems, fmt.Sprintf("line %d: missing file %s", a.line, src))
			} else {
				rep.Problems = append(rep.Problems, fmt.Sprintf("line %d: %v", a.line, err))
			}
			continue
		}
		if have, err := fileSum(dst); err == nil {
			if !bytes.Equal(have, sum) {
				rep.Problems = append(rep.Problems, fmt.Sprintf("line %d: %s already exists with different content; left both alone", a.line, dst))
				continue
			}
			rep.Already++
		} else {
			if err := copyVerified(src, dst, sum); err != nil {
				rep.Problems = append(rep.Problems, fmt.Sprintf("line %d: %v", a.line, err))
				continue
			}
			rep.Copied++
		}
		if move {
			if err := os.Remove(src); err != nil {
				rep.Problems = append(rep.Problems, fmt.Sprintf("line %d: copied, but removing %s: %v", a.line, src, err))
				continue
			}
			rep.Removed++
		}
		if log != nil && (rep.Copied+rep.Already)%1000 == 0 {
			fmt.Fprintf(log, "reorganise: %d done\n", rep.Copied+rep.Already)
		}
	}
	if move {
		os.Remove(filepath.Join(root, "val", "images")) // only succeeds when empty
	}
	return rep, nil
}

// fileSum returns the SHA-256 of a file.
func fileSum(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// copyVerified copies src to dst through a synced temporary file, checks
// the copy's SHA-256 against sum and renames it into place.
func copyVerified(src, dst string, sum []byte) (err error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = io.Copy(tmp, in); err != nil {
		return fmt.Errorf("copying %s: %v", src, err)
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	got, err := fileSum(tmp.Name())
	if err != nil {
		return err
	}
	if !bytes.Equal(got, sum) {
		return fmt.Errorf("copy of %s does not match the original; not moved", src)
	}
	return os.Rename(tmp.Name(), dst)
}

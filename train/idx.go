package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mavis-xai/mavis/nn"
)

// IDX is the format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/):
// a big-endian header (two zero bytes, a type byte 0x08 for unsigned bytes,
// the number of dimensions, then each dimension as a uint32) followed by the
// data. Debian's dataset-fashion-mnist installs the four gzipped files under
// /usr/share/datasets/fashion-mnist.

// FashionClasses are Fashion-MNIST's ten classes in label order.
var FashionClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

const (
	maxIDXSamples = 1 << 24
	maxIDXSide    = 1 << 12
)

// findIDX returns the images file of a set ("train" or "t10k") in dir,
// gzipped or not.
func findIDX(dir, set string) (string, error) {
	for _, name := range []string{set + "-images-idx3-ubyte.gz", set + "-images-idx3-ubyte", set + "-images.idx3-ubyte"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("train: %s: no %s-images-idx3-ubyte[.gz]", dir, set)
}

// labelsPath returns the labels file that goes with an images file.
func labelsPath(images string) string {
	dir, base := filepath.Split(images)
	return filepath.Join(dir, strings.Replace(strings.Replace(base, "images-idx3", "labels-idx1", 1), "images.idx3", "labels.idx1", 1))
}

// LoadIDX reads an MNIST-style images file and its labels file. path is
// either the images file or a directory holding the sets; split picks the
// set in a directory: "train" (train-*) or "test"/"val"/"t10k" (t10k-*).
// Class names are Fashion-MNIST's when the path mentions "fashion", the
// digits otherwise.
func LoadIDX(path, split string) (*Dataset, error) {
	images := path
	if st, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("train: %v", err)
	} else if st.IsDir() {
		set := "train"
		switch split {
		case "", "train":
		case "test", "val", "t10k":
			set = "t10k"
		default:
			return nil, fmt.Errorf("train: idx: unknown set %q (want train or test)", split)
		}
		if images, err = findIDX(path, set); err != nil {
			return nil, err
		}
	}
	dims, pix, err := readIDX(images, 3)
	if err != nil {
		return nil, err
	}
	ldims, labels, err := readIDX(labelsPath(images), 1)
	if err != nil {
		return nil, err
	}
	if ldims[0] != dims[0] {
		return nil, fmt.Errorf("train: %s has %d images but %s has %d labels", images, dims[0], labelsPath(images), ldims[0])
	}
	names := FashionClasses
	if !strings.Contains(strings.ToLower(path), "fashion") {
		names = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	}
	d := &Dataset{Source: images, pix: pix, rows: dims[1], cols: dims[2], Labels: make([]int, dims[0])}
	for i, l := range labels {
		if int(l) >= len(names) {
			return nil, fmt.Errorf("train: %s: label %d of sample %d is not below %d", labelsPath(images), l, i, len(names))
		}
		d.Labels[i] = int(l)
	}
	for i, n := range names {
		d.Classes = append(d.Classes, nn.Class{ID: fmt.Sprint(i), Name: n})
	}
	return d, nil
}

// readIDX reads an unsigned-byte IDX file (gzipped when its name ends in
// .gz) with the given number of dimensions.
func readIDX(path string, ndim int) ([]int, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("train: %v", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		z, err := gzip.NewReader(f)
		if err != nil {
			return nil, nil, fmt.Errorf("train: %s: %v", path, err)
		}
		r = z
	}
	dims, data, err := decodeIDX(r, ndim)
	if err != nil {
		return nil, nil, fmt.Errorf("train: %s: %v", path, err)
	}
	return dims, data, nil
}

// decodeIDX reads an IDX stream. It never allocates more than the data
// actually present (a lying header cannot cause a huge allocation).
func decodeIDX(r io.Reader, ndim int) ([]int, []byte, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, nil, fmt.Errorf("idx header: %v", err)
	}
	if head[0] != 0 || head[1] != 0 {
		return nil, nil, fmt.Errorf("not an IDX file (magic %02x%02x%02x%02x)", head[0], head[1], head[2], head[3])
	}
	if head[2] != 0x08 {
		return nil, nil, fmt.Errorf("idx type 0x%02x, only unsigned bytes (0x08) are supported", head[2])
	}
	if int(head[3]) != ndim {
		return nil, nil, fmt.Errorf("idx has %d dimensions, want %d", head[3], ndim)
	}
	dims := make([]int, ndim)
	size := 1
	for i := range dims {
		var v uint32
		if err := binary.Read(r, binary.BigEndian, &v); err != nil {
			return nil, nil, fmt.Errorf("idx dimension %d: %v", i, err)
		}
		limit := maxIDXSide
		if i == 0 {
			limit = maxIDXSamples
		}
		if v < 1 || int64(v) > int64(limit) {
			return nil, nil, fmt.Errorf("idx dimension %d is %d (want 1..%d)", i, v, limit)
		}
		dims[i] = int(v)
		size *= int(v)
	}
	if size > 1<<31 {
		return nil, nil, fmt.Errorf("idx holds %d bytes (at most 2^31)", size)
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, int64(size)+1))
	if err != nil {
		return nil, nil, fmt.Errorf("idx data after %d bytes: %v", n, err)
	}
	if n < int64(size) {
		return nil, nil, fmt.Errorf("truncated: header says %v (%d bytes), file has %d", dims, size, n)
	}
	if n > int64(size) {
		return nil, nil, fmt.Errorf("idx has data past the %v declared by its header", dims)
	}
	return dims, buf.Bytes(), nil
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
)

// sampleEntry is one line of the page's samples/index.json.
type sampleEntry struct {
	File  string `json:"file"`
	Label string `json:"label"`
}

// ExportSamples writes, for each of the first n classes, the first sample
// of that class in d as a PNG named after the class ("ankle-boot.png"),
// plus index.json listing them for the page's gallery. IDX images are
// written at their own size and grey, exactly the pixels the model saw in
// the test set. Files are written atomically.
func ExportSamples(d *Dataset, dir string, n int) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("train: %v", err)
	}
	var index []sampleEntry
	var files []string
	for k, c := range d.Classes {
		if k == n {
			break
		}
		i := -1
		for j, l := range d.Labels {
			if l == k {
				i = j
				break
			}
		}
		if i < 0 {
			continue
		}
		img, err := d.Image(i)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			return nil, fmt.Errorf("train: encoding %s: %v", c.Name, err)
		}
		name := slug(c.Name) + ".png"
		if err := writeAtomic(filepath.Join(dir, name), b.Bytes()); err != nil {
			return nil, err
		}
		index = append(index, sampleEntry{File: name, Label: fmt.Sprintf("%s (test image %d)", c.Name, i)})
		files = append(files, name)
	}
	data, err := json.MarshalIndent(index, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("train: %v", err)
	}
	if err := writeAtomic(filepath.Join(dir, "index.json"), append(data, '\n')); err != nil {
		return nil, err
	}
	return files, nil
}

// slug turns a class name into a file name: lower case, runs of other
// characters as one hyphen ("T-shirt/top" -> "t-shirt-top").
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimSuffix(b.String(), "-")
	if out == "" {
		out = "class"
	}
	return out
}

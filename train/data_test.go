package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/nn"
)

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// greyPNG encodes a w x h grey image whose pixel (x, y) is v+x+y.
func greyPNG(t testing.TB, w, h int, v uint8) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetGray(x, y, color.Gray{Y: v + uint8(x+y)})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func rgbJPEG(t testing.TB, w, h int, c color.RGBA) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, 255
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestLoadFolder: classes are the sorted subfolder names (Keras), an
// unreadable image and an empty class folder are reported skips, and the
// images are found in nested folders.
func TestLoadFolder(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "cat", "a.png"), greyPNG(t, 8, 8, 10))
	writeFile(t, filepath.Join(root, "cat", "sub", "b.png"), greyPNG(t, 8, 8, 20))
	writeFile(t, filepath.Join(root, "cat", "notes.txt"), []byte("not an image"))
	writeFile(t, filepath.Join(root, "ant", "c.png"), greyPNG(t, 4, 6, 30))
	writeFile(t, filepath.Join(root, "ant", "broken.png"), []byte("\x89PNG\r\n\x1a\nthis is not a png"))
	if err := os.MkdirAll(filepath.Join(root, "dog"), 0o755); err != nil {
		t.Fatal(err)
	}
	d, err := Load(root, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range d.Classes {
		ids = append(ids, c.ID)
	}
	if want := []string{"ant", "cat", "dog"}; !slices.Equal(ids, want) {
		t.Errorf("classes %v, want %v", ids, want)
	}
	if want := []int{0, 1, 1}; !slices.Equal(d.Labels, want) {
		t.Errorf("labels %v, want %v", d.Labels, want)
	}
	if len(d.Skipped) != 2 {
		t.Fatalf("skipped %q, want 2 entries (the broken png, the empty class)", d.Skipped)
	}
	joined := strings.Join(d.Skipped, "\n")
	for _, want := range []string{"broken.png", `class "dog"`} {
		if !strings.Contains(joined, want) {
			t.Errorf("skips %q do not mention %s", d.Skipped, want)
		}
	}
	// Resized to the model input through nn.ImageInputTo: a 4x6 image to 2x2.
	x := nn.NewTensor(1, 2, 2, 1)
	if err := d.LoadTo(x, 0, 0, nn.Preprocess{Height: 2, Width: 2, Channels: 1, Color: "grey", Scale: "0..255", Resize: "bilinear", Crop: "none"}); err != nil {
		t.Fatal(err)
	}
	for _, v := range x.Data {
		if v < 30 || v > 30+3+5 {
			t.Errorf("resized pixel %v outside the source range [30, 38]", v)
		}
	}
	if _, err := Load(root, LoadOptions{Classes: []string{"cow"}}); err == nil || !strings.Contains(err.Error(), "cow") {
		t.Errorf("missing class folder: error %v, want one naming cow", err)
	}
	if _, err := Load(filepath.Join(root, "dog"), LoadOptions{}); err == nil || !strings.Contains(err.Error(), "no class subfolders") {
		t.Errorf("folder without classes: error %v", err)
	}
}

// tinyTree writes a small Tiny ImageNet tree: three classes of which one
// has no training images, val annotations naming a missing file, an
// unreadable file and a wnid outside wnids.txt.
func tinyTree(t *testing.T) string {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "wnids.txt"), []byte("n02\nn01\nn03\n"))
	writeFile(t, filepath.Join(root, "words.txt"), []byte("n01\tgoldfish, Carassius auratus\nn02\tEuropean fire salamander, Salamandra salamandra\nn03\ttailed frog\nn99\tunused\n"))
	for i, w := range []string{"n01", "n02"} {
		for k := range 3 {
			writeFile(t, filepath.Join(root, "train", w, "images", w+"_"+string(rune('0'+k))+".JPEG"), rgbJPEG(t, 8, 8, color.RGBA{uint8(100 * i), 50, 200, 255}))
		}
		writeFile(t, filepath.Join(root, "train", w, w+"_boxes.txt"), []byte("ignored"))
	}
	if err := os.MkdirAll(filepath.Join(root, "train", "n03", "images"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "val", "images", "val_0.JPEG"), rgbJPEG(t, 8, 8, color.RGBA{0, 50, 200, 255}))
	writeFile(t, filepath.Join(root, "val", "images", "val_1.JPEG"), rgbJPEG(t, 8, 8, color.RGBA{100, 50, 200, 255}))
	writeFile(t, filepath.Join(root, "val", "images", "val_2.JPEG"), []byte("truncated"))
	writeFile(t, filepath.Join(root, "val", "images", "val_4.JPEG"), rgbJPEG(t, 8, 8, color.RGBA{0, 0, 0, 255}))
	writeFile(t, filepath.Join(root, "val", "val_annotations.txt"), []byte(
		"val_0.JPEG\tn01\t0\t0\t8\t8\n"+
			"val_1.JPEG\tn02\t0\t0\t8\t8\n"+
			"val_2.JPEG\tn01\t0\t0\t8\t8\n"+
			"val_3.JPEG\tn02\t0\t0\t8\t8\n"+
			"val_4.JPEG\tn77\t0\t0\t8\t8\n"+
			"garbage line\n"+
			"../escape.JPEG\tn01\t0\t0\t8\t8\n"))
	return root
}

func TestLoadTinyImageNet(t *testing.T) {
	root := tinyTree(t)
	tr, err := Load(root, LoadOptions{Split: "train"})
	if err != nil {
		t.Fatal(err)
	}
	want := []nn.Class{{ID: "n01", Name: "goldfish"}, {ID: "n02", Name: "European fire salamander"}, {ID: "n03", Name: "tailed frog"}}
	if !slices.Equal(tr.Classes, want) {
		t.Errorf("classes %v, want %v", tr.Classes, want)
	}
	if tr.Len() != 6 || !slices.Equal(tr.Counts(), []int{3, 3, 0}) {
		t.Errorf("train: %d samples, counts %v; want 6, [3 3 0]", tr.Len(), tr.Counts())
	}
	if len(tr.Skipped) != 1 || !strings.Contains(tr.Skipped[0], "n03") {
		t.Errorf("train skips %q, want the empty class n03", tr.Skipped)
	}

	val, err := Load(root, LoadOptions{Split: "val"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(val.Labels, []int{0, 1}) {
		t.Errorf("val labels %v, want [0 1]", val.Labels)
	}
	joined := strings.Join(val.Skipped, "\n")
	for _, w := range []string{"val_2.JPEG", "missing file", "n77", "line 6", "escape"} {
		if !strings.Contains(joined, w) {
			t.Errorf("val skips do not mention %q:\n%s", w, joined)
		}
	}
	if len(val.Skipped) != 5 {
		t.Errorf("val: %d skips, want 5:\n%s", len(val.Skipped), joined)
	}

	// The original's five-class selection: only those wnids, sorted.
	sub, err := Load(root, LoadOptions{Split: "train", Classes: []string{"n02", "n01"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(sub.Classes) != 2 || sub.Classes[0].ID != "n01" || sub.Len() != 6 {
		t.Errorf("subset: classes %v, %d samples", sub.Classes, sub.Len())
	}
	if _, err := Load(root, LoadOptions{Split: "train", Classes: []string{"../x"}}); err == nil {
		t.Errorf("class id ../x accepted")
	}
}

// TestReorganise copies (and with -move moves) validation images into
// val/<wnid>/, reports the missing file, leaves a conflicting destination
// alone, and is idempotent.
func TestReorganise(t *testing.T) {
	root := tinyTree(t)
	// A conflicting destination for val_1.
	writeFile(t, filepath.Join(root, "val", "n02", "val_1.JPEG"), []byte("someone else's file"))
	rep, err := Reorganise(root, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	// val_0 (n01), val_2 (n01, unreadable but copied as bytes), val_4 (n77) copied;
	// val_1 conflicts; val_3 missing; two malformed lines.
	if rep.Copied != 3 || rep.Removed != 0 || len(rep.Problems) != 4 {
		t.Errorf("copy run: %+v", rep)
	}
	joined := strings.Join(rep.Problems, "\n")
	for _, w := range []string{"missing file", "val_3.JPEG", "different content"} {
		if !strings.Contains(joined, w) {
			t.Errorf("problems do not mention %q:\n%s", w, joined)
		}
	}
	for _, p := range []string{"val/images/val_0.JPEG", "val/n01/val_0.JPEG", "val/n77/val_4.JPEG"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("after copying: %v", err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(root, "val", "n02", "val_1.JPEG")); string(b) != "someone else's file" {
		t.Errorf("conflicting destination was overwritten")
	}
	// Move: verified copies exist, so the originals go; the conflict stays.
	rep, err = Reorganise(root, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Copied != 0 || rep.Already != 3 || rep.Removed != 3 {
		t.Errorf("move run: %+v", rep)
	}
	if _, err := os.Stat(filepath.Join(root, "val", "images", "val_0.JPEG")); !os.IsNotExist(err) {
		t.Errorf("val_0 original still there after -move")
	}
	if _, err := os.Stat(filepath.Join(root, "val", "images", "val_1.JPEG")); err != nil {
		t.Errorf("the conflicting file's original was removed: %v", err)
	}
	// Again: nothing to do, nothing lost.
	rep, err = Reorganise(root, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Copied != 0 || rep.Removed != 0 || rep.Already != 3 {
		t.Errorf("third run: %+v", rep)
	}
	// The folder loader reads the reorganised classes.
	d, err := LoadFolder(filepath.Join(root, "val"), []string{"n01"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 1 || len(d.Skipped) != 1 {
		t.Errorf("reading val/n01: %d samples, skips %q; want 1 and the unreadable val_2", d.Len(), d.Skipped)
	}
}

// idxBytes encodes an unsigned-byte IDX file.
func idxBytes(dims []int, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

func gz(data []byte) []byte {
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	z.Write(data)
	z.Close()
	return b.Bytes()
}

func TestLoadIDX(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fashion-mnist")
	pix := make([]byte, 3*2*2)
	for i := range pix {
		pix[i] = byte(i * 20)
	}
	writeFile(t, filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), gz(idxBytes([]int{3, 2, 2}, pix)))
	writeFile(t, filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"), gz(idxBytes([]int{3}, []byte{9, 0, 3})))
	d, err := Load(dir, LoadOptions{Split: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 3 || !slices.Equal(d.Labels, []int{9, 0, 3}) || d.Classes[9].Name != "Ankle boot" {
		t.Fatalf("got %d samples, labels %v, classes %v", d.Len(), d.Labels, d.Classes)
	}
	p := nn.Preprocess{Height: 2, Width: 2, Channels: 1, Color: "grey", Scale: "0..1", Resize: "bilinear", Crop: "none"}
	x := nn.NewTensor(3, 2, 2, 1)
	if err := d.LoadTo(x, 1, 1, p); err != nil {
		t.Fatal(err)
	}
	// The direct IDX path equals the general image path (nn.ImageInputTo).
	img, _ := d.Image(1)
	y := nn.NewTensor(1, 2, 2, 1)
	if err := nn.ImageInputTo(y, 0, img, p); err != nil {
		t.Fatal(err)
	}
	want := []float32{80.0 / 255, 100.0 / 255, 120.0 / 255, 140.0 / 255}
	for i, v := range x.Sample(1) {
		if v != y.Data[i] || v != want[i] {
			t.Errorf("pixel %d: idx path %v, image path %v, want %v", i, v, y.Data[i], want[i])
		}
	}
	if _, err := Load(dir, LoadOptions{Split: "train"}); err == nil || !strings.Contains(err.Error(), "train-images") {
		t.Errorf("missing train set: error %v", err)
	}
}

// TestIDXBadInputs: each broken file gives a clear error, never a panic or
// a huge allocation.
func TestIDXBadInputs(t *testing.T) {
	good := idxBytes([]int{2, 2, 2}, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	for _, tt := range []struct {
		name string
		data []byte
		gzip bool
		want string
	}{
		{"truncated data", good[:len(good)-3], false, "truncated: header says [2 2 2] (8 bytes), file has 5"},
		{"truncated gzip", gz(good)[:20], true, "unexpected EOF"},
		{"truncated header", good[:6], false, "idx dimension 0"},
		{"empty", nil, false, "idx header"},
		{"bad magic", append([]byte{1, 2}, good[2:]...), false, "not an IDX file"},
		{"float type", append([]byte{0, 0, 0x0d}, good[3:]...), false, "only unsigned bytes"},
		{"wrong rank", idxBytes([]int{8}, good[:8]), false, "1 dimensions, want 3"},
		{"huge header", idxBytes([]int{1 << 24, 4096, 4096}, nil), false, "at most 2^31"},
		{"zero dimension", idxBytes([]int{0, 2, 2}, nil), false, "dimension 0 is 0"},
		{"trailing data", append(slices.Clone(good), 9), false, "past the"},
		{"not gzip", good, true, "gzip"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			name := "x-images-idx3-ubyte"
			if tt.gzip {
				name += ".gz"
			}
			path := filepath.Join(t.TempDir(), name)
			writeFile(t, path, tt.data)
			_, _, err := readIDX(path, 3)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "train: ") {
				t.Errorf("error %q lacks the train: prefix", err)
			}
		})
	}
	// A label past the class list.
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "train-images-idx3-ubyte"), good)
	writeFile(t, filepath.Join(dir, "train-labels-idx1-ubyte"), idxBytes([]int{2}, []byte{1, 12}))
	if _, err := LoadIDX(dir, "train"); err == nil || !strings.Contains(err.Error(), "label 12 of sample 1") {
		t.Errorf("bad label: error %v", err)
	}
	writeFile(t, filepath.Join(dir, "train-labels-idx1-ubyte"), idxBytes([]int{3}, []byte{1, 2, 3}))
	if _, err := LoadIDX(dir, "train"); err == nil || !strings.Contains(err.Error(), "2 images but") {
		t.Errorf("count mismatch: error %v", err)
	}
}

func FuzzDecodeIDX(f *testing.F) {
	f.Add(idxBytes([]int{2, 2, 2}, []byte{1, 2, 3, 4, 5, 6, 7, 8}))
	f.Add(idxBytes([]int{1 << 24, 4096, 4096}, nil))
	f.Add([]byte{0, 0, 8, 3, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		dims, pix, err := decodeIDX(bytes.NewReader(data), 3)
		if err != nil {
			return
		}
		if len(pix) != dims[0]*dims[1]*dims[2] {
			t.Errorf("dims %v but %d bytes", dims, len(pix))
		}
	})
}

package nn

import (
	"image"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/nn/imagefile"
)

// TestRowsInput holds RowsInput, given an image in bands of rows, to
// ImageInputTo given the whole image, bit for bit: on each resize kernel
// this build has (the rows streamed through the resize) and on none (the
// rows kept whole), for shrinking and enlarging, every filter, RGB and
// grey, both scales, a centre crop and an image of the input's own size,
// pixels opaque, translucent and transparent, and bands of one row, a few
// rows and the whole image.
func TestRowsInput(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 7))
	rgb := Preprocess{Height: 224, Width: 224, Channels: 3, Color: "rgb", Scale: "0..255", Resize: "bilinear"}
	preps := []struct {
		name   string
		p      Preprocess
		stream bool // whether the rows stream through resize8 on its kernels (a crop only of a square image)
	}{
		{"rgb bilinear", rgb, true},
		{"grey 0..1 bicubic 28x28", Preprocess{Height: 28, Width: 28, Channels: 1, Color: "grey", Scale: "0..1", Resize: "bicubic"}, true},
		{"rgb lanczos3 17x9", Preprocess{Height: 9, Width: 17, Channels: 3, Color: "rgb", Scale: "0..1", Resize: "lanczos3"}, true},
		{"rgb nearest", Preprocess{Height: 24, Width: 24, Channels: 3, Color: "rgb", Scale: "0..255", Resize: "nearest"}, false},
		{"rgb centre crop", Preprocess{Height: 32, Width: 32, Channels: 3, Color: "rgb", Scale: "0..255", Resize: "bilinear", Crop: "center"}, false}, // but a square one streams
	}
	sizes := [][2]int{{451, 300}, {300, 451}, {7, 5}, {1, 1}, {1000, 3}, {224, 224}, {28, 28}, {9, 17}, {17, 9}, {64, 64}}
	kernels := testResizeKernels()
	kernels["none"] = nil
	for _, sz := range sizes {
		w, h := sz[0], sz[1]
		for _, kind := range []string{"opaque", "translucent", "mixed"} {
			img := image.NewNRGBA(image.Rect(0, 0, w, h))
			for i := range img.Pix {
				img.Pix[i] = uint8(r.IntN(256))
			}
			for y := range h {
				for x := range w {
					a := &img.Pix[img.PixOffset(x, y)+3]
					switch {
					case kind == "opaque", kind == "mixed" && y%3 != 0:
						*a = 255
					case x%5 == 0:
						*a = 0
					}
				}
			}
			for _, pp := range preps {
				p := pp.p
				want := NewTensor(1, p.Height, p.Width, p.Channels)
				if err := ImageInputTo(want, 0, img, p); err != nil {
					t.Fatal(err)
				}
				for kn, k := range kernels {
					for _, band := range []int{1, 1 + r.IntN(7), h} {
						what := sprintf("%dx%d %s, %s, %s kernels, bands of %d rows", w, h, kind, pp.name, kn, band)
						in, err := newRowsInput(w, h, p, k)
						if err != nil {
							t.Fatalf("%s: %v", what, err)
						}
						streams := (pp.stream || p.Crop == "center" && w == h) && k != nil && (w != p.Width || h != p.Height)
						if (in.rs != nil) != streams || (in.whole != nil) == streams {
							t.Fatalf("%s: streamed %v, want %v", what, in.rs != nil, streams)
						}
						for y := 0; y < h; y += band {
							if err := in.Add(img.Pix[y*img.Stride : min(y+band, h)*img.Stride]); err != nil {
								t.Fatalf("%s: %v", what, err)
							}
						}
						got := NewTensor(1, p.Height, p.Width, p.Channels)
						if err := in.To(got, 0); err != nil {
							t.Fatalf("%s: %v", what, err)
						}
						for i := range want.Data {
							if math.Float32bits(got.Data[i]) != math.Float32bits(want.Data[i]) {
								t.Fatalf("%s: value %d is %v, ImageInputTo gives %v", what, i, got.Data[i], want.Data[i])
							}
						}
					}
				}
			}
		}
	}
}

// TestRowsInputErrors: rows that do not fit the image, an input asked for
// before its last row, an image over MaxImagePixels (refused before any
// pixel memory is allocated) and a tensor model.
func TestRowsInputErrors(t *testing.T) {
	p := Preprocess{Height: 4, Width: 4, Channels: 3, Color: "rgb", Scale: "0..255"}
	for kn, k := range map[string]*resizeKernels{"go": resizeKernelsGo, "none": nil} {
		in, err := newRowsInput(3, 2, p, k)
		if err != nil {
			t.Fatal(err)
		}
		x := NewTensor(1, 4, 4, 3)
		for _, tt := range []struct {
			rows []uint8
			want string
		}{
			{make([]uint8, 11), "11 bytes after 0 of 2 rows of 3 pixels"},
			{make([]uint8, 36), "36 bytes after 0 of 2 rows of 3 pixels"},
		} {
			if err := in.Add(tt.rows); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s kernels: Add(%d bytes): %v, want %q", kn, len(tt.rows), err, tt.want)
			}
		}
		if err := in.Add(make([]uint8, 12)); err != nil {
			t.Fatal(err)
		}
		if err := in.To(x, 0); err == nil || !strings.Contains(err.Error(), "1 of 2 rows given") {
			t.Errorf("%s kernels: To after 1 of 2 rows: %v", kn, err)
		}
		if err := in.Add(make([]uint8, 24)); err == nil || !strings.Contains(err.Error(), "24 bytes after 1 of 2 rows") {
			t.Errorf("%s kernels: Add past the last row: %v", kn, err)
		}
	}
	var err error
	n := allocated(func() { _, err = NewRowsInput(8000, 6251, p) })
	if err == nil || !strings.Contains(err.Error(), "8000x6251 is 50.0 megapixels, over the 50-megapixel limit; scale the picture down") {
		t.Errorf("NewRowsInput(8000, 6251): %v", err)
	}
	if n > 1<<16 {
		t.Errorf("NewRowsInput(8000, 6251) allocated %d bytes before refusing it", n)
	}
	if _, err := NewRowsInput(0, 5, p); err == nil || !strings.Contains(err.Error(), "empty image") {
		t.Errorf("NewRowsInput(0, 5): %v", err)
	}
	if _, err := NewRowsInput(5, 5, Preprocess{Height: 4, Width: 4, Channels: 3, Color: "none", Scale: "0..255"}); err == nil || !strings.Contains(err.Error(), "not RGB or grey images") {
		t.Errorf("NewRowsInput for a tensor model: %v", err)
	}
}

// TestMaxPixels: the page refuses no picture the commands take, and the
// commands none the page takes.
func TestMaxPixels(t *testing.T) {
	if MaxImagePixels != imagefile.MaxPixels {
		t.Errorf("nn.MaxImagePixels %d, imagefile.MaxPixels %d: the page and the commands would take different pictures", MaxImagePixels, imagefile.MaxPixels)
	}
}

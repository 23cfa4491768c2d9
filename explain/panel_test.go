package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/xai"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestBarLabels(t *testing.T) {
	for _, tt := range []struct {
		s            xai.Scale
		below, above bool
		want         []barLabel
	}{
		{xai.Scale{Lo: 0, Hi: 0.0456}, false, true, []barLabel{{">=0.0456", 0}, {"0", 1}}},
		{xai.Scale{Lo: -0.139, Hi: 0.139}, true, true, []barLabel{{">=0.139", 0}, {"<=-0.139", 1}, {"0", 0.5}}},
		{xai.Scale{Lo: 0, Hi: 1.55}, false, false, []barLabel{{"1.55", 0}, {"0", 1}}},
		{xai.Scale{Lo: -1, Hi: 3}, false, false, []barLabel{{"3", 0}, {"-1", 1}, {"0", 0.75}}},
		{xai.Scale{Lo: 0, Hi: 0.000682}, false, true, []barLabel{{">=0.000682", 0}, {"0", 1}}},
		{xai.Scale{Lo: 0, Hi: 6.8e-06}, false, true, []barLabel{{">=6.8e-06", 0}, {"0", 1}}},
		{xai.Scale{}, false, false, []barLabel{{"all 0", 1}}},
	} {
		if got := barLabels(tt.s, tt.below, tt.above); !slices.Equal(got, tt.want) {
			t.Errorf("barLabels(%v, %v, %v) = %v, want %v", tt.s, tt.below, tt.above, got, tt.want)
		}
	}
	if got := ascii("Gradient × Input −2 – é"); got != "Gradient x Input -2 - ?" {
		t.Errorf("ascii: %q", got)
	}
}

// TestPanelGolden runs the command on a 24x24 model and image and holds
// each panel's title, colour bar and values to a readable golden file in
// testdata/: the panel as characters (' ' white, '#' black: the text and
// the ticks, '+' any other colour: the images and the bar), then the bar's
// colours top to bottom. go test ./explain -run TestPanelGolden -update
// rewrites them.
func TestPanelGolden(t *testing.T) {
	dir := t.TempDir()
	model, _ := tinyModelSized(t, dir, "tiny24", 24)
	img := filepath.Join(dir, "a.png")
	writeTestImage(t, img, 24, 24)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-model", model, "-methods", "gradcam,saliency,ig", "-ig-steps", "8", "-out", dir, img}, &stdout, &stderr); code != 0 {
		t.Fatalf("status %d: %s", code, stderr.String())
	}
	for _, method := range []string{"gradcam", "saliency", "ig"} {
		f, err := os.Open(filepath.Join(dir, "a", method+"_panel.png"))
		if err != nil {
			t.Fatal(err)
		}
		p, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		got := panelText(p, 24)
		path := filepath.Join("testdata", "panel_"+method+".txt")
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./explain -run TestPanelGolden -update to create it)", err)
		}
		if got != string(want) {
			gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
			for i := range min(len(gl), len(wl)) {
				if gl[i] != wl[i] {
					t.Fatalf("%s: line %d differs:\ngot  %q\nwant %q\n(the panel as text:\n%s)", path, i+1, gl[i], wl[i], got)
				}
			}
			t.Fatalf("%s: %d lines, want %d", path, len(gl), len(wl))
		}
	}
}

// panelText writes a panel as text: its size, one line per row (' '
// white, '#' black, '+' other; trailing spaces cut), then the colour bar's
// colour per row (skipping the white and black of the title above it), for input tiles of w x w pixels.
func panelText(img image.Image, w int) string {
	var b strings.Builder
	r := img.Bounds()
	fmt.Fprintf(&b, "%dx%d\n", r.Dx(), r.Dy())
	barX := r.Min.X + xai.PanelOptions{}.Layout(image.Pt(w, w)).Bar.Min.X
	for y := r.Min.Y; y < r.Max.Y; y++ {
		var line []byte
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			switch {
			case cr == 0xffff && cg == 0xffff && cb == 0xffff:
				line = append(line, ' ')
			case cr == 0 && cg == 0 && cb == 0:
				line = append(line, '#')
			default:
				line = append(line, '+')
			}
		}
		s := strings.TrimRight(string(line), " ")
		b.WriteString(s)
		b.WriteByte('\n')
	}
	b.WriteString("bar colours, top to bottom:\n")
	for y := r.Min.Y; y < r.Max.Y; y++ {
		cr, cg, cb, _ := img.At(barX, y).RGBA()
		if cr == 0xffff && cg == 0xffff && cb == 0xffff || cr == 0 && cg == 0 && cb == 0 { // background, title text
			continue
		}
		fmt.Fprintf(&b, "%02x%02x%02x\n", cr>>8, cg>>8, cb>>8)
	}
	return b.String()
}

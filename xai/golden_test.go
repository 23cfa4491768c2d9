package xai

import (
	"flag"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestPanelGolden renders the GAP model's class-0 Grad-CAM as a panel over
// a tiny input and compares it, pixel by pixel, with a readable text
// golden file (one line per row, RRGGBB per pixel; the png .sng idea).
func TestPanelGolden(t *testing.T) {
	ex := New(gapModel(t))
	x := input(4, 4, 1, gapInput...)
	r, err := ex.GradCAM(x, CAMOptions{Target: Target{Class: 0}})
	if err != nil {
		t.Fatal(err)
	}
	orig := InputImage(x, ex.Model.Preprocess)
	for _, tt := range []struct {
		name string
		cm   *Colormap
	}{{"panel_gradcam_jet.txt", Jet}, {"panel_gradcam_viridis.txt", Viridis}} {
		img, flat := Panel(orig, r.Raw, PanelOptions{Colormap: tt.cm, Gap: 2})
		if flat {
			t.Fatal("flat")
		}
		got := sng(img)
		path := filepath.Join("testdata", tt.name)
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestPanelGolden ./xai -update to create it)", err)
		}
		if got != string(want) {
			gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
			for i := range min(len(gl), len(wl)) {
				if gl[i] != wl[i] {
					t.Fatalf("%s: line %d differs:\ngot  %s\nwant %s", tt.name, i+1, gl[i], wl[i])
				}
			}
			t.Fatalf("%s: %d lines, want %d", tt.name, len(gl), len(wl))
		}
	}
}

// sng writes an image as text: its size, then one line per row of RRGGBB
// values.
func sng(img *image.RGBA) string {
	var b strings.Builder
	r := img.Bounds()
	fmt.Fprintf(&b, "%dx%d\n", r.Dx(), r.Dy())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := img.RGBAAt(x, y)
			if x > r.Min.X {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%02x%02x%02x", c.R, c.G, c.B)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// FuzzParsers: the option parsers return a value or an error for any
// text, never panic, and accept what they print.
func FuzzParsers(f *testing.F) {
	for _, s := range []string{"logit", "probability", "linspace", "gauss-legendre", "trapezoid", "black", "blur", "noise", "white", "", "\x00", "GAUSS"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if k, err := ParseScore(s); err == nil {
			if k2, err := ParseScore(k.String()); err != nil || k2 != k {
				t.Errorf("score %q: %v does not round-trip", s, k)
			}
		}
		if r, err := ParseRule(s); err == nil {
			if r2, err := ParseRule(r.String()); err != nil || r2 != r {
				t.Errorf("rule %q: %v does not round-trip", s, r)
			}
		}
		if b, err := ParseBaseline(s); err == nil {
			if b2, err := ParseBaseline(b.Kind.String()); err != nil || b2.Kind != b.Kind {
				t.Errorf("baseline %q: %v does not round-trip", s, b)
			}
		}
		ColormapByName(s)
	})
}

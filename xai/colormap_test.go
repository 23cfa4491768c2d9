package xai

import (
	"bufio"
	"fmt"
	"image/color"
	"math"
	"os"
	"strings"
	"testing"
)

// TestColormapTables holds viridis, magma and inferno, all 256 entries of
// LUT, to d3-scale-chromatic's independent transcription of matplotlib's
// tables (testdata/d3_ramps.txt).
func TestColormapTables(t *testing.T) {
	f, err := os.Open("testdata/d3_ramps.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string][]string{}
	name := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#"):
		case !strings.Contains(line, " "):
			name = line
		default:
			want[name] = append(want[name], strings.Fields(line)...)
		}
	}
	for _, cm := range []*Colormap{Viridis, Magma, Inferno} {
		w := want[cm.Name]
		if len(w) != 256 {
			t.Fatalf("%s: %d reference colours, want 256", cm.Name, len(w))
		}
		lut := cm.LUT()
		bad := 0
		for i := range 256 {
			got := fmt.Sprintf("%02x%02x%02x", lut[4*i], lut[4*i+1], lut[4*i+2])
			if got != w[i] || lut[4*i+3] != 255 {
				bad++
				t.Errorf("%s entry %d: got %s, want %s", cm.Name, i, got, w[i])
			}
			// At hits the table at v = i/255.
			if c := cm.At(float64(i) / 255); c != (color.RGBA{lut[4*i], lut[4*i+1], lut[4*i+2], 255}) {
				t.Errorf("%s.At(%d/255) = %v, LUT %v", cm.Name, i, c, lut[4*i:4*i+4])
			}
		}
		if bad > 3 {
			t.Fatalf("%s: %d entries differ", cm.Name, bad)
		}
	}
}

// TestTurboPolynomial holds turbo's table to Google's published
// polynomial approximation of it (Ruofei Du's GLSL colormap_turbo beside
// Mikhailov's table, Apache-2.0: a degree-5 polynomial per channel).
func TestTurboPolynomial(t *testing.T) {
	poly := func(x float64) [3]float64 {
		v4 := [4]float64{1, x, x * x, x * x * x}
		v2 := [2]float64{v4[2] * v4[2], v4[3] * v4[2]}
		dot := func(a [4]float64, b [2]float64) float64 {
			return 255 * (v4[0]*a[0] + v4[1]*a[1] + v4[2]*a[2] + v4[3]*a[3] + v2[0]*b[0] + v2[1]*b[1])
		}
		return [3]float64{
			dot([4]float64{0.13572138, 4.61539260, -42.66032258, 132.13108234}, [2]float64{-152.94239396, 59.28637943}),
			dot([4]float64{0.09140261, 2.19418839, 4.84296658, -14.18503333}, [2]float64{4.27729857, 2.82956604}),
			dot([4]float64{0.10667330, 12.64194608, -60.58204836, 110.36276771}, [2]float64{-89.90310912, 27.34824973}),
		}
	}
	lut := Turbo.LUT()
	var worst, sum float64
	for i := range 256 {
		p := poly(float64(i) / 255)
		for c := range 3 {
			d := math.Abs(math.Min(math.Max(p[c], 0), 255) - float64(lut[4*i+c]))
			worst, sum = max(worst, d), sum+d
		}
	}
	// Measured: mean 6.29, worst 31.80 (blue at 0, where the polynomial
	// is 27 and the table 59: the fit is loosest at the ends). The table
	// reversed is off by a mean of 111, with red and blue swapped by 101.
	if mean := sum / (3 * 256); mean > 7 || worst > 32 {
		t.Errorf("turbo: difference from the polynomial: mean %.2f, largest %.2f; want at most 7 and 32", mean, worst)
	}
	for _, tt := range []struct {
		i    int
		want string
	}{{0, "30123b"}, {255, "7a0403"}} { // the published table's ends: (0.18995, 0.07176, 0.23217), (0.47960, 0.01583, 0.01055)
		if got := fmt.Sprintf("%02x%02x%02x", lut[4*tt.i], lut[4*tt.i+1], lut[4*tt.i+2]); got != tt.want {
			t.Errorf("turbo entry %d: got %s, want %s", tt.i, got, tt.want)
		}
	}
}

// TestColormapSegments: the segmented colormaps at hand-worked points of
// matplotlib's definitions.
func TestColormapSegments(t *testing.T) {
	for _, tt := range []struct {
		cm   *Colormap
		i    int // LUT entry, v = i/255
		want string
	}{
		{Jet, 0, "000080"},   // (0, 0, 0.5)
		{Jet, 255, "800000"}, // (0.5, 0, 0)
		// v = 128/255 = 0.50196: r (v − 0.35)/0.31 = 0.4902, g 1, b (0.65 − v)/0.31 = 0.4775
		{Jet, 128, "7dff7a"},
		{Hot, 0, "0b0000"},   // 0.0416
		{Hot, 255, "ffffff"}, // white
		// v = 93/255 = 0.36471 < 0.365079: r 0.0416 + 0.9584·v/0.365079 = 0.99903, g 0
		{Hot, 93, "ff0000"},
		{Grey, 0, "000000"}, {Grey, 100, "646464"}, {Grey, 255, "ffffff"},
		{Coolwarm, 0, "3b4cc0"},   // Moreland's ends (59, 76, 192) and (180, 4, 38)
		{Coolwarm, 255, "b40426"}, // (0.705673158, 0.01555616, 0.150232812)
		{RdBuR, 0, "053061"}, {RdBuR, 255, "67001f"},
		// v = 51/255 = 0.2: ColorBrewer's third colour #4393c3 exactly
		{RdBuR, 51, "4393c3"},
	} {
		lut := tt.cm.LUT()
		if got := fmt.Sprintf("%02x%02x%02x", lut[4*tt.i], lut[4*tt.i+1], lut[4*tt.i+2]); got != tt.want {
			t.Errorf("%s entry %d: got %s, want %s", tt.cm.Name, tt.i, got, tt.want)
		}
	}
	// The diverging maps are neutral in the middle: the mean of entries
	// 127 and 128 is grey within a few units (coolwarm's #dddddd, RdBu's
	// #f7f7f7).
	for _, tt := range []struct {
		cm   *Colormap
		want uint8
	}{{Coolwarm, 0xdd}, {RdBuR, 0xf7}} {
		if !tt.cm.Diverging {
			t.Errorf("%s: not marked diverging", tt.cm.Name)
		}
		c := tt.cm.At(0.5)
		for _, v := range []uint8{c.R, c.G, c.B} {
			if d := int(v) - int(tt.want); d < -4 || d > 4 {
				t.Errorf("%s.At(0.5) = %v, want near grey %#x", tt.cm.Name, c, tt.want)
			}
		}
	}
}

func TestColormapList(t *testing.T) {
	seen := map[string]bool{}
	var names []string
	for _, cm := range Colormaps() {
		if cm.Name == "" || cm.Label == "" || seen[cm.Name] {
			t.Errorf("colormap %+v: empty or duplicate name or label", cm)
		}
		seen[cm.Name] = true
		names = append(names, cm.Name)
		if got, err := ColormapByName(strings.ToUpper(cm.Name)); err != nil || got != cm {
			t.Errorf("ColormapByName(%q) = %v, %v", cm.Name, got, err)
		}
		if len(cm.LUT()) != 1024 {
			t.Errorf("%s: LUT of %d bytes", cm.Name, len(cm.LUT()))
		}
	}
	for _, n := range []string{"viridis", "inferno", "magma", "jet", "turbo", "grey", "hot", "rdbu_r", "coolwarm"} {
		if !seen[n] {
			t.Errorf("colormap %s missing from %v", n, names)
		}
	}
	if cm, err := ColormapByName("Gray"); err != nil || cm != Grey {
		t.Errorf("ColormapByName(Gray) = %v, %v", cm, err)
	}
	if _, err := ColormapByName("parula"); err == nil || !strings.Contains(err.Error(), "viridis") {
		t.Errorf("ColormapByName(parula): %v, want an error listing the colormaps", err)
	}
}

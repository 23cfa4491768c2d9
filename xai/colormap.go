package xai

import (
	"image/color"
	"math"
	"slices"
	"strings"
)

// Colormap maps [0, 1] to colours by piecewise-linear interpolation of
// each channel between anchor points, as matplotlib's
// LinearSegmentedColormap does.
type Colormap struct {
	Name    string
	R, G, B []Anchor // ascending X from 0 to 1
}

// Anchor is one point (X, Y) of a channel's curve, both in [0, 1].
type Anchor struct{ X, Y float64 }

// At returns the colour for v, clamped to [0, 1]; NaN gives At(0).
func (cm *Colormap) At(v float64) color.RGBA {
	if !(v > 0) {
		v = 0
	}
	v = min(v, 1)
	return color.RGBA{channel(cm.R, v), channel(cm.G, v), channel(cm.B, v), 255}
}

func channel(a []Anchor, v float64) uint8 {
	i := 1
	for i < len(a)-1 && a[i].X < v {
		i++
	}
	p, q := a[i-1], a[i]
	y := p.Y
	if q.X > p.X {
		y = p.Y + (q.Y-p.Y)*(v-p.X)/(q.X-p.X)
	}
	return uint8(math.Round(255 * min(max(y, 0), 1)))
}

// Colormaps by name. jet and hot are matplotlib's segment data
// (matplotlib/_cm.py, _jet_data and _hot_data), exactly. viridis and
// inferno are matplotlib's 256-entry tables (matplotlib/_cm_listed.py,
// by van der Walt and Smith) sampled at every 16th entry (0, 16, ...,
// 240, 255) and interpolated linearly between the samples. rdbu_r is
// ColorBrewer's 11-class RdBu (Cynthia Brewer, as in matplotlib's
// _RdBu_data) reversed: negative blue, zero near-white, positive red, for
// signed maps normalised symmetrically (see SymmetricScale).
var (
	Jet = &Colormap{Name: "jet",
		R: []Anchor{{0, 0}, {0.35, 0}, {0.66, 1}, {0.89, 1}, {1, 0.5}},
		G: []Anchor{{0, 0}, {0.125, 0}, {0.375, 1}, {0.64, 1}, {0.91, 0}, {1, 0}},
		B: []Anchor{{0, 0.5}, {0.11, 1}, {0.34, 1}, {0.65, 0}, {1, 0}},
	}
	Hot = &Colormap{Name: "hot",
		R: []Anchor{{0, 0.0416}, {0.365079, 1}, {1, 1}},
		G: []Anchor{{0, 0}, {0.365079, 0}, {0.746032, 1}, {1, 1}},
		B: []Anchor{{0, 0}, {0.746032, 0}, {1, 1}},
	}
	Viridis = listed("viridis", []float64{0, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 255}, 255, [][3]float64{
		{0.267004, 0.004874, 0.329415}, {0.282327, 0.094955, 0.417331}, {0.278826, 0.175490, 0.483397},
		{0.258965, 0.251537, 0.524736}, {0.229739, 0.322361, 0.545706}, {0.199430, 0.387607, 0.554642},
		{0.172719, 0.448791, 0.557885}, {0.149039, 0.508051, 0.557250}, {0.127568, 0.566949, 0.550556},
		{0.120638, 0.625828, 0.533488}, {0.157851, 0.683765, 0.501686}, {0.246070, 0.738910, 0.452024},
		{0.369214, 0.788888, 0.382914}, {0.515992, 0.831158, 0.294279}, {0.678489, 0.863742, 0.189503},
		{0.845561, 0.887322, 0.099702}, {0.993248, 0.906157, 0.143936},
	})
	Inferno = listed("inferno", []float64{0, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 255}, 255, [][3]float64{
		{0.001462, 0.000466, 0.013866}, {0.042253, 0.028139, 0.141141}, {0.129285, 0.047293, 0.290788},
		{0.238273, 0.036621, 0.396353}, {0.341500, 0.062325, 0.429425}, {0.441207, 0.099338, 0.431594},
		{0.540920, 0.134729, 0.415123}, {0.640135, 0.171438, 0.381065}, {0.735683, 0.215906, 0.330245},
		{0.822386, 0.275197, 0.266085}, {0.894305, 0.353399, 0.193584}, {0.946965, 0.449191, 0.115272},
		{0.978422, 0.557937, 0.034931}, {0.987874, 0.675267, 0.065257}, {0.974638, 0.797692, 0.206332},
		{0.947594, 0.917399, 0.410665}, {0.988362, 0.998364, 0.644924},
	})
	RdBuR = listed("rdbu_r", []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 10, rgb8(
		0x053061, 0x2166ac, 0x4393c3, 0x92c5de, 0xd1e5f0, 0xf7f7f7, 0xfddbc7, 0xf4a582, 0xd6604d, 0xb2182b, 0x67001f))
)

var colormaps = []*Colormap{Jet, Viridis, Hot, Inferno, RdBuR}

// ColormapNames lists the colormaps ColormapByName knows.
func ColormapNames() []string {
	var s []string
	for _, c := range colormaps {
		s = append(s, c.Name)
	}
	return s
}

// ColormapByName returns jet, viridis, hot, inferno or rdbu_r.
func ColormapByName(name string) (*Colormap, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if i := slices.IndexFunc(colormaps, func(c *Colormap) bool { return c.Name == n }); i >= 0 {
		return colormaps[i], nil
	}
	return nil, errorf("xai: unknown colormap %q (have %s)", name, strings.Join(ColormapNames(), ", "))
}

// listed builds a colormap from colours at positions pos/scale.
func listed(name string, pos []float64, scale float64, rgb [][3]float64) *Colormap {
	cm := &Colormap{Name: name}
	for i, p := range pos {
		x := p / scale
		cm.R = append(cm.R, Anchor{x, rgb[i][0]})
		cm.G = append(cm.G, Anchor{x, rgb[i][1]})
		cm.B = append(cm.B, Anchor{x, rgb[i][2]})
	}
	return cm
}

func rgb8(hex ...uint32) [][3]float64 {
	out := make([][3]float64, len(hex))
	for i, h := range hex {
		out[i] = [3]float64{float64(h>>16) / 255, float64(h>>8&0xff) / 255, float64(h&0xff) / 255}
	}
	return out
}

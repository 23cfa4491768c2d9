package xai

import (
	"math"
	"strings"
)

// Display scaling: how a display map's values become the colour bar's
// [0, 1], one rule for the page (through the worker) and the explain
// command alike. Hover and downloads keep the raw values; only colours
// are scaled.

// ScaleRule says where the top of a display map's colour scale sits.
type ScaleRule string

const (
	// ScaleDefault is the Display kind's default (Display.DefaultRule).
	ScaleDefault ScaleRule = ""
	// ScaleMax puts the largest value (|value| for signed maps) at the
	// top: nothing is clipped, and a few hot pixels can leave the rest
	// dark.
	ScaleMax ScaleRule = "max"
	// ScaleP995, ScaleP99 and ScaleP98 put that percentile of the values
	// (of |value| for signed maps) at the top and clip the few above it
	// to the top colour.
	ScaleP995 ScaleRule = "p99.5"
	ScaleP99  ScaleRule = "p99"
	ScaleP98  ScaleRule = "p98"
)

// ScaleRules lists the rules a person can choose, for the page's control
// and explain's -scale flag.
var ScaleRules = []ScaleRule{ScaleMax, ScaleP995, ScaleP99, ScaleP98}

// Displays lists the Display kinds, for controls that offer a colormap
// or a scale per kind (the page's viewer).
var Displays = []Display{DisplayMax, DisplayPercentile, DisplaySigned}

// ParseScaleRule reads "max", "p99.5", "99.5", "99.5%" (and the same for
// 99 and 98); "" and "default" are ScaleDefault.
func ParseScaleRule(s string) (ScaleRule, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "" || t == "default" {
		return ScaleDefault, nil
	}
	switch strings.TrimSuffix(strings.TrimPrefix(t, "p"), "%") {
	case "max", "100":
		return ScaleMax, nil
	case "99.5":
		return ScaleP995, nil
	case "99":
		return ScaleP99, nil
	case "98":
		return ScaleP98, nil
	}
	return ScaleDefault, errorf("xai: unknown colour scale %q (want max, p99.5, p99 or p98)", s)
}

// Percentile returns the rule's percentile: 100 for ScaleMax, 0 for
// ScaleDefault (which has none of its own).
func (r ScaleRule) Percentile() float64 {
	switch r {
	case ScaleMax:
		return 100
	case ScaleP995:
		return 99.5
	case ScaleP99:
		return 99
	case ScaleP98:
		return 98
	}
	return 0
}

// Label is the rule in words: "max", "99th percentile".
func (r ScaleRule) Label() string {
	switch p := r.Percentile(); p {
	case 0:
		return "default"
	case 100:
		return "max"
	default:
		return sprintf("%gth percentile", p)
	}
}

// DefaultRule is the rule a Display kind uses unless a person picks
// another, as the field shows each kind of map:
//   - DisplayMax (class activation maps): ScaleMax, Grad-CAM's own
//     normalisation (Selvaraju et al. 2017; pytorch-grad-cam divides by
//     the max). A CAM is coarse (7x7 for MAVIS) and its strong cells are
//     the point.
//   - DisplayPercentile and DisplaySigned (gradient, path and
//     perturbation maps): ScaleP99, the 99th percentile of the values, of
//     |value| for signed maps (Smilkov et al. 2017 clip saliency at the
//     99th percentile). Captum's visualize_image_attr uses a cumulative
//     rule instead (the |value| at which the sorted values' running sum
//     reaches 98% of their total); measured on the MAVIS model with the
//     fixture photos (../shared/fixtures/mavis/*/input.png), the
//     cumulative rule leaves maps whose mass sits in a few pixels as dark
//     as the max does: on "astronaut" it puts Integrated Gradients' top at
//     1.51 (max 3.65) and 0.4% of the pixels reach a tenth of the scale,
//     against 48.8% at the 99th percentile (0.112); Gradient × Input 0.3%
//     against 32.5%; Saliency 7.5% against 10.8%. On "chelsea", Saliency:
//     35.5% against 61.2%. The 99th percentile clips 1% of the pixels by
//     construction; the cumulative rule clipped 0.01% to 0.3%.
func (d Display) DefaultRule() ScaleRule {
	if d == DisplayMax {
		return ScaleMax
	}
	return ScaleP99
}

// Colormap is the colormap a Display kind uses unless a person picks
// another:
//   - DisplaySigned: RdBuR, diverging with a near-white zero, so that
//     "no attribution" reads as empty, red as for the class and blue as
//     against it (ColorBrewer's RdBu, safe for the common colour-vision
//     deficiencies); coolwarm's zero is a mid grey that reads as
//     something.
//   - DisplayMax: Jet, the colormap of the Grad-CAM paper and of
//     pytorch-grad-cam's show_cam_on_image, which people compare against;
//     CAMs are coarse and smooth, so jet's uneven lightness misleads less
//     than on pixel-level maps.
//   - DisplayPercentile: Inferno, dark to bright with lightness rising
//     evenly (van der Walt and Smith), so a gradient twice as large looks
//     twice as bright; hot reaches white in its top quarter and turns the
//     clipped top percent and its neighbours into one flat white.
func (d Display) Colormap() *Colormap {
	switch d {
	case DisplaySigned:
		return RdBuR
	case DisplayMax:
		return Jet
	}
	return Inferno
}

// DisplayScale returns the colour scale of a display map m (h x w x 1,
// Result.Display) of kind d under rule (ScaleDefault: d.DefaultRule()):
//   - DisplaySigned: symmetric around 0, [−T, T] with T the rule's
//     percentile of |value| (the max for ScaleMax), so 0 sits in the
//     middle of a diverging colormap.
//   - DisplayPercentile and DisplayMax: [L, T] with T the rule's
//     percentile of the values (the max for ScaleMax) and L = 0, or the
//     smallest value when it is negative.
//
// When the percentile is no higher than L (more than 1% of the map is at
// its bottom, as in a map that is zero but for a few pixels) while larger
// values exist, T is the max, so that those pixels still show. A map
// with no contrast gives a flat Scale (see Scale.Flat). NaNs are ignored.
func DisplayScale(m Map, d Display, rule ScaleRule) Scale {
	return DisplayScales(m, d, []ScaleRule{rule})[0]
}

// DisplayScales returns DisplayScale(m, d, r) for each r of rules. The
// rules share one copy of the map's values: each percentile is selected
// among the values above the previous, lower one's rank, so the page's four
// rules for every map cost about one selection.
func DisplayScales(m Map, d Display, rules []ScaleRule) []Scale {
	ps := make([]float64, len(rules))
	for i, r := range rules {
		if r == ScaleDefault {
			r = d.DefaultRule()
		}
		if ps[i] = r.Percentile(); ps[i] == 0 {
			panic("xai: DisplayScale: unknown rule " + string(r))
		}
	}
	out := make([]Scale, len(rules))
	signed := d == DisplaySigned
	vals := make([]float32, 0, len(m.Data)) // the values (|value| when signed), NaNs left out
	for _, v := range m.Data {
		if v == v {
			if signed {
				v = float32(math.Abs(float64(v)))
			}
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return out
	}
	lo, hi := MinMax(vals)
	// top[i]: the nearest-rank percentile ps[i] of vals, taken in rising
	// order of rank. After selectNth, vals[:k] holds no value above
	// vals[k] and vals[k+1:] none below it, so the next, higher rank lies
	// in vals[k:].
	top := make([]float32, len(rules))
	from := 0
	for range rules {
		i := -1
		for j, p := range ps {
			if p > 0 && (i < 0 || p < ps[i]) {
				i = j
			}
		}
		if ps[i] >= 100 {
			top[i] = hi
		} else {
			k := int(math.Round(ps[i] / 100 * float64(len(vals)-1)))
			top[i] = selectNth(vals[from:], k-from)
			from = k
		}
		ps[i] = 0 // taken
	}
	for i, t := range top {
		if signed {
			out[i] = Scale{-t, t}
			if out[i].Flat() { // no contrast at the percentile: the max
				out[i] = Scale{-hi, hi}
			}
			continue
		}
		b := fmin(lo, 0)
		if !(t > b) {
			t = hi
		}
		out[i] = Scale{b, t}
	}
	return out
}

// Clipped reports whether some value of data lies outside s (above Hi or
// below Lo), so that a colour bar can mark its ends "≥" and "≤".
func (s Scale) Clipped(data []float32) (below, above bool) {
	for _, v := range data {
		below = below || v < s.Lo
		above = above || v > s.Hi
	}
	return below, above
}

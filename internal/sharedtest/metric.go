package sharedtest

import "math"

// Metric is the comparison named by a tolerance rule of the fixtures'
// README (shared/fixtures/README.md, "Comparison"), of got against the
// reference want, summed in float64:
//
//	max_abs                     max |got - want|
//	max_abs_over_max_ref        max |got - want| / max |want| (max_abs when want is all 0)
//	rel_l2                      ||got - want|| / ||want|| (||got - want|| when want is all 0)
//	frac_abs_over_1e-3_max_ref  the fraction of values with |got - want| > 1e-3 max |want|
//
// An unknown name gives NaN, which fails every limit.
func Metric(name string, got, want []float64) float64 {
	var maxAbs, maxRef, d2, r2 float64
	for i := range want {
		d := math.Abs(got[i] - want[i])
		maxAbs = max(maxAbs, d)
		maxRef = max(maxRef, math.Abs(want[i]))
		d2 += d * d
		r2 += want[i] * want[i]
	}
	switch name {
	case "max_abs":
		return maxAbs
	case "max_abs_over_max_ref":
		if maxRef == 0 {
			return maxAbs
		}
		return maxAbs / maxRef
	case "rel_l2":
		if r2 == 0 {
			return math.Sqrt(d2)
		}
		return math.Sqrt(d2 / r2)
	case "frac_abs_over_1e-3_max_ref":
		n := 0
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-3*maxRef {
				n++
			}
		}
		return float64(n) / float64(len(want))
	}
	return math.NaN()
}

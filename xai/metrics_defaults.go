package xai

// DefaultCurveSteps is the number of steps of the deletion and insertion
// curves when MetricsOptions.Steps is 0.
const DefaultCurveSteps = 32

// DefaultKeep returns the fractions of the most relevant pixels kept for
// the confidence drop when MetricsOptions.Keep is nil (a new slice).
func DefaultKeep() []float64 { return []float64{0.1, 0.25, 0.5} }

// DefaultBlurSigma is the standard deviation in pixels of the Gaussian
// that blurs the image into the blurred reference (MetricsOptions.BlurSigma
// 0) and the blur baseline (Baseline.Sigma 0).
const DefaultBlurSigma = 5.0

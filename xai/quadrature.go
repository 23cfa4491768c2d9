package xai

import (
	"math"
	"strings"
)

// Rule is the quadrature rule Integrated Gradients uses for the path
// integral ∫_0^1 ∂Score/∂x(b + α(x−b)) dα.
type Rule int

const (
	// Linspace is the original implementation's rule and the fixtures':
	// α_k = k/(m−1), k = 0..m−1 (numpy linspace(0, 1, m), both ends
	// included) and a plain mean, weight 1/m each. It over-weights the end
	// points, an O(1/m) bias on top of the Riemann error.
	Linspace Rule = iota
	// Trapezoid uses the same m points with weights 1/(m−1), halved at both
	// ends: second-order accurate for smooth paths.
	Trapezoid
	// GaussLegendre uses the m-point Gauss–Legendre nodes and weights
	// mapped to [0, 1]: exact for polynomials of degree 2m−1, and never
	// evaluates the (often very steep) baseline itself.
	GaussLegendre
)

func (r Rule) String() string {
	switch r {
	case Trapezoid:
		return "trapezoid"
	case GaussLegendre:
		return "gauss-legendre"
	}
	return "linspace"
}

// ParseRule reads "linspace", "trapezoid" or "gauss-legendre".
func ParseRule(s string) (Rule, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "linspace", "riemann", "mean":
		return Linspace, nil
	case "trapezoid", "trapezoidal":
		return Trapezoid, nil
	case "gauss-legendre", "gausslegendre", "gauss", "gl":
		return GaussLegendre, nil
	}
	return Linspace, errorf("xai: unknown integration rule %q (want linspace, trapezoid or gauss-legendre)", s)
}

// maxSteps bounds IG steps and SmoothGrad samples.
const maxSteps = 100000

// alphas returns the m nodes (ascending, in [0, 1]) and weights of rule r;
// the weights sum to 1.
func alphas(r Rule, m int) (alpha, weight []float64, err error) {
	lo := 2
	if r == GaussLegendre {
		lo = 1
	}
	if m < lo || m > maxSteps {
		return nil, nil, errorf("xai: %d integration steps for the %s rule (want %d..%d)", m, r, lo, maxSteps)
	}
	alpha, weight = make([]float64, m), make([]float64, m)
	switch r {
	case Linspace, Trapezoid:
		for k := range m {
			alpha[k] = float64(k) / float64(m-1)
			if r == Linspace {
				weight[k] = 1 / float64(m)
			} else {
				weight[k] = 1 / float64(m-1)
			}
		}
		if r == Trapezoid {
			weight[0] /= 2
			weight[m-1] /= 2
		}
	case GaussLegendre:
		x, w := gaussLegendre(m)
		for k := range m {
			alpha[k] = (x[k] + 1) / 2
			weight[k] = w[k] / 2
		}
	default:
		return nil, nil, errorf("xai: unknown integration rule %d", int(r))
	}
	return alpha, weight, nil
}

// gaussLegendre returns the n nodes on [−1, 1] (ascending) and weights of
// Gauss–Legendre quadrature: the roots of the Legendre polynomial P_n,
// found by Newton's method from Tricomi's initial guess
// cos(π(i − 1/4)/(n + 1/2)), with w_i = 2 / ((1 − x_i²) P_n'(x_i)²)
// (Abramowitz and Stegun 25.4.29). P_n and P_n' come from the three-term
// recurrence (k+1) P_{k+1} = (2k+1) x P_k − k P_{k−1}.
func gaussLegendre(n int) (x, w []float64) {
	x, w = make([]float64, n), make([]float64, n)
	for i := range (n + 1) / 2 {
		z := math.Cos(math.Pi * (float64(i) + 0.75) / (float64(n) + 0.5))
		var dp float64
		for iter := 0; iter < 100; iter++ {
			p, d := legendre(n, z)
			dp = d
			dz := p / d
			z -= dz
			if math.Abs(dz) < 1e-16 {
				break
			}
		}
		_, dp = legendre(n, z)
		wi := 2 / ((1 - z*z) * dp * dp)
		// z is the i-th largest root; the roots are symmetric.
		x[n-1-i], x[i] = z, -z
		w[n-1-i], w[i] = wi, wi
	}
	if n%2 == 1 {
		x[n/2] = 0
	}
	return x, w
}

// legendre returns P_n(z) and P_n'(z).
func legendre(n int, z float64) (p, dp float64) {
	p0, p1 := 1.0, z
	if n == 0 {
		return 1, 0
	}
	for k := 1; k < n; k++ {
		p0, p1 = p1, (float64(2*k+1)*z*p1-float64(k)*p0)/float64(k+1)
	}
	// P_n' = n (z P_n − P_{n−1}) / (z² − 1)
	return p1, float64(n) * (z*p1 - p0) / (z*z - 1)
}

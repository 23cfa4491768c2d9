package xai

import (
	"math"
	"math/rand/v2"
	"testing"
)

// jacobiEigen is the oracle of tred2 and tql2: the cyclic Jacobi method,
// slow (O(n³) per sweep) and simple. It returns the eigenvalues and the
// eigenvectors as the columns of v (n x n, row-major).
func jacobiEigen(a []float64, n int) (d, v []float64) {
	m := append([]float64(nil), a...)
	v = make([]float64, n*n)
	for i := range n {
		v[i*n+i] = 1
	}
	for range 100 {
		var off, all float64
		for i := range n {
			for j := range n {
				all += m[i*n+j] * m[i*n+j]
				if i != j {
					off += m[i*n+j] * m[i*n+j]
				}
			}
		}
		if off <= 1e-32*all {
			break
		}
		for p := range n {
			for q := p + 1; q < n; q++ {
				if m[p*n+q] == 0 {
					continue
				}
				theta := (m[q*n+q] - m[p*n+p]) / (2 * m[p*n+q])
				t := 1 / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				if theta < 0 {
					t = -t
				}
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := range n { // columns p and q: m P
					mp, mq := m[k*n+p], m[k*n+q]
					m[k*n+p], m[k*n+q] = c*mp-s*mq, s*mp+c*mq
				}
				for k := range n { // rows p and q: Pᵀ m
					mp, mq := m[p*n+k], m[q*n+k]
					m[p*n+k], m[q*n+k] = c*mp-s*mq, s*mp+c*mq
				}
				for k := range n {
					vp, vq := v[k*n+p], v[k*n+q]
					v[k*n+p], v[k*n+q] = c*vp-s*vq, s*vp+c*vq
				}
			}
		}
	}
	d = make([]float64, n)
	for i := range n {
		d[i] = m[i*n+i]
	}
	return d, v
}

// transpose transposes the n x n matrix a in place.
func transpose(a []float64, n int) {
	for i := range n {
		for j := i + 1; j < n; j++ {
			a[i*n+j], a[j*n+i] = a[j*n+i], a[i*n+j]
		}
	}
}

// eigenResidual returns max_i |(a x − λ x)_i| / (‖a‖_max · n) for the
// column j of vecs, and |‖x‖ − 1|.
func eigenResidual(a, vecs []float64, lambda float64, j, n int) (res, norm float64) {
	var amax, nn float64
	for _, x := range a {
		amax = max(amax, math.Abs(x))
	}
	for i := range n {
		var s float64
		for k := range n {
			s += a[i*n+k] * vecs[k*n+j]
		}
		res = max(res, math.Abs(s-lambda*vecs[i*n+j]))
		nn += vecs[i*n+j] * vecs[i*n+j]
	}
	if amax > 0 {
		res /= amax * float64(n)
	}
	return res, math.Abs(math.Sqrt(nn) - 1)
}

// symmetricCases returns test matrices: random symmetric ones, random
// positive semi-definite Gram matrices of low rank (repeated zero
// eigenvalues), a diagonal one, a zero one and one with a repeated top
// eigenvalue.
func symmetricCases() []struct {
	name string
	n    int
	a    []float64
} {
	rng := rand.New(rand.NewPCG(1, 2))
	var cases []struct {
		name string
		n    int
		a    []float64
	}
	add := func(name string, n int, a []float64) {
		cases = append(cases, struct {
			name string
			n    int
			a    []float64
		}{name, n, a})
	}
	for _, n := range []int{1, 2, 3, 5, 8, 13, 40, 100} {
		a := make([]float64, n*n)
		for i := range n {
			for j := i; j < n; j++ {
				a[i*n+j] = rng.NormFloat64()
				a[j*n+i] = a[i*n+j]
			}
		}
		add("random", n, a)
		r := max(1, n/3)
		g := make([]float64, n*r)
		for i := range g {
			g[i] = rng.Float64()
		}
		p := make([]float64, n*n)
		for i := range n {
			for j := range n {
				for k := range r {
					p[i*n+j] += g[i*r+k] * g[j*r+k]
				}
			}
		}
		add("gram", n, p)
	}
	add("diagonal", 4, []float64{1, 0, 0, 0, 0, 7, 0, 0, 0, 0, -3, 0, 0, 0, 0, 2})
	add("zero", 3, make([]float64, 9))
	add("repeated top", 3, []float64{2, 0, 0, 0, 2, 0, 0, 0, 1})
	return cases
}

func TestTQL2(t *testing.T) {
	for _, tt := range symmetricCases() {
		n := tt.n
		v := append([]float64(nil), tt.a...)
		d, e := make([]float64, n), make([]float64, n)
		tred2(v, d, e, n)
		tql2(v, d, e, n)
		transpose(v, n) // eigenvectors as columns, as jacobiEigen's
		jd, jv := jacobiEigen(tt.a, n)
		var top, jtop = math.Inf(-1), math.Inf(-1)
		for j := range n {
			res, norm := eigenResidual(tt.a, v, d[j], j, n)
			if res > 1e-13 || norm > 1e-13 {
				t.Errorf("%s %dx%d: eigenpair %d: residual %.3g, |‖v‖ − 1| %.3g", tt.name, n, n, j, res, norm)
			}
			if res, norm := eigenResidual(tt.a, jv, jd[j], j, n); res > 1e-13 || norm > 1e-13 {
				t.Errorf("%s %dx%d: the Jacobi oracle's eigenpair %d: residual %.3g, |‖v‖ − 1| %.3g", tt.name, n, n, j, res, norm)
			}
			top, jtop = max(top, d[j]), max(jtop, jd[j])
		}
		if math.Abs(top-jtop) > 1e-12*max(1, math.Abs(jtop)) {
			t.Errorf("%s %dx%d: largest eigenvalue %.17g, Jacobi %.17g", tt.name, n, n, top, jtop)
		}
		// The eigenvalues are the same multiset: compare their sums of
		// powers 1 and 2 (trace and Frobenius norm).
		var s1, s2, j1, j2 float64
		for j := range n {
			s1, s2, j1, j2 = s1+d[j], s2+d[j]*d[j], j1+jd[j], j2+jd[j]*jd[j]
		}
		if math.Abs(s1-j1) > 1e-11*max(1, math.Abs(j2)) || math.Abs(s2-j2) > 1e-11*max(1, j2) {
			t.Errorf("%s %dx%d: eigenvalue sums %.17g, %.17g, Jacobi %.17g, %.17g", tt.name, n, n, s1, s2, j1, j2)
		}
	}
}

func TestTopEigenvector(t *testing.T) {
	for _, tt := range symmetricCases() {
		n := tt.n
		v := make([]float64, n)
		lambda := topEigenvectorTo(v, tt.a, n)
		jd, jv := jacobiEigen(tt.a, n)
		best := 0
		for j := range n {
			if jd[j] > jd[best] {
				best = j
			}
		}
		if math.Abs(lambda-jd[best]) > 1e-12*max(1, math.Abs(jd[best])) {
			t.Errorf("%s %dx%d: top eigenvalue %.17g, Jacobi %.17g", tt.name, n, n, lambda, jd[best])
		}
		// Unique up to sign when the top eigenvalue is simple.
		gap := math.Inf(1)
		for j := range n {
			if j != best {
				gap = min(gap, jd[best]-jd[j])
			}
		}
		if gap < 1e-6 {
			continue
		}
		var dot float64
		for i := range n {
			dot += v[i] * jv[i*n+best]
		}
		if math.Abs(math.Abs(dot)-1) > 1e-12 {
			t.Errorf("%s %dx%d: |v · v_Jacobi| = %.17g, want 1", tt.name, n, n, math.Abs(dot))
		}
	}
}

// TestPrincipal checks principalTo against the definition computed with
// the Jacobi oracle on Mcᵀ Mc, on both of its paths (k ≤ n: the k x k
// covariance; k > n: the n x n Gram matrix), including 512 channels.
func TestPrincipal(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sz := range []struct{ n, k int }{{4, 2}, {49, 8}, {8, 49}, {49, 512}, {3, 1}, {1, 3}, {60, 60}} {
		n, k := sz.n, sz.k
		m := make([]float64, n*k)
		for i := range m {
			m[i] = max(0, rng.NormFloat64()) * float64(1+i%k) // ReLU-like, channels of several scales
		}
		proj := make([]float64, n)
		ok := principalTo(proj, m, n, k)
		// The truth: centre, Jacobi on Mcᵀ Mc, project, sign rule. For
		// many channels Jacobi is too slow for Mcᵀ Mc; it solves Mc Mcᵀ
		// instead, whose top eigenvector u gives Mc v = √λ u.
		mc := append([]float64(nil), m...)
		for c := range k {
			var s float64
			for r := range n {
				s += m[r*k+c]
			}
			for r := range n {
				mc[r*k+c] -= s / float64(n)
			}
		}
		want := make([]float64, n)
		if k <= 64 {
			cov := make([]float64, k*k)
			for i := range k {
				for j := range k {
					for r := range n {
						cov[i*k+j] += mc[r*k+i] * mc[r*k+j]
					}
				}
			}
			d, v := jacobiEigen(cov, k)
			best := 0
			for j := range k {
				if d[j] > d[best] {
					best = j
				}
			}
			for r := range n {
				for c := range k {
					want[r] += mc[r*k+c] * v[c*k+best]
				}
			}
		} else {
			gram := make([]float64, n*n)
			for i := range n {
				for j := range n {
					for c := range k {
						gram[i*n+j] += mc[i*k+c] * mc[j*k+c]
					}
				}
			}
			d, u := jacobiEigen(gram, n)
			best := 0
			for j := range n {
				if d[j] > d[best] {
					best = j
				}
			}
			for r := range n {
				want[r] = math.Sqrt(d[best]) * u[r*n+best]
			}
		}
		var dot, scale float64
		for r := range n {
			var sum float64
			for c := range k {
				sum += m[r*k+c]
			}
			dot += want[r] * sum
			scale = max(scale, math.Abs(want[r]))
		}
		if dot < 0 {
			for r := range want {
				want[r] = -want[r]
			}
		}
		wantOK := scale > 0 && n > 1
		if ok != wantOK {
			t.Errorf("%dx%d: principalTo reports %v, want %v", n, k, ok, wantOK)
		}
		if !wantOK {
			continue
		}
		var worst float64
		for r := range n {
			worst = max(worst, math.Abs(proj[r]-want[r]))
		}
		if worst > 1e-10*scale {
			t.Errorf("%dx%d: max |proj − want| = %.3g (max |want| %.3g)", n, k, worst, scale)
		}
	}
}

// TestTopEigenvectorLarge checks a 512 x 512 covariance (a layer of 512
// channels over more positions), too large for the Jacobi oracle: the
// eigen-equation's residual, and that no unit vector tried (the basis and
// random ones) has a larger Rayleigh quotient.
func TestTopEigenvectorLarge(t *testing.T) {
	const n, r = 512, 600
	rng := rand.New(rand.NewPCG(5, 6))
	g := make([]float64, n*r)
	for i := range g {
		g[i] = max(0, rng.NormFloat64())
	}
	a := make([]float64, n*n)
	for i := range n {
		for j := i; j < n; j++ {
			var s float64
			for k := range r {
				s += g[i*r+k] * g[j*r+k]
			}
			a[i*n+j], a[j*n+i] = s, s
		}
	}
	v := make([]float64, n)
	lambda := topEigenvectorTo(v, a, n)
	var res, norm float64
	for i := range n {
		var s float64
		for k := range n {
			s += a[i*n+k] * v[k]
		}
		res = max(res, math.Abs(s-lambda*v[i]))
		norm += v[i] * v[i]
	}
	if res > 1e-12*lambda || math.Abs(norm-1) > 1e-12 {
		t.Errorf("residual %.3g (λ %.6g), ‖v‖² − 1 = %.3g", res, lambda, norm-1)
	}
	for i := range n {
		if a[i*n+i] > lambda {
			t.Errorf("a[%d][%d] = %.6g exceeds the top eigenvalue %.6g", i, i, a[i*n+i], lambda)
		}
	}
	x := make([]float64, n)
	for range 20 {
		var xx, xax float64
		for i := range x {
			x[i] = rng.NormFloat64()
			xx += x[i] * x[i]
		}
		for i := range n {
			var s float64
			for k := range n {
				s += a[i*n+k] * x[k]
			}
			xax += x[i] * s
		}
		if xax/xx > lambda*(1+1e-12) {
			t.Errorf("a random vector's Rayleigh quotient %.9g exceeds the top eigenvalue %.9g", xax/xx, lambda)
		}
	}
}

func TestPrincipalZero(t *testing.T) {
	// Identical rows: Mc = 0, no direction.
	m := []float64{1, 2, 1, 2, 1, 2}
	proj := []float64{9, 9, 9}
	if principalTo(proj, m, 3, 2) || proj[0] != 0 || proj[1] != 0 || proj[2] != 0 {
		t.Errorf("identical rows: proj %v, want zeros and false", proj)
	}
}

// BenchmarkTopEigenvector512 is Eigen-CAM's eigenproblem for a layer of 512
// channels over at least 512 positions.
func BenchmarkTopEigenvector512(b *testing.B) {
	const n = 512
	rng := rand.New(rand.NewPCG(7, 8))
	a := make([]float64, n*n)
	for i := range n {
		for j := i; j < n; j++ {
			a[i*n+j] = rng.NormFloat64()
			a[j*n+i] = a[i*n+j]
		}
	}
	v := make([]float64, n)
	for b.Loop() {
		topEigenvectorTo(v, a, n)
	}
}

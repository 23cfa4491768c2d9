package xai

import "math"

// The first principal component that Eigen-CAM and Eigen-Grad-CAM project
// a layer's output on, in float64. The eigenvectors come from a symmetric
// eigensolver (Householder tridiagonalisation and the implicit QL method
// with shifts: EISPACK's tred2 and tql2 as JAMA gives them, after Bowdler,
// Martin, Reinsch and Wilkinson, Handbook for Automatic Computation II,
// Linear Algebra, 1971), O(m³) for an m x m matrix and exact to rounding
// for any m, so a layer of 512 channels costs a few hundred million
// floating-point operations at most. The Jacobi method kept with the tests
// (eigen_test.go) is its oracle.

// principalTo writes into proj (n) the projection of the centred rows of
// m on their first principal direction, with its sign fixed by the
// uncentred rows: with Mc = m − the mean of each column and v the unit
// eigenvector of Mcᵀ Mc with the largest eigenvalue,
//
//	proj = Mc v,   negated when Σ_r proj[r] · Σ_c m[r][c] < 0.
//
// It returns false, with proj all zeros, when Mc is zero (the first
// singular value is 0 and there is no direction). The eigenproblem is
// solved on the smaller of Mcᵀ Mc (k x k) and Mc Mcᵀ (n x n, whose
// eigenvector u gives v = Mcᵀ u / ‖Mcᵀ u‖).
//
//	proj: (n)   m: (n, k), row-major
func principalTo(proj []float64, m []float64, n, k int) bool {
	mc := make([]float64, n*k)
	copy(mc, m)
	for c := range k {
		var s float64
		for r := range n {
			s += mc[r*k+c]
		}
		mean := s / float64(n)
		for r := range n {
			mc[r*k+c] -= mean
		}
	}
	v := make([]float64, k)
	if k <= n {
		// Mcᵀ Mc, k x k.
		cov := make([]float64, k*k)
		for r := range n {
			row := mc[r*k : (r+1)*k]
			for i, a := range row {
				if a == 0 {
					continue
				}
				for j := i; j < k; j++ {
					cov[i*k+j] += a * row[j]
				}
			}
		}
		for i := range k {
			for j := i + 1; j < k; j++ {
				cov[j*k+i] = cov[i*k+j]
			}
		}
		topEigenvectorTo(v, cov, k)
	} else {
		// Mc Mcᵀ, n x n; v = Mcᵀ u.
		gram := make([]float64, n*n)
		for i := range n {
			for j := i; j < n; j++ {
				var s float64
				for c := range k {
					s += mc[i*k+c] * mc[j*k+c]
				}
				gram[i*n+j], gram[j*n+i] = s, s
			}
		}
		u := make([]float64, n)
		topEigenvectorTo(u, gram, n)
		for r, ur := range u {
			for c := range k {
				v[c] += mc[r*k+c] * ur
			}
		}
		var norm float64
		for _, x := range v {
			norm += x * x
		}
		if norm = math.Sqrt(norm); norm > 0 {
			for c := range v {
				v[c] /= norm
			}
		}
	}
	var dot float64
	zero := true
	for r := range n {
		var p, sum float64
		for c := range k {
			p += mc[r*k+c] * v[c]
			sum += m[r*k+c]
		}
		proj[r] = p
		dot += p * sum
		zero = zero && p == 0
	}
	if zero {
		clear(proj)
		return false
	}
	if dot < 0 {
		for r := range proj {
			proj[r] = -proj[r]
		}
	}
	return true
}

// topEigenvectorTo writes into v (n) a unit eigenvector of the symmetric
// matrix a (n x n, row-major; it is not changed) for its largest
// eigenvalue, and returns that eigenvalue.
func topEigenvectorTo(v []float64, a []float64, n int) float64 {
	vecs := make([]float64, n*n)
	copy(vecs, a)
	d, e := make([]float64, n), make([]float64, n)
	tred2(vecs, d, e, n)
	tql2(vecs, d, e, n)
	best := 0
	for j := range n {
		if d[j] > d[best] {
			best = j
		}
	}
	copy(v, vecs[best*n:(best+1)*n])
	return d[best]
}

// tred2 reduces the symmetric matrix held in w (n x n, row-major) to
// tridiagonal form by Householder similarity transformations: on return d
// holds the diagonal, e[1:] the subdiagonal (e[0] = 0) and w the
// transpose of the orthogonal transformation V. It is JAMA's tred2 with
// every V[r][c] stored at w[c*n+r] (the input, being symmetric, reads the
// same), so that its inner loops, which run down V's columns, run along
// w's rows.
func tred2(w, d, e []float64, n int) {
	for j := range n {
		d[j] = w[j*n+n-1]
	}
	for i := n - 1; i > 0; i-- {
		// Scale to avoid under- and overflow.
		var scale, h float64
		for k := range i {
			scale += math.Abs(d[k])
		}
		if scale == 0 {
			e[i] = d[i-1]
			for j := range i {
				d[j] = w[j*n+i-1]
				w[j*n+i] = 0
				w[i*n+j] = 0
			}
			d[i] = h
			continue
		}
		// The Householder vector.
		for k := range i {
			d[k] /= scale
			h += d[k] * d[k]
		}
		f := d[i-1]
		g := math.Sqrt(h)
		if f > 0 {
			g = -g
		}
		e[i] = scale * g
		h -= f * g
		d[i-1] = f - g
		for j := range i {
			e[j] = 0
		}
		// Apply the similarity transformation to the remaining columns.
		for j := range i {
			f = d[j]
			w[i*n+j] = f
			wj := w[j*n : j*n+i]
			g = e[j] + wj[j]*f
			for k := j + 1; k < i; k++ {
				g += wj[k] * d[k]
				e[k] += wj[k] * f
			}
			e[j] = g
		}
		f = 0
		for j := range i {
			e[j] /= h
			f += e[j] * d[j]
		}
		hh := f / (h + h)
		for j := range i {
			e[j] -= hh * d[j]
		}
		for j := range i {
			f, g = d[j], e[j]
			wj := w[j*n : j*n+i]
			for k := j; k < i; k++ {
				wj[k] -= f*e[k] + g*d[k]
			}
			d[j] = w[j*n+i-1]
			w[j*n+i] = 0
		}
		d[i] = h
	}
	// Accumulate the transformations.
	for i := range n - 1 {
		w[i*n+n-1] = w[i*n+i]
		w[i*n+i] = 1
		h := d[i+1]
		wi1 := w[(i+1)*n : (i+1)*n+i+1]
		if h != 0 {
			for k, x := range wi1 {
				d[k] = x / h
			}
			for j := 0; j <= i; j++ {
				wj := w[j*n : j*n+i+1]
				var g float64
				for k, x := range wi1 {
					g += x * wj[k]
				}
				for k := range wj {
					wj[k] -= g * d[k]
				}
			}
		}
		clear(wi1)
	}
	for j := range n {
		d[j] = w[j*n+n-1]
		w[j*n+n-1] = 0
	}
	w[(n-1)*n+n-1] = 1
	e[0] = 0
}

// tql2 finds the eigenvalues (into d, unsorted) and eigenvectors (the
// rows of w) of the tridiagonal matrix tred2 left in d and e, by the QL
// method with implicit shifts, accumulating the rotations into the
// transposed transformation tred2 left in w (JAMA's V[k][i] is w[i*n+k],
// so each rotation runs along two rows). Each eigenvalue takes a few iterations; after 30·n the
// loop stops whatever the convergence (only NaNs or infinities get there).
func tql2(w, d, e []float64, n int) {
	for i := 1; i < n; i++ {
		e[i-1] = e[i]
	}
	e[n-1] = 0
	var f, tst1 float64
	const eps = 0x1p-52
	for l := range n {
		// Find a small subdiagonal element.
		tst1 = max(tst1, math.Abs(d[l])+math.Abs(e[l]))
		m := l
		for m < n-1 && !(math.Abs(e[m]) <= eps*tst1) {
			m++
		}
		// If m == l, d[l] is an eigenvalue; otherwise iterate.
		for iter := 0; m > l && iter < 30*n; iter++ {
			// The implicit shift.
			g := d[l]
			p := (d[l+1] - g) / (2 * e[l])
			r := math.Hypot(p, 1)
			if p < 0 {
				r = -r
			}
			d[l] = e[l] / (p + r)
			d[l+1] = e[l] * (p + r)
			dl1 := d[l+1]
			h := g - d[l]
			for i := l + 2; i < n; i++ {
				d[i] -= h
			}
			f += h
			// The implicit QL transformation.
			p = d[m]
			c, c2, c3 := 1.0, 1.0, 1.0
			el1 := e[l+1]
			var s, s2 float64
			for i := m - 1; i >= l; i-- {
				c3, c2, s2 = c2, c, s
				g = c * e[i]
				h = c * p
				r = math.Hypot(p, e[i])
				e[i+1] = s * r
				s = e[i] / r
				c = p / r
				p = c*d[i] - s*g
				d[i+1] = h + s*(c*g+s*d[i])
				// Accumulate the transformation.
				wi, wi1 := w[i*n:(i+1)*n], w[(i+1)*n:(i+2)*n]
				for k, h := range wi1 {
					wi1[k] = s*wi[k] + c*h
					wi[k] = c*wi[k] - s*h
				}
			}
			p = -s * s2 * c3 * el1 * e[l] / dl1
			e[l] = s * p
			d[l] = c * p
			if !(math.Abs(e[l]) > eps*tst1) {
				break
			}
		}
		d[l] += f
		e[l] = 0
	}
}

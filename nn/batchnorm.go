package nn

import (
	"math"
	"runtime"
)

// BatchNorm is Keras's BatchNormalization over the channel (last) axis.
//
// At inference it uses the moving statistics:
//
//	y = x*s + t,  s = gamma / sqrt(moving_variance + epsilon),  t = beta - moving_mean*s
//
// In training (SetTraining(true)) it normalises with the batch's mean and
// biased variance over N, H and W, and updates the moving statistics as
// moving = moving*momentum + batch*(1-momentum), as Keras does.
type BatchNorm struct {
	name     string
	C        int
	Epsilon  float32 // Keras's default 1e-3
	Momentum float32 // Keras's default 0.99
	Gamma    *Param
	Beta     *Param
	Mean     *Param // moving_mean, not trainable
	Var      *Param // moving_variance, not trainable
	Training bool

	x, y, dx   *Tensor
	s, t       []float32 // per channel scale and shift used by the last Forward
	mu, istd   []float32 // batch mean and 1/sqrt(var+eps) (training)
	gs, gu, gt []float32 // training backward: dx = gs·dy + gu·x + gt per channel
	sum, sumx  []float64 // scratch
}

var _ Layer = (*BatchNorm)(nil)

// NewBatchNorm returns a batch normalisation of c channels with gamma = 1,
// beta = 0, moving mean 0 and moving variance 1 (Keras's initial values).
func NewBatchNorm(name string, c int, epsilon, momentum float32) *BatchNorm {
	b := &BatchNorm{name: name, C: c, Epsilon: epsilon, Momentum: momentum,
		Gamma: newParam(name, "gamma", true, c), Beta: newParam(name, "beta", true, c),
		Mean: newParam(name, "moving_mean", false, c), Var: newParam(name, "moving_variance", false, c),
		s: make([]float32, c), t: make([]float32, c), mu: make([]float32, c), istd: make([]float32, c),
		gs: make([]float32, c), gu: make([]float32, c), gt: make([]float32, c),
		sum: make([]float64, c), sumx: make([]float64, c)}
	for i := range c {
		b.Gamma.Value[i] = 1
		b.Var.Value[i] = 1
	}
	return b
}

func (b *BatchNorm) Name() string        { return b.name }
func (b *BatchNorm) Params() []*Param    { return []*Param{b.Gamma, b.Beta, b.Mean, b.Var} }
func (b *BatchNorm) SetTraining(on bool) { b.Training = on }

func (b *BatchNorm) OutputShape(in [3]int) ([3]int, error) {
	if in[2] != b.C {
		return [3]int{}, errorf("nn: %s: input has %d channels, layer has %d", b.name, in[2], b.C)
	}
	return in, nil
}

func (b *BatchNorm) Forward(x *Tensor) *Tensor {
	if x.Shape[3] != b.C {
		panic(sprintf("nn: %s: input %v, want %d channels", b.name, x, b.C))
	}
	b.x = x
	b.y = reuse(b.y, x.Shape)
	if b.Training {
		b.batchStats(x)
		for c := range b.C {
			b.s[c] = b.Gamma.Value[c] * b.istd[c]
			b.t[c] = b.Beta.Value[c] - b.mu[c]*b.s[c]
		}
	} else {
		b.inferenceScaleShift(b.s, b.t)
	}
	// Under wasm in pieces of at most 64 Ki values (a call each, for V8's
	// tier-up: see pool2x2RowTo); natively in one piece, which the vector
	// fast path splits over the workers.
	step := len(x.Data)
	if runtime.GOARCH == "wasm" {
		step = max(1, (1<<16)/b.C) * b.C
	}
	for p := 0; p < len(x.Data); p += step {
		q := min(len(x.Data), p+step)
		scaleShiftTo(b.y.Data[p:q], x.Data[p:q], b.s, b.t)
	}
	return b.y
}

// inferenceScaleShift writes the inference scale and shift, y = s·x + t
// per channel, from the moving statistics (Forward's, and nn.Delta's).
func (b *BatchNorm) inferenceScaleShift(s, t []float32) {
	for c := range b.C {
		s[c] = b.Gamma.Value[c] / float32(math.Sqrt(float64(b.Var.Value[c])+float64(b.Epsilon)))
		t[c] = b.Beta.Value[c] - b.Mean.Value[c]*s[c]
	}
}

// batchStats sets mu and istd from the batch and updates the moving
// statistics.
func (b *BatchNorm) batchStats(x *Tensor) {
	C := b.C
	clear(b.sum)
	clear(b.sumx)
	m := len(x.Data) / C
	for p := 0; p < len(x.Data); p += C {
		for c, v := range x.Data[p : p+C] {
			b.sum[c] += float64(v)
		}
	}
	for c := range C {
		b.sum[c] /= float64(m)
	}
	for p := 0; p < len(x.Data); p += C {
		for c, v := range x.Data[p : p+C] {
			d := float64(v) - b.sum[c]
			b.sumx[c] += d * d
		}
	}
	mom := b.Momentum
	for c := range C {
		v := b.sumx[c] / float64(m)
		b.mu[c] = float32(b.sum[c])
		b.istd[c] = float32(1 / math.Sqrt(v+float64(b.Epsilon)))
		b.Mean.Value[c] = b.Mean.Value[c]*mom + b.mu[c]*(1-mom)
		b.Var.Value[c] = b.Var.Value[c]*mom + float32(v)*(1-mom)
	}
}

func (b *BatchNorm) Backward(dy *Tensor) *Tensor {
	mustShape(b.name, "backward", dy.Shape, b.x.Shape)
	b.dx = reuse(b.dx, dy.Shape)
	C := b.C
	if !b.Training {
		if b.Gamma.Grad != nil || b.Beta.Grad != nil {
			b.paramGrads(dy)
		}
		scaleTo(b.dx.Data, dy.Data, b.s)
		return b.dx
	}
	// Training: x̂ = (x-μ)·istd, y = γx̂ + β, and
	// dx = γ·istd/m · (m·dy − Σdy − x̂·Σ(dy·x̂)).
	clear(b.sum)
	clear(b.sumx)
	for p := 0; p < len(dy.Data); p += C {
		dr, xr := dy.Data[p:p+C], b.x.Data[p:p+C]
		for c, v := range dr {
			b.sum[c] += float64(v)
			b.sumx[c] += float64(v) * float64((xr[c]-b.mu[c])*b.istd[c])
		}
	}
	if b.Gamma.Grad != nil {
		for c := range C {
			b.Gamma.Grad[c] += float32(b.sumx[c])
		}
	}
	if b.Beta.Grad != nil {
		for c := range C {
			b.Beta.Grad[c] += float32(b.sum[c])
		}
	}
	// dx is affine in (dy, x) per channel: dx = s·dy + u·x + t with
	// k = γ·istd, s = k, u = −k/m·Σ(dy·x̂)·istd, t = −k/m·Σdy − u·μ.
	m := float64(len(dy.Data) / C)
	for c := range C {
		k := float64(b.Gamma.Value[c]) * float64(b.istd[c])
		u := -k / m * b.sumx[c] * float64(b.istd[c])
		b.gs[c] = float32(k)
		b.gu[c] = float32(u)
		b.gt[c] = float32(-k/m*b.sum[c] - u*float64(b.mu[c]))
	}
	affine2To(b.dx.Data, dy.Data, b.x.Data, b.gs, b.gu, b.gt)
	return b.dx
}

// paramGrads adds the gamma and beta gradients at inference (moving
// statistics held fixed).
func (b *BatchNorm) paramGrads(dy *Tensor) {
	C := b.C
	for p := 0; p < len(dy.Data); p += C {
		dr, xr := dy.Data[p:p+C], b.x.Data[p:p+C]
		for c, v := range dr {
			is := 1 / float32(math.Sqrt(float64(b.Var.Value[c])+float64(b.Epsilon)))
			if b.Gamma.Grad != nil {
				b.Gamma.Grad[c] += v * (xr[c] - b.Mean.Value[c]) * is
			}
			if b.Beta.Grad != nil {
				b.Beta.Grad[c] += v
			}
		}
	}
}

// Shift returns how far in, a batch of inputs to b, lies from the
// statistics b learned in training: the root mean square of the
// standardised values (x − μ_c)/√(σ²_c + ε) over every position and
// channel, with b's moving mean μ and variance σ². Inputs like the
// training data give about 1. (xai's input-fit check reads it at every
// BatchNorm of the page's every prediction.)
func (b *BatchNorm) Shift(in *Tensor) float64 {
	c := b.C
	if in.Shape[3] != c {
		panic(sprintf("nn: %s: Shift of input %v, want %d channels", b.name, in, c))
	}
	if len(in.Data) == 0 {
		return 0
	}
	mean := make([]float32, c)
	inv := make([]float32, c)
	for k := range c {
		mean[k] = b.Mean.Value[k]
		inv[k] = float32(1 / math.Sqrt(float64(b.Var.Value[k])+float64(b.Epsilon)))
	}
	// Under wasm in pieces of at most 64 Ki values (a call each, for V8's
	// tier-up: see pool2x2RowTo), the running sum carried from piece to
	// piece so that the order of the additions does not change.
	step := len(in.Data)
	if runtime.GOARCH == "wasm" {
		step = max(1, (1<<16)/c) * c
	}
	var sum float64
	for p := 0; p < len(in.Data); p += step {
		sum = shiftSumTo(sum, in.Data[p:min(len(in.Data), p+step)], mean, inv)
	}
	return math.Sqrt(sum / float64(len(in.Data)))
}

// shiftSumTo returns sum plus Σ_positions Σ_c ((x − mean_c)·inv_c)² over x
// (positions of c = len(mean) channels), in this order: each position's
// channels in float32, in four interleaved sums (channel k into sum k mod
// 4, the last c mod 4 channels into the first), added as (q0 + q1) + (q2 +
// q3); the positions one by one in float64. Four chains of additions
// instead of one ran 3.4 times faster under node, and the order is the
// SIMD128 kernel's (fastShiftSum).
//
//	x: (positions, c)   mean, inv: (c)
func shiftSumTo(sum float64, x, mean, inv []float32) float64 {
	c := len(mean)
	inv = inv[:c]
	if fastShiftSum != nil && c%4 == 0 {
		return fastShiftSum(sum, x[:len(x)/c*c], mean, inv)
	}
	for p := 0; p+c <= len(x); p += c {
		row := x[p : p+c : p+c]
		var q0, q1, q2, q3 float32
		k := 0
		for ; k+4 <= c; k += 4 {
			v, m, w := row[k:k+4:k+4], mean[k:k+4:k+4], inv[k:k+4:k+4]
			z0, z1, z2, z3 := (v[0]-m[0])*w[0], (v[1]-m[1])*w[1], (v[2]-m[2])*w[2], (v[3]-m[3])*w[3]
			// (float32 conversions: no fused multiply-add)
			q0 += float32(z0 * z0)
			q1 += float32(z1 * z1)
			q2 += float32(z2 * z2)
			q3 += float32(z3 * z3)
		}
		for ; k < c; k++ {
			z := (row[k] - mean[k]) * inv[k]
			q0 += float32(z * z)
		}
		sum += float64((q0 + q1) + (q2 + q3))
	}
	return sum
}

// scaleShiftTo computes y = x*s + t per channel.
//
//	y, x: (positions, c)   s, t: (c)
func scaleShiftTo(y, x, s, t []float32) {
	C := len(s)
	t = t[:C]
	if fastScaleShift != nil && C%4 == 0 {
		fastScaleShift(y[:len(x)/C*C], x[:len(x)/C*C], s, t)
		return
	}
	if C%4 != 0 {
		for p := 0; p+C <= len(x); p += C {
			xr, yr := x[p:p+C], y[p:p+C]
			for c := range xr {
				yr[c] = xr[c]*s[c] + t[c]
			}
		}
		return
	}
	// Four channels per step, checked once: under wasm a loop's back edge
	// and each bounds check cost about as much as the arithmetic.
	for p := 0; p+C <= len(x); p += C {
		xr, yr := x[p:p+C], y[p:p+C]
		for c := 0; c+3 < len(xr); c += 4 {
			_, _, _ = yr[c+3], s[c+3], t[c+3]
			yr[c] = xr[c]*s[c] + t[c]
			yr[c+1] = xr[c+1]*s[c+1] + t[c+1]
			yr[c+2] = xr[c+2]*s[c+2] + t[c+2]
			yr[c+3] = xr[c+3]*s[c+3] + t[c+3]
		}
	}
}

// scaleTo computes y = x*s per channel.
//
//	y, x: (positions, c)   s: (c)
func scaleTo(y, x, s []float32) {
	C := len(s)
	if fastScaleShift != nil && C%4 == 0 {
		fastScaleShift(y[:len(x)/C*C], x[:len(x)/C*C], s, nil)
		return
	}
	if C%4 != 0 {
		for p := 0; p+C <= len(x); p += C {
			xr, yr := x[p:p+C], y[p:p+C]
			for c := range xr {
				yr[c] = xr[c] * s[c]
			}
		}
		return
	}
	for p := 0; p+C <= len(x); p += C {
		xr, yr := x[p:p+C], y[p:p+C]
		for c := 0; c+3 < len(xr); c += 4 {
			_, _ = yr[c+3], s[c+3]
			yr[c] = xr[c] * s[c]
			yr[c+1] = xr[c+1] * s[c+1]
			yr[c+2] = xr[c+2] * s[c+2]
			yr[c+3] = xr[c+3] * s[c+3]
		}
	}
}

// affine2To computes dst = s*a + u*b + t per channel.
//
//	dst, a, b: (positions, c)   s, u, t: (c)
func affine2To(dst, a, b, s, u, t []float32) {
	C := len(s)
	u, t = u[:C], t[:C]
	for p := 0; p+C <= len(a); p += C {
		ar, br, dr := a[p:p+C], b[p:p+C], dst[p:p+C]
		for c := range dr {
			dr[c] = s[c]*ar[c] + u[c]*br[c] + t[c]
		}
	}
}

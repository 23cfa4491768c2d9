package xai

import (
	"math/rand/v2"
	"slices"

	"github.com/mavis-xai/mavis/nn"
)

// The noise tunnel (Captum's NoiseTunnel): an attribution computed on n
// noisy copies of the input and summarised per value by its mean
// (SmoothGrad), its mean square (SmoothGrad-squared) or its variance
// (VarGrad). The attribution wrapped is the plain input gradient by
// default, or any registered method marked Tunnel (Gradient × Input,
// Integrated Gradients, ...), named by the tunnel methods' "wraps" option.

// tunnelParam is the option of the tunnel methods that names the wrapped
// attribution; tunnelGradient, its first choice, is ∂Score/∂x.
const (
	tunnelParam    = "wraps"
	tunnelGradient = "gradient"
)

// linkTunnel keeps every tunnel method's "wraps" choices equal to
// "gradient" followed by the names of the registered Tunnel methods in
// sorted order, whatever the order in which the files register; register
// calls it after adding m.
func linkTunnel(m *Method) {
	for _, r := range registry {
		p := r.Param(tunnelParam)
		if p == nil {
			continue
		}
		for _, w := range registry {
			if w.Tunnel && !slices.Contains(p.Choices, w.Name) {
				p.Choices = append(p.Choices, w.Name)
			}
		}
		slices.Sort(p.Choices[1:])
	}
}

// NoiseTunnelOptions configures NoiseTunnel.
type NoiseTunnelOptions struct {
	Target Target
	// Wraps names the attribution A computed on each noisy copy: "" or
	// "gradient" for ∂Score/∂x (batched through the gradient engine), or
	// a registered method with Method.Tunnel set, run with its default
	// options (and Baseline, for a method that takes one).
	Wraps   string
	Samples int     // n, the noisy copies (default 25)
	Noise   float64 // σ as a fraction of the input range, hi − lo (default 0.15)
	Seed    uint64  // seeds the noise; equal seeds give equal noise on every platform
	// Baseline is passed to a wrapped method that takes a reference input.
	Baseline *nn.Tensor
	// Progress, when not nil, is called after every pass with the number of
	// attributions computed and their total, n + 1 (x is evaluated first).
	Progress func(done, total int)
	// Cancel, when not nil, stops a wrapped method between samples (the
	// gradient's sweep, like Integrated Gradients', runs to the end).
	Cancel Canceller
}

// Tunnel holds the statistics of a noise tunnel over its n samples
// a_i = A(x + ε_i), i = 1..n, per value, accumulated in float64.
type Tunnel struct {
	Prediction     // at x, which fixes the class for every sample
	Mean       Map // (1/n) Σ a_i (SmoothGrad)
	MeanSquare Map // (1/n) Σ a_i² (SmoothGrad-squared)
	Var        Map // (1/n) Σ (a_i − Mean)², the population variance (VarGrad)
	Samples    int
	// Passes counts the forward and backward passes: (n + 1) times those
	// of one attribution.
	Passes int
}

// NoiseTunnel computes the noise tunnel of Smilkov et al. ("SmoothGrad:
// removing noise by adding noise", 2017), generalised as Captum's
// NoiseTunnel: with ε_i ~ N(0, σ²) independently per value and
// σ = Noise · (hi − lo) ([lo, hi] the model's input range from its
// Preprocess contract, 0..255 for MAVIS),
//
//	a_i = A(x + ε_i),  Mean = (1/n) Σ a_i,  MeanSquare = (1/n) Σ a_i²,
//	Var = (1/n) Σ (a_i − Mean)²
//
// The noisy inputs are not clipped. x itself is evaluated first: it fixes
// the class (Target.Class −1: the prediction for x) and gives the
// prediction, and its attribution a_0 is the shift of the variance's
// running sums (Σ (a_i − a_0) and Σ (a_i − a_0)², so that a constant
// attribution has a variance of exactly 0); it is not one of the n
// samples.
//
// The noise of sample i is the i-th block of len(x) draws of one PCG
// stream (seed, 0x5eed) through NormFloat64: it depends only on the seed
// and i, is the same on every platform (pure Go), and is SmoothGrad's
// noise as it always was.
func (ex *Explainer) NoiseTunnel(x *nn.Tensor, o NoiseTunnelOptions) (Tunnel, error) {
	var tu Tunnel
	if err := ex.check(x, o.Target); err != nil {
		return tu, err
	}
	n := o.Samples
	if n == 0 {
		n = 25
	}
	if n < 1 || n > maxSteps {
		return tu, errorf("xai: noise tunnel samples %d out of range 1..%d", n, maxSteps)
	}
	frac := o.Noise
	if frac == 0 {
		frac = 0.15
	}
	if !(frac > 0 && frac <= 10) {
		return tu, errorf("xai: noise tunnel noise %g out of range (a fraction of the input range, such as 0.15)", o.Noise)
	}
	lo, hi := inputRange(ex.Model.Preprocess)
	st := &ex.tun
	st.noise.start(o.Seed, frac*(hi-lo))
	var err error
	var h, w, c int
	if o.Wraps == "" || o.Wraps == tunnelGradient {
		in := ex.Model.InputShape()
		h, w, c = in[0], in[1], in[2]
		st.resize(len(x.Data))
		point := func(i int, dst []float32) {
			if i == 0 {
				copy(dst, x.Data)
				return
			}
			st.noise.sampleTo(dst, x.Data, i)
		}
		var score float64
		use := func(i int, g []float32, s float64) {
			if i == 0 {
				score = s
			}
			st.add(i, g)
		}
		cl := ex.eng.sweep(n+1, ex.batch(), o.Target, point, use, o.Progress)
		setPrediction(&tu.Prediction, o.Target, cl, ex.eng.p0, ex.eng.z0, score)
		tu.Passes = n + 1
	} else if h, w, c, err = ex.tunnelWrapped(&tu, x, o, n); err != nil {
		return tu, err
	}
	tu.Samples = n
	tu.Mean, tu.MeanSquare, tu.Var = NewMap(h, w, c), NewMap(h, w, c), NewMap(h, w, c)
	st.finish(tu.Mean.Data, tu.MeanSquare.Data, tu.Var.Data, n)
	return tu, nil
}

// tunnelWrapped runs the registered method o.Wraps on x and then on its n
// noisy copies, accumulating its maps in ex.tun. It returns the maps'
// shape.
func (ex *Explainer) tunnelWrapped(tu *Tunnel, x *nn.Tensor, o NoiseTunnelOptions, n int) (h, w, c int, err error) {
	m, err := Lookup(o.Wraps)
	if err != nil {
		return 0, 0, 0, err
	}
	if !m.Tunnel {
		return 0, 0, 0, errorf("xai: the noise tunnel cannot wrap %s (it wraps gradient or a deterministic input-space method: %s)", m.Name, join(tunnelChoices(), ", "))
	}
	v, err := m.Resolve(nil)
	if err != nil {
		return 0, 0, 0, err
	}
	st := &ex.tun
	if st.pt.Shape != x.Shape {
		st.pt = nn.Tensor{Shape: x.Shape, Data: make([]float32, len(x.Data))}
	}
	in := ex.Model.InputShape()
	req := Request{Method: m.Name, Target: o.Target, Seed: o.Seed, Baseline: o.Baseline, Cancel: o.Cancel}
	res := &st.res
	for i := 0; i <= n; i++ {
		if err := cancelled(o.Cancel); err != nil {
			return 0, 0, 0, err
		}
		if i == 0 {
			copy(st.pt.Data, x.Data)
		} else {
			st.noise.sampleTo(st.pt.Data, x.Data, i)
		}
		*res = Result{Method: m.Name, Values: v, Map: res.Map, Prediction: res.Prediction}
		if err := m.run(ex, &st.pt, &req, v, res); err != nil {
			return 0, 0, 0, err
		}
		a := res.Map
		if a.H != in[0] || a.W != in[1] {
			return 0, 0, 0, errorf("xai: the noise tunnel wraps %s, whose %v map is not at the input's %dx%d resolution", m.Name, a, in[0], in[1])
		}
		if i == 0 {
			h, w, c = a.H, a.W, a.C
			st.resize(len(a.Data))
			tu.setPrediction(res.Prediction)
			req.Target.Class = res.Class // every sample explains x's class
		}
		st.add(i, a.Data)
		tu.Passes += res.Passes
		if o.Progress != nil {
			o.Progress(i+1, n+1)
		}
	}
	return h, w, c, nil
}

func (tu *Tunnel) setPrediction(p Prediction) {
	setPrediction(&tu.Prediction, p.Target, p.Class, p.Probs, p.Logits, p.Score)
}

// tunnelChoices returns the attributions the noise tunnel wraps.
func tunnelChoices() []string {
	out := []string{tunnelGradient}
	for _, m := range registry {
		if m.Tunnel {
			out = append(out, m.Name)
		}
	}
	return out
}

// tunnelState is the noise tunnel's storage: its running sums (float64,
// one per value of the wrapped attribution), the shift a_0, the noise
// and a wrapped method's input and result.
type tunnelState struct {
	sum   []float64 // Σ a_i
	sq    []float64 // Σ a_i²
	s1    []float64 // Σ (a_i − a_0)
	s2    []float64 // Σ (a_i − a_0)²
	shift []float32 // a_0
	noise noiseStream
	pt    nn.Tensor // a noisy copy, for a wrapped method
	res   Result    // a wrapped method's result
}

func (st *tunnelState) resize(n int) {
	st.sum, st.sq, st.s1, st.s2 = resize64(st.sum, n), resize64(st.sq, n), resize64(st.s1, n), resize64(st.s2, n)
	if cap(st.shift) < n {
		st.shift = make([]float32, n)
	}
	st.shift = st.shift[:n]
}

// add accumulates a_i (i = 0: the shift, which starts the sums).
func (st *tunnelState) add(i int, a []float32) {
	if i == 0 {
		copy(st.shift, a)
		clear(st.sum)
		clear(st.sq)
		clear(st.s1)
		clear(st.s2)
		return
	}
	for j, v := range a {
		f := float64(v)
		d := f - float64(st.shift[j])
		st.sum[j] += f
		st.sq[j] += f * f
		st.s1[j] += d
		st.s2[j] += d * d
	}
}

// finish writes the mean, mean square and variance over n samples.
func (st *tunnelState) finish(mean, sq, vr []float32, n int) {
	fn := float64(n)
	for j := range mean {
		mean[j] = float32(st.sum[j] / fn)
		sq[j] = float32(st.sq[j] / fn)
		d := st.s1[j] / fn
		vr[j] = float32(max(st.s2[j]/fn-d*d, 0))
	}
}

// noiseStream draws the noise of SmoothGrad's samples: sample i (1, 2,
// ...) of an input of L values is x + σ z with z the draws (i−1)L..iL−1
// of NormFloat64 on the PCG stream (seed, 0x5eed). Samples asked in
// order cost L draws each; an earlier sample restarts the stream and a
// later one skips the draws between (a few milliseconds per skipped
// sample of 224x224x3, against a forward and backward pass).
type noiseStream struct {
	pcg   rand.PCG
	rng   *rand.Rand
	seed  uint64
	sigma float64
	next  int // the sample the stream is at
}

func (s *noiseStream) start(seed uint64, sigma float64) {
	if s.rng == nil {
		s.rng = rand.New(&s.pcg)
	}
	s.pcg.Seed(seed, 0x5eed)
	s.seed, s.sigma, s.next = seed, sigma, 1
}

// sampleTo writes noisy sample i ≥ 1 of x into dst.
func (s *noiseStream) sampleTo(dst, x []float32, i int) {
	if i < s.next {
		s.start(s.seed, s.sigma)
	}
	for ; s.next < i; s.next++ {
		for range x {
			s.rng.NormFloat64()
		}
	}
	for j, v := range x {
		dst[j] = float32(float64(v) + s.sigma*s.rng.NormFloat64())
	}
	s.next++
}

// tunnelParams returns the tunnel methods' options (a fresh slice each:
// linkTunnel appends to each method's own choices).
func tunnelParams() []Param {
	return []Param{
		{Name: "samples", Label: "Samples", Kind: Int, Default: 25, Min: 1, Max: maxSteps, Doc: "noisy copies averaged"},
		{Name: "noise", Label: "Noise", Kind: Float, Default: 0.15, Min: 0.001, Max: 10, Doc: "noise standard deviation as a fraction of the input range"},
		{Name: tunnelParam, Label: "Wraps", Kind: Choice, Default: tunnelGradient, Choices: []string{tunnelGradient},
			Doc: "the attribution computed on each noisy copy: the plain gradient, or a method's map (with its default options)"},
	}
}

// tunnelRun runs a tunnel method's request.
func tunnelRun(ex *Explainer, x *nn.Tensor, r *Request, v Values) (Tunnel, error) {
	return ex.NoiseTunnel(x, NoiseTunnelOptions{Target: r.Target, Wraps: v.String(tunnelParam), Samples: v.Int("samples"),
		Noise: v.Float("noise"), Seed: r.Seed, Baseline: r.Baseline, Progress: r.Progress, Cancel: r.Cancel})
}

func init() {
	register(Method{Name: "smoothgrad", Label: "SmoothGrad", Family: FamilyGradient, Display: DisplayPercentile, Seeded: true,
		Paper:  "Smilkov et al., \"SmoothGrad: removing noise by adding noise\", ICML workshop 2017",
		URL:    "https://arxiv.org/abs/1706.03825",
		Doc:    "Saliency averaged over noisy copies of the image: the same sensitivity with the speckle averaged away. Bright pixels are sensitive.",
		Params: tunnelParams(),
		run: func(ex *Explainer, x *nn.Tensor, r *Request, v Values, dst *Result) error {
			tu, err := tunnelRun(ex, x, r, v)
			if err != nil {
				return err
			}
			s := SaliencyMap{Prediction: tu.Prediction, Grad: tu.Mean, Samples: tu.Samples}
			s.Zero = maxAbsTo(&s.Map, s.Grad)
			saliencyResult(dst, &s, tu.Passes)
			return nil
		}})
	register(Method{Name: "smoothgradsq", Label: "SmoothGrad²", Family: FamilyGradient, Display: DisplayPercentile, Seeded: true,
		Paper:  "Hooker, Erhan, Kindermans and Kim, \"A Benchmark for Interpretability Methods in Deep Neural Networks\" (ROAR; SmoothGrad-Squared), NeurIPS 2019; after Smilkov et al. 2017",
		URL:    "https://arxiv.org/abs/1806.10758",
		Doc:    "The mean of the squared gradient over noisy copies of the image (per colour channel; shown summed over them): where the score is sensitive, whatever the sign. Bright pixels are sensitive.",
		Params: tunnelParams(),
		run: func(ex *Explainer, x *nn.Tensor, r *Request, v Values, dst *Result) error {
			tu, err := tunnelRun(ex, x, r, v)
			if err != nil {
				return err
			}
			tunnelResult(dst, &tu, tu.MeanSquare)
			return nil
		}})
	register(Method{Name: "vargrad", Label: "VarGrad", Family: FamilyGradient, Display: DisplayPercentile, Seeded: true,
		Paper:  "Adebayo, Gilmer, Goodfellow and Kim, \"Local Explanation Methods for Deep Neural Networks Lack Sensitivity to Parameter Randomization\", ICLR workshop 2018",
		URL:    "https://arxiv.org/abs/1810.03307",
		Doc:    "The variance of the gradient over noisy copies of the image (per colour channel; shown summed over them): where the gradient changes with small changes of the image. Bright pixels vary most.",
		Params: tunnelParams(),
		run: func(ex *Explainer, x *nn.Tensor, r *Request, v Values, dst *Result) error {
			tu, err := tunnelRun(ex, x, r, v)
			if err != nil {
				return err
			}
			tunnelResult(dst, &tu, tu.Var)
			return nil
		}})
}

// tunnelResult fills dst with a tunnel statistic as its map.
func tunnelResult(dst *Result, tu *Tunnel, m Map) {
	dst.setPrediction(tu.Prediction)
	dst.Map, dst.Zero, dst.Passes = m, allZero(m.Data), tu.Passes
}

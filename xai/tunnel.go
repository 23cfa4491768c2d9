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
//
// The evaluations (x, then the samples) can be split into ranges computed
// by other workers and combined (the registry's PartTo and CombineTo):
// each part holds its float64 sums, a part without x shifts its
// variance's sums by its first sample, and the combination re-shifts
// them exactly to the first part's shift. One part gives NoiseTunnel's
// result bit for bit.
func (ex *Explainer) NoiseTunnel(x *nn.Tensor, o NoiseTunnelOptions) (Tunnel, error) {
	var tu Tunnel
	n, err := ex.tunnelEvaluations(o)
	if err != nil {
		return tu, err
	}
	p := &ex.tun.part
	if err := ex.tunnelPart(p, x, o, 0, n); err != nil {
		return tu, err
	}
	ex.tun.one[0] = p
	err = ex.tunnelCombine(&tu, x, o, ex.tun.one[:])
	return tu, err
}

// tunnelEvaluations checks o and returns its number of attributions, the
// samples and x.
func (ex *Explainer) tunnelEvaluations(o NoiseTunnelOptions) (int, error) {
	n, _, err := o.defaults()
	if err != nil {
		return 0, err
	}
	if _, err := o.wrapped(); err != nil {
		return 0, err
	}
	return n + 1, nil
}

func (o NoiseTunnelOptions) defaults() (n int, frac float64, err error) {
	n, frac = o.Samples, o.Noise
	if n == 0 {
		n = 25
	}
	if frac == 0 {
		frac = 0.15
	}
	if n < 1 || n > maxSteps {
		return 0, 0, errorf("xai: noise tunnel samples %d out of range 1..%d", n, maxSteps)
	}
	if !(frac > 0 && frac <= 10) {
		return 0, 0, errorf("xai: noise tunnel noise %g out of range (a fraction of the input range, such as 0.15)", o.Noise)
	}
	return n, frac, nil
}

// wrapped returns the method o wraps, nil for the gradient.
func (o NoiseTunnelOptions) wrapped() (*Method, error) {
	if o.Wraps == "" || o.Wraps == tunnelGradient {
		return nil, nil
	}
	m, err := Lookup(o.Wraps)
	if err != nil {
		return nil, err
	}
	if !m.Tunnel {
		return nil, errorf("xai: the noise tunnel cannot wrap %s (it wraps gradient or a deterministic input-space method: %s)", m.Name, join(tunnelChoices(), ", "))
	}
	return m, nil
}

// tunnelPart computes the tunnel's attributions [lo, hi) (0 is x, i ≥ 1
// sample i) into dst. dst.Sum holds five blocks of L values (L = the
// attribution's length): Σ a_i, Σ a_i², the shift K (a_0, or the part's
// first sample when it lacks x), Σ (a_i − K) and Σ (a_i − K)², over the
// part's samples. A part without x needs Target.Class ≥ 0.
func (ex *Explainer) tunnelPart(dst *Part, x *nn.Tensor, o NoiseTunnelOptions, lo, hi int) error {
	if err := ex.check(x, o.Target); err != nil {
		return err
	}
	samples, frac, err := o.defaults()
	if err != nil {
		return err
	}
	m, err := o.wrapped()
	if err != nil {
		return err
	}
	n := samples + 1
	if lo < 0 || hi > n || lo >= hi {
		return errorf("xai: noise tunnel evaluations %d..%d are not a non-empty range within 0..%d", lo, hi, n)
	}
	if lo > 0 && o.Target.Class < 0 {
		return errorf("xai: noise tunnel evaluations %d..%d exclude x (evaluation 0), so they need the class explained (Target.Class ≥ 0), not the predicted class", lo, hi)
	}
	rlo, rhi := inputRange(ex.Model.Preprocess)
	st := &ex.tun
	st.noise.use(o.Seed, frac*(rhi-rlo))
	dst.Lo, dst.Hi, dst.Evaluations, dst.BaselineScore = lo, hi, n, 0
	first := true
	// add accumulates attribution i; the part's first one sets the shift.
	add := func(i int, a []float32) {
		L := len(a)
		if first {
			dst.Sum = resize64(dst.Sum, 5*L)
			clear(dst.Sum)
			for j, v := range a {
				dst.Sum[2*L+j] = float64(v)
			}
			first = false
		}
		if i == 0 {
			return
		}
		sum, sq, k, s1, s2 := dst.Sum[:L], dst.Sum[L:2*L], dst.Sum[2*L:3*L], dst.Sum[3*L:4*L], dst.Sum[4*L:5*L]
		for j, v := range a {
			f := float64(v)
			d := f - k[j]
			sum[j] += f
			sq[j] += f * f
			s1[j] += d
			s2[j] += d * d
		}
	}
	var class int
	var pred *Prediction
	if m == nil {
		point := func(i int, p []float32) {
			if i += lo; i == 0 {
				copy(p, x.Data)
				return
			}
			st.noise.sampleTo(p, x.Data, i)
		}
		var score float64
		use := func(i int, g []float32, s float64) {
			if i == 0 && lo == 0 {
				score = s
			}
			add(i+lo, g)
		}
		class = ex.eng.sweep(hi-lo, ex.batch(), o.Target, point, use, o.Progress)
		if lo == 0 {
			setPrediction(&dst.Prediction, o.Target, class, ex.eng.p0, ex.eng.z0, score)
			pred = &dst.Prediction
		}
	} else if class, err = ex.tunnelWrapped(dst, m, x, o, lo, hi, add); err != nil {
		return err
	}
	dst.Class = class
	if pred == nil && lo > 0 {
		dst.Prediction.Class, dst.Prediction.Target, dst.Prediction.Score = class, o.Target, 0
		dst.Prediction.Probs, dst.Prediction.Logits = dst.Prediction.Probs[:0], dst.Prediction.Logits[:0]
	}
	return nil
}

// tunnelWrapped runs the registered method m on the attributions [lo, hi)
// (x, or its noisy copies), passing each map to add. It returns the class.
func (ex *Explainer) tunnelWrapped(dst *Part, m *Method, x *nn.Tensor, o NoiseTunnelOptions, lo, hi int, add func(i int, a []float32)) (int, error) {
	v, err := m.Resolve(nil)
	if err != nil {
		return 0, err
	}
	st := &ex.tun
	if st.pt.Shape != x.Shape {
		st.pt = nn.Tensor{Shape: x.Shape, Data: make([]float32, len(x.Data))}
	}
	in := ex.Model.InputShape()
	req := Request{Method: m.Name, Target: o.Target, Seed: o.Seed, Baseline: o.Baseline, Cancel: o.Cancel}
	res := &st.res
	for i := lo; i < hi; i++ {
		if err := cancelled(o.Cancel); err != nil {
			return 0, err
		}
		if i == 0 {
			copy(st.pt.Data, x.Data)
		} else {
			st.noise.sampleTo(st.pt.Data, x.Data, i)
		}
		*res = Result{Method: m.Name, Values: v, Map: res.Map, Prediction: res.Prediction}
		if err := m.run(ex, &st.pt, &req, v, res); err != nil {
			return 0, err
		}
		if a := res.Map; a.H != in[0] || a.W != in[1] || a.C < 1 || i > lo && len(a.Data)*5 != len(dst.Sum) {
			return 0, errorf("xai: the noise tunnel wraps %s, whose %v map is not at the input's %dx%d resolution", m.Name, a, in[0], in[1])
		}
		if i == 0 {
			setPrediction(&dst.Prediction, res.Prediction.Target, res.Class, res.Probs, res.Logits, res.Score)
		}
		req.Target.Class = res.Class // every sample explains x's class
		add(i, res.Map.Data)
		if o.Progress != nil {
			o.Progress(i-lo+1, hi-lo)
		}
	}
	return req.Target.Class, nil
}

// tunnelCombine writes the tunnel statistics of x made of parts (any
// order) that cover every evaluation once.
func (ex *Explainer) tunnelCombine(dst *Tunnel, x *nn.Tensor, o NoiseTunnelOptions, parts []*Part) error {
	if err := ex.check(x, o.Target); err != nil {
		return err
	}
	n, err := ex.tunnelEvaluations(o)
	if err != nil {
		return err
	}
	m, _ := o.wrapped()
	in := ex.Model.InputShape()
	size := 0 // the first part's sums: all must hold as many
	for _, p := range parts {
		if p != nil {
			size = len(p.Sum)
			break
		}
	}
	L := size / 5
	if hw := in[0] * in[1]; L == 0 || size%5 != 0 || L%hw != 0 {
		return errorf("xai: noise tunnel parts of %d sums, want 5 blocks of %dx%dxC attributions", size, in[0], in[1])
	}
	st := &ex.tun
	ord, err := chainParts(st.order[:0], parts, n, "noise tunnel", func(*Part) int { return size })
	st.order = ord
	defer clear(ord)
	if err != nil {
		return err
	}
	if o.Target.Class >= 0 && ord[0].Class != o.Target.Class {
		return errorf("xai: a noise tunnel part explains class %d, want %d", ord[0].Class, o.Target.Class)
	}
	first := ord[0].Sum
	sum, sq, k0, s1, s2 := first[:L], first[L:2*L], first[2*L:3*L], first[3*L:4*L], first[4*L:5*L]
	if len(ord) > 1 {
		// Add the other parts, their shifted sums moved to the first
		// part's shift K0 exactly: with d = K − K0,
		// Σ(a − K0) = Σ(a − K) + n d and Σ(a − K0)² = Σ(a − K)² + 2d Σ(a − K) + n d².
		st.sums = resize64(st.sums, 4*L)
		copy(st.sums[:L], sum)
		copy(st.sums[L:2*L], sq)
		copy(st.sums[2*L:3*L], s1)
		copy(st.sums[3*L:], s2)
		sum, sq, s1, s2 = st.sums[:L], st.sums[L:2*L], st.sums[2*L:3*L], st.sums[3*L:]
		for _, p := range ord[1:] {
			np := float64(p.Hi - max(p.Lo, 1))
			ps := p.Sum
			for j := range L {
				d := ps[2*L+j] - k0[j]
				sum[j] += ps[j]
				sq[j] += ps[L+j]
				s1[j] += ps[3*L+j] + np*d
				s2[j] += ps[4*L+j] + 2*d*ps[3*L+j] + np*d*d
			}
		}
	}
	c := L / (in[0] * in[1])
	dst.Mean, dst.MeanSquare, dst.Var = NewMap(in[0], in[1], c), NewMap(in[0], in[1], c), NewMap(in[0], in[1], c)
	fn := float64(n - 1)
	for j := range L {
		dst.Mean.Data[j] = float32(sum[j] / fn)
		dst.MeanSquare.Data[j] = float32(sq[j] / fn)
		d := s1[j] / fn
		dst.Var.Data[j] = float32(max(s2[j]/fn-d*d, 0))
	}
	px := &ord[0].Prediction
	setPrediction(&dst.Prediction, o.Target, ord[0].Class, px.Probs, px.Logits, px.Score)
	dst.Samples, dst.Passes = n-1, n*ex.wrappedPasses(m, o)
	return nil
}

// wrappedPasses returns the passes of one attribution of m (nil: the
// gradient, one): a splittable method's evaluations, else one.
func (ex *Explainer) wrappedPasses(m *Method, o NoiseTunnelOptions) int {
	if m == nil || m.split == nil {
		return 1
	}
	v, err := m.Resolve(nil)
	if err != nil {
		return 1
	}
	r := Request{Method: m.Name, Target: o.Target, Baseline: o.Baseline}
	if k, err := m.split.evaluations(ex, &r, v); err == nil {
		return k
	}
	return 1
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

// tunnelState is the noise tunnel's storage: its parts, the noise, a
// wrapped method's input and result, and the sums of a combination.
type tunnelState struct {
	part  Part
	one   [1]*Part
	order []*Part
	sums  []float64
	noise noiseStream
	pt    nn.Tensor // a noisy copy, for a wrapped method
	res   Result    // a wrapped method's result
}

// noiseStream draws the noise of SmoothGrad's samples: sample i (1, 2,
// ...) of an input of L values is x + σ z with z the draws (i−1)L..iL−1
// of NormFloat64 on the PCG stream (seed, 0x5eed). Samples asked in
// order cost L draws each; an earlier sample restarts the stream and a
// later one skips the draws between (2.2 ms per skipped sample of
// 224x224x3 in the browser, against 41 ms for a forward and backward
// pass). The stream stays where it is between a worker's parts of one
// run, so that a part skips only the samples of the ranges other workers
// took, not every sample before it.
type noiseStream struct {
	pcg    rand.PCG
	rng    *rand.Rand
	seed   uint64
	sigma  float64
	l      int // the values of a sample (len(x)) that next counts in
	next   int // the sample the stream is at; 0: not started
	starts int // starts from sample 1, for the tests
}

// use makes the stream draw the noise of seed and sigma, keeping its
// place when it already does.
func (s *noiseStream) use(seed uint64, sigma float64) {
	if s.next == 0 || s.seed != seed || s.sigma != sigma {
		s.seed, s.sigma, s.next = seed, sigma, 0
	}
}

// restart puts the stream at sample 1.
func (s *noiseStream) restart() {
	if s.rng == nil {
		s.rng = rand.New(&s.pcg)
	}
	s.pcg.Seed(s.seed, 0x5eed)
	s.next = 1
	s.starts++
}

// sampleTo writes noisy sample i ≥ 1 of x into dst.
func (s *noiseStream) sampleTo(dst, x []float32, i int) {
	if s.next == 0 || i < s.next || len(x) != s.l {
		s.l = len(x)
		s.restart()
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
func tunnelOptions(r *Request, v Values) NoiseTunnelOptions {
	return NoiseTunnelOptions{Target: r.Target, Wraps: v.String(tunnelParam), Samples: v.Int("samples"),
		Noise: v.Float("noise"), Seed: r.Seed, Baseline: r.Baseline, Progress: r.Progress, Cancel: r.Cancel}
}

// tunnelMethod returns the run function and the split of a tunnel method
// whose result is made from the tunnel's statistics by result.
func tunnelMethod(result func(dst *Result, tu *Tunnel)) (func(*Explainer, *nn.Tensor, *Request, Values, *Result) error, *splitter) {
	run := func(ex *Explainer, x *nn.Tensor, r *Request, v Values, dst *Result) error {
		tu, err := ex.NoiseTunnel(x, tunnelOptions(r, v))
		if err != nil {
			return err
		}
		result(dst, &tu)
		return nil
	}
	return run, &splitter{
		evaluations: func(ex *Explainer, r *Request, v Values) (int, error) {
			return ex.tunnelEvaluations(tunnelOptions(r, v))
		},
		part: func(ex *Explainer, dst *Part, x *nn.Tensor, r *Request, v Values, lo, hi int) error {
			return ex.tunnelPart(dst, x, tunnelOptions(r, v), lo, hi)
		},
		combine: func(ex *Explainer, dst *Result, x *nn.Tensor, r *Request, v Values, parts []*Part) error {
			var tu Tunnel
			if err := ex.tunnelCombine(&tu, x, tunnelOptions(r, v), parts); err != nil {
				return err
			}
			result(dst, &tu)
			return nil
		},
	}
}

func init() {
	run, split := tunnelMethod(func(dst *Result, tu *Tunnel) {
		s := SaliencyMap{Prediction: tu.Prediction, Grad: tu.Mean, Samples: tu.Samples}
		s.Zero = maxAbsTo(&s.Map, s.Grad)
		saliencyResult(dst, &s, tu.Passes)
	})
	register(Method{Name: "smoothgrad", Label: "SmoothGrad", Family: FamilyGradient, Display: DisplayPercentile, Seeded: true,
		Paper:  "Smilkov et al., \"SmoothGrad: removing noise by adding noise\", ICML workshop 2017",
		URL:    "https://arxiv.org/abs/1706.03825",
		Doc:    "Saliency averaged over noisy copies of the image: the same sensitivity with the speckle averaged away. Bright pixels are sensitive.",
		Params: tunnelParams(), run: run, split: split})
	run, split = tunnelMethod(func(dst *Result, tu *Tunnel) { tunnelResult(dst, tu, tu.MeanSquare) })
	register(Method{Name: "smoothgradsq", Label: "SmoothGrad²", Family: FamilyGradient, Display: DisplayPercentile, Seeded: true,
		Paper:  "Hooker, Erhan, Kindermans and Kim, \"A Benchmark for Interpretability Methods in Deep Neural Networks\" (ROAR; SmoothGrad-Squared), NeurIPS 2019; after Smilkov et al. 2017",
		URL:    "https://arxiv.org/abs/1806.10758",
		Doc:    "The mean of the squared gradient over noisy copies of the image (per colour channel; shown summed over them): where the score is sensitive, whatever the sign. Bright pixels are sensitive.",
		Params: tunnelParams(), run: run, split: split})
	run, split = tunnelMethod(func(dst *Result, tu *Tunnel) { tunnelResult(dst, tu, tu.Var) })
	register(Method{Name: "vargrad", Label: "VarGrad", Family: FamilyGradient, Display: DisplayPercentile, Seeded: true,
		Paper:  "Adebayo, Gilmer, Goodfellow and Kim, \"Local Explanation Methods for Deep Neural Networks Lack Sensitivity to Parameter Randomization\", ICLR workshop 2018",
		URL:    "https://arxiv.org/abs/1810.03307",
		Doc:    "The variance of the gradient over noisy copies of the image (per colour channel; shown summed over them): where the gradient changes with small changes of the image. Bright pixels vary most.",
		Params: tunnelParams(), run: run, split: split})
}

// tunnelResult fills dst with a tunnel statistic as its map.
func tunnelResult(dst *Result, tu *Tunnel, m Map) {
	dst.setPrediction(tu.Prediction)
	dst.Map, dst.Zero, dst.Passes = m, allZero(m.Data), tu.Passes
}

package xai

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/mavis-xai/mavis/nn"
)

// SanityThreshold is the mean Spearman rank correlation over the cascade
// above which a method fails the randomisation check: its maps agree
// more with the trained model's map than not, however many layers are
// scrambled. Adebayo et al. read the check visually; for gradient-based
// maps of trained networks the correlation falls towards 0 after a few
// layers, while maps that ignore the weights (edge detectors) stay at 1.
const SanityThreshold = 0.5

// MapFunc computes an explanation map of x for target t with an explainer
// of the model under test: the map a metric or check evaluates. t always
// has a fixed class (never −1).
type MapFunc func(ex *Explainer, x *nn.Tensor, t Target) (Map, error)

// SanityOptions configures RandomisationCheck.
type SanityOptions struct {
	// Target is what the maps explain; Class −1 is resolved once to the
	// class the trained model predicts, and that class is explained by
	// every randomised model.
	Target Target `json:"target"`
	// Seed seeds the new weights (PCG).
	Seed uint64 `json:"seed"`
	// Steps limits the cascade to the top Steps layers (0: all).
	Steps int `json:"steps"`
	// Progress, when not nil, is called after every map with the number
	// of maps computed and the total (Steps + 1).
	Progress func(done, total int) `json:"-"`
	// InPlace randomises the caller's model itself and puts its weights
	// back, bit for bit, before returning (also on an error or a cancel),
	// instead of working on a copy. It saves a second set of the model's
	// activation and gradient buffers (about 85 MB for MAVIS at 224x224),
	// for a caller short of memory such as the browser worker; the model
	// must not be used by anyone else during the call.
	InPlace bool `json:"-"`
}

// SanityResult is the outcome of the randomisation check.
type SanityResult struct {
	Class int    `json:"class"`
	Seed  uint64 `json:"seed"`
	// Layers[i] is the layer randomised at step i; after step i every
	// layer in Layers[:i+1] is random.
	Layers []string `json:"layers"`
	// Spearman[i] is the Spearman rank correlation between |original map|
	// and |map after step i|.
	Spearman  []float64 `json:"spearman"`
	Mean      float64   `json:"mean"`
	Threshold float64   `json:"threshold"`
	Pass      bool      `json:"pass"` // Mean <= Threshold: the map depends on the weights
}

// RandomisationCheck runs the cascading model-parameter randomisation
// test of Adebayo et al., "Sanity Checks for Saliency Maps" (NeurIPS 2018,
// "cascading randomization"): starting from the logits, the weights of one layer after the
// other are re-initialised, top layer first and cumulatively, and the map
// of the partly random model is compared with the trained model's map by
// the Spearman rank correlation of their absolute values (the map
// reduced over channels by summing, at its own resolution). A map that
// barely changes does not explain what the model learnt: the check fails
// when the mean correlation over the cascade exceeds SanityThreshold.
//
// The steps are the Conv2D and Dense layers (the layers that mix
// features), each re-initialised as Keras initialises a new layer:
// kernel Glorot-uniform from a PCG generator seeded by o.Seed, bias 0.
// BatchNorm layers keep their trained per-channel scale and shift and
// moving statistics (they do not mix features; keeping them keeps the
// activations at their trained scale). Everything runs on a deep copy
// of m, and the caller's model is never changed, unless o.InPlace.
func RandomisationCheck(ctx Canceller, m *nn.Model, x *nn.Tensor, fn MapFunc, o SanityOptions) (SanityResult, error) {
	cp := m
	if o.InPlace {
		saved := saveParams(m)
		defer restoreParams(m, saved)
	} else {
		var err error
		if cp, err = m.Clone(); err != nil {
			return SanityResult{}, err
		}
	}
	ex := New(cp)
	if err := ex.check(x, o.Target); err != nil {
		return SanityResult{}, err
	}
	t := o.Target
	if t.Class < 0 {
		p, err := ex.Predict(x)
		if err != nil {
			return SanityResult{}, err
		}
		t.Class = p.Class
	}
	var steps []int
	for i := cp.Logits(); i >= 0; i-- {
		switch cp.Layers[i].(type) {
		case *nn.Conv2D, *nn.Dense:
			steps = append(steps, i)
		}
	}
	if o.Steps < 0 {
		return SanityResult{}, errorf("xai: %d randomisation steps", o.Steps)
	}
	if o.Steps > 0 && o.Steps < len(steps) {
		steps = steps[:o.Steps]
	}
	if len(steps) == 0 {
		return SanityResult{}, errorf("xai: the model has no Conv2D or Dense layer to randomise")
	}
	total := len(steps) + 1
	orig, err := fn(ex, x, t)
	if err != nil {
		return SanityResult{}, err
	}
	a := absChannelSum(orig)
	if o.Progress != nil {
		o.Progress(1, total)
	}
	r := SanityResult{Class: t.Class, Seed: o.Seed, Threshold: SanityThreshold}
	var ra []float64 // ranks(a)
	rng := rand.New(rand.NewPCG(o.Seed, 0xadeba10))
	for s, i := range steps {
		if err := cancelled(ctx); err != nil {
			return SanityResult{}, errorf("xai: randomisation check stopped after %d of %d steps: %w", s, len(steps), err)
		}
		nn.InitLayer(cp.Layers[i], rng)
		got, err := fn(ex, x, t)
		if err != nil {
			return SanityResult{}, err
		}
		b := absChannelSum(got)
		if len(b) != len(a) {
			return SanityResult{}, errorf("xai: map %v after randomising %s, want %v as before", got, cp.Layers[i].Name(), orig)
		}
		r.Layers = append(r.Layers, cp.Layers[i].Name())
		if ra == nil {
			ra = ranks(a) // the trained model's map, ranked once for the cascade
		}
		rho := 0.0
		if len(a) >= 2 {
			rho = rankCorrelation(ra, ranks(b)) // Spearman(a, b)
		}
		r.Spearman = append(r.Spearman, rho)
		if o.Progress != nil {
			o.Progress(s+2, total)
		}
	}
	for _, v := range r.Spearman {
		r.Mean += v
	}
	r.Mean /= float64(len(r.Spearman))
	r.Pass = r.Mean <= SanityThreshold
	return r, nil
}

// saveParams copies every parameter of m (for MAVIS, 0.5 MB).
func saveParams(m *nn.Model) [][]float32 {
	var saved [][]float32
	for _, p := range m.Params() {
		saved = append(saved, slices.Clone(p.Value))
	}
	return saved
}

// restoreParams puts back what saveParams copied.
func restoreParams(m *nn.Model, saved [][]float32) {
	for i, p := range m.Params() {
		copy(p.Value, saved[i])
	}
}

// absChannelSum returns |Σ_c m[h,w,c]| per position, in float64.
func absChannelSum(m Map) []float64 {
	out := make([]float64, m.H*m.W)
	for p := range out {
		var s float64
		for _, v := range m.Data[p*m.C : (p+1)*m.C] {
			s += float64(v)
		}
		out[p] = math.Abs(s)
	}
	return out
}

// Spearman returns Spearman's rank correlation coefficient of a and b:
// the Pearson correlation of their ranks, tied values sharing the average
// of the ranks they span. It returns 0 when either vector is constant
// (or has fewer than two values), where the coefficient is undefined;
// NaNs rank below every number. It panics when the lengths differ.
func Spearman(a, b []float64) float64 {
	if len(a) != len(b) {
		panic(sprintf("xai: Spearman of %d and %d values", len(a), len(b)))
	}
	if len(a) < 2 {
		return 0
	}
	return rankCorrelation(ranks(a), ranks(b))
}

// rankCorrelation is Spearman's coefficient from the ranks of a and b
// (ranks): their Pearson correlation, 0 when either is constant.
func rankCorrelation(ra, rb []float64) float64 {
	n := float64(len(ra))
	mean := (n + 1) / 2
	var sab, saa, sbb float64
	for i := range ra {
		da, db := ra[i]-mean, rb[i]-mean
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	if saa == 0 || sbb == 0 {
		return 0
	}
	return sab / math.Sqrt(saa*sbb)
}

// ranks returns the 1-based ranks of v, ascending, ties averaged (NaNs
// tie with −Inf, −0 with +0). Each value's key is an integer that sorts
// as the value does; the keys are sorted without a comparison function,
// and a value's tie group is where its key starts and ends among them.
func ranks(v []float64) []float64 {
	keys := make([]uint64, len(v))
	for i, x := range v {
		x = nanLow(x)
		if x == 0 {
			x = 0 // −0 as +0
		}
		k := math.Float64bits(x)
		if k>>63 != 0 {
			k = ^k // negative: larger magnitudes first
		} else {
			k |= 1 << 63
		}
		keys[i] = k
	}
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	r := make([]float64, len(v))
	for i, k := range keys {
		s, _ := slices.BinarySearch(sorted, k)   // the group's first position
		e, _ := slices.BinarySearch(sorted, k+1) // one past its last: no key is the largest uint64
		r[i] = float64(s+e+1) / 2                // mean of ranks s+1 .. e
	}
	return r
}

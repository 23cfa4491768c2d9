package xai

import (
	"math"
	"math/rand/v2"
	"strings"

	"github.com/mavis-xai/mavis/nn"
)

// BaselineKind selects an Integrated-Gradients baseline.
type BaselineKind int

const (
	Black  BaselineKind = iota // all zeros (the default, the original's and the fixtures')
	White                      // every value the top of the input range (255 for MAVIS)
	Blur                       // the input blurred by a Gaussian of Sigma pixels
	Noise                      // uniform noise over the input range, seeded
	Custom                     // Baseline.Image
)

func (k BaselineKind) String() string {
	return [...]string{"black", "white", "blur", "noise", "custom"}[min(max(int(k), 0), 4)]
}

// Baseline is an Integrated-Gradients reference input b.
type Baseline struct {
	Kind  BaselineKind
	Sigma float64    // Blur: Gaussian standard deviation in pixels (default 5)
	Seed  uint64     // Noise: PCG seed
	Image *nn.Tensor // Custom: 1 x H x W x C, the model's input shape
}

// ParseBaseline reads "black", "white", "blur", "noise" (anything else is
// an error: a file baseline is read by the caller into a Custom baseline).
func ParseBaseline(s string) (Baseline, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "black", "zero", "zeros":
		return Baseline{Kind: Black}, nil
	case "white":
		return Baseline{Kind: White}, nil
	case "blur", "blurred":
		return Baseline{Kind: Blur}, nil
	case "noise", "uniform":
		return Baseline{Kind: Noise}, nil
	}
	return Baseline{}, errorf("xai: unknown baseline %q (want black, white, blur, noise or an image)", s)
}

func (b Baseline) String() string {
	switch b.Kind {
	case Blur:
		return sprintf("blur(sigma=%g)", b.sigma())
	case Noise:
		return sprintf("noise(seed=%d)", b.Seed)
	}
	return b.Kind.String()
}

func (b Baseline) sigma() float64 {
	if b.Sigma == 0 {
		return DefaultBlurSigma
	}
	return b.Sigma
}

// The options that choose a reference input, shared by the methods that
// take one (Integrated Gradients' baseline, DeepLIFT's reference).

// baselineParam is the "baseline" option, with its one-line doc.
func baselineParam(doc string) Param {
	return Param{Name: "baseline", Label: "Baseline", Kind: Choice, Default: "black", Choices: []string{"black", "white", "blur", "noise"}, Doc: doc}
}

// sigmaParam is the blur baseline's "sigma" option.
var sigmaParam = Param{Name: "sigma", Label: "Blur sigma", Kind: Float, Default: 5.0, Min: 0.1, Max: 1000, Doc: "the blur baseline's Gaussian standard deviation in pixels",
	With: &ParamWith{"baseline", []string{"blur"}}}

// baselineOption returns the baseline a request asks for: its image
// (Request.Baseline) when set, else the "baseline" and "sigma" options,
// seeded by Request.Seed.
func baselineOption(r *Request, v Values) (Baseline, error) {
	if r.Baseline != nil {
		return Baseline{Kind: Custom, Image: r.Baseline}, nil
	}
	b, err := ParseBaseline(v.String("baseline"))
	if err != nil {
		return b, err
	}
	b.Sigma, b.Seed = v.Float("sigma"), r.Seed
	return b, nil
}

// BaselineTo writes baseline b for input x (1 x H x W x C) into dst, of
// x's shape, as the explainers and the Evaluator's references make it
// (Black is all zeros; Blur blurs x; White and Noise span the input range
// of preprocessing p). explain -evaluate scores the references with it.
func BaselineTo(dst, x *nn.Tensor, b Baseline, p nn.Preprocess) error {
	if dst == nil || x == nil || dst.Shape != x.Shape || len(dst.Data) != len(x.Data) {
		return errorf("xai: baseline of %v into %v: want the same shape", x, dst)
	}
	return baselineTo(dst, x, b, p)
}

// baselineTo writes the baseline for x into dst (same shape as x).
func baselineTo(dst, x *nn.Tensor, b Baseline, p nn.Preprocess) error {
	lo, hi := inputRange(p)
	switch b.Kind {
	case Black:
		clear(dst.Data)
	case White:
		for i := range dst.Data {
			dst.Data[i] = float32(hi)
		}
	case Blur:
		s := b.sigma()
		if !(s > 0 && s <= 1000) {
			return errorf("xai: blur baseline sigma %g out of range (0, 1000] pixels", b.Sigma)
		}
		gaussianBlurTo(dst, x, s)
	case Noise:
		rng := rand.New(rand.NewPCG(b.Seed, 0xba5e))
		for i := range dst.Data {
			dst.Data[i] = float32(lo + (hi-lo)*rng.Float64())
		}
	case Custom:
		if b.Image == nil || b.Image.Shape != x.Shape || len(b.Image.Data) != len(x.Data) {
			return errorf("xai: baseline image %v, want the input's shape %v", b.Image, x)
		}
		copy(dst.Data, b.Image.Data)
	default:
		return errorf("xai: unknown baseline kind %d", int(b.Kind))
	}
	return nil
}

// gaussianBlurTo blurs each channel of x (1 x H x W x C) with a separable
// Gaussian of standard deviation sigma pixels, radius ceil(3 sigma),
// replicating edge pixels.
func gaussianBlurTo(dst, x *nn.Tensor, sigma float64) {
	H, W, C := x.Shape[1], x.Shape[2], x.Shape[3]
	r := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*r+1)
	var s float64
	for i := range k {
		d := float64(i - r)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		s += k[i]
	}
	for i := range k {
		k[i] /= s
	}
	clamp := func(v, n int) int { return min(max(v, 0), n-1) }
	tmp := make([]float64, H*W*C)
	for h := range H {
		for w := range W {
			for c := range C {
				var acc float64
				for i, kv := range k {
					acc += kv * float64(x.Data[(h*W+clamp(w+i-r, W))*C+c])
				}
				tmp[(h*W+w)*C+c] = acc
			}
		}
	}
	for h := range H {
		for w := range W {
			for c := range C {
				var acc float64
				for i, kv := range k {
					acc += kv * tmp[(clamp(h+i-r, H)*W+w)*C+c]
				}
				dst.Data[(h*W+w)*C+c] = float32(acc)
			}
		}
	}
}

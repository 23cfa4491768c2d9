package xai

import (
	"image"
	"image/color"

	"github.com/mavis-xai/mavis/nn"
)

// Whether an input is of the kind a model was trained on is something a
// model does not say: a softmax names one of its classes for any input,
// often with high confidence. PredictFit looks for the two signs a model
// file and an input do show, and says plainly what they mean and what they
// cannot:
//
//   - Colour. A model reads grey (1 channel) or colour (3); the source
//     image, before preprocessing, is in colour or grey. A colour photo
//     given to a grey model is converted to its brightness; a grey picture
//     given to a colour model is unlike colour photos in every channel.
//   - Feature shift. Each BatchNorm layer holds the mean μ_c and variance
//     σ²_c of its input over the training images, every position and
//     channel c (its moving statistics). For one input, the root mean
//     square over the layer input's positions p and channels c of
//     z = (a_pc − μ_c)/√(σ²_c + ε) has a mean square of about 1 over the
//     training images (that is what σ² records; the moving averages and
//     dropout make it approximate). Shift is the largest over the layers
//     before the logits. Measured on the 10,000 Fashion-MNIST test images,
//     which the model in www/models never trained on, the page's Fashion
//     model gives at most 1.71 (median 0.97, 99th percentile 1.38); the
//     MAVIS model gives 8.5 on the astronaut photo it calls a tailed frog
//     with p 0.9999, and 0.8 to 1.8 on the other out-of-class photos of
//     its samples (a cat, a cup, a rocket): a shift says an input is far
//     from the training images, and no shift does not say it is near them.
//
// Neither sign tells whether a picture shows one of the model's classes:
// a colour photo of a cat, given to a model of five colour animals, passes
// both. Fit.Limits says so beside every verdict.

// The thresholds of PredictFit.
const (
	// FitChroma is the chroma (max − min of R, G and B, 0..255, over a
	// white page) from which a pixel counts as coloured.
	FitChroma = 32
	// FitColour is the fraction of coloured pixels from which an image is
	// in colour, and FitGrey the fraction under which it is grey.
	FitColour = 0.10
	FitGrey   = 0.01
	// FitShift is the feature shift from which an input is far from the
	// training images: a mean square of 9 where training images average 1.
	FitShift = 3
	// FitPeaked and FitFlat are the top probabilities from which the
	// model is very sure, and under which it is unsure.
	FitPeaked = 0.9
	FitFlat   = 0.5
)

// fitSamples bounds the pixels read to measure an image's colour (a grid
// of at most 512 x 512).
const fitSamples = 512

// Fit is what a model and an input show about whether the input is of
// the kind the model was trained on (see PredictFit).
type Fit struct {
	// Coloured is the fraction of the source image's pixels whose chroma
	// reaches FitChroma (−1 when no source image was given); Grey whether
	// the model reads one channel.
	Coloured float64
	Grey     bool
	// Shift is the largest feature shift over the model's BatchNorm
	// layers, ShiftLayer that layer ("" when the model has none).
	Shift      float64
	ShiftLayer string
	// Top is the predicted class's probability.
	Top float64
	// Outside is set when a problem says the input is unlike the training
	// images. Problems says what was found, one plain sentence each (the
	// confidence one last); empty when nothing was.
	Outside  bool
	Problems []string
	// Limits says what the checks cannot see.
	Limits string
}

// PredictFit predicts x, the model input made from src (the image before
// preprocessing; nil when there is none), as Predict does, and checks how
// well the input fits the model's training images (see the comment above
// FitChroma).
func (ex *Explainer) PredictFit(x *nn.Tensor, src image.Image) (Prediction, Fit, error) {
	p, err := ex.Predict(x)
	if err != nil {
		return p, Fit{}, err
	}
	m := ex.Model
	f := Fit{Coloured: -1, Grey: m.InputShape()[2] == 1, Top: p.Probs[p.Class]}
	if src != nil {
		f.Coloured = colouredFraction(src)
	}
	// Predict ran x forward to the logits: the layers' outputs are its.
	bn := false
	for i, l := range m.Layers[:m.Logits()+1] {
		b, ok := l.(*nn.BatchNorm)
		if !ok {
			continue
		}
		bn = true
		in := x
		if i > 0 {
			in = m.Output(i - 1)
		}
		if s := b.Shift(in); s > f.Shift || f.ShiftLayer == "" {
			f.Shift, f.ShiftLayer = s, b.Name()
		}
	}
	f.verdict(len(p.Probs), bn)
	return p, f, nil
}

// verdict writes f's Outside, Problems and Limits for a model of k
// classes; bn says whether it has BatchNorm layers.
func (f *Fit) verdict(k int, bn bool) {
	switch {
	case f.Coloured < 0:
	case f.Grey && f.Coloured >= FitColour:
		f.Outside = true
		f.Problems = append(f.Problems, sprintf("This model reads grey pictures and this one is in colour (%.0f%% of its pixels): "+
			"the model sees only its brightness, and was not trained on pictures like it.", 100*f.Coloured))
	case !f.Grey && f.Coloured < FitGrey:
		f.Outside = true
		f.Problems = append(f.Problems, "This model reads colour pictures and this one is grey: "+
			"unlike the colour photos such a model is trained on.")
	}
	if f.Shift >= FitShift {
		f.Outside = true
		f.Problems = append(f.Problems, sprintf("Inside the model (layer %s), this picture's features lie %.1f training standard deviations "+
			"from their training means, where the training pictures average about 1: it is far from what the model learned from.", f.ShiftLayer, f.Shift))
	}
	switch {
	case f.Outside && f.Top >= FitPeaked:
		f.Problems = append(f.Problems, sprintf("Its %s confidence does not make the answer right: the model names one of its %d classes for any picture, "+
			"and can be sure of one on a picture unlike all of them.", pct(f.Top), k))
	case f.Outside && f.Top < FitFlat:
		f.Problems = append(f.Problems, sprintf("No class fits well: the top one has only %s.", pct(f.Top)))
	case f.Outside:
		f.Problems = append(f.Problems, "Treat the answer as a guess.")
	case f.Top < FitFlat:
		f.Problems = append(f.Problems, sprintf("The model is unsure: its top class has only %s.", pct(f.Top)))
	}
	f.Limits = "These checks see the picture's colour and how far the model's inner features are from their training averages " +
		"(its BatchNorm statistics); they cannot tell whether the picture shows one of the model's classes."
	if !bn {
		f.Limits = "This model has no BatchNorm statistics, so only the picture's colour is checked; " +
			"nothing here can tell whether the picture shows one of the model's classes."
	}
}

// pct prints a probability as a percentage, one decimal.
func pct(p float64) string { return sprintf("%.1f%%", 100*p) }

// FitGrid returns the columns and the rows of a w x h source image whose
// pixels PredictFit's colour check reads: an even grid of at most
// fitSamples x fitSamples. PredictFit given an image of just those pixels,
// in their order, finds the same Coloured as given the whole image (the
// page's worker, which reads a photo a band of rows at a time, keeps only
// them).
func FitGrid(w, h int) (xs, ys []int) {
	grid := func(n int) []int {
		s := make([]int, min(max(n, 0), fitSamples))
		for i := range s {
			s[i] = i * n / len(s)
		}
		return s
	}
	return grid(w), grid(h)
}

// colouredFraction is the fraction of img's pixels on FitGrid whose
// chroma, over white where transparent, reaches FitChroma.
func colouredFraction(img image.Image) float64 {
	r := img.Bounds()
	xs, ys := FitGrid(r.Dx(), r.Dy())
	if len(xs) == 0 || len(ys) == 0 {
		return 0
	}
	coloured := 0
	nrgba, _ := img.(*image.NRGBA)
	for _, y := range ys {
		y += r.Min.Y
		for _, x := range xs {
			x += r.Min.X
			var cr, cg, cb, ca uint32 // premultiplied, 16 bits
			if nrgba != nil {
				// The page's images: the same values as At, without its
				// allocation per pixel.
				o := nrgba.PixOffset(x, y)
				px := nrgba.Pix[o : o+4 : o+4]
				cr, cg, cb, ca = color.NRGBA{R: px[0], G: px[1], B: px[2], A: px[3]}.RGBA()
			} else {
				cr, cg, cb, ca = img.At(x, y).RGBA()
			}
			white := 0xffff - ca
			hi := max(cr, cg, cb) + white
			lo := min(cr, cg, cb) + white
			if (hi-lo)>>8 >= FitChroma {
				coloured++
			}
		}
	}
	return float64(coloured) / float64(len(xs)*len(ys))
}

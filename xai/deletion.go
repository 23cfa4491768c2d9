package xai

import (
	"math"
	"strings"

	"github.com/mavis-xai/mavis/nn"
)

// Reference is what Deletion and Insertion replace pixels with.
type Reference int

const (
	// RISE is Petsiuk et al.'s choice: deletion replaces pixels by black
	// (zero), insertion starts from the image blurred by a Gaussian and
	// inserts the original pixels into it.
	RISE Reference = iota
	// BlackReference uses black (zero) for both curves.
	BlackReference
	// BlurReference uses the blurred image for both curves.
	BlurReference
)

func (r Reference) String() string {
	switch r {
	case BlackReference:
		return "black"
	case BlurReference:
		return "blur"
	}
	return "rise"
}

// MarshalText writes the name, so that JSON results read "rise".
func (r Reference) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a name as ParseReference does.
func (r *Reference) UnmarshalText(b []byte) error {
	v, err := ParseReference(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// ParseReference reads "rise", "black" or "blur".
func ParseReference(s string) (Reference, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "rise", "default":
		return RISE, nil
	case "black", "zero", "zeros":
		return BlackReference, nil
	case "blur", "blurred":
		return BlurReference, nil
	}
	return RISE, errorf("xai: unknown deletion reference %q (want rise, black or blur)", s)
}

// DefaultEvalBatch is the batch size of an Evaluator's full passes
// (Evaluator.Batch) when it is asked for them without a size. It equals
// DefaultBatch, the explainers' batch, so that the model's layer buffers
// are shared with the explainers' passes.
const DefaultEvalBatch = DefaultBatch

// Evaluator computes the faithfulness metrics of maps for one model. Like
// Explainer it owns buffers reused between calls (repeated calls with the
// same options allocate little: the curves, the ranking buffers and the
// incremental runner's activations are reused) and is not safe for
// concurrent use. It only runs forward passes and never changes the
// model.
//
// By default the perturbed images run one at a time through nn.Delta:
// consecutive points of a deletion or insertion curve differ only in the
// pixels of one step, so each pass after the first recomputes only the
// layer outputs those pixels reach, with the same bits as a full pass (the
// changed pixels are found by comparing each image with the one before).
// Two runners (see deltaSlots) keep their own copies of one image's
// activations each (about 21 MB for MAVIS at 224x224), from one call to
// the next.
type Evaluator struct {
	Model *nn.Model
	// Batch, when above 0, runs every perturbed image through the whole
	// model instead, Batch images per forward pass. The results are the
	// same.
	Batch int

	eng     engine
	pix     []float32 // the map on the input grid (H x W)
	unit    []float64 // per-unit relevance
	order   []int32   // units, most relevant first
	cur     []float32 // the image being perturbed
	del     nn.Tensor // deletion reference
	ins     nn.Tensor // insertion reference
	ref     refKey    // what del and ins were made of, with refX
	refX    []float32 // the image they were made for
	refMade bool      // whether del and ins hold ref's references for refX
	kfill   nn.Tensor // the confidence scores' blurred fill (KeepFill)
	sc      []float64 // scores of every point of a sweep
	pr      []float64 // probabilities of every point of a sweep

	slots [deltaSlots]deltaSlot // the incremental runners (Batch 0)
	last  int                   // the slot of the last image
	next  *nn.Tensor            // the image being scored
	dp    []float64             // its probabilities
}

// deltaSlots is the number of incremental runners an Evaluator keeps. A
// sweep's images come in chains that each start far from the one before:
// deletion from x to the deletion reference, insertion from the
// insertion reference to x, the kept fractions from black upwards. Each
// image goes to the runner whose last image is nearest, so with two the
// kept fractions continue from the end of deletion (black, with the RISE
// or black reference), and the next map's deletion starts from x, where
// insertion ended: of the 2(k+1)+3 images of a map only the insertion
// reference needs a full pass.
const deltaSlots = 2

// deltaSlot is one incremental runner and the image it last ran.
type deltaSlot struct {
	d   *nn.Delta
	img *nn.Tensor
	ran bool   // whether d holds img's activations
	chg []bool // the pixels where the next image differs from img
	n   int    // their number
}

// NewEvaluator returns an evaluator for m (a classifier, as for New).
func NewEvaluator(m *nn.Model) *Evaluator {
	return &Evaluator{Model: m, eng: newEngine(m)}
}

// Curve is a deletion or insertion curve: Score[i] is the model's score for
// the explained class after Fraction[i] of the pixels were removed
// (deletion) or inserted (insertion), most relevant first.
type Curve struct {
	Fraction []float64 `json:"fraction"`
	Score    []float64 `json:"score"`
	// AUC is the area under the curve over Fraction in [0, 1]
	// (trapezoid rule).
	AUC float64 `json:"auc"`
}

// AUC returns the area under the piecewise-linear curve through the
// points (x[i], y[i]) (the trapezoid rule); x must be ascending.
func AUC(x, y []float64) float64 {
	if len(x) != len(y) {
		panic(sprintf("xai: AUC of %d x values and %d y values", len(x), len(y)))
	}
	var a float64
	for i := 1; i < len(x); i++ {
		a += (x[i] - x[i-1]) * (y[i] + y[i-1]) / 2
	}
	return a
}

// resize makes c hold n points, reusing its storage.
func (c *Curve) resize(n int) {
	c.Fraction = resize64(c.Fraction, n)
	c.Score = resize64(c.Score, n)
}

// references prepares the deletion and insertion references for x. They
// are kept: the next call for the same x (bit for bit) and settings, the
// next map of the same image, finds them made (a blur of MAVIS's input
// takes longer than a dozen incremental passes under wasm).
func (ev *Evaluator) references(x *nn.Tensor, r Reference, sigma float64) error {
	if sigma == 0 {
		sigma = DefaultBlurSigma
	}
	if !(sigma > 0 && sigma <= 1000) {
		return errorf("xai: blur sigma %g out of range (0, 1000] pixels", sigma)
	}
	black, blur := Baseline{Kind: Black}, Baseline{Kind: Blur, Sigma: sigma}
	del, ins := black, blur
	switch r {
	case BlackReference:
		ins = black
	case BlurReference:
		del = blur
	case RISE:
	default:
		return errorf("xai: unknown deletion reference %d", int(r))
	}
	p := ev.Model.Preprocess
	key := refKey{del: del, ins: ins, pre: p}
	if ev.refMade && ev.ref == key && ev.del.Shape == x.Shape && nn.SameBits(ev.refX, x.Data) {
		return nil
	}
	ev.refMade = false
	for _, t := range []*nn.Tensor{&ev.del, &ev.ins} {
		if t.Shape != x.Shape {
			*t = nn.Tensor{Shape: x.Shape, Data: make([]float32, len(x.Data))}
		}
	}
	if err := baselineTo(&ev.del, x, del, p); err != nil {
		return err
	}
	if del == ins {
		copy(ev.ins.Data, ev.del.Data)
	} else if err := baselineTo(&ev.ins, x, ins, p); err != nil {
		return err
	}
	ev.refX = append(ev.refX[:0], x.Data...)
	ev.ref, ev.refMade = key, true
	return nil
}

// refKey is what the deletion and insertion references are made of,
// besides the image.
type refKey struct {
	del, ins Baseline
	pre      nn.Preprocess
}

// keepFill returns what the pixels not kept become for the confidence
// scores: nil for black, else the blurred x (the reference already made
// when a curve uses it).
func (ev *Evaluator) keepFill(x *nn.Tensor, r Reference, sigma float64) ([]float32, error) {
	switch r {
	case RISE, BlackReference:
		return nil, nil
	case BlurReference:
	default:
		return nil, errorf("xai: unknown fill %d for the kept pixels", int(r))
	}
	if sigma == 0 {
		sigma = DefaultBlurSigma
	}
	if ev.kfill.Shape != x.Shape {
		ev.kfill = nn.Tensor{Shape: x.Shape, Data: make([]float32, len(x.Data))}
	}
	if err := baselineTo(&ev.kfill, x, Baseline{Kind: Blur, Sigma: sigma}, ev.Model.Preprocess); err != nil {
		return nil, err
	}
	return ev.kfill.Data, nil
}

// scores runs the n points point(i, dst) forward and writes each point's
// score for the class into out and its probability into prob (len n
// each). Points are requested in order 0, 1, ..., n−1. With t.Class < 0
// the class is the one predicted for point 0. It checks ctx before every
// pass and returns the class.
func (ev *Evaluator) scores(ctx Canceller, n int, t Target, point func(i int, dst []float32), out, prob []float64, progress func(done, total int)) (int, error) {
	if ev.Batch > 0 {
		return ev.scoresBatched(ctx, n, t, point, out, prob, progress)
	}
	m := ev.Model
	in := m.InputShape()
	if ev.next == nil {
		ev.next = m.NewInput(1)
		ev.dp = make([]float64, ev.eng.k)
		for j := range ev.slots {
			ev.slots[j] = deltaSlot{d: nn.NewDelta(m, ev.eng.logits), img: m.NewInput(1), chg: make([]bool, in[0]*in[1])}
		}
	}
	class := t.Class
	for i := range n {
		if err := cancelled(ctx); err != nil {
			return class, errorf("xai: metrics stopped after %d of %d images: %w", i, n, err)
		}
		point(i, ev.next.Data)
		ev.last = ev.nearest()
		s := &ev.slots[ev.last]
		var z *nn.Tensor
		if s.ran {
			z = s.d.Update(ev.next, s.chg)
		} else {
			z = s.d.Forward(ev.next)
		}
		s.img, ev.next, s.ran = ev.next, s.img, true
		// As engine.pass: the softmax in float64 from the logits.
		softmax64(ev.dp, z.Data[:ev.eng.k])
		if class < 0 {
			class = argmax(ev.dp)
		}
		prob[i] = ev.dp[class]
		out[i] = prob[i]
		if t.Kind == Logit {
			out[i] = float64(z.Data[class])
		}
		if progress != nil {
			progress(i+1, n)
		}
	}
	return class, nil
}

// nearest returns the slot to run ev.next on: the one whose last image
// differs from it in the fewest pixels, or an unused one when every used
// one differs in more than half of them. The slot of the image before
// (ev.last) is looked at first, and taken at once when they differ in
// 1/16 of the pixels or fewer (a curve's next step): a chain's next image
// goes where the chain is, without a comparison with the other slot's.
func (ev *Evaluator) nearest() int {
	best, free := -1, -1
	c := ev.Model.InputShape()[2]
	for k := range ev.slots {
		j := (ev.last + k) % len(ev.slots)
		s := &ev.slots[j]
		if !s.ran {
			free = j
			continue
		}
		s.n = changedPixelsTo(s.chg, ev.next.Data, s.img.Data, c)
		if k == 0 && 16*s.n <= len(s.chg) {
			return j
		}
		if best < 0 || s.n < ev.slots[best].n {
			best = j
		}
	}
	if best < 0 || (free >= 0 && 2*ev.slots[best].n > len(ev.slots[best].chg)) {
		return free
	}
	return best
}

// changedPixelsTo marks in chg (h x w) the pixels of the h x w x c images
// a and b whose values differ (bitwise), and returns their number.
func changedPixelsTo(chg []bool, a, b []float32, c int) int {
	n := 0
	for p := range chg {
		d := !nn.SameBits(a[p*c:(p+1)*c], b[p*c:(p+1)*c])
		chg[p] = d
		if d {
			n++
		}
	}
	return n
}

// scoresBatched is scores with full forward passes of ev.Batch images.
func (ev *Evaluator) scoresBatched(ctx Canceller, n int, t Target, point func(i int, dst []float32), out, prob []float64, progress func(done, total int)) (int, error) {
	b := ev.Batch
	passes := (n + b - 1) / b
	b = (n + passes - 1) / passes
	e := &ev.eng
	x := e.input(b)
	class := t.Class
	for start := 0; start < n; start += b {
		if err := cancelled(ctx); err != nil {
			return class, errorf("xai: metrics stopped after %d of %d images: %w", start, n, err)
		}
		cnt := min(b, n-start)
		for s := range cnt {
			point(start+s, x.Sample(s))
		}
		for s := cnt; s < b; s++ {
			copy(x.Sample(s), x.Sample(cnt-1))
		}
		class = e.pass(Target{Class: class, Kind: t.Kind}, noBackward)
		copy(out[start:start+cnt], e.score[:cnt])
		for s := range cnt {
			prob[start+s] = e.p[s*e.k+class]
		}
		if progress != nil {
			progress(start+cnt, n)
		}
	}
	return class, nil
}

// stepCount returns n_i = round(i·total/steps), i = 0..steps: the number
// of units removed or inserted at each point of a curve.
func stepCount(i, steps, total int) int {
	return int(math.Round(float64(i) * float64(total) / float64(steps)))
}

// copyUnits copies the pixels of units order[from:to] from src into dst
// (both H x W x C images).
func copyUnits(dst, src []float32, u units, order []int32, from, to, c int) {
	for _, i := range order[from:to] {
		u.pixels(int(i), func(p int) {
			copy(dst[p*c:(p+1)*c], src[p*c:(p+1)*c])
		})
	}
}

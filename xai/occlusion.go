package xai

import (
	"github.com/mavis-xai/mavis/nn"
)

// OcclusionFill is what Occlusion puts in the window it hides.
type OcclusionFill int

const (
	// FillBlack sets the window to zero in every channel (Zeiler and
	// Fergus used grey; zero is Captum's default and the fixtures').
	FillBlack OcclusionFill = iota
	// FillBlur puts the image blurred by a Gaussian (Sigma pixels) there.
	FillBlur
	// FillMean puts the image's mean colour (per channel) there.
	FillMean
)

var fillNames = []string{"black", "blur", "mean"}

func (f OcclusionFill) String() string { return fillNames[min(max(int(f), 0), len(fillNames)-1)] }

// ParseOcclusionFill reads "black", "blur" or "mean".
func ParseOcclusionFill(s string) (OcclusionFill, error) {
	for i, n := range fillNames {
		if s == n {
			return OcclusionFill(i), nil
		}
	}
	return 0, errorf("xai: unknown occlusion fill %q (want black, blur or mean)", s)
}

// OcclusionOptions configures Occlusion.
type OcclusionOptions struct {
	Target Target
	// Window is the side of the square window in pixels (default 32), and
	// Stride the step between windows (default 16). A window larger than
	// the input is clamped to it on that axis.
	Window, Stride int
	Fill           OcclusionFill
	Sigma          float64 // FillBlur's Gaussian standard deviation in pixels (default 5)
	// Progress, when not nil, is called after every pass with the number
	// of passes done and their total (Evaluations).
	Progress func(done, total int)
	// Cancel, when not nil, stops the computation between passes.
	Cancel Canceller
}

// OcclusionMap is an occlusion explanation.
type OcclusionMap struct {
	Prediction     // at x; Score is Score(x)
	Map        Map // H x W x 1: the mean of d_w over the windows covering each pixel
	// Diffs are d_w = Score(x) − Score(x with window w hidden), one per
	// window, in row-major order of the window origins (Rows x Cols).
	Diffs      []float64
	Rows, Cols int
	// Window (WindowH x WindowW after clamping) and Stride as used.
	WindowH, WindowW, Stride int
	// Evaluations is the number of forward passes: the windows and x.
	Evaluations int
}

// Occlusion computes the occlusion map of Zeiler and Fergus ("Visualizing
// and Understanding Convolutional Networks", ECCV 2014, sec. 4.2) as
// Captum's Occlusion defines it, for x (1 x H x W x C): a window of
// WindowH x WindowW pixels slides over the image with the given stride,
// origins oy = 0, s, 2s, ... while oy + WindowH ≤ H (and then H − WindowH
// too, if the stride skipped it, so that every row is covered; likewise
// for columns). For each window w, x_w is x with the window's pixels
// replaced by the fill in every channel, and
//
//	d_w = Score(x) − Score(x_w),   Map[h,w] = mean of d_w over the windows containing (h, w)
//
// (the fixtures' definition: 169 windows of 32x32 at stride 16 on
// 224x224, black fill). A positive value marks pixels whose hiding lowers
// the score. For the probability target d_w is evaluated as
// (1 − p_c(x_w)) − (1 − p_c(x)) with 1 − p_c = Σ_{j≠c} p_j, which keeps it
// exact when p_c is close to 1. The class is x's (Target.Class −1: the
// prediction) for every window.
//
// The windows run one at a time through nn.Delta, which recomputes only
// the layer outputs the previous and the current window reach, with the
// bits of a full forward pass; the windows are visited row by row,
// alternating direction, so consecutive windows overlap.
func (ex *Explainer) Occlusion(x *nn.Tensor, o OcclusionOptions) (OcclusionMap, error) {
	var r OcclusionMap
	n, err := ex.occlusionEvaluations(o)
	if err != nil {
		return r, err
	}
	p := &ex.occ.part
	if err := ex.occlusionPart(p, x, o, 0, n); err != nil {
		return r, err
	}
	ex.occ.one[0] = p
	err = ex.occlusionCombine(&r, x, o, ex.occ.one[:])
	return r, err
}

// occGeom is the window layout for an input of H x W.
type occGeom struct {
	wh, ww, stride int
	ys, xs         []int // window origins along each axis
}

func (ex *Explainer) occlusionGeom(o OcclusionOptions) (occGeom, error) {
	in := ex.Model.InputShape()
	win, stride := o.Window, o.Stride
	if win == 0 {
		win = 32
	}
	if stride == 0 {
		stride = 16
	}
	if win < 0 || stride < 0 {
		return occGeom{}, errorf("xai: occlusion window %d and stride %d must be positive", o.Window, o.Stride)
	}
	g := occGeom{wh: min(win, in[0]), ww: min(win, in[1]), stride: stride}
	g.ys, g.xs = origins(in[0], g.wh, stride), origins(in[1], g.ww, stride)
	return g, nil
}

// origins returns 0, s, 2s, ... up to n − w, and n − w if the stride
// skipped it.
func origins(n, w, s int) []int {
	var o []int
	for v := 0; v+w <= n; v += s {
		o = append(o, v)
	}
	if o[len(o)-1] != n-w {
		o = append(o, n-w)
	}
	return o
}

// window returns the origin of window k in visiting order: rows of
// origins top to bottom, left to right on even rows and right to left on
// odd ones. It also returns the window's row-major index.
func (g *occGeom) window(k int) (oy, ox, idx int) {
	nx := len(g.xs)
	r, j := k/nx, k%nx
	if r%2 == 1 {
		j = nx - 1 - j
	}
	return g.ys[r], g.xs[j], r*nx + j
}

func (ex *Explainer) occlusionEvaluations(o OcclusionOptions) (int, error) {
	g, err := ex.occlusionGeom(o)
	if err != nil {
		return 0, err
	}
	return len(g.ys)*len(g.xs) + 1, nil
}

// occlusionState is the explainer's occlusion storage.
type occlusionState struct {
	d     *nn.Delta
	cur   *nn.Tensor // the image being scored
	fill  nn.Tensor  // the fill image
	chg   []bool     // the pixels changed since the last pass
	p, z  []float64  // softmax and logits of one pass
	part  Part
	one   [1]*Part
	order []*Part
	sum   []float64 // per pixel: Σ d_w, then the count
	cnt   []int32
	next  []float32 // a part's first image, before it goes into cur

	// firstWork is d.Work after the last part's first pass, for the tests.
	firstWork float64
}

// occlusionPart scores evaluations [lo, hi): 0 is x, k ≥ 1 is window k−1
// in visiting order. dst.Sum[i] holds evaluation lo+i's value v: the
// score z_c for the logit target, −(1 − p_c) = −Σ_{j≠c} p_j for the
// probability target, so that d_w = v(x) − v(x_w). A part without x
// needs Target.Class ≥ 0.
func (ex *Explainer) occlusionPart(dst *Part, x *nn.Tensor, o OcclusionOptions, lo, hi int) error {
	if err := ex.check(x, o.Target); err != nil {
		return err
	}
	g, err := ex.occlusionGeom(o)
	if err != nil {
		return err
	}
	n := len(g.ys)*len(g.xs) + 1
	if lo < 0 || hi > n || lo >= hi {
		return errorf("xai: occlusion evaluations %d..%d are not a non-empty range within 0..%d", lo, hi, n)
	}
	if lo > 0 && o.Target.Class < 0 {
		return errorf("xai: occlusion evaluations %d..%d exclude x (evaluation 0), so they need the class explained (Target.Class ≥ 0), not the predicted class", lo, hi)
	}
	st := &ex.occ
	m := ex.Model
	in := m.InputShape()
	H, W, C := in[0], in[1], in[2]
	if st.d == nil {
		st.d = nn.NewDelta(m, ex.eng.logits)
		st.cur = m.NewInput(1)
		st.chg = make([]bool, H*W)
		st.p, st.z = make([]float64, ex.eng.k), make([]float64, ex.eng.k)
	}
	if err := occlusionFillTo(&st.fill, x, o); err != nil {
		return err
	}
	// cur is the image d last ran (that of the last part, when there was
	// one). The part's first image, x with window lo−1 filled, goes into
	// cur with its pixels that differ marked: a pool's worker takes several
	// ranges of one run, and its next range starts with an Update that
	// moves one window, not a full pass.
	cur := st.cur
	// paint copies the window at (oy, ox) from src into dst and marks it.
	paint := func(dst, src []float32, oy, ox int) {
		for h := oy; h < oy+g.wh; h++ {
			a, b := (h*W+ox)*C, (h*W+ox+g.ww)*C
			copy(dst[a:b], src[a:b])
			for w := ox; w < ox+g.ww; w++ {
				st.chg[h*W+w] = true
			}
		}
	}
	dst.Sum = resize64(dst.Sum, hi-lo)
	dst.Lo, dst.Hi, dst.Evaluations, dst.BaselineScore = lo, hi, n, 0
	class := o.Target.Class
	py, px := -1, -1 // the window hidden in cur, if any
	for i := lo; i < hi; i++ {
		if err := cancelled(o.Cancel); err != nil {
			return errorf("xai: occlusion stopped after %d of %d passes: %w", i-lo, hi-lo, err)
		}
		if i == lo {
			st.next = append(st.next[:0], x.Data...)
			if i > 0 {
				py, px, _ = g.window(i - 1)
				paint(st.next, st.fill.Data, py, px)
			}
			changedPixelsTo(st.chg, cur.Data, st.next, C)
			copy(cur.Data, st.next)
		} else {
			clear(st.chg)
			if py >= 0 {
				paint(cur.Data, x.Data, py, px)
			}
			py, px, _ = g.window(i - 1)
			paint(cur.Data, st.fill.Data, py, px)
		}
		z := st.d.Update(cur, st.chg)
		if i == lo {
			st.firstWork = st.d.Work
		}
		softmax64(st.p, z.Data[:ex.eng.k])
		if class < 0 {
			class = argmax(st.p)
		}
		v := float64(z.Data[class])
		if o.Target.Kind == Probability {
			var rest float64
			for j, q := range st.p {
				if j != class {
					rest += q
				}
			}
			v = -rest
		}
		dst.Sum[i-lo] = v
		if i == 0 {
			score := float64(z.Data[class])
			if o.Target.Kind == Probability {
				score = st.p[class]
			}
			for j := range st.z {
				st.z[j] = float64(z.Data[j])
			}
			setPrediction(&dst.Prediction, o.Target, class, st.p, st.z, score)
		}
		if o.Progress != nil {
			o.Progress(i-lo+1, hi-lo)
		}
	}
	dst.Class = class
	if lo > 0 {
		dst.Prediction.Class, dst.Prediction.Target, dst.Prediction.Score = class, o.Target, 0
		dst.Prediction.Probs, dst.Prediction.Logits = dst.Prediction.Probs[:0], dst.Prediction.Logits[:0]
	}
	return nil
}

// occlusionFillTo writes the fill image for x into dst.
func occlusionFillTo(dst *nn.Tensor, x *nn.Tensor, o OcclusionOptions) error {
	if dst.Shape != x.Shape {
		*dst = nn.Tensor{Shape: x.Shape, Data: make([]float32, len(x.Data))}
	}
	switch o.Fill {
	case FillBlack:
		clear(dst.Data)
	case FillBlur:
		s := o.Sigma
		if s == 0 {
			s = 5
		}
		if !(s > 0 && s <= 1000) {
			return errorf("xai: occlusion blur sigma %g out of range (0, 1000] pixels", o.Sigma)
		}
		gaussianBlurTo(dst, x, s)
	case FillMean:
		c := x.Shape[3]
		mean := make([]float64, c)
		for i, v := range x.Data {
			mean[i%c] += float64(v)
		}
		for i := range dst.Data {
			dst.Data[i] = float32(mean[i%c] / float64(len(x.Data)/c))
		}
	default:
		return errorf("xai: unknown occlusion fill %d", int(o.Fill))
	}
	return nil
}

// occlusionCombine writes the occlusion map of x made of parts (any
// order) that cover every evaluation once. Each window's d_w is a
// difference of two values computed the same way in any part, so the map
// does not depend on the split, bit for bit.
func (ex *Explainer) occlusionCombine(dst *OcclusionMap, x *nn.Tensor, o OcclusionOptions, parts []*Part) error {
	if err := ex.check(x, o.Target); err != nil {
		return err
	}
	g, err := ex.occlusionGeom(o)
	if err != nil {
		return err
	}
	n := len(g.ys)*len(g.xs) + 1
	ord, err := chainParts(ex.occ.order[:0], parts, n, "occlusion", func(p *Part) int { return p.Hi - p.Lo })
	ex.occ.order = ord
	defer clear(ord)
	if err != nil {
		return err
	}
	if o.Target.Class >= 0 && ord[0].Class != o.Target.Class {
		return errorf("xai: an occlusion part explains class %d, want %d", ord[0].Class, o.Target.Class)
	}
	value := func(i int) float64 { // evaluation i's value
		for _, p := range ord {
			if i < p.Hi {
				return p.Sum[i-p.Lo]
			}
		}
		panic("xai: occlusion: evaluation out of range")
	}
	in := ex.Model.InputShape()
	H, W := in[0], in[1]
	st := &ex.occ
	st.sum = resize64(st.sum, H*W)
	clear(st.sum)
	if cap(st.cnt) < H*W {
		st.cnt = make([]int32, H*W)
	}
	st.cnt = st.cnt[:H*W]
	clear(st.cnt)
	dst.Rows, dst.Cols = len(g.ys), len(g.xs)
	dst.Diffs = resize64(dst.Diffs, n-1)
	v0 := value(0)
	for k := range n - 1 {
		oy, ox, idx := g.window(k)
		d := v0 - value(k+1)
		dst.Diffs[idx] = d
		for h := oy; h < oy+g.wh; h++ {
			for w := ox; w < ox+g.ww; w++ {
				st.sum[h*W+w] += d
				st.cnt[h*W+w]++
			}
		}
	}
	dst.Map.reshape(H, W, 1)
	for i, s := range st.sum {
		dst.Map.Data[i] = float32(s / float64(st.cnt[i]))
	}
	px := &ord[0].Prediction
	setPrediction(&dst.Prediction, o.Target, ord[0].Class, px.Probs, px.Logits, px.Score)
	dst.WindowH, dst.WindowW, dst.Stride, dst.Evaluations = g.wh, g.ww, g.stride, n
	return nil
}

func init() {
	register(Method{Name: "occlusion", Label: "Occlusion", Family: FamilyPerturbation, Display: DisplaySigned,
		Paper: "Zeiler and Fergus, \"Visualizing and Understanding Convolutional Networks\", ECCV 2014",
		URL:   "https://arxiv.org/abs/1311.2901",
		Doc:   "How much the score drops when a square window hides each part of the image, averaged over the windows covering each pixel. Red: hiding it lowers the score (the model uses it); blue: hiding it raises the score.",
		Params: []Param{
			{Name: "window", Label: "Window", Kind: Int, Default: 32, Min: 1, Max: 4096, Doc: "side of the square window in pixels, clamped to the image"},
			{Name: "stride", Label: "Stride", Kind: Int, Default: 16, Min: 1, Max: 4096, Doc: "step between windows in pixels"},
			{Name: "fill", Label: "Fill", Kind: Choice, Default: "black", Choices: fillNames, Doc: "what hides the window: black, the blurred image or the image's mean colour"},
			{Name: "sigma", Label: "Blur sigma", Kind: Float, Default: 5.0, Min: 0.1, Max: 1000, Doc: "the blur fill's Gaussian standard deviation in pixels",
				With: &ParamWith{"fill", []string{"blur"}}},
		},
		run: func(ex *Explainer, x *nn.Tensor, r *Request, v Values, dst *Result) error {
			o, err := occlusionOptions(r, v)
			if err != nil {
				return err
			}
			om, err := ex.Occlusion(x, o)
			if err != nil {
				return err
			}
			occlusionResult(dst, &om, v)
			return nil
		},
		split: &splitter{
			evaluations: func(ex *Explainer, r *Request, v Values) (int, error) {
				o, err := occlusionOptions(r, v)
				if err != nil {
					return 0, err
				}
				return ex.occlusionEvaluations(o)
			},
			part: func(ex *Explainer, dst *Part, x *nn.Tensor, r *Request, v Values, lo, hi int) error {
				o, err := occlusionOptions(r, v)
				if err != nil {
					return err
				}
				return ex.occlusionPart(dst, x, o, lo, hi)
			},
			combine: func(ex *Explainer, dst *Result, x *nn.Tensor, r *Request, v Values, parts []*Part) error {
				o, err := occlusionOptions(r, v)
				if err != nil {
					return err
				}
				var om OcclusionMap
				if err := ex.occlusionCombine(&om, x, o, parts); err != nil {
					return err
				}
				occlusionResult(dst, &om, v)
				return nil
			},
		}})
}

func occlusionOptions(r *Request, v Values) (OcclusionOptions, error) {
	f, err := ParseOcclusionFill(v.String("fill"))
	return OcclusionOptions{Target: r.Target, Window: v.Int("window"), Stride: v.Int("stride"), Fill: f,
		Sigma: v.Float("sigma"), Progress: r.Progress, Cancel: r.Cancel}, err
}

// occlusionResult fills dst from an occlusion map: the map, the window
// differences as the extra "diffs" (rows x cols), and the window as used
// in the values.
func occlusionResult(dst *Result, om *OcclusionMap, v Values) {
	dst.setPrediction(om.Prediction)
	dst.Map.reshape(om.Map.H, om.Map.W, 1)
	copy(dst.Map.Data, om.Map.Data)
	dst.Zero, dst.Passes = allZero(om.Map.Data), om.Evaluations
	d := make([]float32, len(om.Diffs))
	for i, x := range om.Diffs {
		d[i] = float32(x)
	}
	dst.Extras = append(dst.Extras, Extra{Name: "diffs", Shape: []int{om.Rows, om.Cols}, Data: d})
	if om.WindowH == om.WindowW {
		v["window"] = om.WindowH // clamped to a smaller input
	}
}

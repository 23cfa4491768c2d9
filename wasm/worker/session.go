package main

import (
	"errors"
	"image"
	"math"
	"runtime"
	"strconv"
	"time"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

// This file is the worker's logic in plain Go (no syscall/js), so that it
// is tested natively; main.go only moves bytes and JSON across the JS
// boundary.

// maxSide bounds the width and height of an image handed to predict.
const maxSide = 8192

// session holds the loaded model, the current input and the buffers reused
// between calls.
type session struct {
	m    *nn.Model
	ex   *xai.Explainer
	x    *nn.Tensor // the current input, 1 x H x W x C (nil before predict)
	view []byte     // the input as the model sees it, H x W RGBA
	sal  xai.SaliencyMap
	att  xai.Attribution
	disp []float32 // the display map of the last explanation
	ev   *xai.Evaluator
	maps []evalMap // the maps explained for the current input, one per method
	pool poolState // the worker pool's IG parts (pool.go)
}

// ModelInfo describes a loaded model to the page.
type ModelInfo struct {
	Name       string        `json:"name"`
	Input      [3]int        `json:"input"`
	Classes    []nn.Class    `json:"classes"`
	Preprocess nn.Preprocess `json:"preprocess"`
	Layers     []LayerInfo   `json:"layers"`
	CAMLayer   string        `json:"camLayer"` // the default Grad-CAM layer
	Params     int           `json:"params"`
}

// LayerInfo is one layer: its name, kind, output shape and whether
// Grad-CAM may use it.
type LayerInfo struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Shape   [3]int `json:"shape"`
	Spatial bool   `json:"spatial"`
}

// load decodes a model file (the project's safetensors format).
func (s *session) load(data []byte) (ModelInfo, error) {
	m, err := nn.Decode(data)
	if err != nil {
		return ModelInfo{}, err
	}
	logits := m.Logits()
	if sh := m.Shapes[logits]; sh[0] != 1 || sh[1] != 1 || sh[2] < 2 {
		return ModelInfo{}, errors.New("worker: the model's output is " + dims(sh[:]) + ", not a vector of class scores")
	}
	info := ModelInfo{Name: m.Spec.Name, Input: m.InputShape(), Classes: m.Classes, Preprocess: m.Preprocess}
	for len(info.Classes) < m.Shapes[logits][2] {
		n := len(info.Classes)
		info.Classes = append(info.Classes, nn.Class{ID: strconv.Itoa(n), Name: "class " + strconv.Itoa(n)})
	}
	for i, l := range m.Layers {
		sh := m.Shapes[i]
		kind := layerKind(l)
		sp := i < logits && (sh[0] > 1 || sh[1] > 1) && kind != "Dense" && kind != "Flatten"
		info.Layers = append(info.Layers, LayerInfo{Name: l.Name(), Kind: kind, Shape: sh, Spatial: sp})
		if kind == "Conv2D" && i < logits {
			info.CAMLayer = l.Name()
		}
	}
	t, o := m.CountParams()
	info.Params = t + o
	s.m, s.ex, s.x, s.view = m, xai.New(m), nil, nil
	s.ev, s.maps, s.pool.eval = xai.NewEvaluator(m), nil, evalSplit{}
	return info, nil
}

// Prediction is predict's result: the classes ranked by probability.
type Prediction struct {
	Class int       `json:"class"`
	Probs []float64 `json:"probs"`
	Top   []int     `json:"top"`
	Input [3]int    `json:"input"` // the model input's shape; view is H x W RGBA
	MS    float64   `json:"ms"`
}

// predict preprocesses an RGBA image (non-premultiplied, as canvas
// getImageData returns it) with the model's contract, keeps it as the
// current input and classifies it.
func (s *session) predict(pix []byte, w, h int) (Prediction, error) {
	if s.m == nil {
		return Prediction{}, errors.New("worker: no model loaded")
	}
	if w < 1 || h < 1 || w > maxSide || h > maxSide {
		return Prediction{}, errors.New("worker: image size " + dims([]int{w, h}) + " out of range 1.." + strconv.Itoa(maxSide))
	}
	if len(pix) != 4*w*h {
		return Prediction{}, errors.New("worker: " + strconv.Itoa(len(pix)) + " bytes of pixels for a " + dims([]int{w, h}) + " RGBA image, want " + strconv.Itoa(4*w*h))
	}
	start := time.Now()
	img := &image.NRGBA{Pix: pix, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}
	if s.x == nil {
		s.x = s.m.NewInput(1)
	}
	if err := nn.ImageInputTo(s.x, 0, img, s.m.Preprocess); err != nil {
		return Prediction{}, err
	}
	s.viewTo()
	s.maps, s.pool.eval = s.maps[:0], evalSplit{} // a split evaluation of the old image ends
	p, err := s.ex.Predict(s.x)
	if err != nil {
		return Prediction{}, err
	}
	return Prediction{Class: p.Class, Probs: p.Probs, Top: p.TopK(5), Input: s.m.InputShape(),
		MS: ms(start)}, nil
}

// viewTo renders the current input as RGBA bytes (grey replicated).
func (s *session) viewTo() {
	in := s.m.InputShape()
	n := in[0] * in[1]
	if len(s.view) != 4*n {
		s.view = make([]byte, 4*n)
	}
	scale := float32(1)
	if s.m.Preprocess.Scale == "0..1" {
		scale = 255
	}
	c := in[2]
	for p := range n {
		for k := range 3 {
			v := s.x.Data[p*c+min(k, c-1)] * scale
			s.view[4*p+k] = uint8(min(max(v+0.5, 0), 255))
		}
		s.view[4*p+3] = 255
	}
}

// Options selects and configures one explanation. Zero values are the
// xai defaults.
type Options struct {
	Method   string  `json:"method"` // gradcam, gradcampp, saliency, ig
	Class    *int    `json:"class"`  // nil or -1: the predicted class
	Score    string  `json:"score"`  // logit (default) or probability
	Layer    string  `json:"layer"`  // CAM layer ("" = last Conv2D)
	PosNorm  bool    `json:"posNorm"`
	Samples  int     `json:"samples"` // saliency: > 0 means SmoothGrad with this many samples
	Noise    float64 `json:"noise"`   // SmoothGrad noise, a fraction of the input range
	Seed     uint64  `json:"seed"`
	Steps    int     `json:"steps"`    // IG steps
	Baseline string  `json:"baseline"` // black, white, blur, noise
	Sigma    float64 `json:"sigma"`    // blur baseline sigma
	Rule     string  `json:"rule"`     // linspace, trapezoid, gauss-legendre
}

// Explanation is explain's result (the maps travel separately as float32).
type Explanation struct {
	Method string    `json:"method"`
	Class  int       `json:"class"`
	Score  string    `json:"score"`
	Value  float64   `json:"value"` // Score at the input
	Probs  []float64 `json:"probs"`
	Shape  [2]int    `json:"shape"`               // the display map's H, W
	Full   []int     `json:"fullShape,omitempty"` // the full attribution's shape (IG: H, W, C)
	Min    float32   `json:"min"`
	Max    float32   `json:"max"`
	Zero   bool      `json:"zero"`
	Layer  string    `json:"layer,omitempty"`
	// Weights are the CAM channel weights.
	Weights []float32 `json:"weights,omitempty"`
	Samples int       `json:"samples,omitempty"`
	IG      *IGInfo   `json:"ig,omitempty"`
	MS      float64   `json:"ms"`
}

// IGInfo is Integrated Gradients' bookkeeping: the completeness gap.
type IGInfo struct {
	Steps         int     `json:"steps"`
	Rule          string  `json:"rule"`
	Baseline      string  `json:"baseline"`
	BaselineScore float64 `json:"baselineScore"`
	Sum           float64 `json:"sum"`
	Gap           float64 `json:"gap"`
	RelGap        float64 `json:"relGap"` // Gap / |Score(x) - Score(b)|
	Evaluations   int     `json:"evaluations"`
}

// explain explains the current input. It returns the result, the display
// map (H x W) and, for Integrated Gradients, the full H x W x C
// attribution; both alias the session's buffers until the next call.
func (s *session) explain(o Options, progress func(done, total int)) (Explanation, []float32, []float32, error) {
	if s.m == nil || s.x == nil {
		return Explanation{}, nil, nil, errors.New("worker: no image to explain (call predict first)")
	}
	kind, err := xai.ParseScore(o.Score)
	if err != nil {
		return Explanation{}, nil, nil, err
	}
	t := xai.Target{Class: -1, Kind: kind}
	if o.Class != nil {
		t.Class = *o.Class
	}
	start := time.Now()
	r := Explanation{Method: o.Method, Score: kind.String()}
	var p xai.Prediction
	var disp, full []float32
	switch o.Method {
	case "gradcam", "gradcampp":
		co := xai.CAMOptions{Target: t, Layer: o.Layer, PosNorm: o.PosNorm}
		var c xai.CAM
		if o.Method == "gradcam" {
			c, err = s.ex.GradCAM(s.x, co)
		} else {
			c, err = s.ex.GradCAMPlusPlus(s.x, co)
		}
		if err != nil {
			return Explanation{}, nil, nil, err
		}
		p, r.Layer, r.Weights, r.Zero = c.Prediction, c.Layer, c.Weights, c.Zero
		r.Shape = [2]int{c.Raw.H, c.Raw.W}
		disp = c.Raw.Data
		s.keepMap(o, p.Class, c.Raw, nil)
	case "saliency":
		if o.Samples > 0 {
			s.sal, err = s.ex.SmoothGrad(s.x, xai.SmoothGradOptions{Target: t, Samples: o.Samples, Noise: o.Noise, Seed: o.Seed, Progress: progress})
		} else {
			err = s.ex.SaliencyTo(&s.sal, s.x, t)
		}
		if err != nil {
			return Explanation{}, nil, nil, err
		}
		p, r.Zero, r.Samples = s.sal.Prediction, s.sal.Zero, s.sal.Samples
		r.Shape = [2]int{s.sal.Map.H, s.sal.Map.W}
		disp = s.sal.Map.Data
		s.keepMap(o, p.Class, s.sal.Map, nil)
	case "ig":
		io, err := igOptions(o)
		if err != nil {
			return Explanation{}, nil, nil, err
		}
		io.Progress = progress
		if err = s.ex.IntegratedGradientsTo(&s.att, s.x, io); err != nil {
			return Explanation{}, nil, nil, err
		}
		r, disp, full := s.igExplanation(o) // shared with the pool's igCombine (pool.go)
		r.MS = ms(start)
		return r, disp, full, nil
	default:
		return Explanation{}, nil, nil, errors.New("worker: unknown method " + strconv.Quote(o.Method) + " (want gradcam, gradcampp, saliency or ig)")
	}
	r.Class, r.Value, r.Probs = p.Class, p.Score, p.Probs
	r.Min, r.Max = xai.MinMax(disp)
	r.MS = ms(start)
	return r, disp, full, nil
}

// channelSum reduces an H x W x C attribution to H x W by summing over
// channels (signed), the usual display of Integrated Gradients.
func (s *session) channelSum(m xai.Map) []float32 {
	if cap(s.disp) < m.H*m.W {
		s.disp = make([]float32, m.H*m.W)
	}
	d := s.disp[:m.H*m.W]
	for p := range d {
		var v float32
		for _, a := range m.Data[p*m.C : (p+1)*m.C] {
			v += a
		}
		d[p] = v
	}
	return d
}

// Memory reports the Go heap, for the page's fifty-explanations check.
type Memory struct {
	HeapAlloc uint64 `json:"heapAlloc"`
	HeapSys   uint64 `json:"heapSys"`
	Sys       uint64 `json:"sys"`
	NumGC     uint32 `json:"numGC"`
}

// memory reports the heap; with gc it collects first, so that HeapAlloc is
// the live heap.
func memory(gc bool) Memory {
	if gc {
		runtime.GC()
	}
	var st runtime.MemStats
	runtime.ReadMemStats(&st)
	return Memory{HeapAlloc: st.HeapAlloc, HeapSys: st.HeapSys, Sys: st.Sys, NumGC: st.NumGC}
}

func ms(start time.Time) float64 {
	return math.Round(float64(time.Since(start).Microseconds())/10) / 100
}

// dims writes a shape as "HxWxC".
func dims(d []int) string {
	s := ""
	for i, v := range d {
		if i > 0 {
			s += "x"
		}
		s += strconv.Itoa(v)
	}
	return s
}

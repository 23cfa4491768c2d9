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
// is tested natively; main.go only moves values across the JS boundary.

// maxSide bounds the width and height of an image handed to predict: the
// longest side of a canvas in Chromium, which the page's worker.js refuses
// beyond (its maxSide: TestMaxSideAsWorkerJS). A phone's panorama
// (12000x3000, say) is within it.
const maxSide = 32767

// session holds the loaded model, the current input and the buffers reused
// between calls.
type session struct {
	m    *nn.Model
	ex   *xai.Explainer
	x    *nn.Tensor // the current input, 1 x H x W x C (nil before predict)
	pred int        // the class predict found for x; -1 before predict, or once x holds another input (a helper's evalInstall)
	view []byte     // the input as the model sees it, H x W RGBA
	band []byte     // predictRows's rows, at most bandBytes (or one row)
	res  xai.Result // the last explanation (its maps are reused)
	ev   *xai.Evaluator
	maps []evalMap // the maps explained for the current input, one per method
	pool poolState // the worker pool's split parts (pool.go)

	// mapsVersion changes whenever maps does (a map kept, a new input or
	// model): evalPlan's version, which evalCombine checks.
	mapsVersion int
}

// load decodes a model file (the project's safetensors format).
func (s *session) load(data []byte) (ModelInfo, error) {
	m, err := nn.Decode(data)
	if err != nil {
		return ModelInfo{}, err
	}
	info, err := modelInfo(m)
	if err != nil {
		return ModelInfo{}, err
	}
	s.m, s.ex, s.x, s.view, s.res, s.pred = m, xai.New(m), nil, nil, xai.Result{}, -1
	s.ev, s.maps, s.pool = xai.NewEvaluator(m), nil, poolState{}
	s.mapsVersion++
	return info, nil
}

// Prediction is predict's result: the classes ranked by probability, and
// the input as the model sees it.
type Prediction struct {
	Class int
	Probs []float64
	Top   []int
	Input [3]int  // the model input's shape
	MS    float64 // time in the worker
	View  []byte  // Input[0] x Input[1] RGBA (aliases the session's buffer)
	// Fit says whether the image is of the kind the model was trained on
	// (xai.PredictFit), for the page to show with the prediction.
	Fit xai.Fit
}

// rowReader reads rows y, y+1, ... of the image predictRows takes into
// dst, a whole number of rows of non-premultiplied RGBA (canvas
// getImageData's layout).
type rowReader func(dst []byte, y int) error

// bandBytes bounds the pixels predictRows reads at a time: a megapixel.
// With the SIMD128 kernels the worker then holds a photo's resize (4 x
// Width bytes a row, nn.RowsInput) and one band, whatever its size: a
// 50-megapixel photo would be 200 MB of RGBA, and WebAssembly memory never
// shrinks.
const bandBytes = 4 << 20

// predictRows preprocesses a w x h image (non-premultiplied RGBA, as canvas
// getImageData returns it), read a band of rows at a time, with the
// model's contract, keeps it as the current input and classifies it. Of
// the image itself it holds one band at a time and the pixels of the
// colour check (xai.FitGrid) until the prediction is made.
func (s *session) predictRows(read rowReader, w, h int) (Prediction, error) {
	if s.m == nil {
		return Prediction{}, errors.New("worker: no model loaded")
	}
	if w < 1 || h < 1 || w > maxSide || h > maxSide {
		return Prediction{}, errors.New("worker: the image is " + dims([]int{w, h}) + " pixels; 1 to " + strconv.Itoa(maxSide) + " pixels a side are supported")
	}
	start := time.Now()
	in, err := nn.NewRowsInput(w, h, s.m.Preprocess)
	if err != nil {
		return Prediction{}, err
	}
	xs, ys := xai.FitGrid(w, h)
	grid := image.NewNRGBA(image.Rect(0, 0, len(xs), len(ys)))
	band := max(1, bandBytes/(4*w))
	if n := 4 * w * min(band, h); cap(s.band) < n {
		s.band = make([]byte, n)
	}
	j := 0 // the next row of the grid
	for y := 0; y < h; y += band {
		n := min(band, h-y)
		b := s.band[:4*w*n]
		if err := read(b, y); err != nil {
			return Prediction{}, err
		}
		if err := in.Add(b); err != nil {
			return Prediction{}, err
		}
		for ; j < len(ys) && ys[j] < y+n; j++ {
			row, g := b[4*w*(ys[j]-y):], grid.Pix[j*grid.Stride:]
			for i, x := range xs {
				copy(g[4*i:4*i+4], row[4*x:4*x+4])
			}
		}
	}
	if s.x == nil {
		s.x = s.m.NewInput(1)
	}
	s.pred = -1
	if err := in.To(s.x, 0); err != nil {
		return Prediction{}, err
	}
	s.viewTo()
	s.maps = s.maps[:0]
	s.mapsVersion++
	p, fit, err := s.ex.PredictFit(s.x, grid)
	if err != nil {
		return Prediction{}, err
	}
	s.pred = p.Class
	return Prediction{Class: p.Class, Probs: p.Probs, Top: p.TopK(5), Input: s.m.InputShape(),
		MS: ms(start), View: s.view, Fit: fit}, nil
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
		px, o := s.x.Data[p*c:(p+1)*c], s.view[4*p:4*p+4:4*p+4]
		for k := range 3 {
			o[k] = viewByte(px[min(k, c-1)] * scale)
		}
		o[3] = 255
	}
}

// viewByte rounds v to the nearest byte, clipped to 0..255, in comparisons:
// Go's wasm port calls the runtime for the builtins min and max on floats,
// which made viewTo 5.5 times slower under node.
func viewByte(v float32) uint8 {
	switch v += 0.5; {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v)
}

// Explanation is explain's result: one xai.Result as the page shows it.
type Explanation struct {
	Method, Label string
	Class         int       // the class explained
	Score         xai.Score // the target's score
	Value         float64   // Score at the input
	Probs         []float64
	Shape         [2]int // the display map's H, W
	Min, Max      float32
	Zero          bool
	Layer         string      // layer methods: the layer explained
	Weights       []float32   // CAMs: the channel weights
	Extras        []xai.Extra // further arrays (Score-CAM's scores, Occlusion's window differences, ...)
	Check         *xai.Check
	Values        xai.Values // the method's options as used
	Passes        int
	MS            float64
	// Display is the method's kind of map; Scales its colour scale under
	// each of xai.ScaleRules (xai.DisplayScale), for the page's scale
	// control: the viewer colours the raw map with the chosen one.
	Display xai.Display
	Scales  []DisplayScale
	// Map is the display map (Shape[0] x Shape[1]); Full is the method's
	// map at its native resolution (xai.Result.Map, FullShape H x W x C),
	// what evaluate scores. Both alias the session's buffers until the
	// next call.
	Map, Full []float32
	FullShape []int
}

// explain explains the current input with the method and options o asks
// for, through xai's registry, and keeps the map for evaluate.
func (s *session) explain(o Options, progress func(done, total int)) (Explanation, error) {
	if s.m == nil || s.x == nil {
		return Explanation{}, errors.New("worker: no image to explain (call predict first)")
	}
	start := time.Now()
	if err := s.ex.ExplainTo(&s.res, s.x, o.request(progress)); err != nil {
		return Explanation{}, err
	}
	return s.explanation(o, start), nil
}

// explanation is explain's answer for s.res, which it also keeps for
// evaluate: explain's, and splitCombine's.
func (s *session) explanation(o Options, start time.Time) Explanation {
	r := &s.res
	s.keepMap(o, r)
	e := Explanation{Method: r.Method, Label: xai.MethodLabel(r.Method), Class: r.Class, Score: r.Target.Kind,
		Value: r.Score, Probs: r.Probs, Shape: [2]int{r.Display.H, r.Display.W}, Zero: r.Zero, Layer: r.Layer,
		Weights: r.Weights, Extras: r.Extras, Check: r.Check, Values: r.Values, Passes: r.Passes, Map: r.Display.Data,
		Full: r.Map.Data, FullShape: []int{r.Map.H, r.Map.W, r.Map.C}}
	e.Min, e.Max = xai.MinMax(e.Map)
	if m, err := xai.Lookup(r.Method); err == nil {
		e.Display = m.Display
		e.Scales = displayScales(r.Display, m.Display)
	}
	e.MS = ms(start)
	return e
}

// DisplayScale is a display map's colour scale under one rule: the values
// the colour bar's ends stand for, and whether values lie beyond them
// (clipped to the end colours).
type DisplayScale struct {
	Rule         xai.ScaleRule
	Lo, Hi       float32
	Below, Above bool
}

// displayScales returns m's scale under each of xai.ScaleRules for a map
// of kind d.
func displayScales(m xai.Map, d xai.Display) []DisplayScale {
	out := make([]DisplayScale, len(xai.ScaleRules))
	for i, s := range xai.DisplayScales(m, d, xai.ScaleRules) {
		below, above := s.Clipped(m.Data)
		out[i] = DisplayScale{Rule: xai.ScaleRules[i], Lo: s.Lo, Hi: s.Hi, Below: below, Above: above}
	}
	return out
}

// Memory reports the Go heap, for the page's fifty-explanations check.
type Memory struct {
	HeapAlloc, HeapSys, Sys uint64
	NumGC                   uint32
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

func itoa(i int) string { return strconv.Itoa(i) }

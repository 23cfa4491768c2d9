package main

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

// testModel returns the bytes of a small grey 12x12 classifier with seeded
// weights.
func testModel(t *testing.T) []byte {
	t.Helper()
	m, err := nn.Build(nn.Spec{Name: "tiny", Input: [3]int{12, 12, 1}, Layers: []nn.LayerSpec{
		{Class: "Conv2D", Name: "conv2d", Config: nn.LayerConfig{Filters: 4, KernelSize: []int{3, 3}, Padding: "same", Activation: "relu"}},
		{Class: "MaxPooling2D", Name: "pool", Config: nn.LayerConfig{PoolSize: []int{2, 2}}},
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 3, Activation: "softmax"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	nn.Init(m, 3)
	for _, p := range m.Params() {
		if strings.HasSuffix(p.Name, "bias") {
			for i := range p.Value {
				p.Value[i] = 0.05 * float32(i+1)
			}
		}
	}
	m.Classes = []nn.Class{{ID: "a", Name: "apple"}, {ID: "b", Name: "banana"}, {ID: "c", Name: "cherry"}}
	m.Preprocess.Scale = "0..1"
	var b bytes.Buffer
	if err := nn.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// predict is predictRows for an image held whole, pix: the tests' way to
// give an image (the page's worker reads one a band at a time from a
// canvas, main.go).
func (s *session) predict(pix []byte, w, h int) (Prediction, error) {
	if len(pix) != 4*w*h && w >= 1 && h >= 1 && w <= maxSide && h <= maxSide {
		return Prediction{}, errors.New("worker: " + strconv.Itoa(len(pix)) + " bytes of pixels for a " + dims([]int{w, h}) + " RGBA image, want " + strconv.Itoa(4*w*h))
	}
	return s.predictRows(func(dst []byte, y int) error {
		copy(dst, pix[4*w*y:])
		return nil
	}, w, h)
}

// nativeInput is testModel and its input for img, made by nn directly.
func nativeInput(t *testing.T, img image.Image) (*nn.Model, *nn.Tensor) {
	t.Helper()
	m, err := nn.Decode(testModel(t))
	if err != nil {
		t.Fatal(err)
	}
	x, err := nn.ImageInput(img, m.Preprocess)
	if err != nil {
		t.Fatal(err)
	}
	return m, x
}

// rgba draws a 24x24 picture (twice the model's input, so it is resized).
func rgba() (*image.NRGBA, []byte) {
	img := image.NewNRGBA(image.Rect(0, 0, 24, 24))
	for y := range 24 {
		for x := range 24 {
			v := uint8(10 * ((x + 2*y) % 25))
			img.SetNRGBA(x, y, color.NRGBA{v, v, v, 255})
		}
	}
	return img, img.Pix
}

func TestSessionPredict(t *testing.T) {
	var s session
	info, err := s.load(testModel(t))
	if err != nil {
		t.Fatal(err)
	}
	// conv2d 3*3*1*4 + 4, dense (6*6*4)*3 + 3
	if info.Input != [3]int{12, 12, 1} || len(info.Classes) != 3 || info.CAMLayer != "conv2d" || info.Params != 40+435 {
		t.Errorf("info %+v", info)
	}
	img, pix := rgba()
	p, err := s.predict(pix, 24, 24)
	if err != nil {
		t.Fatal(err)
	}
	// The same image through nn directly (an independent path through the
	// model: ImageInput and Forward, no xai).
	m, x := nativeInput(t, img)
	want := m.Forward(x).Data
	best := 0
	for i := range want {
		if math.Abs(p.Probs[i]-float64(want[i])) > 1e-6 {
			t.Errorf("probs[%d] = %g, want %g", i, p.Probs[i], want[i])
		}
		if want[i] > want[best] {
			best = i
		}
	}
	if p.Class != best || p.Top[0] != best || len(p.Top) != 3 {
		t.Errorf("class %d, top %v, want %d first", p.Class, p.Top, best)
	}
	// The view is the model input, scaled back to bytes and made RGBA.
	for i, v := range x.Data {
		b := uint8(math.Round(float64(v) * 255))
		if s.view[4*i] != b || s.view[4*i+1] != b || s.view[4*i+2] != b || s.view[4*i+3] != 255 {
			t.Fatalf("view pixel %d = %v, want %d grey, opaque", i, s.view[4*i:4*i+4], b)
		}
	}
}

// TestPredictRows: predict reads a photo a band of at most bandBytes at a
// time, top to bottom, and its prediction, input and colour check are
// those of the whole photo through nn.ImageInput and xai.PredictFit (the
// bands here 512, 512 and 76 rows of a 2048x1100 photo, coloured in part).
// A reader's error is predict's, and leaves the current input as it was;
// a photo over nn.MaxImagePixels is refused before any row is read.
func TestPredictRows(t *testing.T) {
	var s session
	if _, err := s.load(testModel(t)); err != nil {
		t.Fatal(err)
	}
	const w, h = 2048, 1100
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := uint8((x*7 + y*3) % 256)
			c := color.NRGBA{v, v, v, 255}
			if (x/100+y/100)%9 == 0 {
				c = color.NRGBA{v, 255 - v, 40, uint8(128 + x%128)}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var reads [][2]int
	read := func(dst []byte, y int) error {
		reads = append(reads, [2]int{y, len(dst) / (4 * w)})
		copy(dst, img.Pix[y*img.Stride:])
		return nil
	}
	p, err := s.predictRows(read, w, h)
	if err != nil {
		t.Fatal(err)
	}
	if want := [][2]int{{0, 512}, {512, 512}, {1024, 76}}; !slices.Equal(reads, want) {
		t.Errorf("rows read %v, want %v", reads, want)
	}
	if cap(s.band) > bandBytes {
		t.Errorf("band buffer of %d bytes, over %d", cap(s.band), bandBytes)
	}
	m, x := nativeInput(t, img)
	for i := range x.Data {
		if s.x.Data[i] != x.Data[i] {
			t.Fatalf("input value %d is %v, nn.ImageInput gives %v", i, s.x.Data[i], x.Data[i])
		}
	}
	want, fit, err := xai.New(m).PredictFit(x, img)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Probs, want.Probs) || p.Fit.Coloured != fit.Coloured || p.Fit.Coloured <= 0 || p.Fit.Outside != fit.Outside {
		t.Errorf("probs %v, coloured %v (outside %v); the whole photo: %v, %v (%v)", p.Probs, p.Fit.Coloured, p.Fit.Outside, want.Probs, fit.Coloured, fit.Outside)
	}
	// A reader's error, half way.
	before := slices.Clone(s.x.Data)
	if _, err := s.predictRows(func(dst []byte, y int) error {
		if y > 0 {
			return errors.New("the canvas failed")
		}
		return nil
	}, w, h); err == nil || err.Error() != "the canvas failed" {
		t.Errorf("a reader's error: %v", err)
	}
	if !slices.Equal(s.x.Data, before) || s.pred != p.Class {
		t.Error("a failed predict changed the current input or class")
	}
	reads = nil
	if _, err := s.predictRows(read, 8000, 6251); err == nil || !strings.Contains(err.Error(), "over the 50-megapixel limit") || reads != nil {
		t.Errorf("an 8000x6251 photo: %v, after %d reads", err, len(reads))
	}
}

// opts builds explain options as the page sends them: the method, then
// option names and values (the method's own options).
func opts(method string, kv ...any) Options {
	o := Options{Method: method, Target: xai.Predicted()}
	for i := 0; i+1 < len(kv); i += 2 {
		if o.Params == nil {
			o.Params = xai.Options{}
		}
		o.Params[kv[i].(string)] = kv[i+1]
	}
	return o
}

// withScore returns o with the target score k.
func withScore(o Options, k xai.Score) Options { o.Target.Kind = k; return o }

func TestSessionExplain(t *testing.T) {
	var s session
	if _, err := s.load(testModel(t)); err != nil {
		t.Fatal(err)
	}
	_, pix := rgba()
	if _, err := s.predict(pix, 24, 24); err != nil {
		t.Fatal(err)
	}
	var calls [][2]int
	progress := func(done, total int) { calls = append(calls, [2]int{done, total}) }
	for _, tt := range []struct {
		o     Options
		shape [2]int
	}{
		{opts("gradcam"), [2]int{12, 12}},
		{withScore(opts("gradcampp"), xai.Probability), [2]int{12, 12}},
		{opts("saliency"), [2]int{12, 12}},
		{opts("smoothgrad", "samples", 4, "noise", 0.1), [2]int{12, 12}},
		{opts("ig", "steps", 300, "rule", "gauss-legendre"), [2]int{12, 12}},
	} {
		r, err := s.explain(tt.o, progress)
		if err != nil {
			t.Fatalf("%+v: %v", tt.o, err)
		}
		disp, full := r.Map, r.Full
		if r.Shape != tt.shape || len(disp) != tt.shape[0]*tt.shape[1] {
			t.Errorf("%s: shape %v with %d values, want %v", tt.o.Method, r.Shape, len(disp), tt.shape)
		}
		lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
		for _, v := range disp {
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo != r.Min || hi != r.Max {
			t.Errorf("%s: min, max %g, %g, want %g, %g", tt.o.Method, r.Min, r.Max, lo, hi)
		}
		if tt.o.Method != "ig" {
			continue
		}
		// The display map is the channel sum of the full attribution (one
		// channel here), and with 300 Gauss-Legendre steps completeness holds:
		// Σ IG = Score(x) − Score(b) (Sundararajan et al., Proposition 1).
		if len(full) != len(disp) || r.Check == nil {
			t.Fatalf("ig: full %d values, check %+v", len(full), r.Check)
		}
		var sum float64
		for i := range full {
			if full[i] != disp[i] {
				t.Fatalf("ig: display %g at %d, want the channel sum %g", disp[i], i, full[i])
			}
			sum += float64(full[i])
		}
		if d := r.Value - r.Check.ScoreRef; math.Abs(sum-d) > 1e-3*math.Max(1, math.Abs(d)) || math.Abs(r.Check.Sum-sum) > 1e-6 {
			t.Errorf("ig: Σ %g (reported %g), score change %g: completeness gap %g", sum, r.Check.Sum, d, r.Check.Gap)
		}
		if len(calls) < 2 {
			t.Fatalf("ig: progress called %d times, want once per batch", len(calls))
		}
		if last := calls[len(calls)-1]; last[0] != last[1] || last[1] != r.Passes {
			t.Errorf("ig: last progress %v, want %d of %d", last, r.Passes, r.Passes)
		}
	}
}

func TestSessionErrors(t *testing.T) {
	var s session
	_, pix := rgba()
	if _, err := s.predict(pix, 24, 24); err == nil || !strings.Contains(err.Error(), "no model") {
		t.Errorf("predict before a model: %v", err)
	}
	if _, err := s.load([]byte("not a model")); err == nil || !strings.HasPrefix(err.Error(), "nn: ") {
		t.Errorf("bad model: %v", err)
	}
	if _, err := s.load(testModel(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.explain(opts("gradcam"), func(int, int) {}); err == nil || !strings.Contains(err.Error(), "predict first") {
		t.Errorf("explain before predict: %v", err)
	}
	for _, tt := range []struct {
		pix  []byte
		w, h int
		want string
	}{
		{pix, 24, 23, "want 2208"},
		{pix, 0, 24, "pixels a side are supported"},
		{pix, 100000, 1, "pixels a side are supported"},
		{pix, 1, 32768, "pixels a side are supported"},
		{pix, 12000, 3000, "want 144000000"}, // a panorama's size passes
		{nil, 1, 1, "want 4"},
	} {
		if _, err := s.predict(tt.pix, tt.w, tt.h); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("predict(%d bytes, %d, %d): %v, want %q", len(tt.pix), tt.w, tt.h, err, tt.want)
		}
	}
	if _, err := s.predict(pix, 24, 24); err != nil {
		t.Fatal(err)
	}
	seven := opts("gradcam")
	seven.Target.Class = 7
	layer := opts("gradcam")
	layer.Layer = "dense"
	for _, tt := range []struct {
		o    Options
		want string
	}{
		{opts("lime"), "unknown method"},
		{seven, "out of range"},
		{layer, "no spatial output"},
		{opts("ig", "baseline", "grey"), "baseline must be one of"},
		{opts("ig", "rule", "simpson"), "rule must be one of"},
		{opts("ig", "steps", 1, "rule", "trapezoid"), "integration steps"},
		{opts("smoothgrad", "samples", 3, "noise", -1.0), "noise"},
	} {
		if _, err := s.explain(tt.o, func(int, int) {}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("explain(%+v): %v, want %q", tt.o, err, tt.want)
		}
	}
}

// TestViewByte: viewByte against the builtins' expression it replaces,
// uint8(min(max(v+0.5, 0), 255)), from below 0 to above 255 in steps of
// 1/8 (halves included).
func TestViewByte(t *testing.T) {
	for i := -40; i <= 8*260; i++ {
		v := float32(i) / 8
		if got, want := viewByte(v), uint8(min(max(v+0.5, 0), 255)); got != want {
			t.Fatalf("viewByte(%v) = %d, want %d", v, got, want)
		}
	}
}

// TestMaxSideAsWorkerJS: www/worker.js refuses an image before it reaches
// Go; its bounds on a side and on the pixels are the Go side's.
func TestMaxSideAsWorkerJS(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "www", "worker.js"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`maxSide = (\d+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("www/worker.js sets no maxSide")
	}
	if got := string(m[1]); got != strconv.Itoa(maxSide) {
		t.Errorf("www/worker.js's maxSide is %s, session.go's %d", got, maxSide)
	}
	m = regexp.MustCompile(`maxPixels = ([0-9e.]+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("www/worker.js sets no maxPixels")
	}
	if got, err := strconv.ParseFloat(string(m[1]), 64); err != nil || got != nn.MaxImagePixels {
		t.Errorf("www/worker.js's maxPixels is %s, nn.MaxImagePixels %d", m[1], nn.MaxImagePixels)
	}
}

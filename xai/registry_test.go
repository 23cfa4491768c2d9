package xai

// The method registry: every entry is well formed, Explain gives what the
// method's own function gives, options are checked with plain messages,
// and a split method's parts add up to Explain's result bit for bit. They
// run natively and as js/wasm.

import (
	"slices"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/nn"
)

func TestRegistryEntries(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range Methods() {
		if seen[m.Name] {
			t.Errorf("%s listed twice", m.Name)
		}
		seen[m.Name] = true
		if m.Paper == "" || !strings.HasPrefix(m.URL, "https://") || m.Doc == "" || m.Display == "" {
			t.Errorf("%s: paper %q, URL %q, doc %q, display %q: each must be set", m.Name, m.Paper, m.URL, m.Doc, m.Display)
		}
		// Every CAM explains a layer; outside the family only Guided
		// Grad-CAM does (through the Grad-CAM it multiplies by).
		if m.Layer != (m.Family == FamilyCAM || m.Name == "guidedgradcam") {
			t.Errorf("%s: Layer %v in family %s", m.Name, m.Layer, m.Family)
		}
		if _, err := m.Resolve(nil); err != nil {
			t.Errorf("%s: defaults do not resolve: %v", m.Name, err)
		}
	}
	for _, name := range []string{"gradcam", "gradcampp", "saliency", "smoothgrad", "ig", "inputxgrad"} {
		if !seen[name] {
			t.Errorf("%s is not registered", name)
		}
	}
	// Grouped by family, in the order of Families.
	ms := Methods()
	if !slices.IsSortedFunc(ms, func(a, b *Method) int {
		return slices.Index(Families, a.Family) - slices.Index(Families, b.Family)
	}) {
		t.Error("Methods are not grouped by family in the order of Families")
	}
	if got := DefaultMethods(); !slices.Equal(got, []string{"gradcam", "gradcampp", "saliency", "ig"}) {
		t.Errorf("DefaultMethods() = %v, want the page's first four", got)
	}
	if MethodLabel("gradcampp") != "Grad-CAM++" || MethodLabel("nosuch") != "nosuch" {
		t.Errorf("MethodLabel: %q, %q", MethodLabel("gradcampp"), MethodLabel("nosuch"))
	}
}

func TestResolveErrors(t *testing.T) {
	ig, err := Lookup("ig")
	if err != nil {
		t.Fatal(err)
	}
	v, err := ig.Resolve(Options{"steps": 20.0, "rule": "trapezoid"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Int("steps") != 20 || v.String("rule") != "trapezoid" || v.String("baseline") != "black" || v.Float("sigma") != 5 {
		t.Errorf("resolved %v, want steps 20, trapezoid, black, sigma 5", v)
	}
	for _, tt := range []struct {
		method string
		o      Options
		want   string
	}{
		{"ig", Options{"step": 20}, `xai: ig has no option "step" (it has steps, rule, baseline, sigma)`},
		{"ig", Options{"steps": 2.5}, "xai: ig: steps must be a whole number, not 2.5"},
		{"ig", Options{"steps": 0}, "xai: ig: steps 0 out of range 1..100000"},
		{"ig", Options{"steps": "many"}, `xai: ig: steps must be a number, not "many"`},
		{"ig", Options{"steps": true}, "xai: ig: steps must be a number"},
		{"ig", Options{"rule": "simpson"}, "xai: ig: rule must be one of linspace, trapezoid, gauss-legendre"},
		{"gradcampp", Options{"posnorm": 2.0}, "xai: gradcampp: posnorm must be true or false"},
		{"gradcam", Options{"steps": 5}, `xai: gradcam takes no options, not "steps"`},
		{"smoothgrad", Options{"noise": -1.0}, "xai: smoothgrad: noise -1 out of range 0.001..10"},
	} {
		m, err := Lookup(tt.method)
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Resolve(tt.o)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s %v: got %v, want %q", tt.method, tt.o, err, tt.want)
		}
	}
	// The list follows Methods' order (within a family, the order of the
	// files' init functions), so only its start and one pair are fixed.
	if _, err := Lookup("gradcam2"); err == nil || !strings.Contains(err.Error(), `unknown method "gradcam2" (want one of `) || !strings.Contains(err.Error(), "gradcam, gradcampp,") {
		t.Errorf("Lookup(gradcam2): %v", err)
	}
}

// TestExplainMatchesMethods: Explain returns each method's own map.
func TestExplainMatchesMethods(t *testing.T) {
	m := reluNet(t)
	x := reluInput()
	ex := New(m)
	tgt := Target{Class: 1, Kind: Probability}
	run := func(method string, o Options) Result {
		t.Helper()
		r, err := New(m).Explain(x, Request{Method: method, Target: tgt, Options: o, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		if r.Method != method || r.Class != 1 || r.Display.C != 1 || r.Display.H != r.Map.H || r.Display.W != r.Map.W {
			t.Fatalf("%s: method %q class %d display %v map %v", method, r.Method, r.Class, r.Display, r.Map)
		}
		return r
	}
	c, _ := ex.GradCAM(x, CAMOptions{Target: tgt})
	r := run("gradcam", nil)
	near(t, "gradcam", r.Map.Data, c.Raw.Data, 0)
	near(t, "gradcam weights", r.Weights, c.Weights, 0)
	if r.Layer != "conv" {
		t.Errorf("gradcam layer %q, want conv", r.Layer)
	}
	c, _ = ex.GradCAMPlusPlus(x, CAMOptions{Target: tgt, PosNorm: true})
	near(t, "gradcampp posnorm", run("gradcampp", Options{"posnorm": true}).Map.Data, c.Raw.Data, 0)
	s, _ := ex.Saliency(x, tgt)
	r = run("saliency", nil)
	near(t, "saliency", r.Map.Data, s.Map.Data, 0)
	if len(r.Extras) != 1 || r.Extras[0].Name != "grad" {
		t.Fatalf("saliency extras %v, want grad", r.Extras)
	}
	near(t, "saliency grad", r.Extras[0].Data, s.Grad.Data, 0)
	sg, _ := ex.SmoothGrad(x, SmoothGradOptions{Target: tgt, Samples: 4, Noise: 0.2, Seed: 7})
	near(t, "smoothgrad", run("smoothgrad", Options{"samples": 4, "noise": 0.2}).Map.Data, sg.Map.Data, 0)
	a, _ := ex.IntegratedGradients(x, IGOptions{Target: tgt, Steps: 9, Rule: Trapezoid})
	r = run("ig", Options{"steps": 9, "rule": "trapezoid"})
	near(t, "ig", r.Map.Data, a.Map.Data, 0)
	if r.Check == nil || r.Check.Gap != a.Gap || r.Check.Sum != a.Sum || r.Check.Want != a.Score-a.BaselineScore || r.Passes != 9 {
		t.Errorf("ig check %+v passes %d, want gap %g sum %g", r.Check, r.Passes, a.Gap, a.Sum)
	}
	// The display map of a multi-channel map is its channel sum.
	var sum Map
	ReduceTo(&sum, a.Map, Sum)
	near(t, "ig display", r.Display.Data, sum.Data, 0)
	// Gradient × Input is x times Saliency's signed gradient.
	want := make([]float32, len(x.Data))
	for i, v := range x.Data {
		want[i] = v * s.Grad.Data[i]
	}
	near(t, "inputxgrad", run("inputxgrad", nil).Map.Data, want, 0)
}

// TestInputXGradientLinear: on a linear model Gradient × Input is each
// term w_i x_i of the score, and sums to the logit minus the bias (0).
func TestInputXGradientLinear(t *testing.T) {
	ex := New(linearModel(t))
	x := input(2, 2, 2, 1, 2, 3, 4, 5, 6, 7, 8)
	r, err := ex.Explain(x, Request{Method: "inputxgrad", Target: Predicted()})
	if err != nil {
		t.Fatal(err)
	}
	// Class 1, w1 = (−3, 1, 0, 2, 5, −1, 1, 1).
	near(t, "inputxgrad", r.Map.Data, []float32{
		-3, 2, 0, 8,
		25, -6, 7, 8,
	}, 0)
	near(t, "display (channel sum)", r.Display.Data, []float32{
		-1, 8,
		19, 15,
	}, 0)
	if r.Class != 1 || r.Score != 41 {
		t.Errorf("class %d score %g, want 1 and 41", r.Class, r.Score)
	}
}

// TestSplitEqualsExplain: Integrated Gradients in parts, combined in any
// order, is Explain's result bit for bit.
func TestSplitEqualsExplain(t *testing.T) {
	m := reluNet(t)
	x := reluInput()
	req := Request{Method: "ig", Target: Target{Class: 2}, Options: Options{"steps": 11, "baseline": "noise"}, Seed: 3}
	whole, err := New(m).Explain(x, req)
	if err != nil {
		t.Fatal(err)
	}
	ex := New(m)
	n, err := ex.Evaluations(req)
	if err != nil || n != 11 {
		t.Fatalf("Evaluations = %d, %v; want 11", n, err)
	}
	var parts []*Part
	for _, r := range [][2]int{{5, 11}, {0, 2}, {2, 5}} {
		p := new(Part)
		if err := New(m).PartTo(p, x, req, r[0], r[1]); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
	}
	var got Result
	if err := ex.CombineTo(&got, x, req, parts); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Map.Data, whole.Map.Data) || got.Check.Sum != whole.Check.Sum || got.Check.Gap != whole.Check.Gap || got.Check.ScoreRef != whole.Check.ScoreRef || !slices.Equal(got.Display.Data, whole.Display.Data) {
		t.Errorf("combined parts differ from Explain: check %+v vs %+v", got.Check, whole.Check)
	}
	if _, err := ex.Evaluations(Request{Method: "gradcam"}); err == nil || err.Error() != "xai: gradcam cannot be split across workers" {
		t.Errorf("Evaluations(gradcam): %v", err)
	}
}

// TestExplainToReuse: a Result reused across methods never mixes their
// maps (a display that was the map itself is not written through).
func TestExplainToReuse(t *testing.T) {
	m := reluNet(t)
	x := reluInput()
	ex := New(m)
	var r Result
	for _, method := range []string{"saliency", "ig", "gradcam", "inputxgrad", "saliency"} {
		if err := ex.ExplainTo(&r, x, Request{Method: method, Target: Target{Class: 0}, Options: nil}); err != nil {
			t.Fatal(err)
		}
		fresh, _ := New(m).Explain(x, Request{Method: method, Target: Target{Class: 0}})
		if !slices.Equal(r.Map.Data, fresh.Map.Data) || !slices.Equal(r.Display.Data, fresh.Display.Data) || !slices.Equal(r.Probs, fresh.Probs) {
			t.Errorf("%s: a reused Result differs from a fresh one", method)
		}
	}
}

// TestFastMethodsAreCheap: a method marked Fast runs a few passes whatever
// the model (Result.Passes), and QuickMethods is the Default and Fast
// methods.
func TestFastMethodsAreCheap(t *testing.T) {
	m := reluNet(t)
	x := reluInput()
	var quick []string
	for _, meth := range Methods() {
		if meth.Default || meth.Fast {
			quick = append(quick, meth.Name)
		}
		if !meth.Fast {
			continue
		}
		r, err := New(m).Explain(x, Request{Method: meth.Name, Target: Target{Class: 1}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Passes < 1 || r.Passes > 3 {
			t.Errorf("%s is marked Fast but ran %d passes", meth.Name, r.Passes)
		}
	}
	if got := QuickMethods(); !slices.Equal(got, quick) {
		t.Errorf("QuickMethods() = %v, want %v", got, quick)
	}
}

// TestParamWith: the blur sigmas apply only with a blurred baseline or
// fill (Param.With), and register refuses a With that names no choice option of the method, or values it
// does not have.
func TestParamWith(t *testing.T) {
	for _, c := range []struct{ method, choice string }{{"ig", "baseline"}, {"deeplift", "baseline"}, {"gradientshap", "baselines"}, {"occlusion", "fill"}} {
		m, err := Lookup(c.method)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(m.Params, func(p Param) bool { return p.Name == "sigma" })
		if i < 0 {
			t.Fatalf("%s has no sigma option", c.method)
		}
		p := m.Params[i]
		if p.With == nil || p.With.Param != c.choice || !slices.Equal(p.With.Values, []string{"blur"}) {
			t.Errorf("%s sigma: With %+v, want %s blur", c.method, p.With, c.choice)
		}
	}
	n := len(Methods())
	for _, w := range []ParamWith{{"nope", []string{"blur"}}, {"steps", []string{"blur"}}, {"baseline", []string{"purple"}}, {"baseline", nil}} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(panicText(r), "applies with") {
					t.Errorf("register with With %+v: recovered %v, want a panic that names the bad With", w, r)
				}
			}()
			register(Method{Name: "with-test", Label: "With test", Family: Families[0],
				run: func(*Explainer, *nn.Tensor, *Request, Values, *Result) error { return nil },
				Params: []Param{
					{Name: "steps", Label: "Steps", Kind: Int, Default: 1, Min: 1, Max: 9, Doc: "d"},
					baselineParam("d"),
					{Name: "sigma", Label: "Sigma", Kind: Float, Default: 1.0, Min: 0, Max: 9, Doc: "d", With: &w},
				}})
		}()
	}
	if len(Methods()) != n {
		t.Fatalf("a refused method was registered: %d methods, had %d", len(Methods()), n)
	}
}

// panicText is a recovered panic's text (register panics with strings).
func panicText(v any) string {
	s, _ := v.(string)
	return s
}

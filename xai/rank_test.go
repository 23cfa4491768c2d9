package xai

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestRankVerdict(t *testing.T) {
	pass := &SanityResult{Mean: 0.1, Threshold: SanityThreshold, Pass: true}
	fail := &SanityResult{Mean: 0.83, Threshold: SanityThreshold, Pass: false}
	small, large, huge := 0.01, 2.13, -148.82
	for _, tt := range []struct {
		name    string
		in      []MethodScore
		order   []string
		trusted string
		says    []string // substrings of the verdict
		flagged []string // the methods marked Flagged
	}{
		{"plain", []MethodScore{
			{Method: "saliency", Faithfulness: 0.2},
			{Method: "gradcam", Faithfulness: 0.4},
			{Method: "ig", Faithfulness: 0.3, Gap: &small},
		}, []string{"gradcam", "ig", "saliency"}, "gradcam",
			[]string{"Trust Grad-CAM:", "best insertion − deletion AUC, 0.400, against 0.300 for Integrated Gradients"}, nil},
		{"top fails sanity, IG gap too large", []MethodScore{
			{Method: "saliency", Faithfulness: 0.5, Sanity: fail},
			{Method: "ig", Faithfulness: 0.45, Gap: &large},
			{Method: "gradcampp", Faithfulness: 0.3, Sanity: pass},
		}, []string{"saliency", "ig", "gradcampp"}, "gradcampp",
			[]string{"Trust Grad-CAM++:", "against 0.500 for Saliency", "passes the randomisation check",
				"Saliency failed the randomisation check", "mean Spearman 0.83 > 0.50",
				"Integrated Gradients misses completeness by +213%",
				"against 0.500 for Saliency and 0.450 for Integrated Gradients, which rank above it but are flagged)",
				"more steps alone often do not close it", "another baseline (blur)"}, []string{"saliency", "ig"}},
		{"IG flagged with measured advice", []MethodScore{
			{Method: "ig", Faithfulness: 0.6, Gap: &huge, Advice: "Measured on this image from the black baseline, the linspace rule misses by -14882% at 49 steps; what helps: trapezoid, 25 steps, baseline blur(sigma=5) (+1.0%)."},
			{Method: "gradcam", Faithfulness: 0.4},
		}, []string{"ig", "gradcam"}, "gradcam",
			[]string{"Trust Grad-CAM: it is the most faithful map without a problem (insertion − deletion AUC 0.400, against 0.600 for Integrated Gradients, which ranks above it but is flagged)",
				"Integrated Gradients misses completeness by -14882% of the score difference (more than 5%); measured on this image", "what helps: trapezoid, 25 steps, baseline blur(sigma=5) (+1.0%)."},
			[]string{"ig"}},
		{"tie", []MethodScore{
			{Method: "gradcam", Faithfulness: 0.93312},
			{Method: "gradcampp", Faithfulness: 0.93308},
		}, []string{"gradcam", "gradcampp"}, "gradcam", []string{"Trust Grad-CAM:", "AUC, 0.933, tied with Grad-CAM++ to three decimals)."}, nil},
		{"all flagged", []MethodScore{
			{Method: "saliency", Faithfulness: 0.5, Sanity: fail},
		}, []string{"saliency"}, "", []string{"Trust none of these maps: Saliency ranks highest"}, []string{"saliency"}},
		{"none better than random", []MethodScore{
			{Method: "gradcam", Faithfulness: -0.1},
			{Method: "saliency", Faithfulness: math.NaN()},
		}, []string{"gradcam", "saliency"}, "", []string{"Trust none", "no better than a random pixel order", "Saliency has no faithfulness score"}, []string{"saliency"}},
	} {
		r := Rank(tt.in)
		var order, flagged []string
		for _, s := range r.Scores {
			order = append(order, s.Method)
			if s.Flagged {
				flagged = append(flagged, s.Method)
			}
		}
		if !slices.Equal(flagged, tt.flagged) {
			t.Errorf("%s: flagged %v, want %v", tt.name, flagged, tt.flagged)
		}
		if !slices.Equal(order, tt.order) || r.Trusted != tt.trusted {
			t.Errorf("%s: order %v trusted %q, want %v %q", tt.name, order, r.Trusted, tt.order, tt.trusted)
		}
		for _, s := range tt.says {
			if !strings.Contains(r.Verdict, s) {
				t.Errorf("%s: verdict %q lacks %q", tt.name, r.Verdict, s)
			}
		}
		// A flagged method ranked above the trusted one is named in the
		// verdict as flagged; every flagged method says why.
		trusted := slices.IndexFunc(r.Scores, func(s MethodScore) bool { return s.Method == r.Trusted })
		for i, s := range r.Scores {
			if s.Flagged != (len(s.Problems) > 0) {
				t.Errorf("%s: %s flagged %v with problems %q", tt.name, s.Method, s.Flagged, s.Problems)
			}
			for _, p := range s.Problems {
				if !strings.Contains(r.Verdict, p) {
					t.Errorf("%s: verdict %q lacks %s's problem %q", tt.name, r.Verdict, s.Method, p)
				}
			}
			if i < trusted && (!s.Flagged || !strings.Contains(r.Verdict, MethodLabel(s.Method)) || !strings.Contains(r.Verdict, "flagged")) {
				t.Errorf("%s: %s ranks above the trusted %s without the verdict saying it is flagged: %q", tt.name, s.Method, r.Trusted, r.Verdict)
			}
		}
		if strings.Count(r.Verdict, ".") < 1 || !strings.HasSuffix(r.Verdict, ".") {
			t.Errorf("%s: verdict %q is not a sentence", tt.name, r.Verdict)
		}
		// The headline is the verdict without its flags.
		want := r.Verdict
		if len(r.Flags) > 0 {
			want = strings.Replace(want, "; "+strings.Join(r.Flags, "; ")+".", ".", 1)
		}
		if r.Headline != want || (len(r.Flags) > 0) == (r.Headline == r.Verdict) {
			t.Errorf("%s: headline %q, want the verdict %q without its flags %q", tt.name, r.Headline, r.Verdict, r.Flags)
		}
	}
	if r := Rank(nil); r.Verdict == "" || r.Trusted != "" {
		t.Errorf("empty ranking: %+v", r)
	}
	for _, tt := range []struct{ gap, x, b, want float64 }{
		{-0.5, 3, 1, -0.25}, {0, 2, 2, 0}, {0.1, 2, 2, 1e6}, {-1e300, 1, 0, -1e6},
	} {
		if g := RelativeGap(tt.gap, tt.x, tt.b); g != tt.want {
			t.Errorf("RelativeGap(%v, %v, %v) = %v, want %v", tt.gap, tt.x, tt.b, g, tt.want)
		}
	}
}

// TestRankCheck: a method's own conservation check (SetCheck) flags it by
// its own limit and name, and quotes its own advice.
func TestRankCheck(t *testing.T) {
	lrp := &Check{Name: "relevance conservation", Rel: -0.95, Threshold: GapThreshold, Advice: "use the z+ rule"}
	shap := &Check{Name: "expected completeness", Rel: 0.08, Threshold: 0.1, Advice: "draw more samples"}
	var a, b, c MethodScore
	a = MethodScore{Method: "lrp", Faithfulness: 0.5}
	a.SetCheck(lrp)
	b = MethodScore{Method: "gradientshap", Faithfulness: 0.4}
	b.SetCheck(shap)
	c = MethodScore{Method: "saliency", Faithfulness: 0.3}
	c.SetCheck(nil)
	r := Rank([]MethodScore{a, b, c})
	if r.Trusted != "gradientshap" {
		t.Errorf("trusted %q, want gradientshap (its 8%% gap is within its 10%% limit; LRP misses by 95%%)", r.Trusted)
	}
	want := "LRP misses relevance conservation by -95% of the score difference (more than 5%); use the z+ rule"
	if len(r.Flags) != 1 || r.Flags[0] != want {
		t.Errorf("flags %q, want [%q]", r.Flags, want)
	}
	if !r.Scores[0].Flagged || r.Scores[1].Flagged || r.Scores[2].Flagged || c.Gap != nil {
		t.Errorf("flagged %v %v %v, gap of a method without a check %v", r.Scores[0].Flagged, r.Scores[1].Flagged, r.Scores[2].Flagged, c.Gap)
	}
	// Advice from a completeness sweep wins over the method's own.
	d := MethodScore{Method: "ig", Faithfulness: 0.2, Advice: "use trapezoid, 25 steps, blur"}
	d.SetCheck(&Check{Name: "completeness", Rel: 0.5, Threshold: GapThreshold, Advice: "general"})
	if p := Rank([]MethodScore{d}).Flags; len(p) != 1 || !strings.HasSuffix(p[0], "; use trapezoid, 25 steps, blur") {
		t.Errorf("flags %q, want the sweep's advice", p)
	}
}

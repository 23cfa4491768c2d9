package xai

// The seeded methods give the same maps for the same seed on every
// platform: their maps on the ReLU network, written natively to a text
// golden file (go test -run TestSeededGolden ./xai -update), must come
// back under js/wasm and in the page. The tolerance, 1e-4 of the map's
// largest value, admits the kernels' float32 rounding (SIMD natively,
// scalar in wasm); different random numbers would change the maps
// entirely.

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var seededCases = []struct {
	name string
	req  Request
}{
	{"smoothgrad", Request{Method: "smoothgrad", Options: Options{"samples": 6}}},
	{"smoothgradsq", Request{Method: "smoothgradsq", Options: Options{"samples": 6, "wraps": "inputxgrad"}}},
	{"vargrad", Request{Method: "vargrad", Options: Options{"samples": 6}}},
	{"gradientshap", Request{Method: "gradientshap", Options: Options{"samples": 6, "noise": 0.05}}},
	{"gradientshap-bw", Request{Method: "gradientshap", Target: Target{Class: 1, Kind: Probability}, Options: Options{"samples": 6, "baselines": "black-white"}}},
	{"rise", Request{Method: "rise", Options: Options{"masks": 12, "grid": 3}}},
}

func TestSeededGolden(t *testing.T) {
	m := reluNet(t)
	x := reluInput()
	var b strings.Builder
	got := map[string][]float32{}
	for _, c := range seededCases {
		r := c.req
		if r.Target == (Target{}) {
			r.Target = Predicted()
		}
		r.Seed = 77
		res, err := New(m).Explain(x, r)
		if err != nil {
			t.Fatal(err)
		}
		got[c.name] = res.Map.Data
		fmt.Fprintf(&b, "%s", c.name)
		for _, v := range res.Map.Data {
			fmt.Fprintf(&b, " %.9g", v)
		}
		b.WriteByte('\n')
	}
	path := filepath.Join("testdata", "seeded_maps.txt")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestSeededGolden ./xai -update natively to create it)", err)
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		g, ok := got[f[0]]
		if !ok {
			t.Errorf("%s: in the golden file but not computed", f[0])
			continue
		}
		seen++
		if len(f)-1 != len(g) {
			t.Errorf("%s: %d values, golden %d", f[0], len(g), len(f)-1)
			continue
		}
		want := make([]float32, len(g))
		for i, s := range f[1:] {
			v, err := strconv.ParseFloat(s, 32)
			if err != nil {
				t.Fatal(err)
			}
			want[i] = float32(v)
		}
		tol := 1e-4 * maxAbs(want)
		if tol == 0 || math.IsNaN(tol) {
			t.Errorf("%s: an all-zero golden map", f[0])
		}
		near(t, f[0], g, want, tol)
	}
	if seen != len(got) {
		t.Errorf("the golden file holds %d of the %d maps (run with -update)", seen, len(got))
	}
}

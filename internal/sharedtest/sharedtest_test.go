package sharedtest

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB that records Skip and Fatal instead of acting
// on the test running it.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Skip(args ...any) {
	r.skipped = args[0].(string)
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) {
	r.failed = args[0].(string)
	runtime.Goexit()
}

// call runs f with a recorder on its own goroutine (Skip and Fatal end it).
func call(t *testing.T, f func(tb testing.TB) string) (got string, r *recorder) {
	r = &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		got = f(r)
	}()
	<-done
	return got, r
}

func TestDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "fixtures", "mavis"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(Manifest)), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(Env, dir)
	for _, ci := range []string{"", "true"} {
		t.Setenv("CI", ci)
		if got, r := call(t, func(tb testing.TB) string { return Fixtures(tb) }); got != filepath.Join(dir, "fixtures", "mavis") || r.skipped != "" || r.failed != "" {
			t.Errorf("CI=%q: Fixtures = %q (skip %q, fatal %q), want %s", ci, got, r.skipped, r.failed, filepath.Join(dir, "fixtures", "mavis"))
		}
		_, r := call(t, func(tb testing.TB) string { return Dir(tb, "mavis/weights.h5") })
		msg, other := r.skipped, r.failed
		if ci == "true" {
			msg, other = r.failed, r.skipped
		}
		if other != "" || !strings.Contains(msg, filepath.Join("mavis", "weights.h5")) || !strings.Contains(msg, Env) {
			t.Errorf("CI=%q, a missing file: skip %q, fatal %q; want the %s naming the file and %s", ci, r.skipped, r.failed,
				map[string]string{"": "skip", "true": "fatal"}[ci], Env)
		}
	}
	t.Setenv(Env, filepath.Join(dir, "absent"))
	t.Setenv("CI", "")
	if _, r := call(t, func(tb testing.TB) string { return Dir(tb) }); !strings.Contains(r.skipped, "absent") || r.failed != "" {
		t.Errorf("a missing folder: skip %q, fatal %q", r.skipped, r.failed)
	}
}

// TestRoot checks the default location: ../shared beside the directory
// holding go.mod.
func TestRoot(t *testing.T) {
	t.Setenv(Env, "")
	got, err := Root()
	wd, _ := os.Getwd()
	want := filepath.Join(wd, "..", "..", "..", "shared") // internal/sharedtest is two levels down
	if err != nil || got != filepath.Clean(want) {
		t.Errorf("Root() = %q, %v; want %q", got, err, filepath.Clean(want))
	}
}

// TestMetric: each comparison on a hand-worked pair.
func TestMetric(t *testing.T) {
	got, want := []float64{1, 2.002, 3}, []float64{1, 2, 4}
	for _, tt := range []struct {
		name string
		v    float64
	}{
		{"max_abs", 1},
		{"max_abs_over_max_ref", 0.25},
		{"rel_l2", math.Sqrt((0.002*0.002 + 1) / 21)},
		{"frac_abs_over_1e-3_max_ref", 1.0 / 3}, // 0.002 <= 0.004; 1 > 0.004
	} {
		if v := Metric(tt.name, got, want); math.Abs(v-tt.v) > 1e-12 {
			t.Errorf("%s = %v, want %v", tt.name, v, tt.v)
		}
	}
	if v := Metric("rel_l2", []float64{3, 4}, []float64{0, 0}); v != 5 {
		t.Errorf("rel_l2 against zeros = %v, want the norm 5", v)
	}
	if v := Metric("nope", got, want); !math.IsNaN(v) {
		t.Errorf("unknown metric = %v, want NaN", v)
	}
}

//go:build ignore

// Compare times xai's saliency (forward and input gradient of MAVIS at
// 224x224x3, batch 1: what BenchmarkSaliency runs) against PyTorch's,
// alternately in the same minutes, and prints min and median of each and
// their ratio, for each thread count. The PyTorch side is
// pytorch_saliency.py in -serve mode, built from the same weights file and
// fed the same input; the gradients of both are compared first, so that
// the two sides compute the same thing.
//
// It is not part of any test or CI run. From the repository root:
//
//	apt-get install -y python3-torch      # Debian's PyTorch 1.13, /usr/bin/python3
//	./build.sh
//	bin/weightsconv -arch mavis ../shared/mavis/tiny_imagenet_model.checkpoint.weights.h5 -o /tmp/mavis.safetensors
//	GOEXPERIMENT=simd go run nn/bench/compare.go -weights /tmp/mavis.safetensors
//
// Each round runs -per saliency passes on one side, then on the other (the
// side that goes first alternates), after -warmup untimed passes on each.
// PyTorch's steady state depends on glibc malloc: with its default
// settings the activations (up to 12.8 MB each) are mmapped and unmapped on
// every pass, and the page faults made a pass take 5-7x the CPU time
// (200 against 30 ms, one thread). compare runs PyTorch with the largest
// mmap threshold and no trimming (pytorchMalloc), its fastest state found;
// -glibc-default runs it as installed.
//
// Go's threads are GOMAXPROCS, PyTorch's torch.set_num_threads. Both
// wall-clock and CPU time (every thread of the process) are printed per
// pass. On a shared machine the load average (printed) moves both sides'
// times, the wall clock much more than the CPU time; compare minimums, and
// medians of one run only.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mavis-xai/mavis/internal/cputime"
	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

func main() {
	weights := flag.String("weights", "", "a weightsconv .safetensors file of MAVIS (required)")
	threads := flag.String("threads", "1,2", "comma-separated thread counts to compare")
	rounds := flag.Int("rounds", 10, "alternating rounds per thread count")
	per := flag.Int("per", 5, "saliency passes per side and round")
	warmup := flag.Int("warmup", 10, "untimed passes per side before the rounds")
	python := flag.String("python", "/usr/bin/python3", "the Python with Debian's python3-torch")
	script := flag.String("script", "nn/bench/pytorch_saliency.py", "the PyTorch side")
	glibcDefault := flag.Bool("glibc-default", false, "run PyTorch with glibc malloc's default settings (see the package comment)")
	goOnly := flag.Bool("go-only", false, "time the Go side alone (to compare two builds of it)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("compare: ")
	if *weights == "" {
		log.Fatal("-weights is required (bin/weightsconv -arch mavis ... -o /tmp/mavis.safetensors)")
	}
	m, err := nn.Load(*weights)
	if err != nil {
		log.Fatal(err)
	}
	ex := xai.New(m)
	x := m.NewInput(1)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range x.Data {
		x.Data[i] = float32(r.IntN(256))
	}
	dir, err := os.MkdirTemp("", "compare")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	input := filepath.Join(dir, "input.f32")
	if err := os.WriteFile(input, f32Bytes(x.Data), 0o644); err != nil {
		log.Fatal(err)
	}
	var s xai.SaliencyMap
	pass := func() {
		if err := ex.SaliencyTo(&s, x, xai.Predicted()); err != nil {
			log.Fatal(err)
		}
	}
	pass()

	fmt.Printf("cpu: %s, %d logical CPUs; %s\n", cpuModel(), runtime.NumCPU(), runtime.Version())
	for i, f := range strings.Split(*threads, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			log.Fatalf("-threads: bad count %q", f)
		}
		runtime.GOMAXPROCS(n)
		grad := ""
		if i == 0 {
			grad = filepath.Join(dir, "grad.f32")
		}
		var py *pyServer
		if !*goOnly {
			py = startPython(*python, *script, *weights, input, grad, n, *warmup, *glibcDefault)
			if grad != "" {
				checkGrad(s.Grad.Data, grad)
			}
		}
		for range *warmup {
			pass()
		}
		load0 := loadavg()
		var goT, goC, pyT, pyC []float64
		for rd := range *rounds {
			goRound := func() {
				for range *per {
					c0, t0 := cpuMillis(), time.Now()
					pass()
					goT = append(goT, float64(time.Since(t0).Nanoseconds())/1e6)
					goC = append(goC, cpuMillis()-c0)
				}
			}
			pyRound := func() {
				if py == nil {
					return
				}
				w, c := py.run(*per)
				pyT, pyC = append(pyT, w...), append(pyC, c...)
			}
			if rd%2 == 0 {
				goRound()
				pyRound()
			} else {
				pyRound()
				goRound()
			}
		}
		fmt.Printf("threads=%d  rounds=%d x %d passes each, load average %s -> %s\n", n, *rounds, *per, load0, loadavg())
		fmt.Printf("  %-20s wall min %8.2f ms  median %8.2f ms   CPU min %8.2f ms  median %8.2f ms\n",
			"go (xai.SaliencyTo)", minOf(goT), median(goT), minOf(goC), median(goC))
		if py == nil {
			continue
		}
		py.stop()
		fmt.Printf("  %-20s wall min %8.2f ms  median %8.2f ms   CPU min %8.2f ms  median %8.2f ms\n",
			"pytorch "+py.version, minOf(pyT), median(pyT), minOf(pyC), median(pyC))
		fmt.Printf("  %-20s wall min %8.3fx    median %8.3fx      CPU min %8.3fx    median %8.3fx\n", "go / pytorch",
			minOf(goT)/minOf(pyT), median(goT)/median(pyT), minOf(goC)/minOf(pyC), median(goC)/median(pyC))
	}
}

// cpuMillis returns the CPU time this process has used (every thread).
func cpuMillis() float64 { return cputime.Seconds() * 1e3 }

// pyServer is pytorch_saliency.py in -serve mode.
type pyServer struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	out     *bufio.Scanner
	version string
}

// pytorchMalloc is the environment PyTorch runs in unless -glibc-default:
// glibc malloc keeps freed memory instead of returning it to the system
// (the largest mmap threshold, 32 MiB, and no trimming), so that the
// activations of one pass reuse the last pass's pages.
var pytorchMalloc = []string{"MALLOC_MMAP_THRESHOLD_=33554432", "MALLOC_TRIM_THRESHOLD_=4294967296"}

func startPython(python, script, weights, input, grad string, threads, warmup int, glibcDefault bool) *pyServer {
	ver, err := exec.Command(python, "-c", "import torch; print(torch.__version__)").Output()
	if err != nil {
		log.Fatalf("%s cannot import torch (apt-get install -y python3-torch): %v", python, err)
	}
	args := []string{script, "-serve", "-weights", weights, "-input", input,
		"-threads", strconv.Itoa(threads), "-warmup", strconv.Itoa(warmup)}
	if grad != "" {
		args = append(args, "-grad-out", grad)
	}
	p := &pyServer{cmd: exec.Command(python, args...), version: strings.TrimSpace(string(ver))}
	p.cmd.Stderr = os.Stderr
	if !glibcDefault {
		p.cmd.Env = append(os.Environ(), pytorchMalloc...)
	}
	if p.in, err = p.cmd.StdinPipe(); err != nil {
		log.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		log.Fatal(err)
	}
	p.out = bufio.NewScanner(stdout)
	if err := p.cmd.Start(); err != nil {
		log.Fatal(err)
	}
	if !p.out.Scan() || p.out.Text() != "ready" {
		log.Fatalf("%s did not start: %v", script, p.out.Err())
	}
	return p
}

// run times n passes on the PyTorch side: wall-clock and CPU ms.
func (p *pyServer) run(n int) (wall, cpu []float64) {
	fmt.Fprintf(p.in, "run %d\n", n)
	return p.times(n), p.times(n)
}

// times reads one line of n times.
func (p *pyServer) times(n int) []float64 {
	if !p.out.Scan() {
		log.Fatalf("pytorch side stopped: %v", p.out.Err())
	}
	var ts []float64
	for _, f := range strings.Fields(p.out.Text()) {
		t, err := strconv.ParseFloat(f, 64)
		if err != nil {
			log.Fatalf("pytorch side: %v", err)
		}
		ts = append(ts, t)
	}
	if len(ts) != n {
		log.Fatalf("pytorch side: %d times, want %d", len(ts), n)
	}
	return ts
}

func (p *pyServer) stop() {
	p.in.Close()
	if err := p.cmd.Wait(); err != nil {
		log.Fatalf("pytorch side: %v", err)
	}
}

// checkGrad compares Go's input gradient with PyTorch's (raw float32 HWC
// in file) by the fixtures' float32 metrics for input gradients
// (../shared/fixtures/README.md): rel_l2 <= 0.02 and at most 1% of the
// values off by more than 1e-3 of the largest.
func checkGrad(got []float32, file string) {
	b, err := os.ReadFile(file)
	if err != nil {
		log.Fatal(err)
	}
	want := f32s(b)
	if len(want) != len(got) {
		log.Fatalf("pytorch gradient has %d values, go %d", len(want), len(got))
	}
	var d2, w2, wmax float64
	for i, w := range want {
		d := float64(got[i]) - float64(w)
		d2 += d * d
		w2 += float64(w) * float64(w)
		wmax = max(wmax, math.Abs(float64(w)))
	}
	far := 0
	for i, w := range want {
		if math.Abs(float64(got[i])-float64(w)) > 1e-3*wmax {
			far++
		}
	}
	rel, frac := math.Sqrt(d2/w2), float64(far)/float64(len(want))
	fmt.Printf("gradient check, go against pytorch: rel_l2 %.3g (limit 0.02), frac_abs_over_1e-3_max %.3g (limit 0.01)\n", rel, frac)
	if rel > 0.02 || frac > 0.01 {
		log.Fatal("the two sides do not compute the same gradient")
	}
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		u := math.Float32bits(f)
		b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
	}
	return b
}

func f32s(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(uint32(b[4*i]) | uint32(b[4*i+1])<<8 | uint32(b[4*i+2])<<16 | uint32(b[4*i+3])<<24)
	}
	return v
}

func minOf(t []float64) float64 { return slices.Min(t) }

func median(t []float64) float64 {
	s := slices.Sorted(slices.Values(t))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	name, flags := "", ""
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "model name":
			if name == "" {
				name = strings.TrimSpace(v)
			}
		case "flags":
			if flags == "" {
				flags = " " + v + " "
			}
		}
	}
	switch {
	case strings.Contains(flags, " avx512f "):
		name += " (AVX-512)"
	case strings.Contains(flags, " avx2 "):
		name += " (AVX2)"
	}
	return name
}

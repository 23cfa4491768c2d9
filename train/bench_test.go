package main

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/mavis-xai/mavis/internal/cputime"
	"github.com/mavis-xai/mavis/nn"
)

// benchmarkTrain measures training images/s (forward, loss, backward and
// an SGD step; data already in memory) for a built-in architecture at one
// batch size with the given number of data-parallel replicas.
func benchmarkTrain(b *testing.B, arch string, batch, workers int) {
	m, err := nn.BuildBuiltin(arch)
	if err != nil {
		b.Fatal(err)
	}
	nn.Init(m, 1)
	in := m.InputShape()
	K := m.Shapes[len(m.Shapes)-1][2]
	m.Classes = make([]nn.Class, K)
	rng := rand.New(rand.NewPCG(1, 2))
	// One batch of random inputs, fed through the dataset's custom source.
	xs := make([][]float32, batch)
	labels := make([]int, batch)
	for i := range xs {
		xs[i] = make([]float32, in[0]*in[1]*in[2])
		for j := range xs[i] {
			xs[i][j] = rng.Float32() * 255
		}
		labels[i] = rng.IntN(K)
	}
	d := &Dataset{Classes: m.Classes, Labels: labels, load: func(dst *nn.Tensor, n, i int) error {
		copy(dst.Sample(n), xs[i])
		return nil
	}}
	tr, err := NewTrainer(m, Config{Batch: batch, Optimizer: "sgd", LR: 1e-4, Momentum: 0.9, Workers: workers, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	tr.setTraining(true)
	idx := make([]int, batch)
	for i := range idx {
		idx[i] = i
	}
	if _, _, err := tr.trainStep(d, idx); err != nil { // warm-up: buffers
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu0 := cputime.Seconds()
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := tr.trainStep(d, idx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "images/s")
	// CPU time per image: the machine is shared, so wall-clock rates vary
	// with the load; this one does not (much).
	b.ReportMetric((cputime.Seconds()-cpu0)*1e3/float64(b.N*batch), "cpu-ms/image")
}

func BenchmarkTrain(b *testing.B) {
	for _, c := range []struct {
		arch  string
		batch int
	}{{"mavis", 32}, {"fashion", 128}} {
		for _, w := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/batch=%d/workers=%d", c.arch, c.batch, w), func(b *testing.B) {
				benchmarkTrain(b, c.arch, c.batch, w)
			})
		}
	}
}

package main

import (
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/mavis-xai/mavis/nn"
)

// stripes generates n grey size x size images of four classes: horizontal,
// vertical, diagonal and anti-diagonal stripes of period 4 with a random
// phase, a random contrast and uniform noise.
func stripes(n, size int, seed uint64) *Dataset {
	rng := rand.New(rand.NewPCG(seed, 1))
	d := &Dataset{Source: "stripes", rows: size, cols: size, pix: make([]byte, n*size*size), Labels: make([]int, n)}
	for k, name := range []string{"horizontal", "vertical", "diagonal", "anti-diagonal"} {
		d.Classes = append(d.Classes, nn.Class{ID: name, Name: name})
		_ = k
	}
	for i := range n {
		c := rng.IntN(4)
		d.Labels[i] = c
		phase := rng.IntN(4)
		contrast := 80 + rng.Float64()*120
		for y := range size {
			for x := range size {
				var t int
				switch c {
				case 0:
					t = y
				case 1:
					t = x
				case 2:
					t = x + y
				case 3:
					t = x - y + size
				}
				v := 60.0 + rng.Float64()*40
				if (t+phase)%4 < 2 {
					v += contrast
				}
				d.pix[(i*size+y)*size+x] = byte(min(255, v))
			}
		}
	}
	return d
}

func stripeSpec(size int) nn.Spec {
	return nn.Spec{Name: "stripes", Input: [3]int{size, size, 1}, Layers: []nn.LayerSpec{
		{Class: "Conv2D", Name: "conv2d", Config: nn.LayerConfig{Filters: 8, KernelSize: []int{3, 3}, Padding: "same", Activation: "relu", L2: 1e-4}},
		{Class: "BatchNormalization", Name: "batch_normalization", Config: nn.LayerConfig{Momentum: 0.9}},
		{Class: "MaxPooling2D", Name: "max_pooling2d", Config: nn.LayerConfig{PoolSize: []int{2, 2}}},
		{Class: "Dropout", Name: "dropout", Config: nn.LayerConfig{Rate: 0.1}},
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 4, Activation: "softmax"}},
	}}
}

func newStripeTrainer(t *testing.T, c Config) *Trainer {
	t.Helper()
	m, err := nn.Build(stripeSpec(12))
	if err != nil {
		t.Fatal(err)
	}
	m.Preprocess.Scale = "0..1"
	m.Classes = stripes(1, 12, 0).Classes
	nn.Init(m, c.Seed)
	tr, err := NewTrainer(m, c)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestLearnsStripes: a few epochs on generated stripe orientations reach
// >= 95% validation accuracy and the training loss falls every epoch.
func TestLearnsStripes(t *testing.T) {
	train, val := stripes(480, 12, 1), stripes(160, 12, 2)
	tr := newStripeTrainer(t, Config{Epochs: 5, Batch: 32, Optimizer: "adam", LR: 0.01, Seed: 3, Workers: 2})
	before, err := tr.Evaluate(val)
	if err != nil {
		t.Fatal(err)
	}
	for range tr.Config.Epochs {
		rec, err := tr.TrainEpoch(train, val)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("epoch %d: loss %.4f acc %.4f val_loss %.4f val_acc %.4f", rec.Epoch, rec.Loss, rec.Acc, rec.ValLoss, rec.ValAcc)
	}
	h := tr.History
	for i := 1; i < len(h); i++ {
		if h[i].Loss >= h[i-1].Loss {
			t.Errorf("training loss rose from %.4f (epoch %d) to %.4f (epoch %d)", h[i-1].Loss, i, h[i].Loss, i+1)
		}
	}
	last := h[len(h)-1]
	if last.ValAcc < 0.95 {
		t.Errorf("validation accuracy %.4f after %d epochs, want >= 0.95 (chance: 0.25, before training %.4f)", last.ValAcc, len(h), before.Acc)
	}
	if last.ValLoss >= before.Loss/2 {
		t.Errorf("validation loss %.4f, want under half of the untrained %.4f", last.ValLoss, before.Loss)
	}
}

// TestSGDStepHandWorked: two SGD steps (lr 0.1, momentum 0.9, L2 0.1 on the
// kernel) on a 2-input, 2-class softmax Dense with a batch of two samples,
// against a hand computation (Python, float64, written out in the comment):
//
//	K = [[0.5, -0.5], [0.25, 0]], b = [0, 0.1]; x = (1, 2) class 0, (-1, 0.5) class 1
//	per sample: z = xK + b, p = softmax(z), dz = (p - y)/2
//	g_K = Σ xᵀ dz + 2·0.1·K, g_b = Σ dz; v = 0.9v - 0.1g; w += v
//	step 1: cross-entropy 0.2702321551, penalty 0.05625
//	        K = [[0.5135850565, -0.5135850565], [0.2579344857, -0.0129344857]], b = [-0.0038034454, 0.1038034454]
//	step 2: cross-entropy 0.2610120423
//	        K = [[0.5384068615, -0.5384068615], [0.2720169049, -0.0364169049]], b = [-0.0112666619, 0.1112666619]
func TestSGDStepHandWorked(t *testing.T) {
	spec := nn.Spec{Name: "tiny", Input: [3]int{1, 1, 2}, Layers: []nn.LayerSpec{
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 2, Activation: "softmax", L2: 0.1}}}}
	m, err := nn.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	copy(m.Param("dense/kernel").Value, []float32{0.5, -0.5, 0.25, 0})
	copy(m.Param("dense/bias").Value, []float32{0, 0.1})
	m.Classes = []nn.Class{{ID: "a"}, {ID: "b"}}
	d := &Dataset{Classes: m.Classes, Labels: []int{0, 1}, paths: []string{"x0", "x1"}}
	xs := [][]float32{{1, 2}, {-1, 0.5}}
	tr, err := NewTrainer(m, Config{Batch: 2, LR: 0.1, Momentum: 0.9, Optimizer: "sgd", Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Feed the raw vectors: replace each replica's input after loading.
	load := func() {
		for _, r := range tr.reps {
			r.x = nil
		}
	}
	want := []struct {
		ce   float64
		k, b []float64
	}{
		{0.2702321551118755, []float64{0.513585056509032, -0.513585056509032, 0.2579344856756613, -0.012934485675661304}, []float64{-0.0038034453648901293, 0.10380344536489014}},
		{0.26101204232728836, []float64{0.5384068615312593, -0.5384068615312593, 0.2720169049338857, -0.03641690493388568}, []float64{-0.011266661878944782, 0.1112666618789448}},
	}
	tr.setTraining(true)
	for step, w := range want {
		load()
		ce, correct, err := tr.trainStepVectors(d, xs)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(ce/2-w.ce) > 1e-6 {
			t.Errorf("step %d: cross-entropy %v, want %v", step+1, ce/2, w.ce)
		}
		if correct != 2 {
			t.Errorf("step %d: %d correct, want 2", step+1, correct)
		}
		for i, v := range m.Param("dense/kernel").Value {
			if math.Abs(float64(v)-w.k[i]) > 1e-6 {
				t.Errorf("step %d: kernel[%d] got %v, want %v", step+1, i, v, w.k[i])
			}
		}
		for i, v := range m.Param("dense/bias").Value {
			if math.Abs(float64(v)-w.b[i]) > 1e-6 {
				t.Errorf("step %d: bias[%d] got %v, want %v", step+1, i, v, w.b[i])
			}
		}
	}
}

// trainStepVectors runs trainStep with sample i's input set to xs[i]
// instead of loading an image.
func (t *Trainer) trainStepVectors(d *Dataset, xs [][]float32) (float64, int, error) {
	vec := &vectorSource{xs: xs}
	d.load = vec.load
	defer func() { d.load = nil }()
	return t.trainStep(d, []int{0, 1})
}

type vectorSource struct{ xs [][]float32 }

func (v *vectorSource) load(dst *nn.Tensor, n, i int) error {
	copy(dst.Sample(n), v.xs[i])
	return nil
}

// TestBatchNormTrainingFiniteDifferences checks the gradient of the
// training loss (cross-entropy over a batch, batch-norm in training mode so
// the batch mean and variance depend on every input) with respect to the
// inputs and to gamma, beta and the dense kernel, against central
// differences of the loss accumulated in float64.
func TestBatchNormTrainingFiniteDifferences(t *testing.T) {
	spec := nn.Spec{Name: "bn", Input: [3]int{2, 2, 3}, Layers: []nn.LayerSpec{
		{Class: "BatchNormalization", Name: "bn"},
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 3, Activation: "softmax"}},
	}}
	m, err := nn.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	nn.Init(m, 5)
	rng := rand.New(rand.NewPCG(9, 9))
	for i := range m.Param("bn/gamma").Value {
		m.Param("bn/gamma").Value[i] = 0.5 + rng.Float32()
		m.Param("bn/beta").Value[i] = rng.Float32() - 0.5
	}
	const N = 4
	labels := []int{0, 2, 1, 2}
	x := nn.NewTensor(N, 2, 2, 3)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	m.SetTraining(true)
	li := m.Logits()
	loss := func() float64 {
		m.Forward(x)
		z := m.Output(li)
		var s float64
		for n := range N {
			row := z.Data[n*3 : n*3+3]
			lse, _ := logSumExp(row)
			s += lse - float64(row[labels[n]])
		}
		return s / N
	}
	// Analytic gradients: dL/dlogits = (p - y)/N, as the trainer seeds them.
	m.ZeroGrad()
	m.Forward(x)
	z := m.Output(li)
	dl := nn.NewTensor(N, 1, 1, 3)
	for n := range N {
		lse, _ := logSumExp(z.Data[n*3 : n*3+3])
		for k := range 3 {
			q := math.Exp(float64(z.Data[n*3+k]) - lse)
			if k == labels[n] {
				q--
			}
			dl.Data[n*3+k] = float32(q / N)
		}
	}
	dx := m.Backward(dl, li, 0).Clone()
	check := func(name string, v []float32, grad []float32) {
		t.Helper()
		const h = 1e-2
		for i := range v {
			old := v[i]
			v[i] = old + h
			lp := loss()
			v[i] = old - h
			lm := loss()
			v[i] = old
			fd := (lp - lm) / (2 * h)
			if diff := math.Abs(fd - float64(grad[i])); diff > 2e-3*max(1, math.Abs(fd)) {
				t.Errorf("%s[%d]: analytic %.6f, finite difference %.6f", name, i, grad[i], fd)
			}
		}
	}
	gamma, beta, kernel := m.Param("bn/gamma"), m.Param("bn/beta"), m.Param("dense/kernel")
	gg, gb, gk := slices.Clone(gamma.Grad), slices.Clone(beta.Grad), slices.Clone(kernel.Grad)
	check("x", x.Data, dx.Data)
	check("gamma", gamma.Value, gg)
	check("beta", beta.Value, gb)
	check("kernel", kernel.Value, gk)
}

// TestSeededRunsRepeat: two runs with the same seed give bit-identical
// weights, and a different seed gives different ones.
func TestSeededRunsRepeat(t *testing.T) {
	train := stripes(96, 12, 1)
	run := func(seed uint64) []float32 {
		tr := newStripeTrainer(t, Config{Epochs: 2, Batch: 16, Optimizer: "sgd", LR: 0.05, Momentum: 0.9, Seed: seed, Workers: 2})
		for range 2 {
			if _, err := tr.TrainEpoch(train, nil); err != nil {
				t.Fatal(err)
			}
		}
		var all []float32
		for _, p := range tr.Model.Params() {
			all = append(all, p.Value...)
		}
		return all
	}
	a, b, c := run(4), run(4), run(5)
	if !slices.Equal(a, b) {
		t.Errorf("two runs with seed 4 differ")
	}
	if slices.Equal(a, c) {
		t.Errorf("runs with seeds 4 and 5 are identical")
	}
}

// TestResumeEqualsUninterrupted: 2 epochs, stop, resume to 4 epochs gives
// bit-identical weights, optimiser state and history losses to 4 epochs in
// one go, for SGD and Adam.
func TestResumeEqualsUninterrupted(t *testing.T) {
	train, val := stripes(96, 12, 1), stripes(32, 12, 2)
	for _, opt := range []string{"sgd", "adam"} {
		c := Config{Epochs: 4, Batch: 16, Optimizer: opt, LR: 0.01, Momentum: 0.9, Seed: 11, Workers: 2}
		full := newStripeTrainer(t, c)
		dirA := t.TempDir()
		if err := full.Fit(train, val, dirA, io.Discard); err != nil {
			t.Fatal(err)
		}
		dirB := t.TempDir()
		c2 := c
		c2.Epochs = 2
		first := newStripeTrainer(t, c2)
		if err := first.Fit(train, val, dirB, io.Discard); err != nil {
			t.Fatal(err)
		}
		resumed, err := resumeTrainer(dirB, Config{Epochs: 4})
		if err != nil {
			t.Fatal(err)
		}
		if resumed.Epoch != 2 {
			t.Fatalf("%s: resumed at epoch %d, want 2", opt, resumed.Epoch)
		}
		if err := resumed.Fit(train, val, dirB, io.Discard); err != nil {
			t.Fatal(err)
		}
		for i, p := range full.Model.Params() {
			if q := resumed.Model.Params()[i]; !slices.Equal(p.Value, q.Value) {
				t.Errorf("%s: %s differs after resuming", opt, p.Name)
			}
		}
		if len(resumed.History) != 4 {
			t.Fatalf("%s: resumed history has %d epochs, want 4", opt, len(resumed.History))
		}
		for i, r := range full.History {
			if q := resumed.History[i]; r.Loss != q.Loss || r.ValLoss != q.ValLoss {
				t.Errorf("%s: epoch %d loss %v/%v, resumed %v/%v", opt, i+1, r.Loss, r.ValLoss, q.Loss, q.ValLoss)
			}
		}
	}
}

// TestShardsMatchOneReplica: on a batch made of one half repeated, every
// shard sees the same batch statistics as the whole batch, so one step on
// two replicas (gradients summed, moving statistics merged) must equal one
// step on a single replica, up to float32 rounding.
func TestShardsMatchOneReplica(t *testing.T) {
	half := stripes(8, 12, 7)
	idx := []int{0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7}
	spec := stripeSpec(12)
	spec.Layers = slices.Delete(spec.Layers, 3, 4) // no dropout: masks differ per replica
	step := func(workers int) []*nn.Param {
		m, err := nn.Build(spec)
		if err != nil {
			t.Fatal(err)
		}
		m.Preprocess.Scale = "0..1"
		m.Classes = half.Classes
		nn.Init(m, 2)
		tr, err := NewTrainer(m, Config{Batch: 16, Optimizer: "sgd", LR: 0.1, Momentum: 0.9, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		tr.setTraining(true)
		for range 2 {
			if _, _, err := tr.trainStep(half, idx); err != nil {
				t.Fatal(err)
			}
		}
		return m.Params()
	}
	one, two := step(1), step(2)
	for i, p := range one {
		for k, v := range p.Value {
			w := two[i].Value[k]
			if math.Abs(float64(v-w)) > 1e-5*max(1, math.Abs(float64(v))) {
				t.Errorf("%s[%d]: one replica %v, two replicas %v", p.Name, k, v, w)
				break
			}
		}
	}
}

// TestShardMovingMean: with distinct samples in two equal shards, the
// merged moving mean after one step equals the single-replica one, since
// the mean of the two shard means is the batch mean (the variances differ:
// each shard normalises with its own, as documented).
func TestShardMovingMean(t *testing.T) {
	d := stripes(16, 12, 8)
	idx := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	mean := func(workers int) []float32 {
		m, err := nn.Build(stripeSpec(12))
		if err != nil {
			t.Fatal(err)
		}
		m.Preprocess.Scale = "0..1"
		m.Classes = d.Classes
		nn.Init(m, 2)
		tr, err := NewTrainer(m, Config{Batch: 16, Optimizer: "sgd", LR: 0.1, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		tr.setTraining(true)
		if _, _, err := tr.trainStep(d, idx); err != nil {
			t.Fatal(err)
		}
		return m.Param("batch_normalization/moving_mean").Value
	}
	one, two := mean(1), mean(2)
	moved := false
	for k, v := range one {
		if math.Abs(float64(v-two[k])) > 1e-6 {
			t.Errorf("moving_mean[%d]: one replica %v, two %v", k, v, two[k])
		}
		moved = moved || v != 0
	}
	if !moved {
		t.Errorf("moving mean did not move from 0")
	}
}

// TestResumeWithNewLR: -resume -lr keeps the optimiser state, uses the new
// rate, and the next checkpoint records it.
func TestResumeWithNewLR(t *testing.T) {
	train := stripes(64, 12, 1)
	dir := t.TempDir()
	first := newStripeTrainer(t, Config{Epochs: 1, Batch: 16, Optimizer: "adam", LR: 0.01, Seed: 1, Workers: 2})
	if err := first.Fit(train, nil, dir, io.Discard); err != nil {
		t.Fatal(err)
	}
	steps := first.Opt.(*nn.Adam).T
	r, err := resumeTrainer(dir, Config{Epochs: 2})
	if err != nil {
		t.Fatal(err)
	}
	r.SetLR(0.001)
	if err := r.Fit(train, nil, dir, io.Discard); err != nil {
		t.Fatal(err)
	}
	again, err := resumeTrainer(dir, Config{Epochs: 3})
	if err != nil {
		t.Fatal(err)
	}
	a := again.Opt.(*nn.Adam)
	if again.Config.LR != 0.001 || a.LR != 0.001 {
		t.Errorf("learning rate after resuming: config %v, adam %v; want 0.001", again.Config.LR, a.LR)
	}
	if a.T != 2*steps {
		t.Errorf("Adam step count %d, want %d (state kept across the change)", a.T, 2*steps)
	}
}

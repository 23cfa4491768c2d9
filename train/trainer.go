package main

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/mavis-xai/mavis/nn"
)

// Config holds the training hyper-parameters.
type Config struct {
	Epochs    int     // at most this many epochs in total (resumed runs count earlier ones)
	Batch     int     // samples per step (Keras's default 32; the original used 128)
	Optimizer string  // "sgd" (with momentum) or "adam"
	LR        float64 // learning rate
	Momentum  float64 // SGD momentum
	Seed      uint64  // shuffling, dropout masks (initial weights are seeded by the caller)
	Patience  int     // stop after this many epochs without a better validation loss; 0 never stops early
	Workers   int     // data-parallel shards per batch (model replicas)
}

// Record is one epoch of history. Losses are categorical cross-entropy plus
// the L2 penalty, as Keras reports them.
type Record struct {
	Epoch   int     `json:"epoch"`
	Loss    float64 `json:"loss"`
	Acc     float64 `json:"accuracy"`
	ValLoss float64 `json:"val_loss"`
	ValAcc  float64 `json:"val_accuracy"`
	Seconds float64 `json:"seconds"`
}

// Trainer trains a model data-parallel: each batch is cut into Workers
// contiguous shards, each run forward and backward by its own replica of the
// model on its own goroutine. The replicas share the trainable parameter
// values (read-only during a step); their gradients are summed in shard
// order, so a seeded run repeats exactly for the same Workers. Batch-norm
// layers in training mode normalise each shard with that shard's
// statistics (as with per-device batch norm in multi-GPU Keras), and the
// moving statistics become the shard-size-weighted mean of the replicas'
// updates.
type Trainer struct {
	Model  *nn.Model // replica 0; its parameters are the ones trained and saved
	Config Config
	Opt    nn.Optimizer

	Epoch   int     // epochs completed
	Best    float64 // best monitored loss so far (+Inf before the first epoch)
	Wait    int     // epochs since Best improved
	History []Record

	Progress io.Writer // progress bar; nil for none

	// Data is what the command trained on, saved with each checkpoint so
	// that -resume needs no -data; nil when not known.
	Data *DataSettings

	reps   []*replica
	params []*nn.Param // Model.Params()
	loss   []float64   // per-sample losses of the current step
	pred   []int       // per-sample predictions of the current step
}

type replica struct {
	m      *nn.Model
	params []*nn.Param
	x, dl  *nn.Tensor
	err    error
}

// NewTrainer prepares a trainer for m, whose weights are already set.
func NewTrainer(m *nn.Model, c Config) (*Trainer, error) {
	if c.Batch < 1 {
		return nil, fmt.Errorf("train: batch size %d, want >= 1", c.Batch)
	}
	if c.Workers < 1 {
		c.Workers = 1
	}
	if c.Workers > c.Batch {
		c.Workers = c.Batch
	}
	if !(c.LR > 0) || math.IsInf(c.LR, 0) {
		return nil, fmt.Errorf("train: learning rate %g, want > 0", c.LR)
	}
	t := &Trainer{Model: m, Config: c, Best: math.Inf(1), params: m.Params()}
	switch c.Optimizer {
	case "sgd", "":
		if c.Momentum < 0 || c.Momentum >= 1 {
			return nil, fmt.Errorf("train: momentum %g outside [0, 1)", c.Momentum)
		}
		t.Opt = &nn.SGD{LR: float32(c.LR), Momentum: float32(c.Momentum)}
	case "adam":
		t.Opt = nn.NewAdam(float32(c.LR))
	default:
		return nil, fmt.Errorf("train: unknown optimizer %q (want sgd or adam)", c.Optimizer)
	}
	t.reps = append(t.reps, &replica{m: m, params: t.params})
	for w := 1; w < c.Workers; w++ {
		r, err := nn.Build(m.Spec)
		if err != nil {
			return nil, err
		}
		ps := r.Params()
		for i, p := range ps {
			if p.Trainable {
				p.Value = t.params[i].Value // shared, read-only during a step
			} else {
				copy(p.Value, t.params[i].Value)
			}
		}
		t.reps = append(t.reps, &replica{m: r, params: ps})
	}
	return t, nil
}

// SetLR changes the learning rate from the next step on, keeping the
// optimiser's state (a manual schedule step, used with -resume -lr).
func (t *Trainer) SetLR(lr float64) {
	t.Config.LR = lr
	switch o := t.Opt.(type) {
	case *nn.SGD:
		o.LR = float32(lr)
	case *nn.Adam:
		o.LR = float32(lr)
	}
}

// setTraining switches every replica's mode and copies the master's moving
// statistics into the other replicas.
func (t *Trainer) setTraining(on bool) {
	for _, r := range t.reps {
		r.m.SetTraining(on)
	}
	t.syncMoving()
}

func (t *Trainer) syncMoving() {
	for _, r := range t.reps[1:] {
		for i, p := range r.params {
			if !p.Trainable {
				copy(p.Value, t.params[i].Value)
			}
		}
	}
}

// reseed restarts every dropout generator from the seed, the epoch, the
// replica and the layer, so that an epoch's masks do not depend on what
// ran before it (a resumed run repeats an uninterrupted one).
func (t *Trainer) reseed(epoch int) {
	for w, r := range t.reps {
		for li, l := range r.m.Layers {
			if d, ok := l.(*nn.Dropout); ok {
				d.Reseed(t.Config.Seed^d.Seed, uint64(epoch)<<32|uint64(w)<<16|uint64(li))
			}
		}
	}
}

// shards cuts idx into at most len(t.reps) contiguous parts.
func (t *Trainer) shards(idx []int) [][]int {
	W := len(t.reps)
	out := make([][]int, W)
	for w := range W {
		lo, hi := w*len(idx)/W, (w+1)*len(idx)/W
		out[w] = idx[lo:hi]
	}
	return out
}

// run runs shard w of a step on every replica in parallel, writing each
// sample's loss and prediction at its position in the batch. With train
// set, it also back-propagates dL/dlogits scaled by 1/len(idx).
func (t *Trainer) run(ds *Dataset, idx []int, train bool) error {
	if cap(t.loss) < len(idx) {
		t.loss = make([]float64, len(idx))
		t.pred = make([]int, len(idx))
	}
	t.loss, t.pred = t.loss[:len(idx)], t.pred[:len(idx)]
	parts := t.shards(idx)
	scale := float32(1 / float64(len(idx)))
	if train {
		for _, r := range t.reps {
			r.m.ZeroGrad() // an empty shard must contribute zero
		}
	}
	var wg sync.WaitGroup
	off := 0
	for w, part := range parts {
		r := t.reps[w]
		r.err = nil
		if len(part) == 0 {
			continue
		}
		loss, pred := t.loss[off:off+len(part)], t.pred[off:off+len(part)]
		off += len(part)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.err = r.step(ds, part, t.Model.Preprocess, train, scale, loss, pred)
		}()
	}
	wg.Wait()
	for _, r := range t.reps {
		if r.err != nil {
			return r.err
		}
	}
	return nil
}

// step runs one shard: load, forward, loss and (training) backward.
func (r *replica) step(ds *Dataset, idx []int, p nn.Preprocess, train bool, scale float32, loss []float64, pred []int) error {
	n := len(idx)
	in := r.m.InputShape()
	if r.x == nil || r.x.Shape[0] != n {
		r.x = nn.NewTensor(n, in[0], in[1], in[2])
	}
	for j, i := range idx {
		if err := ds.LoadTo(r.x, j, i, p); err != nil {
			return err
		}
	}
	r.m.Forward(r.x)
	li := r.m.Logits()
	z := r.m.Output(li)
	K := z.Shape[3]
	if train && (r.dl == nil || r.dl.Shape != z.Shape) {
		r.dl = nn.NewTensor(n, 1, 1, K)
	}
	for j, i := range idx {
		row := z.Data[j*K : (j+1)*K]
		y := ds.Labels[i]
		lse, arg := logSumExp(row)
		loss[j] = lse - float64(row[y])
		pred[j] = arg
		if train {
			d := r.dl.Data[j*K : (j+1)*K]
			for k, v := range row {
				q := math.Exp(float64(v) - lse)
				if k == y {
					q--
				}
				d[k] = float32(q) * scale
			}
		}
	}
	if train {
		r.m.Backward(r.dl, li, 0)
	}
	return nil
}

// logSumExp returns log Σ exp(z) computed stably (max subtracted, float64)
// and the index of the largest z (the first one on ties).
func logSumExp(z []float32) (float64, int) {
	arg := 0
	for k, v := range z {
		if v > z[arg] {
			arg = k
		}
	}
	m := float64(z[arg])
	var s float64
	for _, v := range z {
		s += math.Exp(float64(v) - m)
	}
	return m + math.Log(s), arg
}

// trainStep trains on the samples idx and returns their summed
// cross-entropy and number of correct predictions.
func (t *Trainer) trainStep(ds *Dataset, idx []int) (float64, int, error) {
	t.syncMoving()
	if err := t.run(ds, idx, true); err != nil {
		return 0, 0, err
	}
	// Sum the replicas' gradients into replica 0's, in shard order.
	for _, r := range t.reps[1:] {
		for i, p := range r.params {
			if p.Grad == nil {
				continue
			}
			g := t.params[i].Grad
			for k, v := range p.Grad {
				g[k] += v
			}
		}
	}
	// Moving statistics: the shard-size-weighted mean of the replicas'.
	if len(t.reps) > 1 {
		parts := t.shards(idx)
		for i, p := range t.params {
			if p.Trainable {
				continue
			}
			w0 := float32(len(parts[0])) / float32(len(idx))
			for k := range p.Value {
				s := w0 * p.Value[k]
				for w, r := range t.reps[1:] {
					if n := len(parts[w+1]); n > 0 {
						s += float32(n) / float32(len(idx)) * r.params[i].Value[k]
					}
				}
				p.Value[k] = s
			}
		}
	}
	t.Opt.Step(t.params)
	var loss float64
	correct := 0
	for j, i := range idx {
		loss += t.loss[j]
		if t.pred[j] == ds.Labels[i] {
			correct++
		}
	}
	return loss, correct, nil
}

// Eval holds the results of evaluating a dataset.
type Eval struct {
	N         int
	Loss      float64 // mean cross-entropy plus the L2 penalty (Keras's evaluate)
	CE        float64 // mean cross-entropy alone
	Acc       float64
	Confusion [][]int // Confusion[true][predicted]
	ClassCE   []float64
}

// Evaluate runs the model in inference mode over every sample of ds.
func (t *Trainer) Evaluate(ds *Dataset) (Eval, error) {
	t.setTraining(false)
	K := len(ds.Classes)
	e := Eval{N: ds.Len(), Confusion: make([][]int, K), ClassCE: make([]float64, K)}
	for k := range e.Confusion {
		e.Confusion[k] = make([]int, K)
	}
	idx := make([]int, 0, t.Config.Batch)
	correct := 0
	for lo := 0; lo < ds.Len(); lo += t.Config.Batch {
		idx = idx[:0]
		for i := lo; i < min(lo+t.Config.Batch, ds.Len()); i++ {
			idx = append(idx, i)
		}
		if err := t.run(ds, idx, false); err != nil {
			return e, err
		}
		for j, i := range idx {
			y, p := ds.Labels[i], t.pred[j]
			e.CE += t.loss[j]
			e.ClassCE[y] += t.loss[j]
			if p < K {
				e.Confusion[y][p]++
			}
			if p == y {
				correct++
			}
		}
	}
	e.CE /= float64(e.N)
	e.Loss = e.CE + nn.L2Penalty(t.params)
	e.Acc = float64(correct) / float64(e.N)
	return e, nil
}

// epochPerm returns the sample order of an epoch: a permutation drawn
// from the seed and the epoch alone.
func epochPerm(seed uint64, epoch, n int) []int {
	return rand.New(rand.NewPCG(seed, 0x65706f6368<<8|uint64(epoch))).Perm(n)
}

// TrainEpoch runs one epoch over train, then evaluates val (when not nil),
// appends the record to History and advances Epoch.
func (t *Trainer) TrainEpoch(train, val *Dataset) (Record, error) {
	epoch := t.Epoch + 1
	start := time.Now()
	t.setTraining(true)
	t.reseed(epoch)
	perm := epochPerm(t.Config.Seed, epoch, train.Len())
	B := t.Config.Batch
	steps := (train.Len() + B - 1) / B
	bar := newProgress(t.Progress, epoch, t.Config.Epochs, steps)
	var ce, pen float64
	correct, seen := 0, 0
	for s := range steps {
		idx := perm[s*B : min((s+1)*B, train.Len())]
		p := nn.L2Penalty(t.params) // before the update, as Keras reports it
		l, c, err := t.trainStep(train, idx)
		if err != nil {
			return Record{}, err
		}
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return Record{}, fmt.Errorf("train: loss became %g at epoch %d step %d; try a lower -lr", l, epoch, s+1)
		}
		ce += l
		pen += p * float64(len(idx))
		correct += c
		seen += len(idx)
		bar.update(s+1, seen, (ce+pen)/float64(seen), float64(correct)/float64(seen))
	}
	rec := Record{Epoch: epoch, Loss: (ce + pen) / float64(seen), Acc: float64(correct) / float64(seen),
		ValLoss: math.NaN(), ValAcc: math.NaN()}
	if val != nil {
		e, err := t.Evaluate(val)
		if err != nil {
			return Record{}, err
		}
		rec.ValLoss, rec.ValAcc = e.Loss, e.Acc
	}
	rec.Seconds = time.Since(start).Seconds()
	bar.finish(rec)
	t.Epoch = epoch
	t.History = append(t.History, rec)
	return rec, nil
}

// Monitored is the loss early stopping and checkpointing watch: the
// validation loss, or the training loss when there is no validation data.
func (r Record) Monitored() float64 {
	if math.IsNaN(r.ValLoss) {
		return r.Loss
	}
	return r.ValLoss
}

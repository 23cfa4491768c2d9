package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/mavis-xai/mavis/nn"
)

// A run directory holds:
//
//	model.safetensors   the best checkpoint (lowest validation loss), the result
//	last.safetensors    the weights after the last completed epoch
//	last.state          the rest of the training state (JSON): epoch, optimiser
//	                    slots, early-stopping counters, history, and the SHA-256
//	                    of last.safetensors it belongs with
//	history.csv         one row per epoch
//	curves.png          accuracy and loss, train vs validation
//
// nn.Load refuses tensors it does not know, so the optimiser state lives in
// the sidecar .state file rather than in the weights file. The random state
// needs no saving: an epoch's shuffle and dropout masks are drawn from the
// seed and the epoch number alone, so resuming after epoch k repeats the
// uninterrupted run exactly (same seed, batch size and workers).

const stateVersion = 1

type trainState struct {
	Version   int     `json:"version"`
	Epoch     int     `json:"epoch"`
	Best      float64 `json:"best"` // math.MaxFloat64 before any epoch
	Wait      int     `json:"wait"`
	Seed      uint64  `json:"seed"`
	Batch     int     `json:"batch"`
	Workers   int     `json:"workers"`
	Optimizer string  `json:"optimizer"`
	LR        float64 `json:"lr"`
	Momentum  float64 `json:"momentum"`
	AdamT     int     `json:"adam_t,omitempty"`
	// Slots: SGD's velocities, or Adam's first then second moments, one per
	// trainable parameter in model order.
	Slots   [][]float32 `json:"slots"`
	History string      `json:"history_csv"`
	Weights string      `json:"weights_sha256"`
	// Data: absent in the states of runs before it was kept.
	Data *DataSettings `json:"data,omitempty"`
}

// DataSettings are the flags that chose a run's data, as -resume takes
// them up again (paths absolute).
type DataSettings struct {
	Data     string  `json:"data"`
	Val      string  `json:"val,omitempty"`
	ValSplit float64 `json:"val_split"`
	Format   string  `json:"format"`
	Classes  string  `json:"classes,omitempty"`
	Limit    int     `json:"limit,omitempty"`
}

// saveCheckpoint writes last.safetensors then last.state in dir, each
// atomically.
func (t *Trainer) saveCheckpoint(dir string) error {
	wpath := filepath.Join(dir, "last.safetensors")
	if err := nn.Save(wpath, t.Model); err != nil {
		return err
	}
	sum, err := fileSum(wpath)
	if err != nil {
		return fmt.Errorf("train: %v", err)
	}
	c := t.Config
	s := trainState{Version: stateVersion, Epoch: t.Epoch, Best: math.MaxFloat64, Wait: t.Wait, Seed: c.Seed,
		Batch: c.Batch, Workers: len(t.reps), Optimizer: c.Optimizer, LR: c.LR, Momentum: c.Momentum,
		Weights: hex.EncodeToString(sum), Data: t.Data}
	if !math.IsInf(t.Best, 1) {
		s.Best = t.Best
	}
	switch o := t.Opt.(type) {
	case *nn.SGD:
		s.Slots = o.Velocity
	case *nn.Adam:
		s.AdamT = o.T
		s.Slots = append(append(s.Slots, o.M...), o.V...)
	}
	var b bytes.Buffer
	if err := encodeHistory(&b, t.History); err != nil {
		return err
	}
	s.History = b.String()
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("train: state: %v", err)
	}
	return writeAtomic(filepath.Join(dir, "last.state"), data)
}

// resumeTrainer loads last.safetensors and last.state from dir and returns
// a trainer positioned after the last completed epoch. c supplies the
// number of epochs, patience and progress; the seed, batch size, workers,
// optimiser and learning rate come from the state, since changing them
// would not repeat the interrupted run (the command's -resume -lr changes
// the rate afterwards on purpose, with SetLR).
func resumeTrainer(dir string, c Config) (*Trainer, error) {
	spath := filepath.Join(dir, "last.state")
	data, err := os.ReadFile(spath)
	if err != nil {
		return nil, fmt.Errorf("train: resume: %v", err)
	}
	var s trainState
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("train: resume: %s: %v", spath, err)
	}
	if s.Version != stateVersion {
		return nil, fmt.Errorf("train: resume: %s has version %d, want %d", spath, s.Version, stateVersion)
	}
	wpath := filepath.Join(dir, "last.safetensors")
	sum, err := fileSum(wpath)
	if err != nil {
		return nil, fmt.Errorf("train: resume: %v", err)
	}
	if hex.EncodeToString(sum) != s.Weights {
		return nil, fmt.Errorf("train: resume: %s does not belong with %s (SHA-256 differs; the run stopped between the two writes?)", wpath, spath)
	}
	m, err := nn.Load(wpath)
	if err != nil {
		return nil, fmt.Errorf("train: resume: %v", err)
	}
	c.Seed, c.Batch, c.Workers, c.Optimizer, c.LR, c.Momentum = s.Seed, s.Batch, s.Workers, s.Optimizer, s.LR, s.Momentum
	t, err := NewTrainer(m, c)
	if err != nil {
		return nil, err
	}
	t.Epoch, t.Wait, t.Best, t.Data = s.Epoch, s.Wait, s.Best, s.Data
	if s.Best == math.MaxFloat64 {
		t.Best = math.Inf(1)
	}
	if t.History, err = decodeHistory(s.History); err != nil {
		return nil, err
	}
	// Check the slots against the trainable parameters before adopting them.
	var sizes []int
	for _, p := range t.params {
		if p.Trainable {
			sizes = append(sizes, len(p.Value))
		}
	}
	check := func(slots [][]float32) error {
		if len(slots) == 0 {
			return nil // saved before the first step
		}
		if len(slots) != len(sizes) {
			return fmt.Errorf("train: resume: %s has %d optimiser slots, the model has %d trainable parameters", spath, len(slots), len(sizes))
		}
		for i, v := range slots {
			if len(v) != sizes[i] {
				return fmt.Errorf("train: resume: %s slot %d has %d values, want %d", spath, i, len(v), sizes[i])
			}
		}
		return nil
	}
	switch o := t.Opt.(type) {
	case *nn.SGD:
		if err := check(s.Slots); err != nil {
			return nil, err
		}
		o.Velocity = s.Slots
	case *nn.Adam:
		if len(s.Slots)%2 != 0 {
			return nil, fmt.Errorf("train: resume: %s has %d Adam slots, want an even number", spath, len(s.Slots))
		}
		h := len(s.Slots) / 2
		if err := check(s.Slots[:h]); err != nil {
			return nil, err
		}
		o.M, o.V, o.T = s.Slots[:h], s.Slots[h:], s.AdamT
	}
	return t, nil
}

package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress draws one epoch's progress bar:
//
//	epoch 3/20 [=========>          ] 210/422 loss 0.3412 acc 0.8781 1502 img/s 0:32 left
//
// On a terminal it redraws one line (at most 10 times a second); otherwise
// it prints a line every 10 seconds so that logs stay short.
type progress struct {
	w             io.Writer
	tty           bool
	epoch, epochs int
	steps         int
	start, last   time.Time
}

func newProgress(w io.Writer, epoch, epochs, steps int) *progress {
	p := &progress{w: w, epoch: epoch, epochs: epochs, steps: steps, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	p.last = p.start
	return p
}

func (p *progress) update(step, images int, loss, acc float64) {
	if p.w == nil {
		return
	}
	now := time.Now()
	every := 10 * time.Second
	if p.tty {
		every = 100 * time.Millisecond
	}
	if now.Sub(p.last) < every && step < p.steps {
		return
	}
	p.last = now
	el := now.Sub(p.start).Seconds()
	rate := float64(images) / max(el, 1e-9)
	left := time.Duration(el / float64(step) * float64(p.steps-step) * float64(time.Second))
	const width = 24
	fill := width * step / p.steps
	bar := strings.Repeat("=", fill)
	if fill < width {
		bar += ">" + strings.Repeat(" ", width-fill-1)
	}
	line := fmt.Sprintf("epoch %d/%d [%s] %d/%d loss %.4f acc %.4f %.0f img/s %s left",
		p.epoch, p.epochs, bar, step, p.steps, loss, acc, rate, clock(left))
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\x1b[K", line)
	} else if step < p.steps {
		fmt.Fprintln(p.w, line)
	}
}

// finish prints the epoch's summary line.
func (p *progress) finish(r Record) {
	if p.w == nil {
		return
	}
	if p.tty {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	fmt.Fprintf(p.w, "epoch %d/%d: loss %.4f acc %.4f val_loss %.4f val_acc %.4f (%s)\n",
		r.Epoch, p.epochs, r.Loss, r.Acc, r.ValLoss, r.ValAcc, clock(time.Duration(r.Seconds*float64(time.Second))))
}

// clock formats a duration as h:mm:ss or m:ss.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

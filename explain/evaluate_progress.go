package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// evalBar is -evaluate's progress over images evaluated by several
// workers at once: images done of the selection (those a previous run
// did included), what each worker is doing, images per hour over this run
// and the time left at that rate. On a terminal it redraws one line (at
// most ten times a second); in a log it prints a line per finished image.
type evalBar struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	total    int // images selected
	before   int // of those, done by an earlier run
	n        int // finished in this run, failed included
	failed   int
	status   []string // per worker
	begun    time.Time
	lastDraw time.Time
}

func newEvalBar(w io.Writer, total, before, workers int) *evalBar {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &evalBar{w: w, tty: tty, total: total, before: before, status: make([]string, workers), begun: time.Now()}
}

// workerStatus is one worker's part of the bar (an evalStatus).
type workerStatus struct {
	b     *evalBar
	i     int
	image string
	what  string
}

func (b *evalBar) worker(i int) *workerStatus { return &workerStatus{b: b, i: i} }

func (s *workerStatus) start(image string) {
	s.image, s.what = image, ""
	s.set(image)
}

func (s *workerStatus) method(m string) {
	s.what = m
	s.set(s.image + " " + m)
}

// steps is the Progress hook of the long computations.
func (s *workerStatus) steps(done, total int) {
	s.set(fmt.Sprintf("%s %s %d/%d", s.image, s.what, done, total))
}

func (s *workerStatus) set(v string) {
	b := s.b
	b.mu.Lock()
	defer b.mu.Unlock()
	b.status[s.i] = v
	if b.tty && time.Since(b.lastDraw) >= 100*time.Millisecond {
		b.draw()
	}
}

// rate returns images per hour in this run and the time left at it
// (false until an image has finished).
func (b *evalBar) rate() (perHour float64, left time.Duration, ok bool) {
	el := time.Since(b.begun)
	if b.n == 0 || el <= 0 {
		return 0, 0, false
	}
	perHour = float64(b.n) / el.Hours()
	rest := b.total - b.before - b.n
	return perHour, time.Duration(float64(rest) / perHour * float64(time.Hour)), true
}

func (b *evalBar) rateText() string {
	perHour, left, ok := b.rate()
	if !ok {
		return ""
	}
	return fmt.Sprintf(", %.0f images/h, about %s left", perHour, fmtLong(left))
}

// finished records one image; err is its failure, if any.
func (b *evalBar) finished(image string, seconds float64, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n++
	if err != nil {
		b.failed++
		if b.tty {
			fmt.Fprintf(b.w, "\r%100s\r", "")
		}
		fmt.Fprintf(b.w, "explain: %s: %v (skipped)\n", image, err)
	}
	if !b.tty {
		if err == nil {
			fmt.Fprintf(b.w, "explain: [%d/%d] %s: %.1f s (elapsed %s%s)\n", b.before+b.n, b.total, image, seconds, fmtLong(time.Since(b.begun)), b.rateText())
		}
		return
	}
	b.draw()
}

func (b *evalBar) draw() {
	b.lastDraw = time.Now()
	const width = 20
	n := b.before + b.n
	fill := width * n / max(b.total, 1)
	var busy []string
	for _, s := range b.status {
		if s != "" {
			busy = append(busy, s)
		}
	}
	line := fmt.Sprintf("[%s%s] %d/%d  %s%s  %s", strings.Repeat("=", fill), strings.Repeat(" ", width-fill), n, b.total,
		fmtLong(time.Since(b.begun)), b.rateText(), strings.Join(busy, " | "))
	if len(line) > 140 {
		line = line[:139] + "…"
	}
	fmt.Fprintf(b.w, "\r%-140s", line)
}

// done ends the bar: the line stays on a terminal, and a summary of the
// rate is printed.
func (b *evalBar) done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	clear(b.status)
	if b.tty {
		b.draw()
		fmt.Fprintln(b.w)
	}
	el := time.Since(b.begun)
	good := b.n - b.failed
	var failed string
	if b.failed > 0 {
		failed = fmt.Sprintf(" (%d failed)", b.failed)
	}
	switch {
	case good > 0 && el > 0:
		fmt.Fprintf(b.w, "explain: -evaluate: %s evaluated in %s: %.1f images/hour%s\n", imageCount(good), fmtLong(el), float64(good)/el.Hours(), failed)
	case b.failed > 0:
		fmt.Fprintf(b.w, "explain: -evaluate: no image evaluated in this run%s\n", failed)
	}
}

// fmtLong prints d as m:ss, or h:mm:ss from an hour on.
func fmtLong(d time.Duration) string {
	if d < time.Hour {
		return fmtDuration(d)
	}
	s := int(d.Round(time.Second).Seconds())
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

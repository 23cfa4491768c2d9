package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress draws a one-line progress bar on stderr: images done of total,
// the current file and method (with IG or SmoothGrad steps), elapsed time
// and an estimate of the time left. On a terminal it redraws one line; in
// a log it prints a line per image.
type progress struct {
	w          io.Writer
	tty        bool
	total, n   int
	file, what string
	begun      time.Time
	last       time.Time
}

func newProgress(w io.Writer, total int) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progress{w: w, tty: tty, total: total, begun: time.Now()}
}

func (p *progress) start(i int, file string) {
	p.n, p.file, p.what = i, file, ""
	if !p.tty {
		fmt.Fprintf(p.w, "explain: [%d/%d] %s (elapsed %s%s)\n", i+1, p.total, file, fmtDuration(time.Since(p.begun)), p.eta())
		return
	}
	p.draw()
}

func (p *progress) method(m string) {
	p.what = m
	if p.tty {
		p.draw()
	}
}

// steps is the Progress hook of long methods.
func (p *progress) steps(done, total int) {
	if !p.tty || time.Since(p.last) < 100*time.Millisecond && done < total {
		return
	}
	p.what = fmt.Sprintf("%s %d/%d", strings.Fields(p.what + " ")[0], done, total)
	p.draw()
}

func (p *progress) eta() string {
	if p.n == 0 {
		return ""
	}
	per := time.Since(p.begun) / time.Duration(p.n)
	return ", about " + fmtDuration(per*time.Duration(p.total-p.n)) + " left"
}

func (p *progress) draw() {
	p.last = time.Now()
	const width = 24
	fill := width * p.n / max(p.total, 1)
	bar := strings.Repeat("=", fill) + strings.Repeat(" ", width-fill)
	line := fmt.Sprintf("[%s] %d/%d %s %s  %s%s", bar, p.n, p.total, p.file, p.what, fmtDuration(time.Since(p.begun)), p.eta())
	fmt.Fprintf(p.w, "\r%-100s", line)
}

func (p *progress) clear() {
	if p.tty {
		fmt.Fprintf(p.w, "\r%100s\r", "")
	}
}

func (p *progress) done() {
	if p.tty {
		p.n = p.total
		p.draw()
		fmt.Fprintln(p.w)
	}
}

package main

// The -evaluate results log, OUT/evaluate.jsonl (issue 15): one JSON
// object per line. The first line is the header, everything the results
// depend on (the model file's SHA-256, the methods and their options, the
// metric settings, the shard); then a "run" line each time the command
// starts, and one "image" line per image evaluated (or a "failed" line
// per image that could not be), appended as each image finishes.
//
// Why one appended file rather than a file per image: a shard's results
// are one file to copy between machines and explain -merge opens one file
// per shard, not one per image (10,000 for Tiny ImageNet's validation
// split), and an append plus fsync per image costs nothing next to the
// seconds an image takes. Each line goes to the kernel in one write(2) of
// the whole line and its newline, then fsync(2), so a killed process
// leaves either the whole line or none of it; a machine that loses power
// mid-write can leave a torn last line (or zeros after the last newline).
// Reading the log treats whatever follows the last line that parses as
// torn: a rerun truncates it, says so, and evaluates that image again. A
// line that does not parse before a good one is damage the command did
// not cause, and is refused with its line number.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/mavis-xai/mavis/internal/atomicfile"
	"github.com/mavis-xai/mavis/xai"
)

const (
	logName   = "evaluate.jsonl"
	logFormat = "mavis-explain-evaluate/1"
)

// evalHeader is the log's first line.
type evalHeader struct {
	Format string `json:"format"`
	// Model and Dir are -model and -evaluate as given, for the report.
	Model string `json:"model"`
	Dir   string `json:"dir"`
	// DirAbs is Dir made absolute: a rerun must name the same folder
	// (explain -merge does not compare it: machines mount data apart).
	DirAbs string    `json:"dir_abs"`
	Shard  shardSpec `json:"shard"`
	// Classes are the model's class names (index order), for the report.
	Classes  []string     `json:"classes,omitempty"`
	Settings evalSettings `json:"settings"`
}

// evalSettings is what every result in a log depends on: a rerun into
// the same -out, or a shard merged with others, must have the same.
// -eval-limit, -j and the shard are not here (they choose images, not
// results), nor is -eval-batch, which does not change a number
// (TestEvaluateBatchInvariant); -ig-batch is, as it changes the float32
// rounding of the methods that run in batches.
type evalSettings struct {
	ModelSHA256 string                `json:"model_sha256"`
	Methods     []string              `json:"methods"`
	Options     map[string]xai.Values `json:"options"`
	// Baselines maps a method to the SHA-256 of its baseline image file
	// (-<method>-baseline FILE).
	Baselines  map[string]string `json:"baselines,omitempty"`
	Target     string            `json:"target"`
	Class      int               `json:"class"` // -1: each image's predicted class
	Layer      string            `json:"layer"`
	Seed       uint64            `json:"seed"`
	Batch      int               `json:"ig_batch"`
	Steps      int               `json:"steps"`
	Patch      int               `json:"patch"`
	Reference  string            `json:"reference"`
	BlurSigma  float64           `json:"blur_sigma"`
	Keep       []float64         `json:"keep"`
	KeepFill   string            `json:"keep_fill"`   // black or blur (-eval-keep-fill)
	CurveScore string            `json:"curve_score"` // probability or logit (-eval-logit)
	Tolerance  int               `json:"pointing_tolerance"`
	Sanity     int               `json:"sanity"` // the first N images of the folder
	// Decoding is imagefile.Decoding: a newer explain may decode a file
	// into other pixels.
	Decoding string `json:"image_decoding"`
}

// settingFlags names the flag behind each setting, for the message that
// refuses a changed configuration.
var settingFlags = map[string]string{
	"model_sha256": "the model file's contents (-model)", "methods": "-methods",
	"options": "the methods' options (-<method>-<param>)", "baselines": "a baseline image (-<method>-baseline)",
	"target": "-target", "class": "-class", "layer": "-layer", "seed": "-seed", "ig_batch": "-ig-batch", "steps": "-eval-steps",
	"patch": "-eval-patch", "reference": "-eval-reference", "blur_sigma": "the blur's sigma",
	"keep": "the kept fractions", "keep_fill": "-eval-keep-fill", "curve_score": "-eval-logit", "pointing_tolerance": "-eval-tolerance",
	"sanity": "-eval-sanity", "image_decoding": "how images are decoded (explain's version)",
}

// runInfo is a "run" line: one start of the command on this log.
type runInfo struct {
	Started  string `json:"started"` // RFC 3339
	Host     string `json:"host,omitempty"`
	Listed   int    `json:"listed"`          // images in the folder
	Limit    int    `json:"limit,omitempty"` // -eval-limit
	Selected int    `json:"selected"`        // after -eval-limit and the shard
	Done     int    `json:"done"`            // of those, already in the log
	Jobs     int    `json:"jobs"`
}

// logLine is one line of the log; exactly one field is set.
type logLine struct {
	Header *evalHeader   `json:"header,omitempty"`
	Run    *runInfo      `json:"run,omitempty"`
	Image  *evalRecord   `json:"image,omitempty"`
	Failed *skippedImage `json:"failed,omitempty"`
}

// logContents is what a log holds: the header, the runs, and per image
// key the record or, for an image that failed every time, the last
// failure.
type logContents struct {
	Header  evalHeader
	Runs    []runInfo
	Records map[string]*evalRecord
	Failed  map[string]*skippedImage
}

// tornLog describes what readLog dropped from the end of a log.
type tornLog struct {
	offset int64 // where the good lines end
	bytes  int64 // what follows
}

// readLog reads the log at path. Whatever follows the last line that
// parses (a torn write) is reported in torn, not as an error.
func readLog(path string) (*logContents, *tornLog, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	lc := &logContents{Records: map[string]*evalRecord{}, Failed: map[string]*skippedImage{}}
	r := bufio.NewReaderSize(f, 1<<20)
	var offset int64 // after the last good line
	var badLine int  // the first line that did not parse, 0 if none
	var badErr error // why
	var badAt int64  // where it starts
	var n int        // lines read
	for {
		line, rerr := r.ReadBytes('\n')
		if len(line) == 0 && rerr == io.EOF {
			break
		}
		if rerr != nil && rerr != io.EOF {
			return nil, nil, fmt.Errorf("%s: %v", path, rerr)
		}
		n++
		var l logLine
		err := errors.New("no newline at its end")
		if rerr == nil {
			err = decodeLine(line, &l, n)
		}
		if err != nil {
			if badLine == 0 {
				badLine, badErr, badAt = n, err, offset
			}
			offset += int64(len(line))
			continue
		}
		if badLine != 0 {
			return nil, nil, fmt.Errorf("%s:%d: %v, yet line %d after it is good: the file was damaged or edited; remove or fix line %d, or start over with -eval-restart",
				path, badLine, badErr, n, badLine)
		}
		offset += int64(len(line))
		switch {
		case l.Header != nil:
			lc.Header = *l.Header
		case l.Run != nil:
			lc.Runs = append(lc.Runs, *l.Run)
		case l.Image != nil:
			lc.Records[l.Image.Image] = l.Image
			delete(lc.Failed, l.Image.Image)
		case l.Failed != nil:
			if lc.Records[l.Failed.Image] == nil {
				lc.Failed[l.Failed.Image] = l.Failed
			}
		}
	}
	if n == 0 || badLine == 1 {
		return nil, nil, fmt.Errorf("%s has no header line: it is not an explain -evaluate results log (or it was cut short while being created); start over with -eval-restart or give another -out", path)
	}
	var torn *tornLog
	if badLine != 0 {
		torn = &tornLog{offset: badAt, bytes: offset - badAt}
	}
	return lc, torn, nil
}

// decodeLine parses line n of a log.
func decodeLine(line []byte, l *logLine, n int) error {
	if err := json.Unmarshal(line, l); err != nil {
		return err
	}
	set := 0
	for _, p := range []bool{l.Header != nil, l.Run != nil, l.Image != nil, l.Failed != nil} {
		if p {
			set++
		}
	}
	switch {
	case set != 1:
		return fmt.Errorf("not a header, run, image or failed line")
	case (n == 1) != (l.Header != nil):
		return fmt.Errorf("the header belongs on the first line only")
	case l.Header != nil && l.Header.Format != logFormat:
		return fmt.Errorf("format %q, want %q", l.Header.Format, logFormat)
	case l.Image != nil && l.Image.Image == "", l.Failed != nil && l.Failed.Image == "":
		return fmt.Errorf("an image line without its image")
	}
	return nil
}

// evalLog is a log open for appending.
type evalLog struct {
	path   string
	f      *os.File
	unlock func()
	*logContents
}

// openLog opens OUT/evaluate.jsonl for h: a new log when there is none
// (or restart), else the existing one, which must hold results of the
// same configuration. A torn last line is cut off, with a note on
// notes.
func openLog(out string, h evalHeader, restart bool, notes io.Writer) (*evalLog, error) {
	path := filepath.Join(out, logName)
	_, err := os.Stat(path)
	switch {
	case err == nil && !restart:
		return resumeLog(path, h, notes)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, err
	case err == nil: // -eval-restart: not while another process writes it
		old, err := appendLog(path)
		if err != nil {
			return nil, err
		}
		defer old.close()
	}
	data, err := json.Marshal(logLine{Header: &h})
	if err != nil {
		return nil, err
	}
	// The header is written whole or not at all: a new file renamed
	// into place.
	if err := atomicfile.Write(path, append(data, '\n')); err != nil {
		return nil, err
	}
	lg, err := appendLog(path)
	if err != nil {
		return nil, err
	}
	lg.logContents = &logContents{Header: h, Records: map[string]*evalRecord{}, Failed: map[string]*skippedImage{}}
	return lg, nil
}

// resumeLog opens an existing log for h.
func resumeLog(path string, h evalHeader, notes io.Writer) (*evalLog, error) {
	lg, err := appendLog(path)
	if err != nil {
		return nil, err
	}
	lc, torn, err := readLog(path)
	if err != nil {
		lg.close()
		return nil, err
	}
	if changed := h.changes(lc.Header); len(changed) > 0 {
		lg.close()
		return nil, &changedError{fmt.Sprintf("%s holds results of another configuration:\n  %s\nGive another -out to keep both, or -eval-restart to discard these results and start over",
			path, strings.Join(changed, "\n  "))}
	}
	if torn != nil {
		if err := lg.f.Truncate(torn.offset); err != nil {
			lg.close()
			return nil, fmt.Errorf("%s: cutting off a torn last line: %v", path, err)
		}
		if err := lg.f.Sync(); err != nil {
			lg.close()
			return nil, err
		}
		fmt.Fprintf(notes, "explain: %s: dropped %d bytes after the last complete line (a write cut short, probably by a crash); the image it held is evaluated again\n", path, torn.bytes)
	}
	lg.logContents = lc
	return lg, nil
}

// changedError refuses to mix results of two configurations in one log.
type changedError struct{ msg string }

func (e *changedError) Error() string { return e.msg }

// appendLog opens path for appending and locks it against a second
// writer (another shard given the same -out).
func appendLog(path string) (*evalLog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	unlock, err := lockFile(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s is being written by another explain -evaluate (%v): give every process, such as every shard, its own -out", path, err)
	}
	return &evalLog{path: path, f: f, unlock: unlock}, nil
}

// append writes one line and syncs it to the disk.
func (lg *evalLog) append(l logLine) error {
	data, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("%s: %v", lg.path, err)
	}
	if bytes.IndexByte(data, '\n') >= 0 { // encoding/json escapes newlines; a line is a line
		return fmt.Errorf("%s: a record with a raw newline", lg.path)
	}
	if _, err := lg.f.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("%s: %v", lg.path, err)
	}
	if err := lg.f.Sync(); err != nil {
		return fmt.Errorf("%s: %v", lg.path, err)
	}
	switch {
	case l.Image != nil:
		lg.Records[l.Image.Image] = l.Image
		delete(lg.Failed, l.Image.Image)
	case l.Failed != nil:
		lg.Failed[l.Failed.Image] = l.Failed
	case l.Run != nil:
		lg.Runs = append(lg.Runs, *l.Run)
	}
	return nil
}

func (lg *evalLog) close() error {
	lg.unlock()
	return lg.f.Close()
}

// changes lists, in words, how h differs from the header old of an
// existing log (nothing when the results can be mixed).
func (h evalHeader) changes(old evalHeader) []string {
	var out []string
	if h.DirAbs != old.DirAbs {
		out = append(out, fmt.Sprintf("the folder (-evaluate) was %s, now %s", old.DirAbs, h.DirAbs))
	}
	if h.Shard != old.Shard {
		out = append(out, fmt.Sprintf("the shard was %s, now %s", old.Shard, h.Shard))
	}
	return append(out, settingsChanges(old.Settings, h.Settings)...)
}

// settingsChanges lists the settings that differ between a and b, each
// with its flag and the values before and after.
func settingsChanges(a, b evalSettings) []string {
	fa, fb := flatten(a), flatten(b)
	var keys []string
	for k := range fa {
		keys = append(keys, k)
	}
	for k := range fb {
		if _, ok := fa[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []string
	for _, k := range keys {
		va, oka := fa[k]
		vb, okb := fb[k]
		if oka && okb && reflect.DeepEqual(va, vb) {
			continue
		}
		top, rest, _ := strings.Cut(k, ".")
		// A method added or dropped is said once, by -methods, not again
		// by each of its options.
		if m, _, _ := strings.Cut(rest, "."); (top == "options" || top == "baselines") && !(slices.Contains(a.Methods, m) && slices.Contains(b.Methods, m)) {
			continue
		}
		show := func(v any, ok bool) string {
			if !ok {
				return "unset"
			}
			s, _ := json.Marshal(v)
			if len(s) > 20 && top == "model_sha256" {
				return string(s[1:13]) + "…"
			}
			if v == "" && top == "image_decoding" {
				return "an older explain's"
			}
			return string(s)
		}
		out = append(out, fmt.Sprintf("%s: %s was %s, now %s", settingFlags[top], k, show(va, oka), show(vb, okb)))
	}
	return out
}

// flatten turns settings into dotted paths and JSON values
// (options.ig.steps: 50), so that two settings compare as their JSON
// does, whatever Go types produced it.
func flatten(s evalSettings) map[string]any {
	data, err := json.Marshal(s)
	if err != nil {
		panic(err) // plain data
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		panic(err)
	}
	out := map[string]any{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if m, ok := v.(map[string]any); ok && len(m) > 0 {
			for k, x := range m {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, x)
			}
			return
		}
		out[prefix] = v
	}
	walk("", v)
	return out
}

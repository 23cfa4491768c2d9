package browsertest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/mavis-xai/mavis/internal/sharedtest"
	"github.com/mavis-xai/mavis/weightsconv/keras"
)

// convertPage is a bare page (not index.html) that loads www/convert.js and
// www/sniff.js as the page will, converts every job of
// converttest/jobs.json in the browser (the converter's own worker and
// convert.wasm) and leaves the SHA-256 of each file in
// window.convertResults.
const convertPage = `<!doctype html>
<meta charset="utf-8">
<title>convert.js test</title>
<script type="module" src="converttest.js"></script>
`

const convertScript = `import * as converter from './convert.js';
import { sniffFile } from './sniff.js';

const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
const jobs = await (await fetch('converttest/jobs.json')).json();
const results = [];
const t0 = performance.now();
for (const job of jobs) {
  const blob = await (await fetch('converttest/' + job.file)).blob();
  const file = new File([blob], job.name);
  const r = { sniffed: (await sniffFile(file)).kind };
  try {
    const { file: bytes, info } = await converter.convert(file, job.options);
    r.sha256 = hex(await crypto.subtle.digest('SHA-256', bytes));
    r.length = bytes.length;
    r.fileName = info.fileName;
    r.fits = (await converter.inspect(file)).fits;
  } catch (e) {
    r.error = e.message;
  }
  results.push(r);
}
window.convertResults = { results, ms: Math.round(performance.now() - t0), architectures: await converter.architectures() };
`

type convertJob struct {
	File    string            `json:"file"` // under converttest/
	Name    string            `json:"name"` // the File's name
	Options map[string]string `json:"options"`
	in      []byte
	o       keras.Options
}

// TestConvertInBrowser converts the Keras test files (a .keras, a Keras 2
// .h5 model, a Keras 3 .weights.h5 with a pasted spec) and the original
// MAVIS .weights.h5 (-arch mavis) with convert.js in Chromium, and checks
// that each file equals keras.Convert's for the same inputs byte for byte
// (weightsconv writes keras.Convert's bytes: weightsconv's
// TestCommandWritesConvert), that sniff.js routes them, and that a
// weights-only file without an architecture is refused with what to give.
func TestConvertInBrowser(t *testing.T) {
	base := site(t)
	testdata := filepath.Join(repoRoot(), "weightsconv", "keras", "testdata")
	read := func(path string) []byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tinyKeras := read(filepath.Join(testdata, "tiny.keras"))
	c, err := keras.Convert(bytes.NewReader(tinyKeras), int64(len(tinyKeras)), keras.Options{})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := json.Marshal(c.Model.Spec)
	if err != nil {
		t.Fatal(err)
	}
	jobs := []convertJob{
		{File: "tiny.keras", Name: "tiny.keras", in: tinyKeras, o: keras.Options{Source: "tiny.keras"}},
		{File: "tiny_keras2_model.h5", Name: "my model.h5", Options: map[string]string{"classes": "cat\ndog\ngoose\n", "scale": "0..1"},
			in: read(filepath.Join(testdata, "tiny_keras2_model.h5")),
			o:  keras.Options{Source: "my model.h5", Scale: "0..1"}},
		{File: "tiny.weights.h5", Name: "tiny.weights.h5", Options: map[string]string{"spec": string(spec)},
			in: read(filepath.Join(testdata, "tiny.weights.h5")), o: keras.Options{Source: "tiny.weights.h5", Spec: spec}},
		{File: "tiny.weights.h5", Name: "tiny.weights.h5", in: read(filepath.Join(testdata, "tiny.weights.h5"))}, // no architecture
	}
	jobs[1].o.Classes, _ = keras.ParseClasses(strings.NewReader(jobs[1].Options["classes"]), "")
	mavis := false
	if root, err := sharedtest.Root(); err == nil {
		if b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(sharedtest.Weights))); err == nil {
			mavis = true
			name := filepath.Base(sharedtest.Weights)
			jobs = append(jobs, convertJob{File: name, Name: name, Options: map[string]string{"arch": "mavis"}, in: b, o: keras.Options{Source: name, Arch: "mavis"}})
		}
	}
	if !mavis {
		if os.Getenv("CI") == "true" {
			t.Fatal("the MAVIS weights (../shared) are missing (CI=true)")
		}
		t.Log("../shared's MAVIS weights are missing: converting the tiny test files only")
	}

	dir := filepath.Join(siteDir, "www", "converttest")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if err := os.WriteFile(filepath.Join(dir, j.File), j.in, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	jb, _ := json.Marshal(jobs)
	for name, data := range map[string][]byte{
		"converttest/jobs.json": jb, "converttest.html": []byte(convertPage), "converttest.js": []byte(convertScript),
	} {
		if err := os.WriteFile(filepath.Join(siteDir, "www", filepath.FromSlash(name)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	ctx, cancel := browser(t, 3*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"converttest.html")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(ctx, "!!window.convertResults"); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Results []struct {
			Sniffed  string   `json:"sniffed"`
			SHA256   string   `json:"sha256"`
			Length   int      `json:"length"`
			FileName string   `json:"fileName"`
			Fits     []string `json:"fits"`
			Error    string   `json:"error"`
		} `json:"results"`
		MS            int `json:"ms"`
		Architectures []struct {
			Name string `json:"name"`
		} `json:"architectures"`
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(window.convertResults)`))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Results) != len(jobs) {
		t.Fatalf("%d results for %d jobs: %s", len(got.Results), len(jobs), raw)
	}
	for i, j := range jobs {
		r := got.Results[i]
		wantKind := "hdf5"
		if strings.HasSuffix(j.File, ".keras") {
			wantKind = "zip"
		}
		if r.Sniffed != wantKind {
			t.Errorf("%s: sniff.js says %q, want %q", j.File, r.Sniffed, wantKind)
		}
		if j.o.Source == "" { // the refused job
			if !strings.HasPrefix(r.Error, "keras: the file holds weights only (Keras 3 .weights.h5): give its architecture, a built-in (fashion, mavis) or an nn spec JSON") {
				t.Errorf("%s without an architecture: %q", j.File, r.Error)
			}
			continue
		}
		want, err := keras.Convert(bytes.NewReader(j.in), int64(len(j.in)), j.o)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(want.File)
		if r.Error != "" || r.SHA256 != hex.EncodeToString(sum[:]) || r.Length != len(want.File) {
			t.Errorf("%s %v: the browser's file (%d bytes, sha256 %s, error %q) differs from the native conversion (%d bytes, sha256 %x)",
				j.File, j.Options, r.Length, r.SHA256, r.Error, len(want.File), sum)
		} else {
			var opts []string
			for k := range j.Options {
				opts = append(opts, k)
			}
			slices.Sort(opts)
			t.Logf("%s (options: %s): %d bytes, sha256 %.16s..., equal to the native conversion", j.Name, strings.Join(opts, ", "), r.Length, r.SHA256)
		}
		if wantName := keras.OutputName(j.Name); r.FileName != wantName {
			t.Errorf("%s: fileName %q, want %q", j.File, r.FileName, wantName)
		}
		if j.o.Arch == "mavis" && (len(r.Fits) != 1 || r.Fits[0] != "mavis") {
			t.Errorf("%s: fits %v, want [mavis]", j.File, r.Fits)
		}
	}
	if len(got.Architectures) != 2 {
		t.Errorf("architectures: %+v", got.Architectures)
	}
	t.Logf("%d conversions in the browser in %d ms (convert.wasm loaded on the first)", len(jobs), got.MS)
}

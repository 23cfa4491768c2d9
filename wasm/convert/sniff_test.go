//go:build !(js && wasm)

package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mavis-xai/mavis/nn"
)

// TestSniffJS holds the page's www/sniff.js to Go's nn.Sniff: the same kind
// and format for every file of the repository's test data, files the
// standard library's encoders write, and thousands of seeded mutations of
// their first bytes (signature bytes changed, cut, header lengths and
// sizes at the boundaries).
func TestSniffJS(t *testing.T) {
	node := needNode(t)
	var seeds [][]byte
	for _, pattern := range []string{
		"../../weightsconv/keras/testdata/*", "../../weightsconv/hdf5/testdata/*.h5", "../../nn/testdata/*",
		"../../www/*.svg", "../../www/*.json", "../../www/samples/*", "../../go.mod",
	} {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				continue // a folder
			}
			seeds = append(seeds, b)
		}
	}
	img := image.NewRGBA(image.Rect(0, 0, 5, 3))
	for _, enc := range []func(*bytes.Buffer) error{
		func(w *bytes.Buffer) error { return png.Encode(w, img) },
		func(w *bytes.Buffer) error { return jpeg.Encode(w, img, nil) },
		func(w *bytes.Buffer) error { return gif.Encode(w, img, nil) },
	} {
		var b bytes.Buffer
		if err := enc(&b); err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b.Bytes())
	}
	m, err := nn.BuildBuiltin("fashion")
	if err != nil {
		t.Fatal(err)
	}
	var st bytes.Buffer
	if err := nn.Encode(&st, m); err != nil {
		t.Fatal(err)
	}
	seeds = append(seeds, st.Bytes(),
		append([]byte("BM\x3e\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00"), make([]byte, 48)...),
		append([]byte("RIFF\x24\x00\x00\x00WEBPVP8 "), make([]byte, 20)...),
		append(make([]byte, 1024), "\x89HDF\r\n\x1a\n"...),
		append(make([]byte, 2048), "\x89HDF\r\n\x1a\n"...),
		append(make([]byte, 2049), "\x89HDF\r\n\x1a\n"...),
		// ISO media files: an iPhone's HEIC photo, an AVIF, an MP4.
		[]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic\x00\x00\x00\x22meta"),
		[]byte("\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf\x00\x00\x00\x22meta"),
		[]byte("\x00\x00\x00\x1cftypisom\x00\x00\x02\x00isomiso2mp41\x00\x00\x00\x08free"),
	)
	kinds := map[nn.FileKind]bool{}
	for _, s := range seeds {
		k, _ := nn.Sniff(s, int64(len(s)))
		kinds[k] = true
	}
	for k := nn.FileUnknown; k <= nn.FileZip; k++ {
		if !kinds[k] {
			t.Fatalf("no seed of kind %v", k)
		}
	}

	type sniffCase struct {
		Head string `json:"head"`
		Size int64  `json:"size"`
		data []byte
	}
	var cases []sniffCase
	add := func(head []byte, size int64) {
		cases = append(cases, sniffCase{Head: base64.StdEncoding.EncodeToString(head), Size: size, data: head})
	}
	rng := rand.New(rand.NewPCG(12, 1))
	sigBytes := []byte("\x89PNGHDF\r\n\x1a\xff\xd8GIF879aRIFWEBPK\x03\x04BM{\x00ftypheicavisx")
	for _, s := range seeds {
		head := s[:min(len(s), nn.SniffLen+16)]
		n := int64(len(s))
		add(head, n)
		for range 150 {
			h := bytes.Clone(head[:min(len(head), 2+rng.IntN(nn.SniffLen+8))])
			for range 1 + rng.IntN(3) {
				if len(h) == 0 {
					break
				}
				i := rng.IntN(min(len(h), 16))
				if rng.IntN(4) == 0 {
					i = rng.IntN(len(h))
				}
				if rng.IntN(2) == 0 {
					h[i] = sigBytes[rng.IntN(len(sigBytes))]
				} else {
					h[i] = byte(rng.Uint32())
				}
			}
			if rng.IntN(5) == 0 && len(h) >= 9 {
				// A header length near the size, or near the cap.
				var hl uint64
				switch rng.IntN(4) {
				case 0:
					hl = uint64(max(0, n-8))
				case 1:
					hl = uint64(max(0, n-7))
				case 2:
					hl = 100<<20 + uint64(rng.IntN(3)) - 1
				default:
					hl = rng.Uint64()
				}
				binary.LittleEndian.PutUint64(h, hl)
				h[8] = '{'
			}
			size := n
			switch rng.IntN(6) {
			case 0:
				size = int64(len(h))
			case 1:
				size = int64(rng.IntN(20)) - 2
			case 2:
				size = 200 << 20
			}
			add(h, size)
		}
	}
	dir := t.TempDir()
	b, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	casesFile := filepath.Join(dir, "cases.json")
	os.WriteFile(casesFile, b, 0o644)
	// node treats a .js file outside an ES module package as CommonJS: give
	// it sniff.js as .mjs.
	src, err := os.ReadFile("../../www/sniff.js")
	if err != nil {
		t.Fatal(err)
	}
	mjs := filepath.Join(dir, "sniff.mjs")
	os.WriteFile(mjs, src, 0o644)
	out, err := exec.Command(node, filepath.Join("testdata", "node_sniff.mjs"), mjs, casesFile).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var got struct {
		SniffLen int `json:"sniffLen"`
		Answers  []struct {
			Kind   string `json:"kind"`
			Format string `json:"format"`
		} `json:"answers"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if got.SniffLen != nn.SniffLen || len(got.Answers) != len(cases) {
		t.Fatalf("SNIFF_LEN %d (want %d), %d answers for %d cases", got.SniffLen, nn.SniffLen, len(got.Answers), len(cases))
	}
	counts, formats := map[string]int{}, map[string]int{}
	bad := 0
	for i, c := range cases {
		kind, format := nn.Sniff(c.data, c.Size)
		a := got.Answers[i]
		counts[kind.String()]++
		formats[format]++
		if a.Kind != kind.String() || a.Format != format {
			if bad++; bad <= 10 {
				t.Errorf("head %x... (%d bytes), size %d: sniff.js %s %q, nn.Sniff %s %q",
					c.data[:min(len(c.data), 16)], len(c.data), c.Size, a.Kind, a.Format, kind, format)
			}
		}
	}
	if formats["HEIF"] == 0 || formats["AVIF"] == 0 {
		t.Errorf("no case nn.Sniff names HEIF or AVIF (formats: %v)", formats)
	}
	t.Logf("%d cases, %d disagreements; nn.Sniff's kinds: %v, formats: %v", len(cases), bad, counts, formats)
}

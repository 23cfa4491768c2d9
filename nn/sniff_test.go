package nn

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sniffCase is a file and what it is. The same table, written out by
// TestSniffCases, holds the page's sniff.js to the same answers
// (wasm/convert's TestSniffJS).
type sniffCase struct {
	name   string
	data   []byte
	kind   FileKind
	format string
}

// sniffCases are real files of every kind (the repository's HDF5 and
// Keras test files, and files the standard library's encoders write) and
// near misses.
func sniffCases(t testing.TB) []sniffCase {
	read := func(path string) []byte {
		b, err := os.ReadFile(filepath.FromSlash(path))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	var pn, jpg, gf, zp bytes.Buffer
	if err := png.Encode(&pn, img); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&jpg, img, nil); err != nil {
		t.Fatal(err)
	}
	if err := gif.Encode(&gf, img, nil); err != nil {
		t.Fatal(err)
	}
	z := zip.NewWriter(&zp)
	w, _ := z.Create("notes.txt")
	w.Write([]byte("not a model"))
	z.Close()
	var st bytes.Buffer
	if err := Encode(&st, tinyModel(t)); err != nil {
		t.Fatal(err)
	}
	// A 2x1 24-bit BMP: 14-byte file header, 40-byte info header, one
	// padded row.
	bmp := []byte("BM")
	bmp = binary.LittleEndian.AppendUint32(bmp, 62)
	bmp = binary.LittleEndian.AppendUint32(bmp, 0)  // reserved
	bmp = binary.LittleEndian.AppendUint32(bmp, 54) // pixel offset
	bmp = binary.LittleEndian.AppendUint32(bmp, 40)
	bmp = binary.LittleEndian.AppendUint32(bmp, 2)
	bmp = binary.LittleEndian.AppendUint32(bmp, 1)
	bmp = append(bmp, 1, 0, 24, 0)
	bmp = append(bmp, make([]byte, 24+8)...)
	// A safetensors header of 19778 bytes: its length spells "BM".
	bmST := binary.LittleEndian.AppendUint64(nil, 0x4d42)
	bmST = append(bmST, '{')
	bmST = append(bmST, bytes.Repeat([]byte(" "), 0x4d42-1)...)
	// The user-block file puts the HDF5 signature at 512.
	userblock := read("../weightsconv/hdf5/testdata/userblock.h5")
	late := append(make([]byte, 4096), sigHDF5...) // past SniffLen: not looked for
	// ISO media files: an ftyp box (size, "ftyp", major brand, minor
	// version, compatible brands), then the rest. An iPhone's HEIC photo
	// and an AVIF begin so; an MP4 video has another brand.
	iso := func(brands string) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(8+len(brands)+4))
		b = append(b, "ftyp"...)
		b = append(b, brands[:4]...)
		b = append(b, 0, 0, 0, 0)
		b = append(b, brands[4:]...)
		return append(b, "\x00\x00\x00\x22meta"...)
	}

	return []sniffCase{
		{"png", pn.Bytes(), FileImage, "PNG"},
		{"webp", read("testdata/gopher-doc.1bpp.lossless.webp"), FileImage, "WebP"},
		{"jpeg", jpg.Bytes(), FileImage, "JPEG"},
		{"gif", gf.Bytes(), FileImage, "GIF"},
		{"bmp", bmp, FileImage, "BMP"},
		{"safetensors", st.Bytes(), FileSafetensors, "safetensors"},
		{"safetensors spelling BM", bmST, FileSafetensors, "safetensors"},
		{"keras 3 weights", read("../weightsconv/keras/testdata/tiny.weights.h5"), FileHDF5, "HDF5"},
		{"keras 2 model", read("../weightsconv/keras/testdata/tiny_keras2_model.h5"), FileHDF5, "HDF5"},
		{"hdf5 after user block", userblock, FileHDF5, "HDF5"},
		{"keras archive", read("../weightsconv/keras/testdata/tiny.keras"), FileZip, "zip"},
		{"other zip", zp.Bytes(), FileZip, "zip"},
		{"empty", nil, FileUnknown, ""},
		{"text", []byte("goldfish\ngoose\n"), FileUnknown, ""},
		{"json spec", []byte(`{"name": "tiny", "input": [4, 4, 1]}`), FileUnknown, ""},
		{"png signature cut", sigPNG[:7], FileUnknown, ""},
		{"jpeg two bytes", []byte{0xff, 0xd8}, FileUnknown, ""},
		{"riff not webp", []byte("RIFF\x10\x00\x00\x00WAVEfmt "), FileUnknown, ""},
		{"gif87 prefix only", []byte("GIF8"), FileUnknown, ""},
		{"BM with reserved bytes", []byte("BM\x3e\x00\x00\x00\x01\x00\x00\x00\x36\x00\x00\x00"), FileUnknown, ""},
		{"huge header length", append(binary.LittleEndian.AppendUint64(nil, 1<<62), "{}"...), FileUnknown, ""},
		{"header longer than file", append(binary.LittleEndian.AppendUint64(nil, 1000), `{"a":1}`...), FileUnknown, ""},
		{"header length 1", append(binary.LittleEndian.AppendUint64(nil, 1), `{`...), FileUnknown, ""},
		{"hdf5 signature at 4096", late, FileUnknown, ""},
		{"hdf5 signature at 100", append(make([]byte, 100), sigHDF5...), FileUnknown, ""},
		{"heic", iso("heicmif1heic"), FileUnknown, "HEIF"},
		{"heif", iso("mif1mif1"), FileUnknown, "HEIF"},
		{"avif", iso("avifavifmif1miaf"), FileUnknown, "AVIF"},
		{"mp4", iso("isomisomiso2mp41"), FileUnknown, ""},
		{"ftyp cut", iso("heic")[:11], FileUnknown, ""},
	}
}

func TestSniff(t *testing.T) {
	for _, tt := range sniffCases(t) {
		kind, format := Sniff(tt.data, int64(len(tt.data)))
		if kind != tt.kind || format != tt.format {
			t.Errorf("%s: got %v %q, want %v %q", tt.name, kind, format, tt.kind, tt.format)
		}
		// The first SniffLen bytes decide.
		head := tt.data[:min(len(tt.data), SniffLen)]
		if k, f := Sniff(head, int64(len(tt.data))); k != kind || f != format {
			t.Errorf("%s: the first %d bytes give %v %q, the whole file %v %q", tt.name, len(head), k, f, kind, format)
		}
	}
}

// TestSniffSize: a header length is judged against the size given, and
// bytes past it are not looked at.
func TestSniffSize(t *testing.T) {
	st := append(binary.LittleEndian.AppendUint64(nil, 8), `{"a":1} `...)
	for _, tt := range []struct {
		size int64
		want FileKind
	}{
		{16, FileSafetensors},
		{1 << 20, FileSafetensors},
		{15, FileUnknown}, // 8+8 bytes do not fit
		{8, FileUnknown},
		{0, FileUnknown},
		{-1, FileUnknown},
	} {
		if got, _ := Sniff(st, tt.size); got != tt.want {
			t.Errorf("size %d: got %v, want %v", tt.size, got, tt.want)
		}
	}
	if got, _ := Sniff(sigPNG, 4); got != FileUnknown {
		t.Errorf("a PNG signature past a 4-byte size: got %v, want unknown", got)
	}
}

func TestSniffAllocs(t *testing.T) {
	cases := sniffCases(t)
	if n := testing.AllocsPerRun(10, func() {
		for _, tt := range cases {
			Sniff(tt.data, int64(len(tt.data)))
		}
	}); n != 0 {
		t.Errorf("Sniff allocates %v times per run of the table, want 0", n)
	}
}

// TestDecodeSaysWhatAFileIs: a Keras file or an image given as a model is
// named, with what to do, instead of the header length its first bytes
// spell (issue 12: "header length 727905341903489161 over the
// 104857600-byte limit" for a Keras .weights.h5).
func TestDecodeSaysWhatAFileIs(t *testing.T) {
	byName := map[string]sniffCase{}
	for _, c := range sniffCases(t) {
		byName[c.name] = c
	}
	for _, tt := range []struct {
		file string
		want []string
	}{
		{"keras 3 weights", []string{"nn: weights: this is an HDF5 file (a Keras .h5 or .weights.h5 model?)", "convert it with weightsconv", "-arch", "open it in the page"}},
		{"keras 2 model", []string{"this is an HDF5 file"}},
		{"hdf5 after user block", []string{"this is an HDF5 file"}},
		{"keras archive", []string{"nn: weights: this is a zip archive (a Keras .keras model?)", "weightsconv FILE -o model.safetensors"}},
		{"png", []string{"nn: weights: this is a PNG image, not a model file"}},
		{"jpeg", []string{"this is a JPEG image"}},
		{"bmp", []string{"this is a BMP image"}},
		{"heic", []string{"nn: weights: this is a HEIF picture, not a model file"}},
		// Unknown files keep the container's own errors.
		{"huge header length", []string{"header length 4611686018427387904 over the 104857600-byte limit"}},
		{"text", []string{"header length"}},
	} {
		data := byName[tt.file].data
		m, err := Decode(data)
		if err == nil || m != nil {
			t.Errorf("%s: got model %v, error %v", tt.file, m != nil, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", tt.file, err, w)
			}
		}
		if _, err := Metadata(data); err == nil {
			t.Errorf("%s: Metadata succeeded", tt.file)
		}
	}
	// The bytes of the issue: the HDF5 signature read as a header length.
	sig := append(append([]byte{}, sigHDF5...), make([]byte, 64)...)
	if n := binary.LittleEndian.Uint64(sig); n != 727905341903489161 {
		t.Fatalf("the HDF5 signature reads as %d", n)
	}
	if _, err := Decode(sig); err == nil || strings.Contains(err.Error(), "727905341903489161") || !strings.Contains(err.Error(), "HDF5") {
		t.Errorf("HDF5 signature: got %v", err)
	}
}

// FuzzSniff: no panic on any bytes and any size, the same answer from the
// first SniffLen bytes, and a kind always with a format (and an unknown
// file with none, or HEIF or AVIF).
func FuzzSniff(f *testing.F) {
	for _, c := range sniffCases(f) {
		f.Add(c.data[:min(len(c.data), 3*SniffLen)], int64(len(c.data)))
	}
	f.Fuzz(func(t *testing.T, data []byte, size int64) {
		kind, format := Sniff(data, size)
		if (kind != FileUnknown && format == "") || (kind == FileUnknown && format != "" && format != "HEIF" && format != "AVIF") || kind > FileZip {
			t.Fatalf("got %v %q", kind, format)
		}
		if k, f := Sniff(data[:min(len(data), SniffLen)], size); k != kind || f != format {
			t.Fatalf("the first bytes give %v %q, all %v %q", k, f, kind, format)
		}
	})
}

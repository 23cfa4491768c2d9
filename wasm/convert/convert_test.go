package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mavis-xai/mavis/weightsconv/keras"
)

func testFile(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("..", "..", "weightsconv", "keras", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestConvertIsKerasConvert: the module's convert passes its options to
// keras.Convert unchanged, the file name reduced to its base name as
// weightsconv records it.
func TestConvertIsKerasConvert(t *testing.T) {
	in := testFile(t, "tiny_keras2_model.h5")
	for _, tt := range []struct {
		r    request
		o    keras.Options
		name string
	}{
		{request{}, keras.Options{}, "model.safetensors"},
		{request{Name: "C:\\models\\m.h5", Classes: "a\nb\nc\n", Scale: "0..1"}, keras.Options{Source: "m.h5", Scale: "0..1"}, "m.safetensors"},
		{request{Name: "dir/x.H5", Resize: "nearest", Crop: "center", Spec: "  "}, keras.Options{Source: "x.H5", Resize: "nearest", Crop: "center"}, "x.safetensors"},
	} {
		file, info, err := convert(in, tt.r)
		if err != nil {
			t.Fatal(err)
		}
		if tt.r.Classes != "" {
			tt.o.Classes, _ = keras.ParseClasses(strings.NewReader(tt.r.Classes), "")
		}
		want, err := keras.Convert(bytes.NewReader(in), int64(len(in)), tt.o)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(file, want.File) {
			t.Errorf("%+v: the module's file differs from keras.Convert's with %+v", tt.r, tt.o)
		}
		if info["fileName"] != tt.name || info["bytes"] != len(file) {
			t.Errorf("%+v: fileName %v, bytes %v", tt.r, info["fileName"], info["bytes"])
		}
	}
}

func TestConvertErrors(t *testing.T) {
	in := testFile(t, "tiny.keras")
	for _, tt := range []struct {
		r    request
		want string
	}{
		{request{Classes: "# none\n"}, "keras: classes: the class names lists no classes"},
		{request{Classes: "a\na\nb"}, `keras: classes: the class names: "a" appears at entries 1 and 2`},
		{request{Arch: "mavis", Spec: "{}"}, "a built-in architecture or a spec, not both"},
		{request{Spec: "not json"}, "nn: "},
	} {
		if _, _, err := convert(in, tt.r); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: got %v, want %q", tt.r, err, tt.want)
		}
	}
	if err := checkSize(maxInput + 1); err == nil || !strings.Contains(err.Error(), "the page converts Keras files up to 512 MB: convert it with bin/weightsconv instead") {
		t.Errorf("checkSize: %v", err)
	}
	if err := checkSize(maxInput); err != nil {
		t.Errorf("checkSize(maxInput): %v", err)
	}
	if n := unknownField([]string{"name", "arch", "clases"}); n != "clases" {
		t.Errorf("unknownField: %q", n)
	}
}

// FuzzEntry feeds hostile bytes to what the module's methods run: no
// panic, an error with a package prefix or a file, and no allocation past
// what the HDF5 reader's expansion cap allows (1100 times the input plus
// 1 MB, twice over for the copies, plus 64 MB).
func FuzzEntry(f *testing.F) {
	for _, name := range []string{"tiny.keras", "tiny.weights.h5", "tiny_keras2_model.h5", "tiny_keras2_split.h5"} {
		f.Add(testFile(f, name), false)
	}
	f.Add([]byte("\x89HDF\r\n\x1a\n"), true)
	f.Add([]byte("PK\x03\x04"), false)
	f.Fuzz(func(t *testing.T, b []byte, mavis bool) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r := request{Name: "fuzz.h5"}
		if mavis {
			r.Arch = "mavis"
		}
		if _, _, err := convert(b, r); err != nil {
			if s := err.Error(); !strings.HasPrefix(s, "keras: ") && !strings.HasPrefix(s, "hdf5: ") && !strings.HasPrefix(s, "nn: ") {
				t.Errorf("convert: error without prefix: %v", err)
			}
		}
		if _, err := inspect(b); err != nil {
			if s := err.Error(); !strings.HasPrefix(s, "keras: ") && !strings.HasPrefix(s, "hdf5: ") {
				t.Errorf("inspect: error without prefix: %v", err)
			}
		}
		runtime.ReadMemStats(&after)
		if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(64<<20+2*(1100*len(b)+1<<20)); got > limit {
			t.Errorf("%d bytes of input allocated %d bytes, over %d", len(b), got, limit)
		}
	})
}

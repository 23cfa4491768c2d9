package nn

import (
	"bytes"
	"encoding/binary"
)

// FileKind is what a file is, judged by its first bytes (Sniff): what the
// page and the tools do with a file they are given, whatever its name.
type FileKind uint8

const (
	FileUnknown     FileKind = iota // none of the below
	FileImage                       // PNG, JPEG, GIF, WebP or BMP: an input to explain
	FileSafetensors                 // a safetensors file: a model in this project's format (nn.Decode)
	FileHDF5                        // an HDF5 file: a Keras .h5 or .weights.h5 model (weightsconv/keras)
	FileZip                         // a zip archive: a Keras 3 .keras model (weightsconv/keras)
)

var fileKindNames = [...]string{"unknown", "image", "safetensors", "hdf5", "zip"}

// String returns "unknown", "image", "safetensors", "hdf5" or "zip": the
// names the page's sniff.js uses too.
func (k FileKind) String() string {
	if int(k) < len(fileKindNames) {
		return fileKindNames[k]
	}
	return "FileKind(" + sprintf("%d", int(k)) + ")"
}

// SniffLen is how many leading bytes Sniff looks at: enough for an HDF5
// signature after a user block of up to 2048 bytes (the format puts the
// signature at 0, 512, 1024, 2048, ...; Keras writes it at 0).
const SniffLen = 2048 + 8

// Signatures (magic numbers) of the kinds Sniff knows.
var (
	sigPNG  = []byte("\x89PNG\r\n\x1a\n")
	sigJPEG = []byte{0xff, 0xd8, 0xff}
	sigHDF5 = []byte("\x89HDF\r\n\x1a\n")
	sigZip  = []byte("PK\x03\x04")
)

// Sniff says what a file of size bytes is from head, its first bytes (at
// least min(size, SniffLen) of them for a sure answer; more are ignored),
// and names its format: "PNG", "JPEG", "GIF", "WebP", "BMP", "safetensors",
// "HDF5", "zip", or, when the kind is FileUnknown, "HEIF" or "AVIF" for a
// picture in a format nothing here reads (an ISO media file whose ftyp box
// names a HEIF or AVIF brand: an iPhone's photos are HEIF by default), so
// that the page can say what to do with it, and "" otherwise. It never
// reads past head and allocates nothing.
//
// A safetensors file is recognised by its layout, as it has no magic
// number: a little-endian uint64 header length N with 2 <= N <= 100 MB and
// 8+N <= size, followed by '{'. It is tested before BMP, whose "BM" a
// header length can spell.
func Sniff(head []byte, size int64) (FileKind, string) {
	head = head[:min(len(head), SniffLen)]
	if size < int64(len(head)) {
		head = head[:max(size, 0)]
	}
	switch {
	case bytes.HasPrefix(head, sigPNG):
		return FileImage, "PNG"
	case bytes.HasPrefix(head, sigJPEG):
		return FileImage, "JPEG"
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return FileImage, "GIF"
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return FileImage, "WebP"
	case bytes.HasPrefix(head, sigZip):
		return FileZip, "zip"
	case isSafetensors(head, size):
		return FileSafetensors, "safetensors"
	case isBMP(head):
		return FileImage, "BMP"
	}
	for off := 0; off+len(sigHDF5) <= len(head); off = max(512, 2*off) {
		if bytes.Equal(head[off:off+len(sigHDF5)], sigHDF5) {
			return FileHDF5, "HDF5"
		}
	}
	if len(head) >= 12 && string(head[4:8]) == "ftyp" {
		switch string(head[8:12]) { // the major brand
		case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1":
			return FileUnknown, "HEIF"
		case "avif", "avis":
			return FileUnknown, "AVIF"
		}
	}
	return FileUnknown, ""
}

func isSafetensors(head []byte, size int64) bool {
	if len(head) < 9 {
		return false
	}
	n := binary.LittleEndian.Uint64(head)
	return n >= 2 && n <= maxSTHeader && int64(n) <= size-8 && head[8] == '{'
}

// isBMP: "BM", then the file size (4 bytes) and two reserved 16-bit fields
// that are zero.
func isBMP(head []byte) bool {
	return len(head) >= 14 && head[0] == 'B' && head[1] == 'M' &&
		binary.LittleEndian.Uint32(head[6:10]) == 0
}

// notWeights is the error for a file that Sniff recognised as something
// other than a weights file: it says what the file is and what to do with it.
func notWeights(k FileKind, format string) error {
	const keras = "not a .safetensors weights file: convert it with weightsconv " +
		"(weightsconv FILE -o model.safetensors, adding -arch NAME|SPEC.json for a weights-only file), " +
		"or open it in the page, which converts Keras files"
	switch k {
	case FileHDF5:
		return errorf("nn: weights: this is an HDF5 file (a Keras .h5 or .weights.h5 model?), %s", keras)
	case FileZip:
		return errorf("nn: weights: this is a zip archive (a Keras .keras model?), %s", keras)
	case FileImage:
		return errorf("nn: weights: this is a %s image, not a model file: give it as the image to explain, and a .safetensors model as the model", format)
	case FileUnknown:
		if format != "" {
			return errorf("nn: weights: this is a %s picture, not a model file", format)
		}
	}
	return nil
}

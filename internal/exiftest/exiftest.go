// Package exiftest writes an EXIF orientation into JPEG and PNG files, for
// tests of how images are turned when they are read (nn/imagefile, and the
// browser tests that hold it to Chromium).
package exiftest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// TIFF returns TIFF data, in byte order bo, whose first image directory
// holds one entry: tag 274 (Orientation) of type typ (3 is SHORT, the
// right one) with count values, the first o.
func TIFF(bo binary.ByteOrder, typ uint16, count uint32, o uint16) []byte {
	var b bytes.Buffer
	if bo == binary.BigEndian {
		b.WriteString("MM\x00*")
	} else {
		b.WriteString("II*\x00")
	}
	binary.Write(&b, bo, uint32(8)) // the first directory
	binary.Write(&b, bo, uint16(1)) // one entry
	binary.Write(&b, bo, uint16(274))
	binary.Write(&b, bo, typ)
	binary.Write(&b, bo, count)
	binary.Write(&b, bo, o)
	binary.Write(&b, bo, uint16(0)) // the rest of the 4-byte value
	binary.Write(&b, bo, uint32(0)) // no next directory
	return b.Bytes()
}

// JPEG returns jpeg (a file from image/jpeg, which writes no APP
// segments) with an APP1 segment of payload put right after its SOI
// marker. An EXIF segment's payload is "Exif\x00\x00" and TIFF data.
func JPEG(jpeg, payload []byte) []byte {
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(2+len(payload)))
	out := append([]byte{}, jpeg[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, jpeg[2:]...)
}

// PNG returns png (a file from image/png: its signature, then IHDR) with an
// eXIf chunk of tiff right after IHDR, or, if late, right before IEND
// (after the image data).
func PNG(png, tiff []byte, late bool) []byte {
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(tiff)))
	chunk = append(chunk, "eXIf"...)
	chunk = append(chunk, tiff...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	at := 8 + 25 // the signature, IHDR's length, type, 13 bytes and CRC
	if late {
		at = len(png) - 12 // IEND
	}
	out := append([]byte{}, png[:at]...)
	out = append(out, chunk...)
	return append(out, png[at:]...)
}

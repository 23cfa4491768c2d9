// Package jsonv reads and writes JSON without encoding/json, for nn's load
// path (the safetensors header, the architecture spec and the metadata) and
// its writers. The browser's worker links everything nn.Decode reaches, and
// encoding/json (with fmt and reflect) would cost it about 340 KB of
// gzipped wasm; this package does the same job in a few KB.
//
// Parse is a small strict decoder (RFC 8259) to plain values: nil, bool,
// float64, string, []any and Object. It accepts exactly what encoding/json
// accepts and decodes to the same values as json.Unmarshal into an `any`
// (parse_test.go and FuzzParse hold it to that), except that
//
//   - objects keep their members in order, duplicates included, as
//     Object (json.Unmarshal keeps the last of duplicate keys);
//   - nesting is limited to MaxDepth levels (encoding/json: 10000).
//
// Numbers outside float64's range are refused, as json.Unmarshal does.
// Strings are decoded as encoding/json does: invalid UTF-8 and unpaired
// surrogates become U+FFFD. Error texts carry no package prefix (every
// caller adds its own context) and give the byte offset.
//
// Fields, String, Float, Int, Bool, Array, Ints and StringMap decode parsed
// values into Go structs field by field (decode.go), and AppendString,
// AppendFloat, AppendInts, AppendKey and MarshalStringMap write JSON byte
// for byte as json.Marshal does (encode.go, encode_test.go).
package jsonv

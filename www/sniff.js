// sniff.js says what a file is from its first bytes, whatever its name, so
// that a file dropped, pasted or picked anywhere goes where it belongs:
// an image to explain, a .safetensors model to load, a Keras file to the
// converter (convert.js). It gives the answers of Go's nn.Sniff (the same
// kinds and formats; wasm/convert's TestSniffJS holds the two to the same
// answers on real files and mutated ones). The types are in api.d.ts.

/** How many leading bytes sniff looks at (nn.SniffLen). */
export const SNIFF_LEN = 2048 + 8;

const startsWith = (b, sig) => b.length >= sig.length && sig.every((v, i) => b[i] === v);
const ascii = (s) => Array.from(s, (c) => c.charCodeAt(0));
const PNG = [0x89, ...ascii('PNG\r\n\x1a\n')];
const JPEG = [0xff, 0xd8, 0xff];
const HDF5 = [0x89, ...ascii('HDF\r\n\x1a\n')];
const ZIP = ascii('PK\x03\x04');
const MAX_ST_HEADER = 100 * 1024 * 1024; // nn's safetensors header cap

/**
 * sniff(head, size) -> {kind, format}: kind is 'image', 'safetensors',
 * 'hdf5', 'zip' or 'unknown'; format 'PNG', 'JPEG', 'GIF', 'WebP', 'BMP',
 * 'safetensors', 'HDF5', 'zip', or for 'unknown' 'HEIF', 'AVIF' (pictures
 * the page does not read) or ''. head is the file's first bytes (at least
 * SNIFF_LEN of them, or all), size the file's size.
 */
export function sniff(head, size = head.length) {
  let b = head instanceof Uint8Array ? head : new Uint8Array(head);
  b = b.subarray(0, Math.max(0, Math.min(b.length, SNIFF_LEN, size)));
  if (startsWith(b, PNG)) return { kind: 'image', format: 'PNG' };
  if (startsWith(b, JPEG)) return { kind: 'image', format: 'JPEG' };
  if (startsWith(b, ascii('GIF87a')) || startsWith(b, ascii('GIF89a'))) return { kind: 'image', format: 'GIF' };
  if (b.length >= 12 && startsWith(b, ascii('RIFF')) && startsWith(b.subarray(8), ascii('WEBP'))) return { kind: 'image', format: 'WebP' };
  if (startsWith(b, ZIP)) return { kind: 'zip', format: 'zip' };
  if (isSafetensors(b, size)) return { kind: 'safetensors', format: 'safetensors' };
  if (b.length >= 14 && b[0] === 0x42 && b[1] === 0x4d && b[6] === 0 && b[7] === 0 && b[8] === 0 && b[9] === 0) {
    return { kind: 'image', format: 'BMP' };
  }
  for (let off = 0; off + HDF5.length <= b.length; off = Math.max(512, 2 * off)) {
    if (startsWith(b.subarray(off), HDF5)) return { kind: 'hdf5', format: 'HDF5' };
  }
  if (b.length >= 12 && startsWith(b.subarray(4), ascii('ftyp'))) { // an ISO media file: a HEIF or AVIF picture's brand?
    const brand = String.fromCharCode(...b.subarray(8, 12));
    if (['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'].includes(brand)) return { kind: 'unknown', format: 'HEIF' };
    if (['avif', 'avis'].includes(brand)) return { kind: 'unknown', format: 'AVIF' };
  }
  return { kind: 'unknown', format: '' };
}

// A safetensors file: a little-endian uint64 header length N, 2 <= N <=
// 100 MB, 8+N <= size, then '{'.
function isSafetensors(b, size) {
  if (b.length < 9 || b[8] !== 0x7b) return false;
  const v = new DataView(b.buffer, b.byteOffset, 8);
  const n = v.getUint32(0, true) + v.getUint32(4, true) * 2 ** 32; // exact below 2^53; larger fails the cap
  return n >= 2 && n <= MAX_ST_HEADER && n <= size - 8;
}

/** sniffFile(blob) reads a File's or Blob's first bytes and sniffs them. */
export async function sniffFile(blob) {
  const head = new Uint8Array(await blob.slice(0, SNIFF_LEN).arrayBuffer());
  return sniff(head, blob.size);
}

/**
 * What the page does with each kind: 'image' explains it, 'model' loads it
 * (worker loadModel), 'keras' converts it first (convert.js), null refuses it
 * with unknownMessage.
 */
export const routes = { image: 'image', safetensors: 'model', hdf5: 'keras', zip: 'keras', unknown: null };

/** The message for a file of kind 'unknown' and format (sniff's), saying what to do. */
export function unknownMessage(format) {
  if (format === 'HEIF') {
    return 'it is a HEIF (HEIC) picture, the format iPhones take photos in, which this page cannot read: ' +
      'save it as a JPEG or PNG and drop that (an iPhone takes JPEGs with Settings > Camera > Formats > Most Compatible)';
  }
  if (format === 'AVIF') {
    return 'it is an AVIF picture, which the page does not read (nor do the command-line tools, which see what the page sees): ' +
      'save it as a JPEG, PNG or WebP and drop that';
  }
  return 'this file is neither an image (PNG, JPEG, GIF, WebP or BMP), nor a .safetensors model, ' +
    'nor a Keras model (.keras, .h5 or .weights.h5): drop, paste or pick one of those';
}

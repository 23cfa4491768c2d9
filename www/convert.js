// convert.js opens Keras files in the page: a promise API over the converter
// (convert.wasm, Go's weightsconv/keras compiled to js/wasm) running in a
// Web Worker of its own (convert-worker.js). Nothing is loaded until the
// first call, so the converter is never on the way to the first
// prediction. The types are in api.d.ts (section 3).
//
//   import * as converter from './convert.js';
//   const what = await converter.inspect(file);        // format, hasArchitecture, fits (built-ins)
//   const { file: bytes, info } = await converter.convert(file, { arch: 'mavis' });
//   // bytes: the .safetensors file, byte for byte what bin/weightsconv writes;
//   // load it with the worker's loadModel, offer it as info.fileName.
//
// Every rejection is an Error whose message says what is wrong and what to
// do next (give an architecture, fix the class names, use bin/weightsconv).

let worker = null;
let nextId = 1;
const pending = new Map(); // id -> {resolve, reject}

function start() {
  if (worker) return worker;
  // Relative to the page, as boot.js's and pool.js's workers: the page runs
  // this module from its bundle (bundle/convert.js).
  worker = new Worker('convert-worker.js');
  worker.onmessage = (e) => {
    const { id, result, error } = e.data;
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    if (error !== undefined) p.reject(new Error(error));
    else p.resolve(result);
  };
  worker.onerror = (e) => {
    e.preventDefault();
    fail(new Error(`the converter could not start (${e.message || 'convert-worker.js did not load'}); reload the page, or convert the file with bin/weightsconv`));
  };
  return worker;
}

// fail rejects every pending call and drops the worker (the next call starts
// a new one).
function fail(err) {
  for (const p of pending.values()) p.reject(err);
  pending.clear();
  if (worker) worker.terminate();
  worker = null;
}

function call(method, args) {
  const w = start();
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    w.postMessage({ id, method, args });
  });
}

// bytesOf reads a File or Blob, or takes an ArrayBuffer or typed array as is
// (copied to the worker, so the caller keeps it).
async function bytesOf(input) {
  if (input instanceof Blob) return new Uint8Array(await input.arrayBuffer());
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new Error('convert: give a File, a Blob, an ArrayBuffer or a Uint8Array');
}

/** The built-in architectures a weights-only file may have (name, input, default classes). */
export function architectures() {
  return call('architectures', []);
}

/** What a Keras file holds, before converting it: format, architecture or not, layers, fitting built-ins. */
export async function inspect(input) {
  return call('inspect', [await bytesOf(input)]);
}

/**
 * Converts a Keras file (.keras, .weights.h5, Keras 2 .h5) into the
 * .safetensors bytes bin/weightsconv writes for the same inputs, and a
 * summary. options: {arch} or {spec} for a weights-only file, {classes} as
 * text, one name per line; name defaults to the File's name.
 */
export async function convert(input, options = {}) {
  const opts = { ...options };
  if (opts.name === undefined && typeof File !== 'undefined' && input instanceof File) opts.name = input.name;
  return call('convert', [await bytesOf(input), opts]);
}

/** Stops the converter's worker (to free its memory); the next call starts it again. */
export function stop() {
  fail(new Error('convert: stopped'));
}

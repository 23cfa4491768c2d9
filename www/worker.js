// worker.js runs the Go compute engine (worker.wasm) in a Web Worker and
// relays messages between it and the page. The contract is in api.d.ts.
//
// page -> worker: {id, method, args}
//   method "loadModel": args [ArrayBuffer]             (the .safetensors file)
//   method "predict":   args [Blob]                    (an encoded image: decoded here)
//   method "bootModel": args []                        (boot.js's worker only: loads the model it fetched at its start;
//                                                       answers {info: ModelInfo, bytes: ArrayBuffer})
//   method "bootSample": args []                       (boot.js's worker only: predicts the first sample it fetched at its
//                                                       start; answers {file, bytes, prediction} or null)
//   method "explain":   args [Options]                 (explains the last predicted image)
//   method "startup":   args []                        (answered once Go is ready, without calling it: the start-up stages,
//                                                       ms since the worker started: created (its time origin), compiled,
//                                                       ready, and for boot.js's worker modelFetched, sampleFetched,
//                                                       sampleDecoded, modelLoaded, predicted as they happen)
//   method "memory":    args [gc?: boolean]         (gc: collect first, so heapAlloc is the live heap)
//   method "evaluate":  args [EvaluateOptions]         (faithfulness metrics of the last explained maps)
//   method "cancel":    args []                        (stops every earlier evaluate, running or queued, which then rejects; answered at once)
//   method "igPlan":    args [Options]                 (the worker pool: IG's evaluation count and the current input, Float32Array)
//   method "igPart":    args [Float32Array|null, Options, lo, hi]  (IG's path sum over evaluations lo..hi: with an input, a helper's,
//                                                       returned as a Float64Array; with null, the main worker's own first range, kept)
//   method "igCombine": args [Options, IGPart[]]        (adds the helpers' parts to the own one; answers as explain)
//   method "evalPlan":  args []                        (the pool's evaluate split by method: the kept maps, Float32Array each, and the input)
//   method "evalInstall": args [Float32Array, EvalMap[]] (a helper's share of the maps and the input, for its evaluate)
//   method "evalOnly":  args [string[], token]         (the main worker's share of the methods, for its evaluate)
//   method "evalCombine": args [EvaluateOptions, results[], token] (every share's results: restores the maps, answers as evaluate)
// Calls run one at a time, in the order they arrive; cancel is not queued.
// worker -> page: {id, result} | {id, error} | {id, progress: [done, total]}
'use strict';

// Start-up: the fetch and streaming compile of worker.wasm start first
// (compiling in the page and posting the module was slower: the page's
// compile held up the worker's own start). The page's own worker is created
// as worker.js?boot=1&model=URL[&autorun=0] (boot.js): it then fetches the
// model, the sample list and the first sample itself, right behind the wasm,
// and decodes that sample while the wasm compiles, so nothing on the way to
// the first prediction waits for the page's thread (busy parsing and running
// app.js). Calls that arrive meanwhile wait for Go; predict decodes its image
// at once.
const startup = { created: performance.timeOrigin }; // milliseconds since the worker started, per stage
const module = compile();
const early = startEarly(new URLSearchParams(self.location.search));
importScripts('wasm_exec.js');

const maxPixels = 40e6; // 160 MB of RGBA: larger images are refused, not resized behind the user's back
let wasmMemory = null;

async function compile() {
  try {
    return await WebAssembly.compileStreaming(fetch('worker.wasm'));
  } catch (e) {
    // A host that does not send application/wasm: fall back to bytes.
    const resp = await fetch('worker.wasm');
    if (!resp.ok) throw new Error(`could not load worker.wasm (HTTP ${resp.status}); run ./build.sh first`);
    return WebAssembly.compile(await resp.arrayBuffer());
  }
}

// fetchBytes fetches one of this site's files, with the error text the
// page shows (api.d.ts: boot.js's fetchBytes). Other sites are refused here
// too: the page's Content-Security-Policy (connect-src 'self') does not
// bind a worker served without one (GitHub Pages sends none).
async function fetchBytes(url) {
  if (new URL(url, self.location.href).origin !== self.location.origin) {
    throw new Error(`could not fetch ${url} (another site); only this site's own files can be loaded`);
  }
  let resp;
  try {
    resp = await fetch(url);
  } catch (e) {
    throw new Error(`could not fetch ${url} (${e.message}); only this site's own files can be loaded`);
  }
  if (!resp.ok) throw new Error(`could not fetch ${url}: HTTP ${resp.status}`);
  return resp.arrayBuffer();
}

// startEarly starts the boot worker's fetches (see Start-up above): the model
// named by ?model=, and unless ?autorun=0 the first file of
// samples/index.json and its decoded pixels. Plain workers (the pool's
// helpers) start nothing.
function startEarly(params) {
  if (params.get('boot') !== '1') return null;
  const quiet = (p) => { p.catch(() => {}); return p; }; // reported by bootModel / bootSample
  const stage = (k) => (v) => { startup[k] = Math.round(performance.now()); return v; };
  const model = quiet(fetchBytes(params.get('model') || 'models/fashion.safetensors').then(stage('modelFetched')));
  let sample = Promise.resolve(null);
  if (params.get('autorun') !== '0') {
    sample = quiet(fetch('samples/index.json')
      .then((r) => (r.ok ? r.json() : []))
      .catch(() => [])
      .then((list) => {
        const s = Array.isArray(list) && list[0];
        const file = s && (typeof s === 'string' ? s : s.file);
        if (!file) return null;
        return fetchBytes(`samples/${file}`).then((bytes) => {
          stage('sampleFetched')();
          const image = decode(new Blob([bytes])).then(stage('sampleDecoded'));
          image.catch(() => {});
          return { file, bytes, image };
        });
      }));
  }
  return { model, sample };
}

const ready = (async () => {
  const m = await module;
  startup.compiled = Math.round(performance.now());
  const go = new Go();
  const instance = await WebAssembly.instantiate(m, go.importObject);
  wasmMemory = instance.exports.mem;
  go.run(instance);
  startup.ready = Math.round(performance.now());
  if (!self.mavis) throw new Error('worker.wasm did not register its API');
  return self.mavis;
})();
ready.catch(() => {}); // every call reports it

// decode turns an encoded image into non-premultiplied RGBA pixels, without
// colour management, so that the bytes match what Go's decoders would give.
async function decode(blob) {
  let bmp;
  try {
    bmp = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (e) {
    throw new Error('could not decode the image: it is not a PNG, JPEG, GIF, WebP or BMP file, or it is damaged');
  }
  const { width, height } = bmp;
  if (width * height > maxPixels) {
    bmp.close();
    throw new Error(`the image is ${width}x${height} pixels; at most ${maxPixels / 1e6} megapixels are supported`);
  }
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(bmp, 0, 0);
  bmp.close();
  const data = ctx.getImageData(0, 0, width, height).data;
  return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height };
}

// call runs one call; image is the decoded image of a predict, started when
// the message arrived.
async function call(id, method, args, image) {
  const api = await ready;
  switch (method) {
    case 'loadModel': {
      const info = JSON.parse(await api.loadModel(new Uint8Array(args[0])));
      return { result: info };
    }
    case 'predict':
      return predictImage(api, await image);
    case 'bootModel': {
      // The model this worker fetched at its start, loaded; its bytes go
      // back to the page (for the pool's helpers), transferred: Go has
      // copied them.
      if (!early) throw new Error('worker: bootModel: this worker was not started by boot.js (worker.js?boot=1)');
      const bytes = await early.model;
      const info = JSON.parse(await api.loadModel(new Uint8Array(bytes)));
      startup.modelLoaded = Math.round(performance.now());
      return { result: { info, bytes, startup }, transfer: [bytes] };
    }
    case 'bootSample': {
      // The first sample this worker fetched at its start, predicted, with
      // its file name and bytes; null with ?autorun=0 or no samples.
      if (!early) throw new Error('worker: bootSample: this worker was not started by boot.js (worker.js?boot=1)');
      const s = await early.sample;
      if (!s) return { result: null };
      const { result, transfer } = await predictImage(api, await s.image);
      startup.predicted = Math.round(performance.now());
      return { result: { file: s.file, bytes: s.bytes, prediction: result, startup }, transfer: [...transfer, s.bytes] };
    }
    case 'explain': {
      const progress = (done, total) => self.postMessage({ id, progress: [done, total] });
      const r = await api.explain(JSON.stringify(args[0] || {}), progress);
      const e = JSON.parse(r.json);
      e.map = new Float32Array(r.map.buffer);
      const transfer = [r.map.buffer];
      if (r.full) {
        e.fullMap = new Float32Array(r.full.buffer);
        transfer.push(r.full.buffer);
      }
      return { result: e, transfer };
    }
    case 'evaluate': {
      const progress = (done, total) => {
        self.postMessage({ id, progress: [done, total] });
        return id > cancelBefore;
      };
      if (id < cancelBefore) throw new Error('worker: metrics cancelled');
      return { result: JSON.parse(await api.evaluate(JSON.stringify(args[0] || {}), progress)) };
    }
    case 'igPlan': {
      const r = await api.igPlan(args[0] || {});
      return { result: { evaluations: r.evaluations, input: new Float32Array(r.input.buffer) }, transfer: [r.input.buffer] };
    }
    case 'igPart': {
      const progress = (done, total) => self.postMessage({ id, progress: [done, total] });
      const x = args[0] ? new Uint8Array(args[0].buffer, args[0].byteOffset, args[0].byteLength) : null;
      const r = await api.igPart(x, args[1] || {}, args[2], args[3], progress);
      const p = { lo: r.lo, hi: r.hi, evaluations: r.evaluations, class: r.class, baselineScore: r.baselineScore };
      if (!r.sum) return { result: p };
      p.sum = new Float64Array(r.sum.buffer);
      return { result: p, transfer: [r.sum.buffer] };
    }
    case 'igCombine': {
      const parts = (args[1] || []).map((p) => ({ ...p, sum: new Uint8Array(p.sum.buffer, p.sum.byteOffset, p.sum.byteLength) }));
      const r = await api.igCombine(args[0] || {}, parts);
      const e = JSON.parse(r.json);
      e.map = new Float32Array(r.map.buffer);
      e.fullMap = new Float32Array(r.full.buffer);
      return { result: e, transfer: [r.map.buffer, r.full.buffer] };
    }
    case 'evalPlan': {
      const r = await api.evalPlan();
      const maps = Array.from(r.maps, (m) => ({ ...m, map: new Float32Array(m.map.buffer) }));
      return { result: { input: new Float32Array(r.input.buffer), maps }, transfer: [r.input.buffer, ...maps.map((m) => m.map.buffer)] };
    }
    case 'evalInstall': {
      const bytes = (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      return { result: await api.evalInstall(bytes(args[0]), args[1].map((m) => ({ ...m, map: bytes(m.map) }))) };
    }
    case 'evalOnly':
      return { result: await api.evalOnly(args[0], args[1]) };
    case 'evalCombine':
      return { result: JSON.parse(await api.evalCombine(JSON.stringify(args[0] || {}), args[1] || [], args[2])) };
    case 'startup':
      return { result: startup };
    case 'memory': {
      const m = JSON.parse(await api.memory(!!args[0]));
      m.wasmBytes = wasmMemory ? wasmMemory.buffer.byteLength : 0;
      m.startup = startup;
      return { result: m };
    }
  }
  throw new Error(`unknown method ${method}`);
}

// predictImage classifies decoded pixels: the Prediction of api.d.ts.
async function predictImage(api, img) {
  const r = await api.predict(img.pixels, img.width, img.height);
  const p = JSON.parse(r.json);
  p.view = r.view;
  p.source = [img.width, img.height];
  return { result: p, transfer: [r.view.buffer] };
}

let cancelBefore = 0; // evaluate calls with a smaller id stop at their next forward pass
let queue = Promise.resolve(); // the calls, one at a time: the Go side is not re-entrant

self.onmessage = (e) => {
  const { id, method, args } = e.data;
  if (method === 'cancel') {
    cancelBefore = Math.max(cancelBefore, id);
    self.postMessage({ id, result: true });
    return;
  }
  // Decode an image at once, not in its turn: the first one decodes while
  // worker.wasm compiles.
  const image = method === 'predict' ? decode((args || [])[0]) : null;
  if (image) image.catch(() => {}); // reported by its call
  queue = queue.then(async () => {
    try {
      const { result, transfer } = await call(id, method, args || [], image);
      self.postMessage({ id, result }, transfer || []);
    } catch (err) {
      self.postMessage({ id, error: String((err && err.message) || err) });
    }
  });
};

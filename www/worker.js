// worker.js runs the Go compute engine (worker.wasm) in a Web Worker and
// relays messages between it and the page. The contract is in api.d.ts
// (WorkerRequest, WorkerReply, MavisWorkerAPI): the arguments go to Go as
// they came, plain objects and typed arrays, and Go's answers come back the
// same way, their typed arrays transferred. Nothing here is JSON.
//
// The messages are api.d.ts's WorkerRequest and WorkerReply: predict takes
// an encoded image (a Blob), decoded here; bootModel and bootSample answer
// boot.js's worker only; any method of MavisWorkerAPI not handled in call
// gets its arguments with a progress callback after them. Calls run one at
// a time, in the order they arrive; cancel is not queued. Once Go's
// program has ended (a fatal error, such as out of memory), every call
// answers an error that says so and what to do (goexit.js).
'use strict';

// Start-up: the fetch and streaming compile of worker.wasm start first
// (compiling in the page and posting the module was slower: the page's
// compile held up the worker's own start), then those of the kernels
// (started after the scripts, their compile ended after worker.wasm's in 3
// of 12 cold loads, holding Go's start by 9 to 86 ms; here, in none of 20).
// The scripts come last, as modules: import() fetches wasm_exec.js and
// kernels.js together (goexit.js after wasm_exec.js) and leaves this thread
// free (importScripts held it, and the fetches below, a round trip per
// script; BENCHMARKS.md, session 33). The page's own worker is created
// as worker.js?boot=1[&model=URL][&autorun=0] (boot.js): it then fetches the
// models index, the model (?model= or the index's first), its sample list
// and the first sample itself, right behind the wasm, and decodes that
// sample while the wasm compiles, so nothing on the way to the first
// prediction waits for the page's thread (busy parsing and running app.js).
// Calls that arrive meanwhile wait for Go; predict decodes its image at once.
const startup = { created: performance.timeOrigin }; // milliseconds since the worker started, per stage
const module = compile('worker.wasm');
const kernelFiles = { 'kernels.wasm': compile('kernels.wasm'), 'forwarder.wasm': compile('forwarder.wasm') };
const early = startEarly(new URLSearchParams(self.location.search));
const scripts = Promise.all([import('./wasm_exec.js').then(() => import('./goexit.js')), import('./kernels.js')]) // goexit.js wraps wasm_exec.js's fs: after it
  .then(() => { startup.scripts = Math.round(performance.now()); }, (e) => { throw new Error(`could not load the worker's scripts (${e.message}); run ./build.sh first`); });
const kernels = scripts.then(() => mavisKernels.compile((n) => kernelFiles[n])); // nn's SIMD128 kernels (kernels.js; portable ones without SIMD128)
kernels.then(() => { startup.kernelsCompiled = Math.round(performance.now()); }, () => {});

const sampleWait = 300; // ms bootModel waits at most for the first sample (see bootModel)
const maxPixels = 50e6, maxSide = 32767; // nn.MaxImagePixels (the commands' limit); a canvas's longest side. Larger images are refused, not resized behind the user's back
let wasmMemory = null;
let kernelsInUse = ''; // what kernels.js installed, for the memory call

async function compile(name) {
  try {
    return await WebAssembly.compileStreaming(fetch(name));
  } catch (e) {
    if (e instanceof WebAssembly.CompileError) throw e;
    // A host that does not send application/wasm: fall back to bytes.
    const resp = await fetch(name);
    if (!resp.ok) throw new Error(`could not load ${name} (HTTP ${resp.status}); run ./build.sh first`);
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

// fetchJSON fetches one of this site's JSON files.
async function fetchJSON(url) {
  const bytes = await fetchBytes(url);
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new Error(`${url} is not valid JSON (${e.message})`);
  }
}

// builtinFor is the entry of the built-in models index (models/index.json,
// api.d.ts BuiltinModel) whose file is url, or null. (The page's model.js
// has the same lookup for the model picker's URLs.)
function builtinFor(index, url) {
  const abs = (u) => new URL(u, self.location.href).href;
  return (Array.isArray(index) && index.find((b) => b && b.file && abs(b.file) === abs(url))) || null;
}

// startEarly starts the boot worker's fetches (see Start-up above): the
// built-in models index, the model named by ?model= (else the index's
// first, the page's default) and, unless ?autorun=0, the first sample of
// that model's samples index (a built-in's) and its decoded pixels. A
// model the index does not list has no samples. Plain workers (the pool's
// helpers) start nothing.
function startEarly(params) {
  if (params.get('boot') !== '1') return null;
  const quiet = (p) => { p.catch(() => {}); return p; }; // reported by bootModel / bootSample
  const stage = (k) => (v) => { startup[k] = Math.round(performance.now()); return v; };
  const index = quiet(fetchJSON('models/index.json'));
  const asked = params.get('model') || '';
  const url = quiet(asked ? Promise.resolve(asked) : index.then((list) => {
    const first = Array.isArray(list) && list[0];
    if (!first || !first.file) throw new Error('models/index.json lists no model: give one with ?model=');
    return first.file;
  }));
  const builtin = url.then((u) => index.then((list) => builtinFor(list, u), () => null), () => null);
  const model = quiet(url.then(fetchBytes).then(stage('modelFetched')));
  let sample = Promise.resolve(null);
  if (params.get('autorun') !== '0') {
    sample = quiet(builtin.then(async (b) => {
      if (!b || !b.samples) return null;
      const list = await fetchJSON(b.samples).catch(() => []);
      const s = Array.isArray(list) && list[0];
      const file = s && (typeof s === 'string' ? s : s.file);
      if (!file) return null;
      const bytes = await fetchBytes(new URL(file, new URL(b.samples, self.location.href)).href);
      stage('sampleFetched')();
      const image = decode(new Blob([bytes])).then(stage('sampleDecoded'));
      image.catch(() => {});
      return { file, bytes, image };
    }));
  }
  return { url, builtin, model, sample };
}

const ready = (async () => {
  const m = await module;
  startup.compiled = Math.round(performance.now());
  const link = await kernels.then((k) => mavisKernels.link(k, m)); // mavisKernels is there once kernels is
  const go = new Go();
  go.exit = mavisGoExit.exit; // Go's end (a fatal error): every call answers why (goexit.js)
  go.importObject[mavisKernels.importModule] = link.imports;
  const instance = await WebAssembly.instantiate(m, go.importObject);
  link.install(instance); // before Go runs: nn's init asks for the kernels
  kernelsInUse = link.kernels;
  wasmMemory = instance.exports.mem;
  startup.instantiated = Math.round(performance.now());
  go.run(instance);
  startup.ready = Math.round(performance.now());
  if (!self.mavis) throw new Error('worker.wasm did not register its API');
  return self.mavis;
})();
ready.catch(() => {}); // every call reports it

// decode turns an encoded image into a bitmap, without colour management,
// so that its pixels match what Go's decoders would give, and answers
// {width, height, rows, close}: rows(y, n) gives n rows from row y as
// non-premultiplied RGBA, for Go's predict, which reads a band at a time.
// A picture up to a megapixel is read at once (a sample's read then falls
// while worker.wasm compiles); a larger one a band at a time through a
// canvas of the band's size, so that neither a canvas nor Go's memory holds
// a whole photo (200 MB at 50 megapixels).
async function decode(blob) {
  let bmp;
  try {
    bmp = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (e) {
    throw new Error('could not decode the image: it is not a PNG, JPEG, GIF, WebP or BMP file, or it is damaged');
  }
  const { width, height } = bmp;
  if (width * height > maxPixels || Math.max(width, height) > maxSide) {
    bmp.close();
    throw new Error(`the image is ${width}x${height} pixels; at most ${maxPixels / 1e6} megapixels, ${maxSide} pixels a side, are supported`);
  }
  let ctx = null;
  const read = (y, n) => {
    if (!ctx || ctx.canvas.height !== n) {
      ctx = new OffscreenCanvas(width, n).getContext('2d', { willReadFrequently: true });
      ctx.globalCompositeOperation = 'copy'; // each band replaces the last, translucent pixels too
    }
    ctx.drawImage(bmp, 0, y, width, n, 0, 0, width, n);
    return ctx.getImageData(0, 0, width, n).data;
  };
  const close = () => { bmp.close(); ctx = null; };
  if (width * height > 1e6) return { width, height, rows: read, close };
  const all = read(0, height);
  close();
  return { width, height, rows: (y, n) => all.subarray(4 * width * y, 4 * width * (y + n)), close: () => {} };
}

// relayed: the Go methods called with the page's arguments as they are, then a progress callback.
const relayed = new Set(['explain', 'clearMaps', 'splitPlan', 'splitPart', 'splitCombine', 'evalPlan', 'evalInstall', 'evalCombine']);

// call runs one call; image is the decoded image of a predict, started when
// the message arrived.
async function call(id, method, args, image) {
  const api = await ready;
  switch (method) {
    case 'loadModel':
      return answer(await api.loadModel(new Uint8Array(args[0])));
    case 'predict':
      return predictImage(api, await image);
    case 'bootModel': {
      // The model this worker fetched at its start, loaded; its bytes go
      // back to the page (for the pool's helpers), transferred: Go has
      // copied them.
      if (!early) throw new Error('worker: bootModel: this worker was not started by boot.js (worker.js?boot=1)');
      const bytes = await early.model;
      // The first sample's fetch and decode finish first: its continuations
      // waited behind the model's load, and the first prediction came later
      // (BENCHMARKS.md). bootSample, next in the queue, awaits the same
      // sample; the wait is bounded so that on a slow network the model's
      // info is not held back by the sample's download.
      await Promise.race([early.sample.then((s) => s && s.image), new Promise((r) => setTimeout(r, sampleWait))]).catch(() => {});
      const info = await api.loadModel(new Uint8Array(bytes));
      startup.modelLoaded = Math.round(performance.now());
      return answer({ info, bytes, url: await early.url, builtin: await early.builtin, startup });
    }
    case 'bootSample': {
      // The first sample this worker fetched at its start, predicted, with
      // its file name and bytes; null with ?autorun=0 or no samples.
      if (!early) throw new Error('worker: bootSample: this worker was not started by boot.js (worker.js?boot=1)');
      const s = await early.sample;
      if (!s) return { result: null };
      const { result } = await predictImage(api, await s.image);
      startup.predicted = Math.round(performance.now());
      return answer({ file: s.file, bytes: s.bytes, prediction: result, startup });
    }
    case 'evaluate': {
      const kind = args[0] && args[0].sweep ? 'sweep' : 'metrics';
      const progress = (done, total) => {
        self.postMessage({ id, progress: [done, total] });
        return id > cancelBefore[kind];
      };
      if (id < cancelBefore[kind]) throw new Error(`worker: ${kind} cancelled`);
      return answer(await api.evaluate(args[0] || {}, progress));
    }
    case 'startup': return { result: startup };
    case 'memory': {
      const m = await api.memory(!!args[0]);
      m.wasmBytes = wasmMemory ? wasmMemory.buffer.byteLength : 0;
      m.kernels = kernelsInUse;
      m.startup = startup;
      return { result: m };
    }
  }
  if (!relayed.has(method)) throw new Error(`unknown method ${method}`);
  const progress = (done, total) => self.postMessage({ id, progress: [done, total] });
  return answer(await api[method](...args, progress));
}

// answer is a reply with the buffers of every typed array in result (Go
// made them for this answer) transferred, not copied.
function answer(result) {
  const buffers = new Set();
  const walk = (v, depth) => {
    if (!v || typeof v !== 'object' || depth > 4) return;
    if (ArrayBuffer.isView(v)) buffers.add(v.buffer);
    else if (v instanceof ArrayBuffer) buffers.add(v);
    else for (const k of Object.keys(v)) walk(v[k], depth + 1);
  };
  walk(result, 0);
  return { result, transfer: [...buffers] };
}

// predictImage classifies decoded pixels: the Prediction of api.d.ts.
async function predictImage(api, img) {
  try {
    const p = await api.predict(img.rows, img.width, img.height);
    p.source = [img.width, img.height];
    return answer(p);
  } finally {
    img.close();
  }
}

// Evaluate calls with a smaller id stop at their next forward pass: the
// metrics' and the completeness sweep's apart, so that cancelling one does
// not stop the other.
const cancelBefore = { metrics: 0, sweep: 0 };
let queue = Promise.resolve(); // the calls, one at a time: the Go side is not re-entrant

self.onmessage = (e) => {
  const { id, method, args } = e.data;
  if (method === 'cancel') {
    const kinds = args && args[0] ? [args[0]] : Object.keys(cancelBefore);
    for (const k of kinds) if (k in cancelBefore) cancelBefore[k] = Math.max(cancelBefore[k], id);
    self.postMessage({ id, result: true });
    return;
  }
  // Decode an image at once, not in its turn: the first one decodes while
  // worker.wasm compiles.
  const image = method === 'predict' ? decode((args || [])[0]) : null;
  if (image) image.catch(() => {}); // reported by its call
  queue = queue.then(async () => {
    try {
      const { result, transfer } = await Promise.race([call(id, method, args || [], image), scripts.then(() => mavisGoExit.gone)]);
      if (mavisGoExit.error()) throw mavisGoExit.error(); // Go ended inside the call: whatever it answered is not its result
      self.postMessage({ id, result }, transfer || []);
    } catch (err) {
      const e = (self.mavisGoExit && mavisGoExit.error()) || err;
      self.postMessage({ id, error: String((e && e.message) || e) });
    }
  });
};

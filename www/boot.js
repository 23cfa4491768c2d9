// boot.js starts everything the first prediction waits for, before the
// stylesheet is applied and app.js runs: the compute worker, the download
// and compilation of worker.wasm, the model file, the sample list and the
// first sample. It is a small classic script at the top of <head> (the CSP
// allows no inline script), so it runs as soon as the parser reaches it;
// app.js, a module that runs once the whole document is parsed, takes over
// through window.mavisBoot.
//
// The worker fetches and compiles worker.wasm itself, first thing. (The page
// compiling it and posting the module starts the compile earlier but was
// slower in each of 6 alternating cold loads, median 4.3 s against 2.6 s to
// the first prediction: the worker's own start waited for the page's
// compile; see BENCHMARKS.md.) The model is posted
// to the worker as soon as its bytes arrive, and the first sample right
// behind it: the worker queues both until Go is ready and decodes the image
// meanwhile, so the first prediction needs no round trip through the page.
//
// window.mavisBoot:
//   worker                the compute worker (worker.js)
//   rpc(method, args, onProgress, transfer) -> Promise   a call to the worker (api.d.ts)
//   fetchBytes(url) -> Promise<ArrayBuffer>              this site's files only, with clear errors
//   timings               [what, ms since navigation]: app.js adds its own
//   workerStartup         the worker's start-up stages (ms since navigation), once it answers
//   model: {url, bytes, info}   the model named by ?model= (else the default) and
//                         the worker's answer to loading it (Promise<ModelInfo>)
//   samples               Promise<Sample[]>: samples/index.json ([] when missing)
//   first                 Promise<{blob, name, prediction} | null>: the first sample
//                         and the worker's prediction of it (null with ?autorun=0)
'use strict';
(() => {
  const timings = [];
  const mark = (what) => timings.push([what, Math.round(performance.now())]);
  mark('boot');
  const params = new URLSearchParams(location.search);
  const defaultModel = 'models/fashion.safetensors';
  const modelURL = params.get('model') || defaultModel;
  const autorun = params.get('autorun') !== '0';

  // The worker, with a promise per call and progress by id.
  const worker = new Worker('worker.js');
  let nextID = 1;
  const calls = new Map();
  worker.onmessage = (e) => {
    const { id, result, error, progress } = e.data;
    const c = calls.get(id);
    if (!c) return;
    if (progress) { if (c.onProgress) c.onProgress(progress[0], progress[1]); return; }
    calls.delete(id);
    if (error !== undefined) c.reject(new Error(error)); else c.resolve(result);
  };
  worker.onerror = (e) => {
    const err = new Error(e.message || 'the compute worker failed to start');
    for (const c of calls.values()) c.reject(err);
    calls.clear();
  };
  function rpc(method, args = [], onProgress = null, transfer = []) {
    return new Promise((resolve, reject) => {
      const id = nextID++;
      calls.set(id, { resolve, reject, onProgress });
      worker.postMessage({ id, method, args }, transfer);
    });
  }

  async function fetchBytes(url) {
    let resp;
    try {
      resp = await fetch(url);
    } catch (e) {
      throw new Error(`could not fetch ${url} (${e.message}); only this site's own files can be loaded`);
    }
    if (!resp.ok) throw new Error(`could not fetch ${url}: HTTP ${resp.status}`);
    return resp.arrayBuffer();
  }

  const boot = {
    worker, rpc, fetchBytes, timings, workerStartup: null,
    model: { url: modelURL, bytes: null, info: null },
    samples: null, first: null,
  };

  // The first answer tells when Go is ready (calls run in order).
  rpc('memory').then((m) => {
    mark('worker ready');
    const at = Math.round(m.startup.created - performance.timeOrigin);
    boot.workerStartup = { created: at };
    for (const k of ['compiled', 'ready']) if (m.startup[k] !== undefined) boot.workerStartup[k] = at + m.startup[k];
  }, () => {});

  // The model: posted as soon as its bytes arrive, not transferred (app.js
  // keeps them for the worker pool).
  boot.model.bytes = fetchBytes(modelURL);
  boot.model.info = boot.model.bytes.then((b) => rpc('loadModel', [b]));
  boot.model.info.catch(() => {}); // app.js reports it

  boot.samples = fetch('samples/index.json')
    .then((r) => (r.ok ? r.json() : []))
    .then((list) => (Array.isArray(list) ? list.map((s) => (typeof s === 'string' ? { file: s } : s)) : []))
    .catch(() => []);

  // The first sample, predicted right behind the model (never before it:
  // the worker answers in order, and a predict before the model would fail).
  if (autorun) {
    boot.first = Promise.all([boot.model.bytes, boot.samples.then((list) =>
      (list.length ? fetchBytes(`samples/${list[0].file}`).then((b) => ({ blob: new Blob([b]), name: list[0].file })) : null))])
      .then(([, img]) => img && { ...img, prediction: rpc('predict', [img.blob]) })
      .catch(() => null);
  } else {
    boot.first = Promise.resolve(null);
  }
  boot.first.then((f) => f && f.prediction.catch(() => {}));

  window.mavisBoot = boot;
})();

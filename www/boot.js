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
// compile; see BENCHMARKS.md.) The worker also fetches the built-in models
// index (models/index.json), the model (named in its URL,
// worker.js?boot=1&model=..., else the index's first) and the first sample of
// that model's samples index itself, and decodes the sample while the wasm
// compiles: the page's thread is busy
// parsing and running app.js until about 1 s into a cold load, and when
// boot.js relayed these files, its continuations waited for it (in one probe
// load the sample reached the worker after the model had loaded, putting its
// decode back on the way). The page only receives the answers: the model's
// info and bytes (bootModel) and the first prediction (bootSample).
//
// window.mavisBoot:
//   worker                the compute worker (worker.js)
//   rpc(method, args, onProgress, transfer) -> Promise   a call to the worker (api.d.ts)
//   onGoExit(why)         set by compute.js: the worker's Go program ended (its calls
//                         are answered with why)
//   restart()             a new worker, without a model, in place of the old one
//   fetchBytes(url) -> Promise<ArrayBuffer>              this site's files only, with clear errors
//   models                Promise<BuiltinModel[]>: models/index.json, the built-in models
//                         (the first is the default), for the model picker
//   timings               [what, ms since navigation]: app.js adds its own
//   engine                Promise of the worker's start-up stages, once its Go program is
//                         ready; it rejects with why the compute engine did not start (a
//                         script or worker.wasm missing, say): every call then fails alike
//   workerStartup         the worker's start-up stages (ms since navigation), once it answers
//                         (worker.js's startup method), updated by bootModel and bootSample
//   model: {url, bytes, info, builtin}   the model named by ?model= (else the default):
//                         Promise<string> of its URL, Promise<ArrayBuffer> of its file,
//                         Promise<ModelInfo> and Promise<BuiltinModel | null> (its
//                         models/index.json entry: its samples, card, licence), all from
//                         the worker, which fetched and loaded it
//   first                 Promise<{blob, name, prediction} | null>: the first sample
//                         and the worker's prediction of it (null with ?autorun=0,
//                         or when the worker could not fetch or predict it: app.js
//                         then tries again itself and shows the error)
'use strict';
(() => {
  const timings = [];
  const mark = (what) => timings.push([what, Math.round(performance.now())]);
  mark('boot');
  const params = new URLSearchParams(location.search);
  const autorun = params.get('autorun') !== '0';

  // The worker, with a promise per call and progress by id. Once its Go
  // program has ended (goexit.js posts {goExit: why}: out of memory, say),
  // its calls are answered with why, and restart() gives a new worker.
  const query = { boot: '1', autorun: autorun ? '1' : '0' };
  if (params.get('model')) query.model = params.get('model');
  let worker = null;
  let nextID = 1;
  const calls = new Map();
  const fail = (err) => {
    for (const c of calls.values()) c.reject(err);
    calls.clear();
  };
  function start(url) {
    worker = new Worker(url);
    worker.onmessage = (e) => {
      const { id, result, error, progress, goExit } = e.data;
      if (goExit !== undefined) {
        fail(new Error(goExit));
        if (boot.onGoExit) boot.onGoExit(goExit);
        return;
      }
      const c = calls.get(id);
      if (!c) return;
      if (progress) { if (c.onProgress) c.onProgress(progress[0], progress[1]); return; }
      calls.delete(id);
      if (error !== undefined) c.reject(new Error(error)); else c.resolve(result);
    };
    worker.onerror = (e) => fail(new Error(e.message || 'the compute worker failed to start'));
    return worker;
  }
  start(`worker.js?${new URLSearchParams(query)}`);
  function rpc(method, args = [], onProgress = null, transfer = []) {
    return new Promise((resolve, reject) => {
      const id = nextID++;
      calls.set(id, { resolve, reject, onProgress });
      worker.postMessage({ id, method, args }, transfer);
    });
  }
  // restart replaces the worker with a new one, without a model.
  function restart() {
    worker.terminate();
    fail(new Error('the compute worker was restarted'));
    boot.worker = start('worker.js');
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
    worker, rpc, restart, onGoExit: null, fetchBytes, timings, engine: null, workerStartup: null, models: null,
    model: { url: null, bytes: null, info: null, builtin: null },
    first: null,
  };

  // The worker's start-up stages, in ms since navigation.
  const stages = (s) => {
    const at = Math.round(s.created - performance.timeOrigin);
    boot.workerStartup = { created: at };
    for (const k of Object.keys(s)) if (k !== 'created') boot.workerStartup[k] = at + s[k];
  };
  // The first answer tells when Go is ready (calls run in order; worker.js
  // answers this one without calling Go).
  boot.engine = rpc('startup');
  boot.engine.then((s) => { mark('worker ready'); stages(s); }, () => {});

  // The model and the first sample: the worker fetched both at its start;
  // these calls collect its answers (calls run in order: the model first).
  const loaded = rpc('bootModel');
  loaded.then((r) => stages(r.startup), () => {});
  loaded.catch(() => {}); // app.js reports it
  boot.model.bytes = loaded.then((r) => r.bytes);
  boot.model.info = loaded.then((r) => r.info);
  boot.model.url = loaded.then((r) => r.url, () => params.get('model') || 'named first in models/index.json'); // "Could not load the model …"
  boot.model.builtin = loaded.then((r) => r.builtin, () => null);
  boot.model.info.catch(() => {}); // app.js awaits the bytes first, and reports their error

  // The built-in models, for the picker ([] when the index cannot be read:
  // the worker's bootModel reports why).
  boot.models = fetch('models/index.json')
    .then((r) => (r.ok ? r.json() : []))
    .then((list) => (Array.isArray(list) ? list : []))
    .catch(() => []);

  boot.first = autorun
    ? rpc('bootSample').then((r) => r && (stages(r.startup), { blob: new Blob([r.bytes]), name: r.file, prediction: Promise.resolve(r.prediction) }), () => null)
    : Promise.resolve(null);

  // index.html's module, bundle/app.js (./build.sh bundles app.js and its
  // modules into it), shows every other error; when it cannot load, say
  // so here. A script's load error does not bubble: caught on its way down.
  addEventListener('error', (e) => {
    if (!(e.target instanceof HTMLScriptElement) || e.target.type !== 'module') return;
    const say = () => {
      document.getElementById('error-text').textContent = `The page's script ${e.target.getAttribute('src')} did not load. ` +
        'If you serve www/ yourself, build the page first with ./build.sh (it bundles app.js and its modules), then reload.';
      const box = document.getElementById('error');
      box.hidden = false;
      document.getElementById('error-close').addEventListener('click', () => { box.hidden = true; }); // app.js's own is missing
    };
    if (document.readyState === 'loading') addEventListener('DOMContentLoaded', say); else say();
  }, true);

  window.mavisBoot = boot;
})();

// pool.js splits a method across Web Workers (issue 6): any method the
// registry can split (MethodInfo.split: Integrated Gradients today). The
// method's evaluations are cut into ranges (splitRanges) that the workers
// take one at a time, each as soon as it is free: the page's own compute
// worker (the main worker) the first range, then the next not taken;
// helpers, defaultWorkers() - 1 more copies of worker.js started the first
// time a split method runs, each with its own copy of the model, from the
// moment they hold the model. The main worker adds the partial sums and
// answers as 'explain' does. The faithfulness metrics ('evaluate') are
// split across the same workers by method, taken the same way. All the
// math is Go's (wasm/worker/pool.go); this module only starts workers and
// moves typed arrays. Contracts: api.d.ts (WorkerRequest splitPlan, splitPart,
// splitCombine, evalPlan, evalInstall, evalCombine; EvaluateOptions.methods).

// maxWorkers bounds the pool, main worker included: memory grows with it
// (a worker holds about 165 MB of wasm memory once it has explained and
// scored a 224x224 MAVIS image).
const maxWorkers = 4;

// defaultWorkers is the pool's size when the page does not set one:
// min(hardwareConcurrency, 4), and at most one worker per 2 GB of memory
// where the browser says how much the device has (navigator.deviceMemory,
// Chromium's rounded figure), so that a phone is not filled by copies of
// the model.
export function defaultWorkers(nav = navigator) {
  let n = Math.min(nav.hardwareConcurrency || 1, maxWorkers);
  if (nav.deviceMemory > 0) n = Math.min(n, Math.max(1, Math.floor(nav.deviceMemory / 2)));
  return n;
}

// splitRanges cuts n evaluations for a pool of workers into ranges,
// largest first: each half of what is left per worker (rounded up), at
// least 2, so that the workers end close together even when one is slower
// (a phone's little core, a laptop's efficiency core, a core the machine
// gives to something else): a slow worker takes fewer ranges, and the last
// ones are short. It returns the bounds: range i is [b[i], b[i+1]). They
// depend on n and workers only, never on which worker computes a range, so
// a pool of a given size gives the same map, bit for bit, on every run. (One
// range per worker left the run to its slowest: www/BENCHMARKS.md.)
export function splitRanges(n, workers) {
  const b = [0];
  while (b[b.length - 1] < n) {
    const left = n - b[b.length - 1];
    b.push(b[b.length - 1] + Math.min(left, Math.max(2, Math.ceil(left / (2 * workers)))));
  }
  return b;
}

// A helper: a worker.js of its own, with a promise per call.
class Helper {
  constructor() {
    this.worker = new Worker('worker.js');
    this.nextID = 1;
    this.calls = new Map();
    this.dead = null;    // the error that killed it
    this.model = 0;      // the model version it holds or is loading
    this.loaded = null;  // that load: a promise of this helper
    this.worker.onmessage = (e) => {
      const { id, result, error, progress } = e.data;
      const c = this.calls.get(id);
      if (!c) return;
      if (progress) { if (c.onProgress) c.onProgress(progress[0], progress[1]); return; }
      this.calls.delete(id);
      if (error !== undefined) c.reject(new Error(error)); else c.resolve(result);
    };
    this.worker.onerror = (e) => {
      e.preventDefault();
      this.kill(new Error(e.message || 'a helper worker failed'));
    };
  }

  rpc(method, args = [], onProgress = null, transfer = []) {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      const id = this.nextID++;
      this.calls.set(id, { resolve, reject, onProgress });
      this.worker.postMessage({ id, method, args }, transfer);
    });
  }

  kill(err) {
    this.dead = this.dead || err;
    this.worker.terminate();
    for (const c of this.calls.values()) c.reject(this.dead);
    this.calls.clear();
  }
}

export class Pool {
  // rpc calls the main worker (app.js's rpc). workers is the pool's size,
  // main worker included (default: defaultWorkers()).
  constructor(rpc, workers = defaultWorkers()) {
    this.rpc = rpc;
    this.size = Math.max(1, Math.min(workers, maxWorkers));
    this.helpers = [];
    this.model = null;   // the current model file (ArrayBuffer)
    this.version = 0;    // bumps with every model
    this.broken = '';    // why the pool fell back to one worker for this model ('' when fine)
    this.runs = 0;       // split runs started: for the tests
    this.evalRun = 0;    // bumps with every evaluate and cancel
    this.evalHelpers = []; // the helpers of the running evaluate
    this.lastSplit = null; // the last split evaluate's tasks taken by the main worker and the helpers
    this.evalMS = {};      // each method's last metrics time (ms in its worker), to take the costliest first
    this.lastRanges = null; // the last split explain's bounds, and the ranges the main worker and the helpers took
  }

  // setModel gives the pool the model file the main worker loaded (a copy the
  // pool keeps). Helpers reload it the next time they are needed.
  setModel(bytes) {
    this.model = bytes;
    this.version++;
    this.broken = '';
    this.evalMS = {};
  }

  // warm starts the helpers and loads the model into them ahead of the
  // first split method (app.js calls it once the first prediction is shown).
  warm() {
    if (this.size > 1 && this.model && !this.broken) this.helpersReady().catch(() => {});
  }

  // helperLoads starts the helpers that are missing and loads the current
  // model into each (once per model): a promise per helper, of the helper
  // once it holds the model (a helper that fails to load is dropped).
  helperLoads() {
    for (const h of this.helpers) if (h.dead) this.drop(h, h.dead); // died since the last run
    this.helpers = this.helpers.filter((h) => !h.dead);
    if (this.broken) return [];
    while (this.helpers.length < this.size - 1) this.helpers.push(new Helper());
    const v = this.version;
    return this.helpers.map((h) => {
      if (h.model !== v) {
        h.model = v;
        h.loaded = h.rpc('loadModel', [this.model.slice(0)]).then(() => h, (e) => { this.drop(h, e); throw e; });
        h.loaded.catch(() => {}); // whoever waits for it hears why
      }
      return h.loaded;
    });
  }

  // helpersReady resolves to the helpers that hold the current model.
  async helpersReady() {
    const res = await Promise.allSettled(this.helperLoads());
    this.helpers = this.helpers.filter((h) => !h.dead);
    return res.filter((r) => r.status === 'fulfilled').map((r) => r.value);
  }

  drop(h, err) {
    h.kill(err);
    this.broken = `a helper worker failed (${err.message}); the page computes in one worker until the next model`;
    console.warn(`pool: ${this.broken}`);
  }

  // turns runs the k tasks of a split run: the main worker task 0 at once,
  // then every worker the next task not taken whenever it is free, a helper
  // from when its promise in ready resolves (to the helper), so that a
  // slower worker takes fewer. run(i, rpc) runs task i through rpc (the main
  // worker's or a helper's). A helper whose task fails is dropped and leaves
  // it to the main worker. No task starts once stale() is true or a task of
  // the main worker failed. It resolves to the tasks' results; log gets who
  // ran which ({main, helpers}: task indices).
  async turns(k, ready, run, stale, log) {
    const live = () => { if (stale()) throw new Error('cancelled: the run is over'); };
    const out = new Array(k).fill(null);
    let next = 1; // the first task no worker has taken
    let failed = false; // a task of the main worker failed: the run is over
    const own = (i) => { log.main.push(i); return run(i, this.rpc); };
    const helper = async (h) => {
      while (next < k && !stale() && !failed && !h.dead) {
        const i = next++;
        log.helpers.push(i);
        let dropped = false;
        out[i] = run(i, (...a) => h.rpc(...a)).catch((e) => {
          live(); // a cancelled task is not a failed helper
          dropped = true;
          this.drop(h, e);
          return own(i); // the main worker's, then
        });
        await out[i].catch(() => {}); // heard by the run, unless it went stale first
        if (dropped) return;
      }
    };
    for (const r of ready) r.then(helper, () => {});
    const main = async () => {
      await (out[0] = own(0));
      while (next < k) { // the main worker, free: the next task
        live();
        const i = next++;
        await (out[i] = own(i));
      }
    };
    await main().catch((e) => { failed = true; throw e; });
    return Promise.all(out);
  }

  // explain computes a splittable method with options o for the main
  // worker's current image, as rpc('explain', [o]) does, split across the
  // pool in the ranges of splitRanges taken in turns, a helper from when it
  // holds the model: a helper still starting (one more engine to compile
  // and a model to load) does not hold the run back. onProgress(done, total)
  // sums the ranges' progress; stale() returning true (the image or model
  // changed) drops the run.
  async explain(o, onProgress = null, stale = () => false) {
    this.runs++;
    if (this.size < 2 || !this.model || this.broken) return this.rpc('explain', [o], onProgress);
    const loads = this.helperLoads(); // they load while the main worker plans and computes
    if (this.broken) return this.rpc('explain', [o], onProgress); // a helper died since the last run
    // A run gone stale does nothing more: the main worker is wanted for the
    // new image's maps.
    const live = () => { if (stale()) throw new Error('cancelled: the image or model changed'); };
    live();
    const plan = await this.rpc('splitPlan', [o]);
    live();
    const n = plan.evaluations;
    const bounds = splitRanges(n, this.size);
    const k = bounds.length - 1;
    const done = new Array(k).fill(0);
    const progress = (i) => (d) => {
      done[i] = d;
      if (onProgress) onProgress(done.reduce((a, b) => a + b, 0), n);
    };
    // The other ranges explain the class the main worker predicted, when o
    // asks for the predicted class: the same class, which a helper would
    // otherwise find by predicting x again (a forward pass).
    const ho = !(o.class >= 0) && plan.class >= 0 ? { ...o, class: plan.class } : o;
    this.lastRanges = { bounds, main: [], helpers: [] }; // who took which range: for the tests
    const take = (i, rpc) => { // range 0 is the main worker's own part of x
      const x = i ? plan.input.slice() : null;
      return rpc('splitPart', [x, i ? ho : o, bounds[i], bounds[i + 1]], progress(i), x ? [x.buffer] : []);
    };
    const got = (await this.turns(k, loads, take, stale, this.lastRanges)).slice(1);
    live();
    return this.rpc('splitCombine', [o, got], null, got.map((p) => p.sum.buffer));
  }

  // evaluate computes the faithfulness metrics of the main worker's kept
  // maps, as rpc('evaluate', [o], onProgress) does, split by method in
  // turns (EvaluateOptions.methods: one each), the main worker at once, a
  // helper from when it holds the model, the maps and the input
  // (evalInstall), the costliest first by the last run's times: a map's
  // cost depends on its method, and a core can slow down. The main worker
  // merges and ranks (evalCombine), unless its maps changed meanwhile.
  // cancel() stops it.
  async evaluate(o, onProgress = null) {
    const one = () => this.rpc('evaluate', [o], onProgress);
    if (this.size < 2 || !this.model || this.broken) return one();
    const run = ++this.evalRun;
    const loads = this.helperLoads(); // they load while the main worker starts
    if (this.broken) return one(); // a helper died since the last run
    // Cancelled meanwhile: post nothing more (the cancel has gone out).
    const live = () => { if (run !== this.evalRun) throw new Error('worker: metrics cancelled'); };
    const plan = await this.rpc('evalPlan');
    live();
    const cost = (method) => this.evalMS[method] || 0;
    const methods = plan.maps.map((e) => e.method).sort((a, b) => cost(b) - cost(a));
    const m = methods.length;
    if (m < 2) return one();
    const done = new Array(m).fill(0);
    let per = 0; // each method's total: the same for every method
    const progress = (i) => (d, n) => {
      done[i] = d;
      per = n;
      if (onProgress) onProgress(done.reduce((a, b) => a + b, 0), per * m);
      return run === this.evalRun;
    };
    this.evalHelpers = this.helpers.slice(0, m - 1);
    const ready = loads.slice(0, m - 1).map((load) => load.then((h) => {
      const x = plan.input.slice();
      const maps = plan.maps.map((e) => ({ ...e, map: e.map.slice() }));
      return h.rpc('evalInstall', [x, maps], null, [x.buffer, ...maps.map((e) => e.map.buffer)])
        .then(() => h, (e) => { this.drop(h, e); throw e; });
    }));
    this.lastSplit = { methods, main: [], helpers: [] }; // the tasks' methods, and who took which: for the tests
    const evaluate = (i, rpc) => rpc('evaluate', [{ ...o, methods: [methods[i]] }], progress(i));
    let results;
    try {
      results = await this.turns(m, ready, evaluate, () => run !== this.evalRun, this.lastSplit);
    } catch (e) {
      if (/cancelled/.test(e.message) || run !== this.evalRun) throw new Error('worker: metrics cancelled');
      throw e;
    }
    for (const r of results) this.evalMS[r.methods[0].method] = r.methods[0].ms;
    return this.rpc('evalCombine', [o, results.map((r) => r.methods[0]), plan.version]);
  }

  // cancel stops the running evaluate's shares on the helpers (app.js
  // cancels the main worker's itself).
  cancel() {
    this.evalRun++;
    for (const h of this.evalHelpers) if (!h.dead) h.rpc('cancel').catch(() => {});
    this.evalHelpers = [];
  }

  // terminate stops every helper (they restart the next time they are needed).
  terminate() {
    for (const h of this.helpers) h.kill(new Error('the pool was stopped'));
    this.helpers = [];
  }
}

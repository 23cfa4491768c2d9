// pool.js splits a method across Web Workers (issue 6): any method the
// registry can split (MethodInfo.split: Integrated Gradients today). The
// page's own compute worker (the main worker) computes the first range of
// the method's evaluations; helpers, defaultWorkers() - 1 more copies of
// worker.js started the first time a split method runs, each with its own
// copy of the model, compute the others (a range whose helper is still
// starting when the main worker is free goes to the main worker). The main
// worker adds the partial sums and answers as 'explain' does. The
// faithfulness metrics ('evaluate') are split the same way, by method. All the math is Go's
// (wasm/worker/pool.go); this module only starts workers and moves typed
// arrays. Contracts: api.d.ts (WorkerRequest splitPlan, splitPart,
// splitCombine, evalPlan, evalInstall, evalOnly, evalCombine).

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
    this.lastSplit = null; // the methods' bounds of the last split evaluate
  }

  // setModel gives the pool the model file the main worker loaded (a copy the
  // pool keeps). Helpers reload it the next time they are needed.
  setModel(bytes) {
    this.model = bytes;
    this.version++;
    this.broken = '';
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

  // explain computes a splittable method with options o for the main
  // worker's current image, as rpc('explain', [o]) does, split across the
  // pool: one range of the evaluations per worker. The main worker starts
  // on the first range at once. Each other range goes to its helper as
  // soon as the helper holds the model, or to the main worker once it is
  // free, whichever comes first: a helper still starting (the first split
  // method after a load: one more engine to compile and a model to load)
  // does not hold the run back. The ranges do not depend on who computes
  // them, so the map is bitwise the same either way. A helper that fails
  // leaves its range to the main worker. onProgress(done, total) sums the
  // ranges' progress; stale() returning true (the image or model changed)
  // drops the run.
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
    const k = Math.max(1, Math.min(this.size, n));
    const bounds = Array.from({ length: k + 1 }, (_, i) => Math.round((i * n) / k));
    const done = new Array(k).fill(0);
    const progress = (i) => (d) => {
      done[i] = d;
      if (onProgress) onProgress(done.reduce((a, b) => a + b, 0), n);
    };
    // The other ranges explain the class the main worker predicted, when o
    // asks for the predicted class: the same class, which a helper would
    // otherwise find by predicting x again (a forward pass).
    const ho = !(o.class >= 0) && plan.class >= 0 ? { ...o, class: plan.class } : o;
    const parts = new Array(k).fill(null); // ranges 1..k-1: promises of their parts, once taken
    const take = (i, rpc) => {
      const x = plan.input.slice();
      return rpc('splitPart', [x, ho, bounds[i], bounds[i + 1]], progress(i), [x.buffer]);
    };
    for (let i = 1; i < k; i++) {
      (loads[i - 1] || Promise.reject(new Error('no helper'))).then((h) => {
        if (parts[i] || stale()) return;
        parts[i] = take(i, (...a) => h.rpc(...a)).catch((e) => {
          this.drop(h, e);
          live();
          return take(i, this.rpc); // the main worker's, then
        });
        parts[i].catch(() => {}); // heard by the run, unless it went stale first
      }, () => {});
    }
    await this.rpc('splitPart', [null, o, 0, bounds[1]], progress(0));
    for (let i = k - 1; i >= 1; i--) { // the main worker, free: the ranges not taken, one at a time
      live();
      if (!parts[i]) await (parts[i] = take(i, this.rpc));
    }
    const got = await Promise.all(parts.slice(1));
    live();
    return this.rpc('splitCombine', [o, got], null, got.map((p) => p.sum.buffer));
  }

  // evaluate computes the faithfulness metrics of the main worker's kept
  // maps, as rpc('evaluate', [o], onProgress) does, split by method: the
  // main worker keeps the first methods (evalOnly), each helper gets the
  // maps and the input of the others (evalInstall), all run the usual
  // evaluate, and the main worker merges and ranks (evalCombine). cancel()
  // stops every share. A helper that fails sends the work back to the main
  // worker alone.
  async evaluate(o, onProgress = null) {
    const one = () => this.rpc('evaluate', [o], onProgress);
    if (this.size < 2 || !this.model || this.broken) return one();
    const run = ++this.evalRun;
    let helpers;
    try {
      helpers = await this.helpersReady();
    } catch (e) {
      helpers = [];
    }
    // Cancelled meanwhile: post nothing more (the cancel has gone out).
    const live = () => { if (run !== this.evalRun) throw new Error('worker: metrics cancelled'); };
    live();
    if (!helpers.length) return one();
    const plan = await this.rpc('evalPlan');
    live();
    const m = plan.maps.length;
    const k = Math.min(helpers.length + 1, m);
    if (k < 2) return one();
    const bounds = Array.from({ length: k + 1 }, (_, i) => Math.round((i * m) / k));
    const done = new Array(k).fill(0);
    const total = new Array(k).fill(0);
    const progress = (i) => (d, n) => {
      done[i] = d;
      total[i] = n;
      if (onProgress) onProgress(done.reduce((a, b) => a + b, 0), total.reduce((a, b) => a + b, 0));
      return run === this.evalRun;
    };
    this.evalHelpers = helpers.slice(0, k - 1);
    this.lastSplit = bounds; // for the tests
    const shares = this.evalHelpers.map((h, i) => {
      const x = plan.input.slice();
      const maps = plan.maps.slice(bounds[i + 1], bounds[i + 2]);
      return h.rpc('evalInstall', [x, maps], null, [x.buffer, ...maps.map((e) => e.map.buffer)])
        .then(() => { live(); return h.rpc('evaluate', [o], progress(i + 1)); })
        .catch((e) => {
          if (!/cancelled/.test(e.message)) this.drop(h, e);
          throw e;
        });
    });
    const own = this.rpc('evalOnly', [plan.maps.slice(0, bounds[1]).map((e) => e.method), run])
      .then(() => { live(); return this.rpc('evaluate', [o], progress(0)); });
    let results;
    try {
      results = await Promise.all([own, ...shares]);
    } catch (e) {
      await Promise.allSettled([own, ...shares]);
      await this.rpc('evalCombine', [o, [], run]).catch(() => {}); // gives the main worker its maps back (unless a newer run began)
      if (/cancelled/.test(e.message) || run !== this.evalRun) throw new Error('worker: metrics cancelled');
      if (this.broken) return one();
      throw e;
    }
    return this.rpc('evalCombine', [o, results.flatMap((r) => r.methods), run]);
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

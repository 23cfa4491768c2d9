// compute.js: the page's compute workers. The main worker is the one
// boot.js started; the pool (pool.js) adds helpers the first time a method
// the registry can split (MethodInfo.split) runs, and then splits the
// faithfulness metrics across them too. Contracts: api.d.ts.

// maxRestarts bounds the main worker's restarts in a page (see restart).
const maxRestarts = 3;

export class Compute {
  // boot is window.mavisBoot; workers the pool's size (?workers=N; 0: the
  // pool's default); onRestart(err, why) hears of each restart (see restart).
  constructor(boot, workers = 0, onRestart = () => {}) {
    this.boot = boot;
    this.workers = workers;
    this.pool = null;  // created when a split method first runs, not on the way to the first prediction
    this.model = null; // a copy of the current model file, for the pool's helpers (and a restart)
    this.restarts = 0;
    if (boot) boot.onGoExit = (why) => this.restart(why, onRestart);
  }

  // restart replaces the main worker once its Go program has ended (out of
  // memory, say), with the current model loaded, so that the person can go
  // on without reloading the page; what the old worker held (the image, its
  // maps) is gone. onRestart(null, why) once the new worker holds the model, or
  // onRestart(err) when it could not be started (or the engine stopped
  // maxRestarts times already, so that a page whose engine keeps stopping
  // asks for a reload instead of trying again and again).
  async restart(why, onRestart) {
    if (++this.restarts > maxRestarts) {
      onRestart(new Error(`${why} It stopped ${maxRestarts} times already: reload the page to start it again.`));
      return;
    }
    this.boot.restart();
    try {
      if (this.model) await this.rpc('loadModel', [this.model.slice(0)]);
      onRestart(null, why);
    } catch (e) {
      onRestart(new Error(`the compute engine could not be started again (${e.message}): reload the page.`));
    }
  }

  rpc(method, args = [], onProgress = null, transfer = []) {
    if (!this.boot) return Promise.reject(new Error('boot.js did not run, so there is no compute worker; reload the page'));
    return this.boot.rpc(method, args, onProgress, transfer);
  }

  // setModel keeps a copy of the model file the main worker loaded, for the
  // pool's helpers.
  setModel(bytes) {
    this.model = bytes;
    if (this.pool) this.pool.setModel(bytes);
  }

  // startPool loads pool.js, gives the pool the current model and starts
  // its helpers.
  async startPool() {
    if (!this.pool) {
      const { Pool } = await import('./pool.js');
      if (!this.pool) {
        this.pool = this.workers >= 1 ? new Pool((...a) => this.rpc(...a), this.workers) : new Pool((...a) => this.rpc(...a));
        this.pool.setModel(this.model);
      }
    }
    if (this.pool.model !== this.model) this.pool.setModel(this.model);
    this.pool.warm();
  }

  // explain is rpc('explain', [o]) for method (its MethodInfo), split
  // across the pool when the method allows; stale() returning true drops a
  // split run (the image or model changed).
  async explain(o, method, onProgress = null, stale = () => false) {
    if (!method || !method.split) return this.rpc('explain', [o], onProgress);
    await this.startPool();
    return this.pool.explain(o, onProgress, stale);
  }

  // evaluate is rpc('evaluate', [o]), split by method across the pool once
  // it exists.
  evaluate(o, onProgress) {
    return this.pool ? this.pool.evaluate(o, onProgress) : this.rpc('evaluate', [o], onProgress);
  }

  // cancel stops the faithfulness metrics' evaluate calls (not a
  // completeness sweep's: sweep.js cancels its own).
  cancel() {
    if (this.boot) this.rpc('cancel', ['metrics']).catch(() => {});
    if (this.pool) this.pool.cancel();
  }
}

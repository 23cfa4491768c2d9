// sweep.js: "Find settings that add up" on a map card whose completeness
// check fails (Check.sweep: Integrated Gradients). It asks the main worker
// to measure the gap on this image for other rules, step counts and
// baselines (evaluate with EvaluateOptions.sweep: xai.CompletenessSweep),
// with progress and cancel, shows the gap at each step count, the advice,
// and a button that applies the recommended settings and explains again.
// The numbers, the advice and the settings are the worker's.

import { duration, percent } from './format.js';

export class Sweep {
  // compute is compute.js's; onUse(method, values) applies a method's
  // options and explains again; stale() is true once the image or model
  // changed.
  constructor({ compute, onUse }) {
    Object.assign(this, { compute, onUse });
    this.running = null; // {cancelled} of the sweep under way
  }

  // offer adds the button to card (a map card), after its check line,
  // for the explanation asked with options.
  offer(card, after, options, stale) {
    const box = document.createElement('div');
    box.className = 'sweep small';
    const go = document.createElement('button');
    go.type = 'button';
    go.className = 'sweep-run';
    go.textContent = 'Find settings that add up';
    go.title = 'Measure the gap on this image for other integration rules, step counts and baselines (a few times this map\'s time), and say what helps.';
    box.append(go);
    after.after(box);
    go.addEventListener('click', () => this.run(box, options, stale));
  }

  async run(box, options, stale) {
    if (this.running) return;
    const status = document.createElement('p');
    status.className = 'muted';
    const bar = document.createElement('progress');
    bar.max = 1;
    bar.value = 0;
    bar.setAttribute('aria-label', 'Sweep progress');
    const cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.textContent = 'Cancel';
    box.replaceChildren(status, bar, cancel);
    box.dataset.state = 'running';
    status.textContent = 'Waiting for the worker (the faithfulness metrics run first)…';
    const run = { cancelled: false };
    this.running = run;
    // The worker's cancel of sweeps stops this one, running or queued, and
    // not the faithfulness metrics.
    cancel.addEventListener('click', () => {
      run.cancelled = true;
      cancel.disabled = true;
      status.textContent = 'Cancelling…';
      this.compute.rpc('cancel', ['sweep']).catch(() => {});
    });
    const t0 = performance.now();
    const onProgress = (done, total) => {
      if (run.cancelled) return;
      bar.value = total ? done / total : 0;
      status.textContent = `Measuring: ${done} of ${total} gradients`;
    };
    try {
      const r = await this.compute.rpc('evaluate', [{ sweep: options }], onProgress);
      if (stale()) return;
      if (run.cancelled) throw new Error('cancelled'); // it finished before the cancel reached it
      this.show(box, r, options, performance.now() - t0);
    } catch (e) {
      if (stale()) return;
      const again = document.createElement('button');
      again.type = 'button';
      again.textContent = 'Find settings that add up';
      again.addEventListener('click', () => this.run(box, options, stale));
      const p = document.createElement('p');
      p.className = /cancelled/.test(e.message) ? 'muted' : 'warn';
      p.textContent = /cancelled/.test(e.message) ? 'Cancelled.' : `The sweep failed: ${e.message}`;
      box.replaceChildren(p, again);
      box.dataset.state = /cancelled/.test(e.message) ? 'cancelled' : 'error';
    } finally {
      if (this.running === run) this.running = null;
    }
  }

  // show writes the sweep's answer r: the gap per baseline and rule at
  // each step count, the advice, and the button that applies it.
  show(box, r, options, waited) {
    const table = document.createElement('table');
    table.className = 'sweep-table';
    const steps = [...new Set(r.trials.filter((g) => g.rule !== 'gauss-legendre').map((g) => g.steps))].sort((a, b) => a - b);
    const head = table.createTHead().insertRow();
    for (const h of ['Baseline · rule', ...steps.map((s) => `${s} steps`)]) {
      const th = document.createElement('th');
      th.textContent = h;
      head.append(th);
    }
    const body = table.createTBody();
    const rows = new Map();
    for (const g of r.trials) {
      // A row per baseline and rule, a column per step count; a
      // Gauss–Legendre rule (its own node counts) spans the columns.
      const gl = !steps.includes(g.steps) || g.rule === 'gauss-legendre';
      const key = gl ? `${g.baseline}|${g.rule}|${g.steps}` : `${g.baseline}|${g.rule}`;
      let row = rows.get(key);
      if (!row) {
        row = body.insertRow();
        // Baseline and rule in one cell that wraps, so that the table
        // fits a phone's card.
        row.insertCell().textContent = `${g.baseline} · ${gl ? `${g.rule}, ${g.steps} steps` : g.rule}`;
        if (gl) row.insertCell().colSpan = steps.length;
        else for (let k = 0; k < steps.length; k++) row.insertCell();
        rows.set(key, row);
      }
      const cell = row.cells[gl ? 1 : 1 + steps.indexOf(g.steps)];
      if (gl) cell.style.textAlign = 'left';
      cell.textContent = g.flat ? '–' : `${g.rel > 0 ? '+' : ''}${percent(g.rel)}`;
      cell.title = g.flat ? 'this baseline scores as the image does: its gap says nothing' :
        `Σ attributions ${g.sum.toPrecision(4)} for a score change of ${g.want.toPrecision(4)}`;
      cell.className = g.pass ? 'pass' : 'warn';
      cell.dataset.rel = String(g.rel);
    }
    const cap = document.createElement('p');
    cap.className = 'muted';
    cap.textContent = `Completeness gap on this image, Σ attributions against the score change (within ±${percent(r.threshold)} passes; measured in ${duration(waited)}):`;
    const advice = document.createElement('p');
    advice.className = 'sweep-advice';
    advice.textContent = r.advice;
    box.replaceChildren(cap, table, advice);
    if (r.use) {
      const use = document.createElement('button');
      use.type = 'button';
      use.className = 'sweep-use primary';
      use.textContent = `Use ${r.best}`;
      use.title = 'Set these options for this method and explain again';
      use.addEventListener('click', () => this.onUse(options.method, r.use));
      box.append(use);
    }
    box.dataset.state = 'done';
  }
}

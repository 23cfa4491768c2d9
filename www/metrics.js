// metrics.js: the faithfulness panel (issue 7). After every round of maps
// it asks the workers to score them (deletion and insertion curves,
// confidence drop, Gini, entropy, each method's conservation gap,
// optionally the randomisation check, and for a box the pointing game and
// relevance mass) and shows the ranking, the verdict and a table. All the
// numbers and the thresholds come from the worker (ModelInfo.metrics,
// Evaluation); this module only draws them.

import { BoxInput } from './box.js';
import { duration, fixed3, fmt, percent } from './format.js';

const $ = (id) => document.getElementById(id);

export class MetricsPanel {
  // compute is compute.js's; state the page's (metrics, metricsBusy);
  // onError shows an error; mark records a timing.
  constructor({ compute, state, onError, mark }) {
    Object.assign(this, { compute, state, onError, mark });
    this.run = 0; // bumps with every evaluate call: stale answers are dropped
    this.limits = null; // ModelInfo.metrics
    this.box = new BoxInput({ onApply: () => this.start(state.generation) });
    $('metrics-cancel').addEventListener('click', () => this.cancel());
    $('metrics-run').addEventListener('click', () => this.start(state.generation));
  }

  setModel(info) {
    this.limits = info.metrics;
    const steps = $('metrics-steps');
    Object.assign(steps, { min: info.metrics.minSteps, max: info.metrics.maxSteps, value: info.metrics.steps });
    $('confidence-head').textContent = `Confidence drop (top ${info.metrics.keep.map((k) => Math.round(100 * k)).join(' / ')}%)`;
  }

  // options is the EvaluateOptions the panel would send now.
  options() {
    const o = { steps: Number($('metrics-steps').value) || this.limits.steps, sanity: $('metrics-sanity').checked };
    const box = this.box.read();
    if (box) o.box = box;
    return o;
  }

  // cancel stops the metrics running, if any (their answer is dropped),
  // and frees the panel: whatever cancelled them (the Cancel button, a new
  // image or model, even one that then fails) leaves it usable.
  cancel() {
    this.run++;
    this.compute.cancel();
    if (this.state.metricsBusy) {
      this.idle();
      $('metrics-status').textContent = 'Cancelled.';
    }
  }

  idle() {
    this.state.metricsBusy = false;
    $('metrics-cancel').disabled = true;
    $('metrics-run').disabled = false;
    this.box.busy(false);
  }

  // start scores the current maps; gen is the page's generation they
  // belong to.
  async start(gen) {
    if (!this.state.prediction || !this.state.results.some(Boolean)) return;
    this.cancel();
    const run = this.run;
    $('metrics').hidden = false;
    $('metrics-cancel').disabled = false;
    $('metrics-run').disabled = true;
    this.box.busy(true);
    $('metrics-status').textContent = 'Measuring how faithful each map is…';
    $('metrics-progress').value = 0;
    this.state.metricsBusy = true;
    const onProgress = (done, total) => {
      if (run !== this.run) return;
      $('metrics-progress').value = total ? done / total : 0;
      $('metrics-status').textContent = `${done} of ${total} images scored`;
    };
    const started = performance.now();
    try {
      const r = await this.compute.evaluate(this.options(), onProgress);
      if (run !== this.run || gen !== this.state.generation) return;
      // What the person waited (r.ms is the worker's call: split across
      // the pool, only the merge).
      r.waited = performance.now() - started;
      this.state.metrics = r;
      this.mark(`metrics ${r.ms} ms in the worker, ${Math.round(r.waited)} ms waited`);
      this.show(r);
      $('metrics-status').textContent = `Done in ${duration(r.waited)} (${r.steps} steps, ${r.patch}×${r.patch}-pixel patches).`;
      $('metrics-progress').value = 1;
      document.body.dataset.evaluated = String(run);
    } catch (e) {
      if (run !== this.run) return; // a newer run (or a new image) owns the panel
      if (/cancelled/.test(e.message)) {
        $('metrics-status').textContent = 'Cancelled.';
      } else {
        $('metrics-status').textContent = `Failed: ${e.message}`;
        this.onError(`Faithfulness metrics: ${e.message}`);
      }
    } finally {
      if (run === this.run) this.idle();
    }
  }

  // reset empties the panel for a new round of maps on prediction p (null:
  // none yet).
  reset(p = null) {
    this.cancel();
    this.state.metrics = null;
    this.state.metricsBusy = false;
    $('verdict').textContent = 'The metrics are computed after the maps.';
    $('ranking').replaceChildren();
    $('metrics-table').tBodies[0].replaceChildren();
    $('metrics-status').textContent = '';
    $('metrics-progress').value = 0;
    $('metrics-cancel').disabled = true;
    if (p) this.box.input(p);
  }

  show(r) {
    $('verdict').textContent = r.ranking.headline; // each flagged method says why under its line
    const labels = new Map(r.methods.map((m) => [m.method, m.label]));
    $('ranking').replaceChildren(...r.ranking.scores.map((s) => {
      // flagged: a failed sanity check or a large conservation gap keeps the
      // method from being trusted; it says why under its line (xai's problems).
      const item = document.createElement('li');
      item.textContent = `${labels.get(s.method) || s.method}: insertion − deletion ${fixed3(s.faithfulness)}${s.flagged ? ' (flagged)' : ''}`;
      if (s.method === r.ranking.trusted) item.className = 'trusted';
      item.dataset.method = s.method;
      if (s.flagged && s.problems.length) {
        const why = document.createElement('ul');
        why.className = 'problems small';
        why.append(...s.problems.map((t) => {
          const li = document.createElement('li');
          li.textContent = t;
          return li;
        }));
        item.append(why);
      }
      return item;
    }));
    $('metrics-table').tBodies[0].replaceChildren(...r.methods.map((m) => this.row(m)));
  }

  row(m) {
    const x = m.metrics;
    const tr = document.createElement('tr');
    tr.dataset.method = m.method;
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = m.label;
    const plot = document.createElement('td');
    plot.append(curvesSVG(x));
    tr.append(th, plot,
      cell('insertion', x.insertion.auc),
      cell('deletion', x.deletion.auc),
      cell('faithfulness', x.faithfulness),
      cell('gini', x.gini),
      cell('entropy', x.entropy),
      confidenceCell(x.confidence),
      this.gapCell(m.completenessGap),
      sanityCell(m.sanity),
      cell('pointing', x.pointing === undefined ? null : (x.pointing ? 1 : 0),
        x.pointing === undefined ? 'no box' : (x.pointing ? 'hit (1)' : 'miss (0)')),
      cell('mass', x.mass === undefined ? null : x.mass, x.mass === undefined ? 'no box' : null));
    // Each cell's column name, which a narrow screen shows beside it (one
    // card per method: style.css).
    const heads = [...$('metrics-table').tHead.rows[0].cells].map((h) => h.textContent);
    [...tr.cells].forEach((c, k) => { if (c.tagName === 'TD') c.dataset.label = heads[k]; });
    return tr;
  }

  gapCell(gap) {
    if (gap === undefined || gap === null) return cell('gap', null, '–');
    const td = cell('gap', gap, percent(gap));
    if (!(Math.abs(gap) <= this.limits.gapThreshold)) {
      td.classList.add('warn');
      td.title = `more than ${percent(this.limits.gapThreshold)} off: the ranking flags this map`;
    }
    return td;
  }
}

// cell shows a number with fixed3; data-value keeps it at full precision,
// and the title too.
function cell(name, v, text = null) {
  const td = document.createElement('td');
  td.dataset.metric = name;
  if (v !== null && v !== undefined) td.dataset.value = String(v);
  td.textContent = text !== null ? text : fixed3(v);
  if (text === null && td.dataset.value) td.title = fmt(v);
  return td;
}

function confidenceCell(conf) {
  const td = cell('confidence', null, (conf || []).map((c) => `${percent(c.drop)}${c.raise ? ' ↑' : ''}`).join(' / '));
  td.title = (conf || []).map((c) =>
    `keeping the top ${Math.round(100 * c.keep)}%: probability ${fmt(c.prob)}${c.raise ? ' (an increase in confidence)' : ''}`).join('; ');
  return td;
}

function sanityCell(s) {
  if (!s) return cell('sanity', null, 'not run');
  const td = cell('sanity', s.mean, `${s.pass ? 'passes' : 'fails'} (ρ ${s.mean.toFixed(2)})`);
  td.title = `mean Spearman rank correlation with the map of the randomised model ${fmt(s.mean)} (fails above ${fmt(s.threshold)}); per layer randomised, top first: ` +
    s.layers.map((l, i) => `${l}: ${fmt(s.spearman[i])}`).join(', ');
  if (!s.pass) td.classList.add('warn');
  return td;
}

// curvesSVG draws the deletion and insertion curves as a small inline plot.
function curvesSVG(x) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  const W = 96, H = 48;
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('class', 'curves');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `Deletion AUC ${fmt(x.deletion.auc)}, insertion AUC ${fmt(x.insertion.auc)}`);
  let lo = 0, hi = 1;
  if (x.score !== 'probability') {
    const all = x.deletion.score.concat(x.insertion.score);
    lo = Math.min(...all); hi = Math.max(...all);
    if (hi === lo) hi = lo + 1;
  }
  for (const [cls, c] of [['del', x.deletion], ['ins', x.insertion]]) {
    const line = document.createElementNS(ns, 'polyline');
    line.setAttribute('class', cls);
    line.setAttribute('points', c.fraction.map((f, i) =>
      `${(f * W).toFixed(1)},${(H - ((c.score[i] - lo) / (hi - lo)) * H).toFixed(1)}`).join(' '));
    svg.append(line);
  }
  return svg;
}

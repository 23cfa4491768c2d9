// app.js wires the page: it sends files and options to the compute worker
// (worker.js) and maps to the viewer (viewer.html), and shows results. It
// holds no model or math logic. Contracts: api.d.ts.

const $ = (id) => document.getElementById(id);

const methods = [
  { key: 'gradcam', name: 'Grad-CAM' },
  { key: 'gradcampp', name: 'Grad-CAM++' },
  { key: 'saliency', name: 'Saliency' },
  { key: 'ig', name: 'Integrated Gradients' },
];
const defaultModel = 'models/fashion.safetensors';

// ---- the worker: boot.js started it, with the model and the first sample ----

const boot = window.mavisBoot; // see boot.js
const worker = boot ? boot.worker : null;

function rpc(method, args = [], onProgress = null, transfer = []) {
  if (!boot) return Promise.reject(new Error('boot.js did not run, so there is no compute worker; reload the page'));
  return boot.rpc(method, args, onProgress, transfer);
}

// ---- the worker pool: Integrated Gradients split across workers (pool.js) ----

let pool = null;      // created the first time IG runs, not on the way to the first prediction
let poolModel = null; // a copy of the current model file, for the pool's helpers

// explainIG is rpc('explain', [o], onProgress) for Integrated Gradients, split
// across min(hardwareConcurrency, 4) workers, one per 2 GB of device memory
// (pool.js's defaultWorkers; ?workers=N overrides, 1 turns the pool off).
// Results of an older generation are dropped.
async function explainIG(o, onProgress = null, gen = state.generation) {
  await startPool();
  return pool.explainIG(o, onProgress, () => gen !== state.generation);
}

// startPool loads pool.js, gives the pool the current model and starts its
// helpers (explainAll calls it after the first prediction, so that they are
// ready when IG's turn comes).
async function startPool() {
  if (!pool) {
    const { Pool } = await import('./pool.js');
    if (pool) return startPool();
    const n = Number(new URLSearchParams(location.search).get('workers'));
    pool = n >= 1 ? new Pool(rpc, n) : new Pool(rpc);
    window.app.pool = pool;
  }
  if (pool.model !== poolModel) pool.setModel(poolModel);
  pool.warm();
}

// ---- the viewer iframe ----

const viewerFrame = $('viewer');
let viewerReady = false;
const viewerQueue = [];
const pngWaiters = new Map();

// startViewer loads the viewer iframe. It waits for the first prediction
// (or the end of the start-up): its wasm is three times the worker's and,
// being same-origin, it starts on the page's own thread, so it must not
// compete with the way to the first prediction.
function startViewer() {
  if (viewerFrame.getAttribute('src')) return;
  $('viewer-wait').textContent = 'Starting the viewer…';
  viewerFrame.src = viewerFrame.dataset.src;
}

function toViewer(msg) {
  if (viewerReady) viewerFrame.contentWindow.postMessage(msg, location.origin);
  else viewerQueue.push(msg);
}

window.addEventListener('message', (e) => {
  if (e.origin !== location.origin || e.source !== viewerFrame.contentWindow) return;
  const m = e.data;
  switch (m.type) {
    case 'ready':
      mark('viewer ready');
      viewerReady = true;
      $('viewer-wait').hidden = true;
      for (const q of viewerQueue.splice(0)) toViewer(q);
      break;
    case 'hover':
      $('hover').textContent = m.label === undefined
        ? 'Point at a map to read its value.'
        : `${m.label} at (${m.x}, ${m.y}) of ${m.w}×${m.h}: ${fmt(m.value)}`;
      break;
    case 'layout':
      $('view').value = m.layout === 'single' ? String(m.selected) : 'grid';
      break;
    case 'png': {
      const w = pngWaiters.get(m.slot);
      pngWaiters.delete(m.slot);
      if (w) w(m);
      break;
    }
    case 'error':
      showError(`Viewer: ${m.error}`);
      break;
  }
});

function sendStyle() {
  const v = $('view').value;
  toViewer({
    type: 'style',
    style: {
      colormap: $('colormap').value,
      opacity: Number($('opacity').value),
      layout: v === 'grid' ? 'grid' : 'single',
      selected: v === 'grid' ? 0 : Number(v),
    },
  });
  $('legend').className = `legend ${$('colormap').value}`;
}

// ---- state shown on the page ----

const state = {
  busy: false,
  model: null,        // ModelInfo
  modelName: '',
  image: '',          // name of the current image
  prediction: null,   // Prediction
  results: [],        // Explanation per method slot
  generation: 0,      // bumps when the image or model changes: stale results are dropped
  errors: [],         // every error shown, for the tests
  timings: boot ? boot.timings : [], // [what, milliseconds since navigation], for the tests and benchmarks (boot.js's first)
  metrics: null,      // Evaluation of the current maps (faithfulness panel)
  metricsBusy: false,
};
const mark = (what) => state.timings.push([what, Math.round(performance.now())]);
window.app = { state, memory: (gc = false) => rpc('memory', [gc]), rpc, explainIG, metricsOptions: () => metricsOptions() };

function fmt(v) {
  if (v === undefined || v === null || Number.isNaN(v)) return '–';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3);
  return v.toPrecision(4).replace(/\.?0+$/, '');
}

function showError(text) {
  state.errors.push(text);
  $('error-text').textContent = text;
  $('error').hidden = false;
}

function clearError() { $('error').hidden = true; }

function setStatus(text, fraction = null) {
  $('status').textContent = text;
  if (fraction === null) $('progress').removeAttribute('value');
  else $('progress').value = fraction;
}

function setBusy(b) {
  state.busy = b;
  document.body.dataset.busy = b ? 'true' : 'false';
  $('explain').disabled = b || !state.prediction;
}

// ---- model ----

// loadModel sends a model file to the worker and shows it. loaded, when
// given, is the worker's answer to a loadModel call already made with the
// same bytes (boot.js's, at start-up).
async function loadModel(bytesPromise, name, loaded = null) {
  const gen = ++state.generation;
  cancelMetrics(); // the worker runs one call at a time: do not wait for the old maps' metrics
  setBusy(true);
  setStatus(`Loading model ${name}…`);
  try {
    const bytes = await bytesPromise;
    // boot.js's bytes are the page's own (the worker fetched the file and
    // sent it back); others keep a copy for the worker pool's helpers (pool.js).
    const copy = loaded ? bytes : bytes.slice(0);
    const info = await (loaded || rpc('loadModel', [bytes], null, [bytes]));
    poolModel = copy;
    mark(`model ${name}`);
    state.model = info;
    state.modelName = name;
    state.prediction = null;
    state.results = [];
    showModel(info, name);
    clearError();
    setStatus(`Model ${name} loaded. Pick an image.`, 0);
    return true;
  } catch (e) {
    showError(`Could not load the model ${name}: ${e.message}`);
    setStatus(state.model ? `Still using ${state.modelName}.` : 'No model loaded.', 0);
    return false;
  } finally {
    if (gen === state.generation) setBusy(false);
  }
}

const fetchBytes = (url) => boot.fetchBytes(url);

function showModel(info, name) {
  const [h, w, c] = info.input;
  $('model-summary').textContent = name;
  $('model-info').textContent =
    `${info.name || 'model'}: ${h}×${w}×${c} input (${info.preprocess.color}, ${info.preprocess.scale}), ` +
    `${info.classes.length} classes, ${thousands(info.params)} parameters.`;
  const cls = $('opt-class');
  cls.replaceChildren(new Option('the predicted class', '-1'));
  info.classes.forEach((k, i) => cls.add(new Option(`${i}: ${k.name}`, String(i))));
  const layer = $('opt-layer');
  layer.replaceChildren();
  for (const l of info.layers) {
    if (!l.spatial) continue;
    const o = new Option(`${l.name} (${l.kind}, ${l.shape.join('×')})`, l.name);
    layer.add(o);
  }
  layer.value = info.camLayer;
  resetMethods();
  $('topk').replaceChildren(li('No image yet.', 'muted'));
}

// thousands writes an integer with commas between groups of three digits,
// as toLocaleString('en') does: that call loads the locale data the first
// time, which took 127-210 ms of the page's thread at start-up, in the task
// that shows the model, just before the first prediction arrives.
function thousands(n) {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function li(text, cls) {
  const e = document.createElement('li');
  e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

// ---- image, prediction, explanations ----

// runImage classifies and explains an image. predicted, when given, is the
// worker's answer to a predict call already made with blob (boot.js's, at
// start-up).
async function runImage(blob, name, predicted = null) {
  if (!state.model) { showError('Load a model first.'); return; }
  const gen = ++state.generation;
  cancelMetrics();
  setBusy(true);
  setStatus(`Classifying ${name}…`);
  try {
    const p = await (predicted || rpc('predict', [blob]));
    if (gen !== state.generation) return;
    mark(`prediction ${name}`);
    state.image = name;
    state.prediction = p;
    state.results = [];
    clearError();
    showPrediction(p);
    startViewer();
    toViewer({ type: 'image', rgba: p.view, width: p.input[1], height: p.input[0] });
    resetMethods();
    for (const k of ['x0', 'y0', 'x1', 'y1']) $(`box-${k}`).value = '';
    for (const k of ['x0', 'x1']) $(`box-${k}`).max = p.input[1];
    for (const k of ['y0', 'y1']) $(`box-${k}`).max = p.input[0];
    drawPreview();
    await explainAll(gen);
  } catch (e) {
    if (gen === state.generation) {
      showError(`Could not use the image ${name}: ${e.message}`);
      setStatus(state.prediction ? `Still showing ${state.image}.` : 'No image.', 0);
    }
  } finally {
    if (gen === state.generation) setBusy(false);
  }
}

function showPrediction(p) {
  const list = $('topk');
  list.replaceChildren();
  for (const i of p.top) {
    const item = document.createElement('li');
    const label = document.createElement('span');
    label.className = 'label';
    label.textContent = state.model.classes[i].name;
    const bar = document.createElement('span');
    bar.className = 'bar';
    const fill = document.createElement('span');
    fill.className = i === p.class ? 'fill top' : 'fill';
    fill.style.width = `${(100 * p.probs[i]).toFixed(1)}%`;
    bar.append(fill);
    const pct = document.createElement('span');
    pct.className = 'pct';
    pct.textContent = `${(100 * p.probs[i]).toFixed(1)}%`;
    item.append(label, bar, pct);
    item.setAttribute('aria-label', `${label.textContent}: ${pct.textContent}`);
    list.append(item);
  }
}

function options(method) {
  const o = {
    method,
    class: Number($('opt-class').value),
    score: document.querySelector('input[name="opt-score"]:checked').value,
  };
  switch (method) {
    case 'gradcam': o.layer = $('opt-layer').value; break;
    case 'gradcampp': o.layer = $('opt-layer').value; o.posNorm = $('opt-posnorm').checked; break;
    case 'saliency': o.samples = Number($('opt-samples').value) || 0; o.noise = Number($('opt-noise').value) || 0.15; break;
    case 'ig': o.steps = Number($('opt-steps').value) || 50; o.baseline = $('opt-baseline').value; o.rule = $('opt-rule').value; break;
  }
  return o;
}

async function explainAll(gen) {
  const t0 = performance.now();
  startPool().catch(() => {}); // IG falls back to one worker if the pool cannot start
  for (let i = 0; i < methods.length; i++) {
    const m = methods[i];
    setStatus(`${m.name}…`, i / methods.length);
    const onProgress = (done, total) => {
      setStatus(`${m.name}: ${done} of ${total} steps`, (i + (total ? done / total : 0)) / methods.length);
    };
    let r;
    try {
      r = m.key === 'ig' ? await explainIG(options(m.key), onProgress, gen) : await rpc('explain', [options(m.key)], onProgress);
    } catch (e) {
      if (gen !== state.generation) return;
      showError(`${m.name}: ${e.message}`);
      showMethod(i, null, e.message);
      continue;
    }
    if (gen !== state.generation) return;
    mark(`${m.key} ${r.ms} ms in the worker`);
    state.results[i] = r;
    toViewer({ type: 'map', slot: i, label: m.name, map: r.map, width: r.shape[1], height: r.shape[0] });
    showMethod(i, r);
  }
  setStatus(`Done in ${((performance.now() - t0) / 1000).toFixed(2)} s.`, 1);
  $('download-json').disabled = false;
  document.body.dataset.explained = String(gen);
  runMetrics(gen); // not awaited: the page stays usable while the metrics run
}

function resetMethods() {
  resetMetrics();
  const box = $('methods');
  box.replaceChildren();
  methods.forEach((m, i) => {
    const card = document.createElement('article');
    card.className = 'card method';
    card.id = `method-${m.key}`;
    const h = document.createElement('h3');
    h.textContent = m.name;
    const body = document.createElement('p');
    body.className = 'small muted';
    body.textContent = 'waiting';
    const dl = document.createElement('button');
    dl.type = 'button';
    dl.textContent = 'PNG';
    dl.disabled = true;
    dl.setAttribute('aria-label', `Download the ${m.name} map as PNG`);
    dl.addEventListener('click', () => downloadPNG(i));
    card.append(h, body, dl);
    box.append(card);
    toViewer({ type: 'map', slot: i, label: m.name, map: new Float32Array(0), width: 0, height: 0 });
  });
  $('download-json').disabled = true;
}

function showMethod(i, r, error) {
  const card = $(`method-${methods[i].key}`);
  const body = card.querySelector('p');
  const btn = card.querySelector('button');
  if (!r) {
    body.textContent = `failed: ${error}`;
    card.dataset.state = 'error';
    return;
  }
  const cls = state.model.classes[r.class].name;
  let text = `${r.score} of “${cls}” · ${r.shape[0]}×${r.shape[1]} map · ${fmt(r.ms)} ms`;
  if (r.layer) text += ` · layer ${r.layer}`;
  if (r.samples) text += ` · SmoothGrad ×${r.samples}`;
  if (r.zero) text += ' · all zero: nothing in this layer supports the class';
  body.textContent = text;
  if (r.ig) {
    const g = document.createElement('p');
    g.className = 'small gap';
    const rel = r.ig.relGap ? ` (${(100 * r.ig.relGap).toFixed(1)}%)` : '';
    g.textContent = `Completeness: Σ attributions ${fmt(r.ig.sum)} vs score change ${fmt(r.value - r.ig.baselineScore)}, ` +
      `gap ${fmt(r.ig.gap)}${rel} · ${r.ig.steps} steps, ${r.ig.rule}, ${r.ig.baseline} baseline`;
    if (Math.abs(r.ig.relGap) > 0.05) g.classList.add('warn');
    body.after(g);
  }
  card.dataset.state = 'done';
  btn.disabled = false;
}

// ---- faithfulness metrics (issue 7): computed in the worker, drawn here ----

let metricsGen = 0;    // the explanation round the panel shows
let metricsRun = 0;    // bumps with every evaluate call: stale answers are dropped

function metricsOptions() {
  const o = { steps: Number($('metrics-steps').value) || 32, sanity: $('metrics-sanity').checked };
  const box = readBox();
  if (box) o.box = box;
  return o;
}

function readBox() {
  const v = ['x0', 'y0', 'x1', 'y1'].map((k) => $(`box-${k}`).value);
  if (v.some((x) => x === '')) return null;
  const [x0, y0, x1, y1] = v.map(Number);
  return { x0, y0, x1, y1 };
}

function cancelMetrics() {
  metricsRun++;
  if (worker) rpc('cancel');
  if (pool) pool.cancel();
}

// evaluate is rpc('evaluate', [o], onProgress), split by method across the
// worker pool once IG has started it (pool.js).
function evaluate(o, onProgress) {
  return pool ? pool.evaluate(o, onProgress) : rpc('evaluate', [o], onProgress);
}

async function runMetrics(gen) {
  if (!state.prediction || !state.results.some(Boolean)) return;
  cancelMetrics();
  const run = metricsRun;
  metricsGen = gen;
  const panel = $('metrics');
  panel.hidden = false;
  $('metrics-cancel').disabled = false;
  $('metrics-run').disabled = true;
  $('box-apply').disabled = true;
  $('metrics-status').textContent = 'Measuring how faithful each map is…';
  $('metrics-progress').value = 0;
  state.metricsBusy = true;
  const o = metricsOptions();
  const onProgress = (done, total) => {
    if (run !== metricsRun) return;
    $('metrics-progress').value = total ? done / total : 0;
    $('metrics-status').textContent = `${done} of ${total} images scored`;
  };
  try {
    const r = await evaluate(o, onProgress);
    if (run !== metricsRun || gen !== state.generation) return;
    state.metrics = r;
    mark(`metrics ${r.ms} ms in the worker`);
    showMetrics(r);
    $('metrics-status').textContent = `Done in ${(r.ms / 1000).toFixed(2)} s (${r.steps} steps, ${r.patch}×${r.patch}-pixel patches).`;
    $('metrics-progress').value = 1;
    document.body.dataset.evaluated = String(run);
  } catch (e) {
    if (run !== metricsRun) return; // a newer run (or a new image) owns the panel
    if (/cancelled/.test(e.message)) {
      $('metrics-status').textContent = 'Cancelled.';
    } else {
      $('metrics-status').textContent = `Failed: ${e.message}`;
      showError(`Faithfulness metrics: ${e.message}`);
    }
  } finally {
    if (run === metricsRun) {
      state.metricsBusy = false;
      $('metrics-cancel').disabled = true;
      $('metrics-run').disabled = false;
      $('box-apply').disabled = false;
    }
  }
}

function resetMetrics() {
  cancelMetrics();
  state.metrics = null;
  state.metricsBusy = false;
  $('verdict').textContent = 'The metrics are computed after the maps.';
  $('ranking').replaceChildren();
  $('metrics-table').tBodies[0].replaceChildren();
  $('metrics-status').textContent = '';
  $('metrics-progress').value = 0;
  $('metrics-cancel').disabled = true;
}

function showMetrics(r) {
  $('verdict').textContent = r.ranking.verdict;
  const rank = $('ranking');
  rank.replaceChildren();
  for (const s of r.ranking.scores) {
    // flagged: a failed sanity check or a large completeness gap keeps the
    // method from being trusted (the verdict says which).
    const item = li(`${methodName(s.method)}: insertion − deletion ${fixed3(s.faithfulness)}${s.flagged ? ' (flagged)' : ''}`,
      s.method === r.ranking.trusted ? 'trusted' : '');
    item.dataset.method = s.method;
    rank.append(item);
  }
  const body = $('metrics-table').tBodies[0];
  body.replaceChildren();
  for (const m of r.methods) {
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
      gapCell(m.completenessGap),
      sanityCell(m.sanity),
      cell('pointing', x.pointing === undefined ? null : (x.pointing ? 1 : 0),
        x.pointing === undefined ? 'no box' : (x.pointing ? 'hit (1)' : 'miss (0)')),
      cell('mass', x.mass === undefined ? null : x.mass, x.mass === undefined ? 'no box' : null));
    body.append(tr);
  }
}

function methodName(key) {
  const m = methods.find((x) => x.key === key);
  return m ? m.name : key;
}

// fixed3 shows a score to three decimals (the scores lie within a few
// units of zero), and a missing or NaN one as a dash.
function fixed3(v) {
  return v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(3);
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
  const td = cell('confidence', null, (conf || []).map((c) =>
    `${(100 * c.drop).toFixed(1)}%${c.raise ? ' ↑' : ''}`).join(' / '));
  td.title = (conf || []).map((c) =>
    `keeping the top ${Math.round(100 * c.keep)}%: probability ${fmt(c.prob)}${c.raise ? ' (an increase in confidence)' : ''}`).join('; ');
  return td;
}

function gapCell(gap) {
  if (gap === undefined || gap === null) return cell('gap', null, '–');
  const td = cell('gap', gap, `${(100 * gap).toFixed(1)}%`);
  if (Math.abs(gap) > 0.05) td.classList.add('warn');
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

// ---- the object box: drawn on the image preview or typed ----

const boxDrag = { on: false, x0: 0, y0: 0 };

function drawPreview() {
  const cv = $('box-canvas');
  const ctx = cv.getContext('2d');
  ctx.clearRect(0, 0, cv.width, cv.height);
  const p = state.prediction;
  if (!p) return;
  const [h, w] = p.input;
  const src = new OffscreenCanvas(w, h);
  src.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(p.view), w, h), 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(src, 0, 0, cv.width, cv.height);
  const b = readBox();
  if (!b) return;
  ctx.strokeStyle = '#ffd21f';
  ctx.lineWidth = 2;
  ctx.strokeRect(b.x0 * cv.width / w, b.y0 * cv.height / h, (b.x1 - b.x0) * cv.width / w, (b.y1 - b.y0) * cv.height / h);
}

// inputPoint converts a pointer position to the model's input pixels.
function inputPoint(e) {
  const r = $('box-canvas').getBoundingClientRect();
  const [h, w] = state.prediction.input;
  const x = Math.min(Math.max((e.clientX - r.left) / r.width, 0), 1);
  const y = Math.min(Math.max((e.clientY - r.top) / r.height, 0), 1);
  return [Math.round(x * w), Math.round(y * h)];
}

function setBox(x0, y0, x1, y1) {
  $('box-x0').value = Math.min(x0, x1);
  $('box-y0').value = Math.min(y0, y1);
  $('box-x1').value = Math.max(x0, x1);
  $('box-y1').value = Math.max(y0, y1);
  drawPreview();
}

function wireMetrics() {
  $('metrics-cancel').addEventListener('click', () => {
    cancelMetrics();
    state.metricsBusy = false;
    $('metrics-status').textContent = 'Cancelled.';
    $('metrics-cancel').disabled = true;
    $('metrics-run').disabled = false;
    $('box-apply').disabled = false;
  });
  $('metrics-run').addEventListener('click', () => runMetrics(state.generation));
  $('box-form').addEventListener('submit', (e) => {
    e.preventDefault();
    drawPreview();
    runMetrics(state.generation);
  });
  $('box-clear').addEventListener('click', () => {
    for (const k of ['x0', 'y0', 'x1', 'y1']) $(`box-${k}`).value = '';
    drawPreview();
    runMetrics(state.generation);
  });
  for (const k of ['x0', 'y0', 'x1', 'y1']) $(`box-${k}`).addEventListener('input', drawPreview);
  const cv = $('box-canvas');
  cv.addEventListener('pointerdown', (e) => {
    if (!state.prediction) return;
    cv.setPointerCapture(e.pointerId);
    const [x, y] = inputPoint(e);
    Object.assign(boxDrag, { on: true, x0: x, y0: y });
  });
  cv.addEventListener('pointermove', (e) => {
    if (!boxDrag.on) return;
    const [x, y] = inputPoint(e);
    setBox(boxDrag.x0, boxDrag.y0, x, y);
  });
  cv.addEventListener('pointerup', (e) => {
    if (!boxDrag.on) return;
    boxDrag.on = false;
    const [x, y] = inputPoint(e);
    if (x === boxDrag.x0 || y === boxDrag.y0) return; // a click, not a box
    setBox(boxDrag.x0, boxDrag.y0, x, y);
    runMetrics(state.generation);
  });
}

// ---- downloads ----

function save(blob, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

function baseName() {
  return (state.image || 'image').replace(/\.[^.]*$/, '').replace(/[^\w-]+/g, '_');
}

function downloadPNG(i) {
  pngWaiters.set(i, (m) => {
    if (m.error) showError(`PNG: ${m.error}`);
    else save(new Blob([m.png], { type: 'image/png' }), `${baseName()}-${methods[i].key}.png`);
  });
  toViewer({ type: 'png', slot: i });
}

function downloadJSON() {
  const out = {
    model: { source: state.modelName, name: state.model.name, classes: state.model.classes, preprocess: state.model.preprocess },
    image: state.image,
    prediction: { class: state.prediction.class, probs: state.prediction.probs, top: state.prediction.top },
    results: state.results.map((r, i) => r && ({
      ...r,
      options: options(methods[i].key),
      map: Array.from(r.map),
      fullMap: r.fullMap ? Array.from(r.fullMap) : undefined,
    })),
  };
  save(new Blob([JSON.stringify(out)], { type: 'application/json' }), `${baseName()}-explanations.json`);
}

// ---- inputs: file picker, drop, paste, gallery ----

function pickImage(file) {
  if (!file) return;
  lastImage = { blob: file, name: file.name || 'pasted image' };
  runImage(lastImage.blob, lastImage.name);
}

function wireInputs() {
  $('pick').addEventListener('click', () => $('image-file').click());
  $('image-file').addEventListener('change', (e) => { pickImage(e.target.files[0]); e.target.value = ''; });
  const drop = $('drop');
  for (const t of ['dragenter', 'dragover']) {
    document.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add('over'); });
  }
  document.addEventListener('dragleave', (e) => { if (!e.relatedTarget) drop.classList.remove('over'); });
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer && e.dataTransfer.files[0];
    if (f) pickImage(f);
  });
  document.addEventListener('paste', (e) => {
    const item = [...(e.clipboardData ? e.clipboardData.items : [])].find((x) => x.kind === 'file');
    if (item) pickImage(item.getAsFile());
  });
  $('error-close').addEventListener('click', clearError);
  $('explain').addEventListener('click', async () => {
    if (!state.prediction || state.busy) return;
    const gen = ++state.generation;
    setBusy(true);
    resetMethods();
    try { await explainAll(gen); } finally { if (gen === state.generation) setBusy(false); }
  });
  $('download-json').addEventListener('click', downloadJSON);
  for (const id of ['colormap', 'opacity', 'view']) $(id).addEventListener('input', sendStyle);

  $('model-source').addEventListener('change', (e) => {
    $('model-url-form').hidden = e.target.value !== 'url';
    $('model-file-row').hidden = e.target.value !== 'file';
    if (e.target.value === 'default') loadModel(fetchBytes(defaultModel), defaultModel).then((ok) => ok && firstSample());
  });
  $('model-file-pick').addEventListener('click', () => $('model-file').click());
  $('model-file').addEventListener('change', (e) => {
    const f = e.target.files[0];
    e.target.value = '';
    if (f) loadModel(f.arrayBuffer(), f.name).then((ok) => ok && rerun());
  });
  $('model-url-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const url = $('model-url').value.trim();
    if (url) loadModel(fetchBytes(url), url).then((ok) => ok && rerun());
  });
}

let samples = [];
let lastImage = null;

async function loadGallery() {
  samples = await boot.samples;
  const g = $('gallery');
  g.replaceChildren();
  for (const s of samples) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'thumb';
    b.setAttribute('role', 'listitem');
    const label = s.label || s.name || s.file.replace(/\.[^.]*$/, '');
    b.title = label;
    b.setAttribute('aria-label', `Sample image: ${label}`);
    const img = document.createElement('img');
    img.alt = '';
    img.decoding = 'async';
    img.fetchPriority = 'low'; // after the start-up's own fetches
    img.src = `samples/${s.file}`;
    b.append(img);
    b.addEventListener('click', () => useSample(s));
    g.append(b);
  }
}

async function useSample(s) {
  try {
    const blob = new Blob([await fetchBytes(`samples/${s.file}`)]);
    lastImage = { blob, name: s.file };
    await runImage(blob, s.file);
  } catch (e) {
    showError(`Could not load the sample ${s.file}: ${e.message}`);
  }
}

function firstSample() {
  if (samples.length) return useSample(samples[0]);
  return null;
}

function rerun() {
  if (lastImage) return runImage(lastImage.blob, lastImage.name);
  return firstSample();
}

async function main() {
  mark('start');
  if (!boot) {
    showError('The page did not start: boot.js did not run. Reload the page.');
    setStatus('No compute worker.', 0);
    document.body.dataset.loaded = 'false';
    return;
  }
  wireInputs();
  wireMetrics();
  sendStyle();
  resetMethods();
  const params = new URLSearchParams(location.search);
  if (params.get('model')) {
    $('model-source').value = 'url';
    $('model-url-form').hidden = false;
    $('model-url').value = params.get('model');
  }
  // The worker has the model and the first sample from its start (boot.js).
  const gallery = loadGallery();
  const ok = await loadModel(boot.model.bytes, boot.model.url, boot.model.info);
  const first = await boot.first;
  if (ok && first) {
    lastImage = { blob: first.blob, name: first.name };
    await runImage(first.blob, first.name, first.prediction);
  } else if (ok && params.get('autorun') !== '0') {
    await gallery;
    await firstSample();
  }
  startViewer();
  document.body.dataset.loaded = ok ? 'true' : 'false';
}

main();

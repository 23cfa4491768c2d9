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

// ---- the worker: a promise per call, progress by id ----

let worker = null;
let nextID = 1;
const calls = new Map();

function startWorker() {
  worker = new Worker('worker.js');
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
}

function rpc(method, args = [], onProgress = null, transfer = []) {
  return new Promise((resolve, reject) => {
    const id = nextID++;
    calls.set(id, { resolve, reject, onProgress });
    worker.postMessage({ id, method, args }, transfer);
  });
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
  timings: [],        // [what, milliseconds since navigation], for the tests and benchmarks
};
const mark = (what) => state.timings.push([what, Math.round(performance.now())]);
window.app = { state, memory: (gc = false) => rpc('memory', [gc]), rpc };

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

async function loadModel(bytesPromise, name) {
  const gen = ++state.generation;
  setBusy(true);
  setStatus(`Loading model ${name}…`);
  try {
    const bytes = await bytesPromise;
    const info = await rpc('loadModel', [bytes], null, [bytes]);
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

function showModel(info, name) {
  const [h, w, c] = info.input;
  $('model-summary').textContent = name;
  $('model-info').textContent =
    `${info.name || 'model'}: ${h}×${w}×${c} input (${info.preprocess.color}, ${info.preprocess.scale}), ` +
    `${info.classes.length} classes, ${info.params.toLocaleString('en')} parameters.`;
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

function li(text, cls) {
  const e = document.createElement('li');
  e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

// ---- image, prediction, explanations ----

async function runImage(blob, name) {
  if (!state.model) { showError('Load a model first.'); return; }
  const gen = ++state.generation;
  setBusy(true);
  setStatus(`Classifying ${name}…`);
  try {
    const p = await rpc('predict', [blob]);
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
  for (let i = 0; i < methods.length; i++) {
    const m = methods[i];
    setStatus(`${m.name}…`, i / methods.length);
    const onProgress = (done, total) => {
      setStatus(`${m.name}: ${done} of ${total} steps`, (i + (total ? done / total : 0)) / methods.length);
    };
    let r;
    try {
      r = await rpc('explain', [options(m.key)], onProgress);
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
}

function resetMethods() {
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
  try {
    const list = await (await fetch('samples/index.json')).json();
    samples = list.map((s) => (typeof s === 'string' ? { file: s } : s));
  } catch (e) {
    samples = [];
  }
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
    img.src = `samples/${s.file}`;
    img.alt = '';
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
  startWorker();
  rpc('memory').then((m) => {
    mark('worker ready');
    state.workerStartup = { ...m.startup, createdAt: Math.round(m.startup.created - performance.timeOrigin) };
  });
  wireInputs();
  sendStyle();
  resetMethods();
  const params = new URLSearchParams(location.search);
  const url = params.get('model');
  if (url) {
    $('model-source').value = 'url';
    $('model-url-form').hidden = false;
    $('model-url').value = url;
  }
  const loading = loadModel(fetchBytes(url || defaultModel), url || defaultModel);
  const autorun = params.get('autorun') !== '0';
  // Fetch the first sample while the worker compiles and the model loads.
  const first = loadGallery().then(() => (autorun && samples.length
    ? fetchBytes(`samples/${samples[0].file}`).then((b) => ({ blob: new Blob([b]), name: samples[0].file }))
    : null)).catch(() => null);
  const ok = await loading;
  const img = await first;
  if (ok && img) {
    lastImage = img;
    await runImage(img.blob, img.name);
  } else if (ok && autorun) {
    await firstSample();
  }
  startViewer();
  document.body.dataset.loaded = ok ? 'true' : 'false';
}

main();

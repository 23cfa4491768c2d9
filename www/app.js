// app.js wires the page's parts together: the model card (model.js), the
// image card (input.js), files routed by content (files.js) and the Keras
// converter's dialog (keras.js), the prediction (prediction.js), the methods
// panel (methods.js), the viewer (viewer-link.js) with its map cards
// (cards.js) and the completeness sweep (sweep.js), the faithfulness panel
// (metrics.js) and the compute workers (compute.js). It keeps the page's
// state (state.js) and runs things in order (model, image, prediction,
// maps, metrics; the person's latest choice wins: order.js), with no model
// or math logic: the worker sends the methods, defaults, colormaps and
// thresholds with the model info. Contracts: api.d.ts.

import { MapCards } from './cards.js';
import { Compute } from './compute.js';
import { baseName, downloadJSON, downloadPNG } from './downloads.js';
import { FileRouter } from './files.js';
import { ImageInput, samplesOf } from './input.js';
import { KerasDialog } from './keras.js';
import { MethodsPanel } from './methods.js';
import { MetricsPanel } from './metrics.js';
import { builtinFor, ModelCard } from './model.js';
import { Order } from './order.js';
import { clearPrediction, showPrediction } from './prediction.js';
import { newState } from './state.js';
import { Status } from './status.js';
import { Sweep } from './sweep.js';
import { revealMaps, ViewerLink } from './viewer-link.js';

const $ = (id) => document.getElementById(id);
const boot = window.mavisBoot; // see boot.js
const params = new URLSearchParams(location.search);

const state = newState(boot);
const order = new Order(state);
const mark = (what, at = performance.now()) => state.timings.push([what, Math.round(at)]);

const compute = new Compute(boot, Number(params.get('workers')) || 0, engineRestarted);
const status = new Status(state);
const showError = (text) => status.error(text);
const viewer = new ViewerLink({
  onError: (e) => showError(`Viewer: ${e}`),
  onMark: mark,
  onDisplay: (i, d) => cards.bar(i, d),
});
const sweep = new Sweep({
  compute,
  onUse: (method, values) => { methods.set(method, values); again(); },
});
const cards = new MapCards({
  onPNG: (i) => downloadPNG(viewer, i, `${baseName(state.image)}-${state.methods[i].name}.png`, showError),
  // A map whose completeness check fails and that the sweep measures:
  // offer to find settings that add up.
  onCheckFailed: (i, card, line) => {
    const r = state.results[i], gen = state.generation;
    if (r && r.check.sweep) sweep.offer(card, line, state.options[i], () => gen !== state.generation);
  },
});
const metrics = new MetricsPanel({ compute, state, onError: showError, mark });
const methods = new MethodsPanel({ onExplain: () => { revealMaps(); again(); } }); // the maps come on screen (a phone's are below the list)
const fetchBytes = (url) => boot.fetchBytes(url);
const input = new ImageInput({ fetchBytes, onFile: (f, where) => router.route(f, where), onImage: (blob, name) => runImage(blob, name, null, true), onError: showError });
const modelCard = new ModelCard({
  onBuiltin: (b, name = b.file) => loadModel(fetchBytes(b.file), name, { builtin: b }),
  onFile: (f, where) => router.route(f, where),
  fetchBytes, onError: showError,
});
const keras = new KerasDialog({
  onConverted: (bytes, info, from) => loadModel(Promise.resolve(bytes.slice().buffer), info.fileName,
    { converted: { bytes, fileName: info.fileName, from, format: info.format } }),
  onClose: () => modelCard.restore(), // cancelled, or converted (then shown)
  record: (text) => state.errors.push(text),
});
const router = new FileRouter({
  to: {
    image: (f) => input.pick(f),
    model: (f, where) => loadModel(f.arrayBuffer(), f.name || 'the pasted model', { url: where === 'model URL' }),
    keras: (f) => keras.open(f),
  },
  dialog: keras, onError: showError, log: state.files,
});

window.app = {
  state,
  rpc: (...a) => compute.rpc(...a),
  memory: (gc = false) => compute.rpc('memory', [gc]),
  // explain is rpc('explain', [o]), split across the pool where it can be.
  explain: (o, onProgress = null) => compute.explain(o, state.model.methods.find((m) => m.name === o.method), onProgress),
  explainOptions: (name) => methods.options(name),
  metricsOptions: () => metrics.options(),
  get pool() { return compute.pool; },
};

const setBusy = (b) => { status.busy(b); methods.busy(b, !!state.prediction); };

// loadModel sends a model file to the worker and shows it. name (or a
// promise of it) is its file or URL; {builtin, converted, url} say where
// it came from (a built-in's samples become the gallery, and its first
// sample is explained unless the person's own image is shown; any other
// model keeps the image shown, with no gallery); loaded, when given, is
// the worker's answer to a loadModel call already made with the same
// bytes (boot.js's, at start-up), which then explains nothing itself.
async function loadModel(bytesPromise, name, { builtin = null, converted = null, url = false, loaded = null } = {}) {
  const { gen, mgen, done } = order.model();
  metrics.cancel(); // the worker runs one call at a time: do not wait for the old maps' metrics
  setBusy(true);
  status.set(typeof name === 'string' ? `Loading model ${name}…` : 'Loading the model…');
  let ok = false;
  try {
    const bytes = await bytesPromise;
    // Another model was chosen while these bytes came: that one goes to the
    // worker, not this one (a load already sent is shown when it answers,
    // in the order the worker ran them).
    if (!order.latestModel(mgen)) return false;
    // boot.js's bytes are the page's own (the worker fetched the file and
    // sent it back); others keep a copy for the worker pool's helpers.
    const copy = loaded ? bytes : bytes.slice(0);
    const info = await (loaded || compute.rpc('loadModel', [bytes], null, [bytes]));
    name = await name;
    builtin = await builtin;
    if (builtin) builtin = builtinFor(state.builtins, builtin.file) || builtin; // the picker's own entry
    compute.setModel(copy);
    mark(`model ${name}`);
    Object.assign(state, { model: info, modelName: name, builtin, prediction: null, methods: [], options: [], results: [] });
    modelCard.show(info, name, { builtin, converted, url });
    methods.setModel(info);
    metrics.setModel(info);
    viewer.setModel(info);
    cards.reset([]);
    clearPrediction();
    status.clearError();
    status.set(`Model ${builtin ? builtin.name : name} loaded. Pick an image.`, 0);
    ok = true;
  } catch (e) {
    if (!order.latestModel(mgen)) return false; // another model was chosen since
    name = await name;
    const down = await boot.engine.then(() => '', (err) => err.message); // the engine did not start: no model can load
    showError(down ? `The compute engine did not start: ${down}.` : `Could not load the model ${name}: ${e.message}. Choose a built-in model, a .safetensors model (as this page saves a converted Keras model), or a Keras .keras or .weights.h5 file.`);
    status.set(state.model ? `Still using ${state.modelName}.` : down ? 'No compute engine.' : 'No model loaded.', 0);
    if (!url || !state.model) modelCard.restore(); // the picker shows the model still loaded (or: none); a URL stays to be mended
  } finally {
    done();
    if (gen === state.generation) setBusy(false);
  }
  if (!ok || loaded) return ok;
  // The gallery is the model's: a built-in's samples (its first explained),
  // none for any other model (the image shown is explained again, unless
  // the person gave another image meanwhile, which went to this model).
  let samples = [];
  try {
    samples = await samplesOf(builtin, fetchBytes);
  } catch (e) {
    showError(`Could not list the samples of ${builtin.name}: ${e.message}. Drop, paste or pick an image to explain.`);
  }
  if (!order.latestModel(mgen)) return ok;
  input.gallery(samples);
  if (gen === state.generation) await again(true, !!builtin);
  return ok;
}

// runImage classifies and explains an image. predicted, when given, is the
// worker's answer to a predict call already made with blob (boot.js's, at
// start-up); show, for an image the person just chose, brings the
// prediction and the maps on screen.
async function runImage(blob, name, predicted = null, show = false) {
  const gen = await order.image(); // a model chosen before this image is the one it goes to
  if (!gen) return;
  if (!state.model) { showError('Load a model first.'); return; }
  metrics.cancel();
  setBusy(true);
  status.set(`Classifying ${name}…`);
  try {
    // The image the worker holds for this model: a new round of maps, with no predict (a photo read again).
    const held = !predicted && state.input && state.input.blob === blob && state.input.model === state.model;
    const predict = () => { state.input = null; return compute.rpc('predict', [blob]); };
    const p = await (predicted || (held ? compute.rpc('clearMaps').then(() => state.prediction, predict) : predict()));
    if (gen !== state.generation) return;
    mark(`prediction ${name}`);
    Object.assign(state, { image: name, prediction: p, input: { blob, model: state.model }, methods: [], options: [], results: [] });
    status.clearError();
    showPrediction(p, state.model.classes, state.builtin ? state.builtin.domain : '');
    viewer.start();
    viewer.image(p);
    if (show) revealMaps();
    metrics.reset(p);
    await explainAll(gen);
  } catch (e) {
    if (gen === state.generation) {
      showError(`Could not use the image ${name}: ${e.message}`);
      status.set(state.prediction ? `Still showing ${state.image}.` : 'No image.', 0);
      return false;
    }
  } finally {
    if (gen === state.generation) setBusy(false);
  }
}

// explainAll explains the current image with every chosen method in turn,
// then scores the maps.
async function explainAll(gen) {
  const t0 = performance.now();
  const chosen = methods.chosen();
  state.methods = chosen;
  state.options = chosen.map((m) => methods.options(m.name));
  cards.reset(chosen);
  viewer.slots(chosen);
  $('download-json').disabled = true;
  if (chosen.some((m) => m.split)) compute.startPool().catch(() => {}); // falls back to one worker if the pool cannot start
  for (let i = 0; i < chosen.length; i++) {
    const m = chosen[i];
    status.set(`${m.label}…`, i / chosen.length);
    const onProgress = (done, total) => {
      if (gen !== state.generation) return; // a stale run's helpers may still report
      status.set(`${m.label}: ${done} of ${total} steps`, (i + (total ? done / total : 0)) / chosen.length);
    };
    let r;
    const started = performance.now();
    try {
      r = await compute.explain(state.options[i], m, onProgress, () => gen !== state.generation);
      // What the person waited for this map (the worker's r.ms is its own
      // call: for a method split across the pool, only the combine step).
      r.waited = performance.now() - started;
    } catch (e) {
      if (gen !== state.generation) return;
      showError(`${m.label}: ${e.message}`);
      cards.fail(i, e.message);
      continue;
    }
    if (gen !== state.generation) return;
    mark(`${m.name} ${r.ms} ms in the worker, ${Math.round(r.waited)} ms waited`);
    state.results[i] = r;
    viewer.map(i, r);
    cards.show(i, r, state.model.classes);
  }
  status.set(chosen.length ? `Done in ${((performance.now() - t0) / 1000).toFixed(2)} s.` : 'Choose at least one method to explain the image.', 1);
  $('download-json').disabled = !state.results.some(Boolean);
  document.body.dataset.explained = String(gen);
  metrics.start(gen); // not awaited: the page stays usable while the metrics run
}

// engineRestarted: a new compute worker holds the model in place of one whose
// Go program ended (why; compute.js), which took the image and maps. err: why not.
function engineRestarted(err, why) {
  if (err) return showError(err.message);
  if (!$('error-text').textContent.includes(why)) showError(why); // the call it stopped may have said nothing (cancelled)
  metrics.reset();
  Object.assign(state, { prediction: null, input: null, methods: [], options: [], results: [] });
  cards.reset([]);
  viewer.slots([]);
  clearPrediction();
  status.set(state.model ? `The compute engine was started again, with ${state.builtin ? state.builtin.name : state.modelName}: pick an image.` : 'The compute engine was started again: choose a model.', 0);
}

// again runs the last image again, with the methods now chosen or a new
// model. orFirst (a new model): also when nothing was predicted yet, else
// the first sample; first (a built-in model): the gallery's first sample,
// unless the person's own image is shown.
function again(orFirst = false, first = false) {
  const last = input.last();
  if (first && input.samples.length && !(last && !last.sample)) return input.first();
  if (last && (state.prediction || orFirst) && !state.busy) return runImage(last.blob, last.name);
  return orFirst ? input.first() : null;
}

async function main() {
  mark('start');
  if (!boot) {
    showError('The page did not start: boot.js did not run. Reload the page.');
    status.set('No compute worker.', 0);
    document.body.dataset.loaded = 'false';
    return;
  }
  $('download-json').addEventListener('click', () => downloadJSON(state));
  setBusy(false);
  // The worker has the model and the first sample from its start (boot.js).
  const listed = boot.models.then((list) => {
    state.builtins = list;
    modelCard.setBuiltins(list);
  });
  const builtin = boot.model.builtin;
  const samples = builtin.then((b) => samplesOf(b, fetchBytes)).catch(() => []);
  builtin.then((b) => { if (params.get('model') && !b) modelCard.showURL(params.get('model')); });
  await listed;
  const ok = await loadModel(boot.model.bytes, boot.model.url, { builtin, url: !!params.get('model'), loaded: boot.model.info });
  // What the person chooses from here on replaces the start-up's gallery and image.
  const mgen = order.models, gen = state.generation;
  const gallery = samples.then((s) => { if (ok && order.latestModel(mgen)) input.gallery(s); }); // none without a model
  const first = await boot.first;
  // The first prediction does not wait for the gallery (32-86 ms later in six probes).
  if (ok && first && gen === state.generation) {
    input.set(first.blob, first.name, true);
    await runImage(first.blob, first.name, first.prediction);
  }
  await gallery;
  if (ok && !first && gen === state.generation && params.get('autorun') !== '0') await input.first();
  viewer.start();
  document.body.dataset.loaded = ok ? 'true' : 'false';
}

main();

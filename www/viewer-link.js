// viewer-link.js: the page's side of the viewer iframe: viewer-2d.html,
// the maps drawn on a 2D canvas, or with ?viewer=gpu viewer.html, the
// Ebitengine build, on the GPU (wasm/viewer's main.go: the same pictures;
// the 2D one is a third of the bytes, and on a first visit the first map
// came 630 ms sooner without Ebitengine's start; BENCHMARKS.md, session 37).
// It starts the viewer, queues messages until the iframe's page has loaded
// (viewer.js holds them from then until Go is ready), sends it the image,
// one panel per map and the colour lookup tables xai built
// (ModelInfo.colormaps), and owns the viewer's toolbar: the colormap of
// ordinary maps (by default each kind's own), the diverging one of signed
// maps, the colour scale, the opacity and which maps to show. Each map goes
// to the viewer raw, with the colour scale the worker computed for the
// chosen rule (Explanation.scales: no scaling here) and its colormap;
// onDisplay(i, display) hears what map i is shown with, for its colour bar;
// onMark(what, at) hears "viewer ready" (Go has started) and "maps shown"
// (the first map drawn, at the viewer's own time: the message can reach the
// page's busy thread much later), in ms since navigation. Contract:
// api.d.ts (ViewerMessage, ViewerEvent).

import { fmt } from './format.js';

const $ = (id) => document.getElementById(id);

// The viewer's layout in CSS pixels: the label strip above each panel and
// the gap between panels (wasm/viewer/layout.go's, at scale 1).
const labelHeight = 18;
const gap = 6;

export class ViewerLink {
  constructor({ onError, onMark, onDisplay }) {
    this.frame = $('viewer');
    this.open = false; // viewer.js listens
    this.stopped = null; // why the viewer cannot run, once it has said so
    this.queue = [];
    this.pngWaiters = new Map();
    this.labels = [];
    this.maps = [];     // the Explanation shown in each panel
    this.aspect = 1;
    this.cols = 1;      // panels per row, for the map cards under the viewer
    this.onDisplay = onDisplay;
    window.addEventListener('message', (e) => {
      if (e.origin !== location.origin || e.source !== this.frame.contentWindow) return;
      this.receive(e.data, onError, onMark);
    });
    $('opacity').addEventListener('input', () => this.sendStyle());
    $('view').addEventListener('input', () => { this.fit(); this.sendStyle(); });
    for (const id of ['colormap', 'diverging', 'scale']) $(id).addEventListener('input', () => this.maps.forEach((r, i) => this.sendMap(i)));
    new ResizeObserver(() => this.fit()).observe($('viewer-box'));
  }

  receive(m, onError, onMark) {
    switch (m.type) {
      case 'ready':
        onMark('viewer ready', performance.now());
        break;
      case 'shown':
        onMark('maps shown', m.at - performance.timeOrigin);
        break;
      case 'hover':
        $('hover').textContent = m.label === undefined
          ? 'Point at a map to read its value.'
          : `${m.label} at (${m.x}, ${m.y}) of ${m.w}×${m.h}: ${fmt(m.value)}`;
        break;
      case 'layout':
        $('view').value = m.layout === 'single' ? String(m.selected) : 'grid';
        this.fit();
        break;
      case 'png': {
        const w = this.pngWaiters.get(m.slot);
        this.pngWaiters.delete(m.slot);
        if (w) w(m);
        break;
      }
      case 'error':
        onError(m.error);
        break;
      case 'stopped':
        this.stopped = m.error;
        this.queue = [];
        // No black box where the maps would be: the reason in its place.
        $('viewer-box').classList.add('stopped');
        $('viewer-wait').textContent = `The viewer cannot run: ${m.error}.`;
        $('viewer-wait').hidden = false;
        $('hover').textContent = '';
        for (const w of this.pngWaiters.values()) w({ error: `the viewer is not running (${m.error})` });
        this.pngWaiters.clear();
        onError(m.error);
        break;
    }
  }

  // start loads the viewer iframe. The page waits for the first prediction
  // (or the end of the start-up): its wasm is two thirds of the worker's
  // (twice it with Ebitengine) and, being same-origin, it starts on the
  // page's own thread, so it must not compete with the way to the first
  // prediction.
  //
  // Messages go to viewer.js from the iframe's load on, not from Go's
  // "ready": viewer.js holds them until then and applies them as Go
  // starts, so the first maps are drawn in the viewer's first frames
  // instead of after a round trip through the page's busy thread.
  start() {
    if (this.frame.getAttribute('src')) return;
    $('viewer-wait').textContent = 'Starting the viewer…';
    this.frame.addEventListener('load', () => {
      $('viewer-wait').hidden = true; // the viewer's HTML says it from here on
      this.open = true;
      for (const q of this.queue.splice(0)) this.send(q);
    }, { once: true });
    this.frame.src = new URLSearchParams(location.search).get('viewer') === 'gpu' ? 'viewer.html' : this.frame.dataset.src;
  }

  send(msg) {
    if (this.stopped) return;
    if (this.open) this.frame.contentWindow.postMessage(msg, location.origin);
    else this.queue.push(msg);
  }

  // setModel offers the model info's colormaps (the sequential ones for
  // ordinary maps, Auto first: each kind's own; the diverging ones for
  // signed maps, the signed kind's own first) and colour scales (Auto:
  // each kind's own rule), keeping what was chosen before.
  setModel(info) {
    this.info = info;
    this.maps = []; // the old model's maps are gone with its cards
    const kinds = new Map(info.displays.map((d) => [d.name, d]));
    this.kinds = kinds;
    const cm = new Map(info.colormaps.map((c) => [c.name, c]));
    const rules = new Map(info.scaleRules.map((r) => [r.name, r]));
    // Auto's tooltip: each kind's default, and the methods of the kind.
    const auto = (what, displays = info.displays) => 'Auto: ' + displays.map((d) => {
      const names = info.methods.filter((m) => m.display === d.name).map((m) => m.label).join(', ');
      return `${what(d)} for ${names}`;
    }).join('; ');
    const fill = (id, options, title) => {
      const sel = $(id);
      const before = sel.value;
      sel.replaceChildren(...options.map(([label, value]) => new Option(label, value)));
      if (options.some(([, value]) => value === before)) sel.value = before;
      sel.title = title;
    };
    const signed = kinds.get('signed');
    fill('colormap', [['Auto', ''], ...info.colormaps.filter((c) => !c.diverging).map((c) => [c.label, c.name])],
      auto((d) => cm.get(d.colormap).label, info.displays.filter((d) => d !== signed)));
    const diverging = info.colormaps.filter((c) => c.diverging);
    fill('diverging', [...diverging.filter((c) => c.name === signed.colormap), ...diverging.filter((c) => c.name !== signed.colormap)]
      .map((c) => [c.label, c.name]), 'The colormap of signed maps: zero in the middle');
    fill('scale', [['Auto', ''], ...info.scaleRules.map((r) => [r.label, r.name])],
      auto((d) => rules.get(d.rule).label) + '. A percentile puts that share of the values below the top colour and clips the rest, so that a few hot pixels do not darken the map.');
    this.send({ type: 'colormaps', colormaps: info.colormaps.map((c) => ({ name: c.name, lut: c.lut })) });
    this.sendStyle();
  }

  // display is how map i is shown now: its colormap (a ColormapInfo), its
  // scale (the worker's DisplayScale for the chosen rule) and the rule's
  // label.
  display(i) {
    const r = this.maps[i];
    const kind = this.kinds.get(r.display);
    const colormap = r.display === 'signed' ? $('diverging').value : ($('colormap').value || kind.colormap);
    const rule = $('scale').value || kind.rule;
    return {
      colormap: this.info.colormaps.find((c) => c.name === colormap),
      scale: r.scales.find((s) => s.rule === rule),
      rule: this.info.scaleRules.find((s) => s.name === rule).label,
      signed: r.display === 'signed',
    };
  }

  sendStyle() {
    const v = $('view').value;
    this.send({
      type: 'style',
      style: { opacity: Number($('opacity').value), layout: v === 'grid' ? 'grid' : 'single', selected: v === 'grid' ? 0 : Number(v) },
    });
  }

  // image shows the model's view of the input (prediction p) and clears
  // the maps.
  image(p) {
    this.aspect = p.input[1] / p.input[0];
    this.send({ type: 'image', rgba: p.view, width: p.input[1], height: p.input[0] });
    this.fit();
  }

  // slots makes one empty panel per method (MethodInfo), any number, and
  // offers each in the view select.
  slots(methods) {
    this.labels = methods.map((m) => m.label);
    this.maps = [];
    this.send({ type: 'slots', labels: this.labels });
    const view = $('view');
    view.replaceChildren(new Option(methods.length === 1 ? 'the map' : methods.length ? `all ${methods.length}` : 'no maps', 'grid'),
      ...methods.map((m, i) => new Option(m.label, String(i))));
    $('diverging-row').hidden = !methods.some((m) => m.display === 'signed');
    this.fit();
    this.sendStyle();
  }

  // map shows explanation r in panel i, as display(i) says.
  map(i, r) {
    this.maps[i] = r;
    this.sendMap(i);
  }

  sendMap(i) {
    const r = this.maps[i];
    if (!r) return;
    const d = this.display(i);
    this.send({ type: 'map', slot: i, label: this.labels[i], map: r.map, width: r.shape[1], height: r.shape[0],
      lo: d.scale.lo, hi: d.scale.hi, colormap: d.colormap.name, signed: d.signed });
    this.onDisplay(i, d);
  }

  // png resolves to the viewer's PNG of panel i (or its error).
  png(i) {
    if (this.stopped) return Promise.resolve({ error: `the viewer is not running (${this.stopped})` });
    return new Promise((resolve) => {
      this.pngWaiters.set(i, resolve);
      this.send({ type: 'png', slot: i });
    });
  }

  // fit sizes the viewer frame to its maps: as many columns as fit panels
  // of at least 220 pixels (two on a phone), rows balanced, panels at most
  // 480 pixels wide; one map shown alone gets the height of one panel.
  fit() {
    const n = Math.max(1, this.labels.length);
    const w = $('viewer-box').getBoundingClientRect().width;
    if (!(w > 0)) return;
    const side = Math.min(220, (w - gap) / 2);
    const most = Math.max(1, Math.floor((w + gap) / (side + gap)));
    const rows = Math.ceil(n / Math.min(n, most));
    const cols = Math.ceil(n / rows);
    const cell = Math.min(480, (w - gap * (cols - 1)) / cols);
    const h = $('view').value === 'grid'
      ? rows * (cell / this.aspect + labelHeight) + gap * (rows - 1)
      : Math.min(480, w) / this.aspect + labelHeight;
    this.frame.style.height = `${Math.ceil(h)}px`;
    // The map cards below follow the panels' columns (no lone card on a
    // row of its own), one per row when a panel is narrower than a card
    // reads well.
    $('methods').style.setProperty('--cols', String(cell >= 200 ? cols : 1));
  }
}

// revealMaps scrolls the prediction and the viewer into view when the viewer
// is below the screen (on a phone the image card and its gallery sit
// above them): the prediction card at the top when the maps then start in
// the top half of the screen, else the viewer card.
export function revealMaps() {
  const top = (el) => el.getBoundingClientRect().top;
  const frame = top($('viewer'));
  if (frame >= 0 && frame < innerHeight / 2) return;
  const pred = top($('topk').closest('.card'));
  const to = frame - pred < innerHeight / 2 ? pred : top($('viewer').closest('.card'));
  scrollBy({ top: to - 8, behavior: matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth' });
}

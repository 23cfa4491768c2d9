// viewer-link.js: the page's side of the viewer iframe (viewer.html, an
// Ebitengine program). It starts the viewer, queues messages until it is
// ready, sends it the image, one panel per map and the colour lookup
// tables xai built (ModelInfo.colormaps), and owns the viewer's toolbar:
// the colormap for ordinary maps, the diverging one for signed maps, their
// legends, the opacity and which maps to show. Contract: api.d.ts
// (ViewerMessage, ViewerEvent).

import { fmt } from './format.js';

const $ = (id) => document.getElementById(id);

// The viewer's layout in CSS pixels: the label strip above each panel and
// the gap between panels (wasm/viewer/layout.go's, at scale 1).
const labelHeight = 18;
const gap = 6;

export class ViewerLink {
  constructor({ onError, onReady }) {
    this.frame = $('viewer');
    this.ready = false;
    this.queue = [];
    this.pngWaiters = new Map();
    this.labels = [];
    this.aspect = 1;
    window.addEventListener('message', (e) => {
      if (e.origin !== location.origin || e.source !== this.frame.contentWindow) return;
      this.receive(e.data, onError, onReady);
    });
    for (const id of ['colormap', 'diverging', 'opacity', 'view']) $(id).addEventListener('input', () => this.sendStyle());
    new ResizeObserver(() => this.fit()).observe($('viewer-box'));
  }

  receive(m, onError, onReady) {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        $('viewer-wait').hidden = true;
        for (const q of this.queue.splice(0)) this.send(q);
        onReady();
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
        const w = this.pngWaiters.get(m.slot);
        this.pngWaiters.delete(m.slot);
        if (w) w(m);
        break;
      }
      case 'error':
        onError(m.error);
        break;
    }
  }

  // start loads the viewer iframe. The page waits for the first prediction
  // (or the end of the start-up): its wasm is three times the worker's and,
  // being same-origin, it starts on the page's own thread, so it must not
  // compete with the way to the first prediction.
  start() {
    if (this.frame.getAttribute('src')) return;
    $('viewer-wait').textContent = 'Starting the viewer…';
    this.frame.src = this.frame.dataset.src;
  }

  send(msg) {
    if (this.ready) this.frame.contentWindow.postMessage(msg, location.origin);
    else this.queue.push(msg);
  }

  // setColormaps offers the model info's colormaps: the sequential ones for
  // ordinary maps, the diverging ones for signed maps (the first of each
  // list by default, or the one chosen before).
  setColormaps(colormaps) {
    this.colormaps = colormaps;
    for (const [id, diverging] of [['colormap', false], ['diverging', true]]) {
      const sel = $(id);
      const before = sel.value;
      sel.replaceChildren(...colormaps.filter((c) => c.diverging === diverging).map((c) => new Option(c.label, c.name)));
      if (colormaps.some((c) => c.name === before && c.diverging === diverging)) sel.value = before;
    }
    this.send({ type: 'colormaps', colormaps: colormaps.map((c) => ({ name: c.name, lut: c.lut })) });
    this.sendStyle();
  }

  sendStyle() {
    const v = $('view').value;
    this.send({
      type: 'style',
      style: {
        colormap: $('colormap').value,
        diverging: $('diverging').value,
        opacity: Number($('opacity').value),
        layout: v === 'grid' ? 'grid' : 'single',
        selected: v === 'grid' ? 0 : Number(v),
      },
    });
    for (const [id, name] of [['legend', $('colormap').value], ['legend-signed', $('diverging').value]]) {
      const c = (this.colormaps || []).find((m) => m.name === name);
      if (c) drawLegend($(id), c.lut);
    }
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
    this.send({ type: 'slots', labels: this.labels });
    const view = $('view');
    view.replaceChildren(new Option(methods.length === 1 ? 'the map' : `all ${methods.length}`, 'grid'),
      ...methods.map((m, i) => new Option(m.label, String(i))));
    $('legend-signed-row').hidden = !methods.some((m) => m.display === 'signed');
    this.fit();
    this.sendStyle();
  }

  // map shows explanation r in panel i; signed maps are drawn symmetric
  // about zero on the diverging colormap.
  map(i, r, signed) {
    this.send({ type: 'map', slot: i, label: this.labels[i], map: r.map, width: r.shape[1], height: r.shape[0], signed });
  }

  // png resolves to the viewer's PNG of panel i (or its error).
  png(i) {
    return new Promise((resolve) => {
      this.pngWaiters.set(i, resolve);
      this.send({ type: 'png', slot: i });
    });
  }

  // fit sizes the viewer frame to its maps: as many columns as fit panels
  // of at least 220 pixels (two on a phone), rows balanced, panels at most
  // 480 pixels wide.
  fit() {
    const n = Math.max(1, this.labels.length);
    const w = $('viewer-box').getBoundingClientRect().width;
    if (!(w > 0)) return;
    const side = Math.min(220, (w - gap) / 2);
    const most = Math.max(1, Math.floor((w + gap) / (side + gap)));
    const rows = Math.ceil(n / Math.min(n, most));
    const cols = Math.ceil(n / rows);
    const cell = Math.min(480, (w - gap * (cols - 1)) / cols);
    const h = rows * (cell / this.aspect + labelHeight) + gap * (rows - 1);
    this.frame.style.height = `${Math.ceil(h)}px`;
  }
}

// drawLegend paints a colormap's lookup table (256 RGBA entries) into a
// 256 x 1 canvas, stretched by CSS.
function drawLegend(canvas, lut) {
  canvas.width = 256;
  canvas.height = 1;
  canvas.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(lut), 256, 1), 0, 0);
}

// box.js: the object box of the faithfulness panel, for the pointing game
// and the relevance mass: dragged on a preview of the model's input or
// typed as four corners on its grid. onApply runs the metrics again.

const $ = (id) => document.getElementById(id);
const corners = ['x0', 'y0', 'x1', 'y1'];

export class BoxInput {
  constructor({ onApply }) {
    this.p = null; // the prediction whose input is previewed
    this.drag = { on: false, x0: 0, y0: 0 };
    $('box-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.draw();
      onApply();
    });
    $('box-clear').addEventListener('click', () => {
      for (const k of corners) $(`box-${k}`).value = '';
      this.draw();
      onApply();
    });
    for (const k of corners) $(`box-${k}`).addEventListener('input', () => this.draw());
    const cv = $('box-canvas');
    cv.addEventListener('pointerdown', (e) => {
      if (!this.p) return;
      cv.setPointerCapture(e.pointerId);
      const [x, y] = this.point(e);
      Object.assign(this.drag, { on: true, x0: x, y0: y });
    });
    cv.addEventListener('pointermove', (e) => {
      if (!this.drag.on) return;
      const [x, y] = this.point(e);
      this.set(this.drag.x0, this.drag.y0, x, y);
    });
    cv.addEventListener('pointerup', (e) => {
      if (!this.drag.on) return;
      this.drag.on = false;
      const [x, y] = this.point(e);
      if (x === this.drag.x0 || y === this.drag.y0) return; // a click, not a box
      this.set(this.drag.x0, this.drag.y0, x, y);
      onApply();
    });
  }

  // input clears the box and previews prediction p's input.
  input(p) {
    this.p = p;
    for (const k of corners) $(`box-${k}`).value = '';
    for (const k of ['x0', 'x1']) $(`box-${k}`).max = p.input[1];
    for (const k of ['y0', 'y1']) $(`box-${k}`).max = p.input[0];
    this.draw();
  }

  // read returns the box typed or dragged, or null.
  read() {
    const v = corners.map((k) => $(`box-${k}`).value);
    if (v.some((x) => x === '')) return null;
    const [x0, y0, x1, y1] = v.map(Number);
    return { x0, y0, x1, y1 };
  }

  draw() {
    const cv = $('box-canvas');
    const ctx = cv.getContext('2d');
    ctx.clearRect(0, 0, cv.width, cv.height);
    const p = this.p;
    if (!p) return;
    const [h, w] = p.input;
    const src = new OffscreenCanvas(w, h);
    src.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(p.view), w, h), 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(src, 0, 0, cv.width, cv.height);
    const b = this.read();
    if (!b) return;
    ctx.strokeStyle = '#ffd21f';
    ctx.lineWidth = 2;
    ctx.strokeRect(b.x0 * cv.width / w, b.y0 * cv.height / h, (b.x1 - b.x0) * cv.width / w, (b.y1 - b.y0) * cv.height / h);
  }

  // point converts a pointer position to the model's input pixels.
  point(e) {
    const r = $('box-canvas').getBoundingClientRect();
    const [h, w] = this.p.input;
    const x = Math.min(Math.max((e.clientX - r.left) / r.width, 0), 1);
    const y = Math.min(Math.max((e.clientY - r.top) / r.height, 0), 1);
    return [Math.round(x * w), Math.round(y * h)];
  }

  set(x0, y0, x1, y1) {
    $('box-x0').value = Math.min(x0, x1);
    $('box-y0').value = Math.min(y0, y1);
    $('box-x1').value = Math.max(x0, x1);
    $('box-y1').value = Math.max(y0, y1);
    this.draw();
  }

  busy(b) {
    $('box-apply').disabled = b;
  }
}

// cards.js: one card per map under the viewer, for the methods being
// explained: the map's colour bar labelled with the values its ends stand
// for (and zero on a signed map), what the map explains, its size, the
// time it took, the options used, the method's conservation check
// (completeness, summation to delta, ...) when it has one, and a PNG
// download.

import { duration, fmt, percent } from './format.js';

const $ = (id) => document.getElementById(id);

export class MapCards {
  // onPNG(i) downloads map i as PNG; onCheckFailed(i, card, line), when
  // given, is called for a map whose conservation check fails, with the
  // check's line (app.js offers the completeness sweep there).
  constructor({ onPNG, onCheckFailed = null }) {
    this.onPNG = onPNG;
    this.onCheckFailed = onCheckFailed;
    this.methods = [];
  }

  // reset makes one waiting card per method (MethodInfo).
  reset(methods) {
    this.methods = methods;
    const box = $('methods');
    box.replaceChildren();
    methods.forEach((m, i) => {
      const card = document.createElement('article');
      card.className = 'card method';
      card.id = `method-${m.name}`;
      const h = document.createElement('h3');
      h.textContent = m.label;
      h.title = m.doc;
      const bar = document.createElement('figure');
      bar.className = 'colorbar';
      bar.hidden = true;
      const body = document.createElement('p');
      body.className = 'small muted';
      body.textContent = 'waiting';
      const dl = document.createElement('button');
      dl.type = 'button';
      dl.className = 'png';
      dl.textContent = 'PNG';
      dl.disabled = true;
      dl.setAttribute('aria-label', `Download the ${m.label} map as PNG`);
      dl.addEventListener('click', () => this.onPNG(i));
      card.append(h, bar, body, dl);
      box.append(card);
    });
  }

  // show fills card i with explanation r; classes are the model's.
  show(i, r, classes) {
    const card = $(`method-${this.methods[i].name}`);
    const body = card.querySelector('p');
    let text = `${r.score} of “${classes[r.class].name}” · ${r.shape[0]}×${r.shape[1]} map · ${duration(r.waited ?? r.ms)}`;
    if (r.layer) text += ` · layer ${r.layer}`;
    const values = (this.methods[i].params || []).filter((p) => !p.with || p.with.values.includes(r.values[p.with.param]))
      .map((p) => `${p.name} ${r.values[p.name]}`).join(', ');
    if (values) text += ` · ${values}`;
    if (r.zero) text += ' · all zero: nothing supports the class';
    body.textContent = text;
    body.title = 'The time is what the page waited for this map.';
    card.dataset.waited = String(r.waited ?? r.ms);
    if (r.check) {
      const c = r.check;
      const g = document.createElement('p');
      g.className = 'small gap';
      const rel = c.rel ? ` (${percent(c.rel)})` : '';
      g.textContent = `${c.name[0].toUpperCase()}${c.name.slice(1)}: Σ attributions ${fmt(c.sum)} vs score change ${fmt(c.want)}, ` +
        `gap ${fmt(c.gap)}${rel}`;
      if (!c.pass) {
        g.classList.add('warn');
        g.title = `more than ${percent(c.threshold)} off: the ranking flags this map`;
      }
      body.after(g);
      if (!c.pass && this.onCheckFailed) this.onCheckFailed(i, card, g);
    }
    card.dataset.state = 'done';
    card.querySelector('button.png').disabled = false; // not the sweep's, offered above it
  }

  // bar draws map i's colour bar for display d (viewer-link.js's display):
  // the colormap, the values its ends stand for ("≤" and "≥" where values
  // beyond them are clipped to the end colours), zero where the scale spans
  // it, and the rule.
  bar(i, d) {
    const card = this.methods[i] && $(`method-${this.methods[i].name}`);
    if (!card) return;
    const fig = card.querySelector('.colorbar');
    const canvas = document.createElement('canvas');
    canvas.width = 256;
    canvas.height = 1;
    canvas.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(d.colormap.lut), 256, 1), 0, 0);
    canvas.setAttribute('aria-hidden', 'true');
    const { lo, hi, below, above } = d.scale;
    const ticks = document.createElement('div');
    ticks.className = 'ticks';
    const tick = (text, where, at = null) => {
      const t = document.createElement('span');
      t.className = where;
      t.textContent = text;
      if (at !== null) t.style.left = `${(100 * at).toFixed(1)}%`;
      ticks.append(t);
    };
    const caption = document.createElement('figcaption');
    caption.className = 'small muted';
    if (hi > lo) {
      const ends = [`${below ? '≤ ' : ''}${fmt(lo)}`, `${above ? '≥ ' : ''}${fmt(hi)}`];
      tick(ends[0], 'lo');
      if (lo < 0 && hi > 0) tick('0', 'zero', -lo / (hi - lo));
      tick(ends[1], 'hi');
      caption.textContent = `${d.colormap.label} · ${d.rule}${d.signed ? ' of |value|' : ''}`;
      fig.title = below || above ? 'Values beyond the ends (≤, ≥) show in the end colours; hover a map for its raw values.' : 'Hover a map for its raw values.';
      fig.setAttribute('aria-label', `Colour bar from ${ends[0]} to ${ends[1]}, ${caption.textContent}`);
    } else {
      tick(`all ${fmt(hi)}`, 'lo');
      caption.textContent = `${d.colormap.label} · no contrast`;
      fig.title = '';
      fig.setAttribute('aria-label', `Colour bar: every value is ${fmt(hi)}`);
    }
    fig.dataset.lo = String(lo);
    fig.dataset.hi = String(hi);
    fig.replaceChildren(canvas, ticks, caption);
    fig.hidden = false;
  }

  fail(i, error) {
    const card = $(`method-${this.methods[i].name}`);
    card.querySelector('p').textContent = `failed: ${error}`;
    card.dataset.state = 'error';
  }
}

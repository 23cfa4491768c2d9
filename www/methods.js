// methods.js: the methods panel. It lists the registry's methods
// (ModelInfo.methods) grouped by family (ModelInfo.families), each with a
// checkbox, its paper and what its map shows; the registry's default
// methods start checked. Each method's options get controls built from its
// params (ParamInfo: kind, default, bounds, choices); the target (class,
// score), the layer of layer methods and the seed are shared. Nothing here
// names a method: options(name) is the ExplainOptions the page sends.

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k in e) e[k] = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

export class MethodsPanel {
  // onExplain runs when the user asks to explain again.
  constructor({ onExplain }) {
    this.info = null;
    this.checked = null; // the names chosen, kept across models (null: the registry's defaults)
    $('explain').addEventListener('click', onExplain);
    if (window.matchMedia('(min-width: 881px)').matches) $('methods-panel').open = true;
  }

  // setModel builds the controls for a model's info.
  setModel(info) {
    this.info = info;
    const cls = $('opt-class');
    cls.replaceChildren(new Option('the predicted class', '-1'));
    info.classes.forEach((k, i) => cls.add(new Option(`${i}: ${k.name}`, String(i))));
    $('opt-score').replaceChildren(...info.scores.map((s, i) =>
      el('label', {}, el('input', { type: 'radio', name: 'opt-score', value: s, checked: i === 0 }), ` ${s}`)));
    const layer = $('opt-layer');
    layer.replaceChildren();
    for (const l of info.layers) {
      if (l.spatial) layer.add(new Option(`${l.name} (${l.kind}, ${l.shape.join('×')})`, l.name));
    }
    layer.value = info.camLayer;
    const list = $('method-list');
    list.replaceChildren();
    for (const f of info.families) {
      const ms = info.methods.filter((m) => m.family === f.name);
      if (ms.length) list.append(el('fieldset', { className: 'family' }, el('legend', {}, f.label), ...ms.map((m) => this.row(m))));
    }
    this.summary();
  }

  row(m) {
    const on = this.checked ? this.checked.has(m.name) : m.default;
    const box = el('input', { type: 'checkbox', id: `use-${m.name}`, checked: on });
    box.addEventListener('change', () => {
      this.checked = new Set(this.chosen().map((c) => c.name));
      this.summary();
    });
    const head = el('div', { className: 'choice-head' },
      el('label', { className: 'check', htmlFor: `use-${m.name}` }, box, m.label),
      el('a', { href: m.url, target: '_blank', rel: 'noopener noreferrer', title: m.paper, className: 'paper small' }, 'paper'));
    const row = el('div', { className: 'method-choice', dataset: { method: m.name } }, head,
      el('p', { className: 'doc small muted' }, m.doc));
    if (m.params && m.params.length) {
      const controls = m.params.map((p) => this.control(m, p));
      row.append(el('details', { className: 'params' }, el('summary', { className: 'small' }, 'Options'),
        el('div', { className: 'param-grid' }, ...controls.flat())));
      // An option that applies only with some values of a choice (ParamInfo.with)
      // is greyed out with the others.
      m.params.forEach((p, i) => {
        if (!p.with) return;
        const choice = controls[m.params.findIndex((q) => q.name === p.with.param)][1];
        const sync = () => { controls[i][1].disabled = !p.with.values.includes(choice.value); };
        choice.addEventListener('change', sync);
        sync();
      });
    }
    return row;
  }

  // control is a param's label and input, from its kind, default and bounds.
  control(m, p) {
    const id = `opt-${m.name}-${p.name}`;
    let input;
    switch (p.kind) {
      case 'int':
      case 'float':
        input = el('input', { type: 'number', id, min: p.min, max: p.max, step: p.kind === 'int' ? 1 : 'any', value: p.default });
        break;
      case 'choice':
        input = el('select', { id }, ...p.choices.map((c) => new Option(c, c)));
        input.value = p.default;
        break;
      default:
        input = el('input', { type: 'checkbox', id, checked: p.default });
    }
    return [el('label', { htmlFor: id, title: p.doc }, p.label), input];
  }

  method(name) {
    return this.info && this.info.methods.find((m) => m.name === name);
  }

  // chosen returns the checked methods, in the registry's order.
  chosen() {
    return this.info ? this.info.methods.filter((m) => $(`use-${m.name}`).checked) : [];
  }

  // options returns the ExplainOptions for method name as the controls
  // stand (an empty number field is left to the method's default).
  options(name) {
    const m = this.method(name);
    const o = {
      method: name,
      class: Number($('opt-class').value),
      score: document.querySelector('input[name="opt-score"]:checked').value,
      seed: Number($('opt-seed').value) || 0,
    };
    if (m && m.layer) o.layer = $('opt-layer').value;
    const values = {};
    for (const p of (m && m.params) || []) {
      const input = $(`opt-${name}-${p.name}`);
      if (p.kind === 'bool') values[p.name] = input.checked;
      else if (p.kind === 'choice') values[p.name] = input.value;
      else if (input.value !== '') values[p.name] = Number(input.value);
    }
    if (Object.keys(values).length) o.options = values;
    return o;
  }

  // set gives method name's options the values (OptionValues), as if
  // typed (the completeness sweep's recommendation).
  set(name, values) {
    for (const [k, v] of Object.entries(values)) {
      const input = $(`opt-${name}-${k}`);
      if (!input) continue;
      if (input.type === 'checkbox') input.checked = !!v;
      else input.value = String(v);
      input.dispatchEvent(new Event('change', { bubbles: true }));
    }
  }

  busy(b, ready) {
    $('explain').disabled = b || !ready;
  }

  summary() {
    const c = this.chosen();
    $('methods-summary').textContent = `${c.length} of ${this.info.methods.length}: ${c.map((m) => m.label).join(', ') || 'none chosen'}`;
  }
}

// model.js: the model card. Its picker lists the built-in models
// (models/index.json, api.d.ts BuiltinModel), a model file on this computer
// and a URL; the card describes the loaded model: its input and classes,
// and for a built-in its domain, model card and licence; for a model
// converted in the page, "Save as .safetensors". Loading is the caller's:
// onBuiltin(builtin, name) loads a built-in, onFile(file, where) routes a
// file by its content (files.js); a URL is fetched with fetchBytes and
// loaded as its built-in or routed as a file would be (open).

import { save } from './downloads.js';
import { thousands } from './format.js';

const $ = (id) => document.getElementById(id);

// builtinFor is the entry of index whose file is url (relative URLs resolved
// against the page), or null. (worker.js has the same lookup for ?model= at
// start-up.)
export function builtinFor(index, url) {
  const abs = (u) => new URL(u, location.href).href;
  return (index || []).find((b) => b && b.file && abs(b.file) === abs(url)) || null;
}

export class ModelCard {
  constructor({ onBuiltin, onFile, fetchBytes, onError }) {
    Object.assign(this, { onBuiltin, onFile, fetchBytes, onError });
    this.builtins = [];
    this.converted = null; // {bytes, fileName} of the model converted in the page, while it is loaded
    this.shown = null;     // {builtin, url} of the model loaded
    $('model-source').addEventListener('change', (e) => {
      const v = e.target.value;
      $('model-url-form').hidden = v !== 'url';
      $('model-file-row').hidden = v !== 'file';
      const b = v.startsWith('builtin:') ? this.builtins[Number(v.slice(8))] : null;
      if (b) onBuiltin(b);
    });
    $('model-file-pick').addEventListener('click', () => $('model-file').click());
    $('model-file').addEventListener('change', (e) => {
      const f = e.target.files[0];
      e.target.value = '';
      if (f) onFile(f, 'model picker');
    });
    $('model-url-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const url = $('model-url').value.trim();
      if (url) this.open(url);
    });
    $('model-save').addEventListener('click', () => {
      if (this.converted) save(new Blob([this.converted.bytes], { type: 'application/octet-stream' }), this.converted.fileName);
    });
  }

  // open loads a model from the model URL: a built-in's file as the
  // built-in, anything else routed by its content as a dropped file would be.
  async open(url) {
    const b = builtinFor(this.builtins, url);
    if (b) return this.onBuiltin(b, url);
    let bytes;
    try {
      bytes = await this.fetchBytes(url);
    } catch (e) {
      this.onError(`Could not load the model ${url}: ${e.message}. Check the address: a file of this site, such as models/other.safetensors.`);
      return null;
    }
    return this.onFile(new File([bytes], url.replace(/[?#].*$/, '').split('/').pop() || url), 'model URL');
  }

  // restore sets the picker to the model shown (after a model that did not
  // load); with none shown (none has loaded yet), the card says so.
  restore() {
    if (!this.shown) return void ($('model-summary').textContent = 'none loaded');
    const { builtin, url } = this.shown;
    const i = builtin ? this.builtins.findIndex((b) => b.file === builtin.file) : -1;
    if (i >= 0) {
      $('model-source').value = `builtin:${i}`;
      $('model-url-form').hidden = true;
      $('model-file-row').hidden = true;
    } else if (!builtin) {
      $('model-source').value = url ? 'url' : 'file';
      $('model-url-form').hidden = !url;
    }
  }

  // setBuiltins lists the built-in models in the picker, before "a file"
  // and "a URL".
  setBuiltins(list) {
    this.builtins = list;
    const sel = $('model-source');
    const keep = [...sel.options].filter((o) => o.value === 'file' || o.value === 'url');
    sel.replaceChildren(...list.map((b, i) => new Option(b.name, `builtin:${i}`)), ...keep);
  }

  // showURL selects the URL source with url filled in (a ?model= page that
  // names no built-in).
  showURL(url) {
    $('model-source').value = 'url';
    $('model-url-form').hidden = false;
    $('model-file-row').hidden = true;
    $('model-url').value = url;
  }

  // show describes the model loaded: info (ModelInfo) from name; builtin
  // is its index entry (or null); converted {bytes, fileName, from, format}
  // when the page converted it from a Keras file; url whether it came from
  // the model URL (else from a file: picked, dropped, pasted, converted).
  show(info, name, { builtin = null, converted = null, url = false } = {}) {
    const [h, w, c] = info.input;
    this.converted = converted;
    this.shown = { builtin, url };
    this.restore();
    $('model-summary').textContent = builtin ? builtin.name : name;
    $('model-summary').title = name;
    $('model-info').textContent =
      `${info.name || 'model'}: ${h}×${w}×${c} input (${info.preprocess.color}, ${info.preprocess.scale}), ` +
      `${info.classes.length} classes, ${thousands(info.params)} parameters.`;
    const about = $('model-about');
    about.replaceChildren();
    if (builtin) {
      about.append(`Knows ${builtin.domain}. `, link(builtin.card, 'Model card'), ' · Licence: ');
      about.append(builtin.licenceFile ? link(builtin.licenceFile, builtin.licence) : builtin.licence);
    } else if (converted) {
      about.append(`Converted in this page from ${converted.from} (${converted.format}). Save it to load it directly next time.`);
    } else {
      about.append(`Your model (${name}): the page knows nothing of what it was trained on.`);
    }
    $('model-save-row').hidden = !converted;
    if (converted) $('model-save').title = `Save ${converted.fileName}`;
  }
}

function link(href, text) {
  const a = document.createElement('a');
  a.href = href;
  a.textContent = text;
  a.target = '_blank';
  a.rel = 'noopener';
  return a;
}

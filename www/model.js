// model.js: the model card. It offers the built-in model, a file on this
// computer or a URL, and describes the loaded model; loading itself is the
// caller's (onLoad(bytesPromise, name) returns whether it worked).

import { thousands } from './format.js';

const $ = (id) => document.getElementById(id);

export class ModelCard {
  constructor({ defaultModel, fetchBytes, onLoad }) {
    $('model-source').addEventListener('change', (e) => {
      $('model-url-form').hidden = e.target.value !== 'url';
      $('model-file-row').hidden = e.target.value !== 'file';
      if (e.target.value === 'default') onLoad(fetchBytes(defaultModel), defaultModel, 'first');
    });
    $('model-file-pick').addEventListener('click', () => $('model-file').click());
    $('model-file').addEventListener('change', (e) => {
      const f = e.target.files[0];
      e.target.value = '';
      if (f) onLoad(f.arrayBuffer(), f.name, 'again');
    });
    $('model-url-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const url = $('model-url').value.trim();
      if (url) onLoad(fetchBytes(url), url, 'again');
    });
  }

  // showURL selects the URL source with url filled in (a ?model= page).
  showURL(url) {
    $('model-source').value = 'url';
    $('model-url-form').hidden = false;
    $('model-url').value = url;
  }

  show(info, name) {
    const [h, w, c] = info.input;
    $('model-summary').textContent = name;
    $('model-info').textContent =
      `${info.name || 'model'}: ${h}×${w}×${c} input (${info.preprocess.color}, ${info.preprocess.scale}), ` +
      `${info.classes.length} classes, ${thousands(info.params)} parameters.`;
  }
}

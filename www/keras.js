// keras.js: the dialog that opens a Keras file (.keras, .weights.h5, Keras 2
// .h5) in the page. It loads the converter (convert.js: weightsconv's Go
// compiled to wasm, in a worker of its own) with import() when the first
// Keras file arrives, so that none of it is on the way to the first
// prediction. A file that carries its architecture converts as it is; a
// weights-only file asks for one (a built-in, the fitting one chosen, or a
// pasted JSON spec); class names are typed or read from a text file. The
// converted file goes to onConverted(bytes, info, from), which loads it and
// offers it as "Save as .safetensors". Every failure is shown in the
// dialog with what to do next (the converter's messages say it).

import { thousands } from './format.js';

const html = `<form method="dialog" class="convert-form">
  <h2 id="convert-title">Open a Keras model</h2>
  <p class="convert-file small"></p>
  <p class="convert-wait muted" role="status"></p>
  <div class="convert-body" hidden>
    <fieldset class="convert-arch">
      <legend>Architecture</legend>
      <p class="convert-arch-note small muted"></p>
      <div class="convert-archs" role="radiogroup" aria-label="Architecture"></div>
      <label class="check"><input type="radio" name="arch" value="spec"> A JSON architecture spec</label>
      <div class="convert-spec-box" hidden>
        <label for="convert-spec" class="visually-hidden">Architecture spec (JSON)</label>
        <textarea id="convert-spec" rows="5" spellcheck="false" placeholder='{"name": "mine", "input": [64, 64, 3], "layers": [...]}'></textarea>
        <button type="button" class="convert-spec-file">Read a spec file…</button>
      </div>
    </fieldset>
    <fieldset>
      <legend>Class names</legend>
      <label for="convert-classes" class="small">One per line, in the order of the model's outputs: "wnid name" or "name". Empty: unnamed (class 0, class 1, ...).</label>
      <textarea id="convert-classes" rows="5" spellcheck="false"></textarea>
      <button type="button" class="convert-classes-file">Read a text file…</button>
    </fieldset>
    <fieldset>
      <legend>Input</legend>
      <label for="convert-scale">Pixel values the model was trained on</label>
      <select id="convert-scale">
        <option value="">the architecture's default</option>
        <option value="0..255">0..255 (raw bytes)</option>
        <option value="0..1">0..1</option>
      </select>
    </fieldset>
  </div>
  <p class="convert-error" role="alert" hidden></p>
  <div class="row end convert-buttons">
    <button type="submit" value="cancel" class="convert-cancel">Cancel</button>
    <button type="button" class="convert-go" hidden>Convert and load</button>
  </div>
  <input type="file" class="convert-text-pick" accept=".txt,.json,text/plain,application/json" hidden>
</form>`;

export class KerasDialog {
  // onConverted(bytes: Uint8Array, info: ConversionInfo, from: string)
  // loads the model; onClose() follows the dialog's closing (cancelled or
  // converted); record(text) keeps an error for the tests.
  constructor({ onConverted, onClose, record }) {
    Object.assign(this, { onConverted, onClose, record });
    this.el = null;
    this.file = null;      // the file the dialog is about (null once closed)
    this.converter = null; // convert.js, once imported
    this.archs = null;     // its architectures()
  }

  isOpen() {
    return !!(this.el && this.el.open);
  }

  // take offers the open dialog a file dropped or pasted on the page: a
  // text file fills the spec (when dropped on it or chosen) or the class
  // names; a Keras file replaces the dialog's. Other files close the dialog
  // and go their own way (false).
  take(file, kind, target) {
    if (kind === 'hdf5' || kind === 'zip') {
      this.open(file);
      return true;
    }
    if (kind === 'unknown') {
      const spec = target === this.$('#convert-spec') || (target !== this.$('#convert-classes') && this.choice() === 'spec');
      this.readText(file, spec ? 'spec' : 'classes');
      return true;
    }
    this.el.close();
    return false;
  }

  $(sel) {
    return this.el.querySelector(sel);
  }

  build() {
    const d = document.createElement('dialog');
    d.id = 'convert-dialog';
    d.className = 'convert';
    d.setAttribute('aria-labelledby', 'convert-title');
    d.innerHTML = html; // a constant: file names and messages go in as text
    document.body.append(d);
    this.el = d;
    // The close event comes a task or a frame after the dialog closed: by
    // then another file may have opened it again, and that file stays.
    d.addEventListener('close', () => {
      if (d.open) return;
      this.file = null;
      this.onClose();
    });
    this.$('.convert-go').addEventListener('click', () => this.convert());
    this.$('.convert-archs').addEventListener('change', () => this.archChanged());
    this.$('input[value="spec"]').addEventListener('change', () => this.archChanged());
    const pick = this.$('.convert-text-pick');
    let into = 'classes';
    this.$('.convert-spec-file').addEventListener('click', () => { into = 'spec'; pick.click(); });
    this.$('.convert-classes-file').addEventListener('click', () => { into = 'classes'; pick.click(); });
    pick.addEventListener('change', () => {
      const f = pick.files[0];
      pick.value = '';
      if (f) this.readText(f, into);
    });
  }

  // open shows the dialog for a Keras file and reads what it holds.
  async open(file) {
    if (!this.el) this.build();
    this.file = file;
    this.setError('');
    this.$('.convert-file').textContent = file.name || 'the pasted file';
    this.$('.convert-body').hidden = true;
    this.$('.convert-go').hidden = true;
    this.$('.convert-cancel').textContent = 'Cancel';
    this.wait(this.converter ? 'Reading the file…' : 'Loading the converter (about 1.3 MB, once) and reading the file…');
    if (!this.el.open) this.el.showModal();
    try {
      if (!this.converter) {
        try {
          this.converter = await import('./convert.js');
        } catch (e) {
          throw new Error(`could not load the converter (${e.message}); reload the page, or convert the file with bin/weightsconv`);
        }
      }
      const [ins, archs] = await Promise.all([this.converter.inspect(file), this.archs || this.converter.architectures()]);
      this.archs = archs;
      if (this.file !== file) return; // closed, or another file came
      this.show(file, ins);
    } catch (e) {
      if (this.file !== file) return;
      this.wait('');
      this.$('.convert-cancel').textContent = 'Close';
      this.setError(e.message);
    }
  }

  show(file, ins) {
    this.ins = ins;
    this.wait('');
    this.$('.convert-file').textContent =
      `${file.name || 'the pasted file'}: ${ins.format}, ${ins.layers.length} layers with weights, ${thousands(ins.values)} values.`;
    const list = this.$('.convert-archs');
    list.replaceChildren();
    const note = this.$('.convert-arch-note');
    this.$('input[value="spec"]').closest('label').hidden = ins.hasArchitecture;
    if (ins.hasArchitecture) {
      note.textContent = `The file's own${ins.architecture ? ` (${ins.architecture})` : ''}.`;
    } else {
      note.textContent = 'This file holds weights only: choose the network they belong to.';
      for (const a of this.archs) {
        const label = document.createElement('label');
        label.className = 'check';
        const r = document.createElement('input');
        r.type = 'radio';
        r.name = 'arch';
        r.value = a.name;
        const fits = ins.fits.includes(a.name);
        label.append(r, ` ${a.name}, ${a.input.join('×')} input`);
        if (fits) {
          const tag = document.createElement('span');
          tag.className = 'fits';
          tag.textContent = 'fits these weights';
          label.append(' ', tag);
        }
        list.append(label);
      }
      const fit = ins.fits[0];
      const first = fit ? list.querySelector(`input[value="${CSS.escape(fit)}"]`) : null;
      if (first) first.checked = true;
      else this.$('input[value="spec"]').checked = false;
    }
    const classes = this.$('#convert-classes');
    classes.value = '';
    classes.dataset.prefill = '';
    this.archChanged();
    this.$('#convert-scale').value = '';
    this.$('.convert-body').hidden = false;
    this.$('.convert-go').hidden = false;
    this.$('.convert-go').disabled = false;
  }

  // choice is the architecture chosen: a built-in's name, 'spec', or ''
  // (the file's own, or nothing chosen yet).
  choice() {
    if (!this.el || (this.ins && this.ins.hasArchitecture)) return '';
    const r = this.el.querySelector('input[name="arch"]:checked');
    return r ? r.value : '';
  }

  // archChanged shows the spec box for 'spec' and fills the class names
  // with the chosen built-in's, unless the user has changed them.
  archChanged() {
    const choice = this.choice();
    this.$('.convert-spec-box').hidden = choice !== 'spec';
    const a = (this.archs || []).find((x) => x.name === choice);
    const prefill = a && a.classes ? a.classes.map((c) => (c.id && c.id !== c.name ? `${c.id} ${c.name}` : c.name)).join('\n') : '';
    const classes = this.$('#convert-classes');
    if (classes.value === (classes.dataset.prefill || '')) classes.value = prefill;
    classes.dataset.prefill = prefill;
  }

  // options are convert's options from the dialog: only what the user
  // chose, so that the defaults are weightsconv's own.
  options() {
    const o = {};
    const choice = this.choice();
    if (choice === 'spec') o.spec = this.$('#convert-spec').value;
    else if (choice) o.arch = choice;
    const classes = this.$('#convert-classes');
    if (classes.value !== (classes.dataset.prefill || '')) o.classes = classes.value;
    const scale = this.$('#convert-scale').value;
    if (scale) o.scale = scale;
    return o;
  }

  async convert() {
    const file = this.file;
    if (!file) return;
    if (!this.ins.hasArchitecture && !this.choice()) {
      this.setError('Choose the architecture these weights belong to: a built-in, or a JSON spec.');
      return;
    }
    if (this.choice() === 'spec' && !this.$('#convert-spec').value.trim()) {
      this.setError('Paste the architecture spec (JSON, see nn/spec.go) or read it from a file, or choose a built-in.');
      return;
    }
    this.setError('');
    this.$('.convert-go').disabled = true;
    this.wait('Converting…');
    try {
      const { file: bytes, info } = await this.converter.convert(file, this.options());
      if (this.file !== file) return;
      this.el.close();
      await this.onConverted(bytes, info, file.name || 'the pasted file');
    } catch (e) {
      if (this.file !== file) return;
      this.wait('');
      this.setError(e.message);
      this.$('.convert-go').disabled = false;
    }
  }

  // readText puts a text file into the spec or the class names.
  async readText(file, into) {
    if (file.size > 1 << 20) {
      this.setError(`${file.name} is ${thousands(file.size)} bytes: class names and specs are small text files.`);
      return;
    }
    const text = await file.text();
    if (into === 'spec') {
      this.$('input[value="spec"]').checked = true;
      this.archChanged();
      this.$('#convert-spec').value = text;
    } else {
      this.$('#convert-classes').value = text;
    }
    this.setError('');
  }

  wait(text) {
    const w = this.$('.convert-wait');
    w.textContent = text;
    w.hidden = !text;
  }

  setError(text) {
    const e = this.$('.convert-error');
    e.textContent = text;
    e.hidden = !text;
    if (text) this.record(`Keras file: ${text}`);
  }
}

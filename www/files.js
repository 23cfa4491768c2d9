// files.js: files go where they belong, by content. A file dropped
// anywhere on the page (the viewer's frame included), pasted, picked in either picker or fetched from the
// model URL is recognised by its first bytes (sniff.js, Go's nn.Sniff) and
// routed: an image is explained, a .safetensors file is loaded as the
// model, a Keras file (.keras zip, HDF5 .h5 / .weights.h5) goes to the
// converter (keras.js); anything else gets sniff.js's message. A file
// whose bytes say nothing but whose name says .safetensors, .h5 or .keras
// goes to that reader, whose error says what is wrong with it (a truncated
// download, say) better than "neither an image nor a model".
//
// While the converter's dialog is open, files dropped or pasted on the page
// go to it first (a text file of class names or a spec, another Keras
// file); it hands back what it does not take.

import { routes, sniffFile, unknownMessage } from './sniff.js';

const $ = (id) => document.getElementById(id);

// byName is the route a file's name suggests, for bytes sniff.js cannot
// place.
function byName(name) {
  if (/\.safetensors$/i.test(name)) return 'model';
  if (/\.(keras|h5|hdf5)$/i.test(name)) return 'keras';
  return null;
}

export class FileRouter {
  // to: {image, model, keras}(file, where) take a routed file;
  // dialog: the converter's dialog (keras.js: open(), take(file, target)
  // -> true when it took the file); onError(text); log: the list every
  // routing is recorded in ({name, where, kind, format, route}).
  constructor({ to, dialog, onError, log }) {
    this.to = to;
    this.dialog = dialog;
    this.onError = onError;
    this.log = log;
    const drop = $('drop');
    const over = (on) => drop.classList.toggle('over', on);
    for (const t of ['dragenter', 'dragover']) {
      document.addEventListener(t, (e) => {
        if (!hasFiles(e.dataTransfer)) return; // text dragged inside the page keeps its default
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
        over(true);
      });
    }
    document.addEventListener('dragleave', (e) => { if (!e.relatedTarget) over(false); });
    document.addEventListener('drop', (e) => {
      over(false);
      const f = e.dataTransfer && e.dataTransfer.files[0];
      if (!f) return;
      e.preventDefault();
      this.route(f, where(e.target), e.target);
    });
    // The viewer is an iframe, a document of its own, whose Ebitengine
    // canvas takes dropped files for itself: the page listens there too
    // (same origin), first, each time the frame loads a document.
    const frame = $('viewer');
    const hooked = new WeakSet();
    const hook = () => {
      // The frame's WindowProxy stays the same across its navigations
      // (about:blank, then the viewer's HTML): each document is hooked.
      const w = frame && frame.contentWindow;
      const doc = frame && frame.contentDocument;
      if (!w || !doc || hooked.has(doc)) return;
      hooked.add(doc);
      for (const t of ['dragenter', 'dragover']) {
        w.addEventListener(t, (e) => {
          if (!hasFiles(e.dataTransfer)) return;
          e.preventDefault();
          e.stopPropagation();
          e.dataTransfer.dropEffect = 'copy';
          over(true);
        }, true);
      }
      w.addEventListener('drop', (e) => {
        over(false);
        const f = e.dataTransfer && e.dataTransfer.files[0];
        if (!f) return;
        e.preventDefault();
        e.stopPropagation();
        this.route(f, 'viewer', frame);
      }, true);
    };
    if (frame) {
      frame.addEventListener('load', hook);
      hook();
    }
    document.addEventListener('paste', (e) => {
      const item = [...(e.clipboardData ? e.clipboardData.items : [])].find((x) => x.kind === 'file');
      if (!item) return; // pasted text goes where the user pasted it
      e.preventDefault();
      this.route(item.getAsFile(), 'paste', e.target);
    });
  }

  // route sends file where its bytes say. where says how it came (for the
  // log and the messages); target is the element it was dropped on.
  async route(file, where, target = null) {
    // A file dropped on the viewer comes from the frame's realm: this
    // page's Blob checks (convert.js) want one of its own.
    if (!(file instanceof Blob)) file = new File([file], file.name || '', { type: file.type });
    const name = file.name || 'the pasted file';
    if (!file.size) {
      this.log.push({ name, where, kind: 'empty', format: '', route: null });
      this.onError(`Could not use ${name}: the file is empty (0 bytes); a download or copy that did not finish? Give it again once it has.`);
      return;
    }
    let kind = 'unknown';
    let format = '';
    try {
      ({ kind, format } = await sniffFile(file));
    } catch (e) {
      this.onError(`Could not read ${name}: ${e.message}. Try the file again, or pick it with a picker.`);
      return;
    }
    const route = routes[kind] || byName(name);
    this.log.push({ name, where, kind, format, route });
    if (this.dialog.isOpen() && this.dialog.take(file, kind, target)) return;
    if (!route) {
      this.onError(`Could not use ${name}: ${unknownMessage(format)}.`);
      return;
    }
    await this.to[route](file, where);
  }
}

function hasFiles(dt) {
  return !!dt && [...(dt.types || [])].includes('Files');
}

// where names the part of the page a file was dropped on.
function where(el) {
  if (!(el instanceof Element)) return 'page';
  if (el.closest('#drop')) return 'drop zone';
  if (el.closest('#model-card')) return 'model card';
  if (el.closest('dialog')) return 'converter';
  return 'page';
}

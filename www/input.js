// input.js: the image card. An image comes from the file picker, a drop
// anywhere on the page, a paste, or the sample gallery; onImage(blob, name)
// receives it. last() is the image shown last, for running it again.

const $ = (id) => document.getElementById(id);

export class ImageInput {
  constructor({ fetchBytes, onImage, onError }) {
    this.fetchBytes = fetchBytes;
    this.onImage = onImage;
    this.onError = onError;
    this.samples = [];
    this.lastImage = null;
    $('pick').addEventListener('click', () => $('image-file').click());
    $('image-file').addEventListener('change', (e) => { this.pick(e.target.files[0]); e.target.value = ''; });
    const drop = $('drop');
    for (const t of ['dragenter', 'dragover']) {
      document.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add('over'); });
    }
    document.addEventListener('dragleave', (e) => { if (!e.relatedTarget) drop.classList.remove('over'); });
    document.addEventListener('drop', (e) => {
      e.preventDefault();
      drop.classList.remove('over');
      const f = e.dataTransfer && e.dataTransfer.files[0];
      if (f) this.pick(f);
    });
    document.addEventListener('paste', (e) => {
      const item = [...(e.clipboardData ? e.clipboardData.items : [])].find((x) => x.kind === 'file');
      if (item) this.pick(item.getAsFile());
    });
  }

  pick(file) {
    if (!file) return;
    this.set(file, file.name || 'pasted image');
    this.onImage(file, this.lastImage.name);
  }

  // set records blob as the image shown.
  set(blob, name) {
    this.lastImage = { blob, name };
  }

  last() {
    return this.lastImage;
  }

  // gallery shows the samples (boot.js's list).
  gallery(samples) {
    this.samples = samples;
    const g = $('gallery');
    g.replaceChildren();
    for (const s of samples) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'thumb';
      b.setAttribute('role', 'listitem');
      const label = s.label || s.name || s.file.replace(/\.[^.]*$/, '');
      b.title = label;
      b.setAttribute('aria-label', `Sample image: ${label}`);
      const img = document.createElement('img');
      img.alt = '';
      img.decoding = 'async';
      img.fetchPriority = 'low'; // after the start-up's own fetches
      img.src = `samples/${s.file}`;
      b.append(img);
      b.addEventListener('click', () => this.useSample(s));
      g.append(b);
    }
  }

  async useSample(s) {
    try {
      const blob = new Blob([await this.fetchBytes(`samples/${s.file}`)]);
      this.set(blob, s.file);
      await this.onImage(blob, s.file);
    } catch (e) {
      this.onError(`Could not load the sample ${s.file}: ${e.message}`);
    }
  }

  // first shows the first sample (null when there is none).
  first() {
    return this.samples.length ? this.useSample(this.samples[0]) : null;
  }
}

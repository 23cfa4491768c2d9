// input.js: the image card. An image comes from the image picker (routed
// by its content first: onFile(file, where), files.js), from files.js for a
// file dropped or pasted anywhere, or from the sample gallery, which
// belongs to the model (its samples index); onImage(blob, name) receives
// it, and resolves to false when the image could not be used. last() is the
// image shown last, for running it again.

const $ = (id) => document.getElementById(id);

// samplesOf reads a built-in model's samples index (api.d.ts Sample[]) and
// gives each sample its URL (files are relative to the index's folder).
export async function samplesOf(builtin, fetchBytes) {
  if (!builtin || !builtin.samples) return [];
  const base = new URL(builtin.samples, location.href);
  const list = JSON.parse(new TextDecoder().decode(await fetchBytes(builtin.samples)));
  if (!Array.isArray(list)) throw new Error(`${builtin.samples} is not a list of samples`);
  return list.map((s) => (typeof s === 'string' ? { file: s } : s)).map((s) => ({ ...s, url: new URL(s.file, base).href }));
}

export class ImageInput {
  constructor({ fetchBytes, onFile, onImage, onError }) {
    this.fetchBytes = fetchBytes;
    this.onImage = onImage;
    this.onError = onError;
    this.samples = [];
    this.lastImage = null;
    this.seq = 0; // bumps with each image given: a sample fetched late yields to a newer one
    $('pick').addEventListener('click', () => $('image-file').click());
    $('image-file').addEventListener('change', (e) => {
      const f = e.target.files[0];
      e.target.value = '';
      if (f) onFile(f, 'image picker');
    });
  }

  // pick explains an image file (files.js routed it here). One that cannot
  // be used leaves the image shown as the one to run again.
  async pick(file) {
    if (!file) return;
    this.seq++;
    const shown = this.lastImage;
    this.set(file, file.name || 'pasted image');
    const mine = this.lastImage;
    if ((await this.onImage(file, mine.name)) === false && this.lastImage === mine) this.lastImage = shown;
  }

  // set records blob as the image shown; sample: one of the gallery's, not
  // the person's own.
  set(blob, name, sample = false) {
    this.lastImage = { blob, name, sample };
  }

  last() {
    return this.lastImage;
  }

  // gallery shows the model's samples (samplesOf's list); with none, it says
  // how to give an image.
  gallery(samples) {
    this.samples = samples;
    const g = $('gallery');
    g.replaceChildren();
    $('gallery-none').hidden = samples.length > 0;
    for (const s of samples) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'thumb';
      b.setAttribute('role', 'listitem');
      const label = s.label || s.name || s.file.replace(/\.[^.]*$/, '');
      b.title = s.licence ? `${label} (${s.licence}${s.author ? `, ${s.author}` : ''})` : label;
      b.setAttribute('aria-label', `Sample image: ${label}`);
      const img = document.createElement('img');
      img.alt = '';
      img.decoding = 'async';
      img.fetchPriority = 'low'; // after the start-up's own fetches
      img.src = s.url;
      b.append(img);
      b.addEventListener('click', () => this.useSample(s));
      g.append(b);
    }
  }

  async useSample(s) {
    const n = ++this.seq;
    let blob;
    try {
      blob = new Blob([await this.fetchBytes(s.url)]);
    } catch (e) {
      if (n === this.seq) this.onError(`Could not load the sample ${s.file}: ${e.message}`);
      return;
    }
    if (n !== this.seq) return; // another image was given while this one came
    this.set(blob, s.file, true);
    await this.onImage(blob, s.file);
  }

  // first shows the first sample (null when there is none).
  first() {
    return this.samples.length ? this.useSample(this.samples[0]) : null;
  }
}

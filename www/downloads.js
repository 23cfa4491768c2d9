// downloads.js: files the page offers: every result of the current image
// as JSON (the raw maps included), and a map's overlay as PNG.

export function save(blob, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

// baseName is the image's name made safe for a file name.
export function baseName(image) {
  return (image || 'image').replace(/\.[^.]*$/, '').replace(/[^\w-]+/g, '_');
}

// downloadJSON saves the model, the image, its prediction and every
// explanation (with the options it was asked with) of the page's state.
export function downloadJSON(state) {
  const out = {
    model: { source: state.modelName, name: state.model.name, classes: state.model.classes, preprocess: state.model.preprocess },
    image: state.image,
    prediction: { class: state.prediction.class, probs: state.prediction.probs, top: state.prediction.top, fit: state.prediction.fit },
    results: state.results.map((r, i) => r && ({
      ...r,
      options: state.options[i],
      map: Array.from(r.map),
      fullMap: Array.from(r.fullMap),
      extras: r.extras && r.extras.map((x) => ({ ...x, data: Array.from(x.data) })),
    })),
  };
  save(new Blob([JSON.stringify(out)], { type: 'application/json' }), `${baseName(state.image)}-explanations.json`);
}

// downloadPNG saves the viewer's PNG of map i (viewer: viewer-link.js's).
export async function downloadPNG(viewer, i, name, onError) {
  const m = await viewer.png(i);
  if (m.error) onError(`PNG: ${m.error}`);
  else save(new Blob([m.png], { type: 'image/png' }), name);
}

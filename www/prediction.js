// prediction.js: the prediction card, the top classes with their
// probabilities as bars.

const $ = (id) => document.getElementById(id);

export function showPrediction(p, classes) {
  const list = $('topk');
  list.replaceChildren();
  for (const i of p.top) {
    const item = document.createElement('li');
    const label = document.createElement('span');
    label.className = 'label';
    label.textContent = classes[i].name;
    label.title = classes[i].name;
    const bar = document.createElement('span');
    bar.className = 'bar';
    const fill = document.createElement('span');
    fill.className = i === p.class ? 'fill top' : 'fill';
    fill.style.width = `${(100 * p.probs[i]).toFixed(1)}%`;
    bar.append(fill);
    const pct = document.createElement('span');
    pct.className = 'pct';
    pct.textContent = `${(100 * p.probs[i]).toFixed(1)}%`;
    item.append(label, bar, pct);
    item.setAttribute('aria-label', `${label.textContent}: ${pct.textContent}`);
    list.append(item);
  }
}

export function clearPrediction() {
  const item = document.createElement('li');
  item.className = 'muted';
  item.textContent = 'No image yet.';
  $('topk').replaceChildren(item);
}

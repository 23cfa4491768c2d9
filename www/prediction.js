// prediction.js: the prediction card, the top classes with their
// probabilities as bars, what the model knows (a built-in's domain) and
// what the worker found about the image's fit to it (Prediction.fit,
// xai.PredictFit: its sentences are shown as they come).

const $ = (id) => document.getElementById(id);

// showPrediction shows p (Prediction) with the model's classes; domain is
// a built-in model's domain (BuiltinModel.domain), or '' for a model of
// the user's.
export function showPrediction(p, classes, domain = '') {
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
  showFit(p.fit, domain);
}

// showFit writes the model's domain, then the fit's problems (a warning
// when the image is outside what the model knows) and its limits (folded).
function showFit(fit, domain) {
  const box = $('fit');
  const para = (cls, text) => {
    const el = document.createElement('p');
    el.className = cls;
    el.textContent = text;
    return el;
  };
  // A classifier always answers with one of its classes: said every time,
  // since no check can tell a photo of something else (Fit.limits).
  const always = 'It always picks one of its classes, whatever the picture shows.';
  const parts = [para('small domain', domain ? `This model knows only ${domain}. ${always}` :
    `Your model: the page does not know what it was trained on. ${always}`)];
  if (fit && fit.problems.length) {
    const warn = document.createElement('div');
    warn.className = fit.outside ? 'fit-warn outside' : 'fit-warn';
    if (fit.outside) warn.append(para('fit-head', 'This image is probably outside what the model knows.'));
    for (const t of fit.problems) warn.append(para('small', t));
    parts.push(warn);
  }
  if (fit) {
    // What the checks cannot see: the same sentence each time, so folded
    // (on a phone it would push the maps off the first screen).
    const more = document.createElement('details');
    more.className = 'fit-limits small muted';
    const summary = document.createElement('summary');
    summary.textContent = 'What these checks cannot see';
    more.append(summary, para('', fit.limits));
    parts.push(more);
  }
  box.replaceChildren(...parts);
  box.dataset.outside = String(!!(fit && fit.outside));
  box.hidden = false;
}

export function clearPrediction() {
  const item = document.createElement('li');
  item.className = 'muted';
  item.textContent = 'No image yet.';
  $('topk').replaceChildren(item);
  $('fit').replaceChildren();
  $('fit').hidden = true;
}

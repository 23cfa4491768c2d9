// status.js: the page's error banner, status line and busy flag. Every
// error shown is kept in state.errors (the tests read it).

const $ = (id) => document.getElementById(id);

export class Status {
  constructor(state) {
    this.state = state;
    $('error-close').addEventListener('click', () => this.clearError());
  }

  error(text) {
    this.state.errors.push(text);
    $('error-text').textContent = text;
    $('error').hidden = false;
  }

  clearError() {
    $('error').hidden = true;
  }

  // set shows text with a progress fraction (null: indeterminate).
  set(text, fraction = null) {
    $('status').textContent = text;
    if (fraction === null) $('progress').removeAttribute('value');
    else $('progress').value = fraction;
  }

  busy(b) {
    this.state.busy = b;
    document.body.dataset.busy = b ? 'true' : 'false';
  }
}

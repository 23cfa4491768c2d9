// order.js: the order of the person's choices. Each choice (a model, an
// image) bumps state.generation, so that the work of an older one is
// dropped when it answers. A model choice is also counted on its own: a
// model whose bytes come after a newer model was chosen is dropped, and an
// image waits for the model chosen before it, to go to that model.

export class Order {
  constructor(state) {
    this.state = state;
    this.models = 0;                  // model choices so far
    this.loading = Promise.resolve(); // settles once the latest model choice is in (or failed)
  }

  // model starts a model choice: its generation (gen), its number among the
  // model choices (mgen), and done(), to call once the model has reached
  // the worker and the page, or failed.
  model() {
    let done;
    this.loading = new Promise((resolve) => { done = resolve; });
    return { gen: ++this.state.generation, mgen: ++this.models, done };
  }

  // latestModel is true while no model was chosen after model choice mgen.
  latestModel(mgen) {
    return mgen === this.models;
  }

  // image starts an image choice and waits for the models chosen before
  // it: its generation, or 0 when another choice came meanwhile.
  async image() {
    const gen = ++this.state.generation;
    for (let p = null; p !== this.loading;) {
      p = this.loading;
      await p;
    }
    return gen === this.state.generation ? gen : 0;
  }
}

// state.js: the page's state, one object that app.js and its panels keep up
// to date and the tests read (app.state).

// newState is the state of a page that has loaded nothing yet; timings
// starts with boot.js's (boot is window.mavisBoot, or undefined).
export function newState(boot) {
  return {
    busy: false,
    model: null,        // ModelInfo
    modelName: '',
    builtin: null,      // the model's models/index.json entry (BuiltinModel), or null
    builtins: [],       // models/index.json
    files: [],          // every file routed by content: {name, where, kind, format, route}
    image: '',          // name of the current image
    prediction: null,   // Prediction
    input: null,        // {blob, model}: the image the compute worker holds, and for which model
    methods: [],        // the MethodInfo of each map of the current round
    options: [],        // the ExplainOptions each was asked with
    results: [],        // the Explanation of each
    generation: 0,      // bumps when the image or model changes: stale results are dropped (order.js)
    errors: [],         // every error shown, for the tests
    timings: boot ? boot.timings : [], // [what, milliseconds since navigation], for the tests and benchmarks (boot.js's first)
    metrics: null,      // Evaluation of the current maps (faithfulness panel)
    metricsBusy: false,
  };
}

// api.d.ts: the JavaScript contracts of the MAVIS-XAI page, in one place.
//
//   page (app.js)  --postMessage-->  worker.js  --calls-->  worker.wasm (Go: wasm/worker)
//   page (app.js)  --postMessage-->  viewer-2d.html/viewer.js  --calls-->  viewer-2d.wasm (Go: wasm/viewer; viewer.html, viewer.wasm with ?viewer=gpu)
//
// Every value reaches JavaScript as a plain object (structured clone between
// the page and its workers; Go's goValue in and jsValue out at the wasm
// boundary, where jsValue carries a result as one JSON text for JSON.parse),
// never as JSON text for the page to parse. Pixels, maps and sums cross as
// typed arrays, copied once each way at the wasm boundary and transferred
// between threads.
//
// The interfaces below are what the worker really sends: wasm/worker's
// TestValuesMatchSchema parses them and holds the values of real results
// to them (member names, types, optional members, nothing extra).

// ---------------------------------------------------------------------------
// 1. The Go compute engine: the global object worker.wasm registers inside the
//    Web Worker. Every method validates its arguments and returns a Promise;
//    errors and Go panics reject it with an Error whose message is the Go
//    error text ("nn: ...", "xai: ...", "worker: ...").
//    Go's collector is held from the start until the first predict returns,
//    another method than loadModel and predict is called, or a second model,
//    or one over 32 MB, is loaded (wasm/worker/gc.go).

interface MavisWorkerAPI {
  /** Decodes a model file (.safetensors with the project's metadata) and makes it current. */
  loadModel(file: Uint8Array): Promise<ModelInfo>;
  /**
   * Preprocesses a width x height image with the model's own contract
   * (nn.ImageInput: resize, crop, colour, scale), keeps it as the current
   * input and classifies it. rows(y, n) gives n rows from row y as
   * non-premultiplied RGBA (4 x width x n bytes); Go reads the image a band
   * of at most a megapixel at a time, top to bottom (nn.RowsInput).
   */
  predict(rows: (y: number, n: number) => Uint8Array | Uint8ClampedArray, width: number, height: number): Promise<Prediction>;
  /**
   * Explains the current input with any registered method (xai.Explainer.Explain).
   * onProgress(done, total) is called during long methods.
   */
  explain(options: ExplainOptions, onProgress?: (done: number, total: number) => void): Promise<Explanation>;
  /**
   * Forgets the maps kept for evaluate; the current input stays, and its
   * forward pass is run and kept as predict does, for the explanations that
   * follow. The page calls it for a new round of maps of the image the worker
   * holds, instead of predicting that image again (reading a photo's rows
   * again). Rejects when there is no current input.
   */
  clearMaps(): Promise<true>;
  /** The Go heap, for memory checks; with gc true it collects first (heapAlloc is then the live heap). */
  memory(gc?: boolean): Promise<Memory>;
  /**
   * Measures how faithful the maps of the last explain calls are (one per
   * method, for the last predicted image, since clearMaps): deletion and insertion curves
   * and AUCs, confidence drop, Gini, entropy, each method's conservation
   * gap, optionally the randomisation sanity check, and the pointing game
   * and relevance mass when a box is given; then ranks the methods with a
   * one-sentence verdict (package xai: Evaluator.Evaluate,
   * RandomisationCheck, Rank). Unlike the other methods it computes in a
   * goroutine that yields to the event loop between forward passes (at most
   * every 50 ms): onProgress(done, total) is called then, and returning false
   * cancels (the Promise rejects with "worker: metrics cancelled"). Rejects
   * when no image was predicted or nothing was explained yet.
   *
   * With options.sweep (the ExplainOptions of an Integrated-Gradients map)
   * it measures instead what brings that map's completeness gap within
   * its threshold on the current image (xai.CompletenessSweep: other
   * rules, step counts and baselines), in the same goroutine, with the
   * same progress and cancel (it stops between baselines; the Promise
   * rejects with "worker: sweep cancelled"), and answers a
   * CompletenessSweep. The main worker only (not split across the pool).
   */
  evaluate(options: EvaluateOptions, onProgress?: (done: number, total: number) => boolean | void): Promise<Evaluation | CompletenessSweep>;

  // The worker pool (www/pool.js, wasm/worker/pool.go): a method whose
  // MethodInfo.split is true (Integrated Gradients) split into ranges of its
  // evaluations (0 is x, the last the baseline; xai.Explainer.PartTo),
  // computed by several workers and added by the main worker
  // (xai.Explainer.CombineTo), bitwise equal to explain's.

  /**
   * The number of evaluations of the split method with these options, the
   * current input, and the class predict found for it (-1 if unknown): the
   * helpers' options can name it, so that they do not predict the input again.
   */
  splitPlan(options: ExplainOptions): Promise<SplitPlan>;
  /**
   * The sums over the evaluations [lo, hi). With input (splitPlan's), a
   * helper's part (computed by the helper, or by the main worker when it is
   * free before the helper is ready): sum holds the H x W x C float64 sums;
   * with a predicted class (class -1) and lo > 0 the worker first predicts
   * the input to resolve it. With input null, the main worker's own part of its current
   * input, which must start at 0 and stays in Go for splitCombine (no sum).
   */
  splitPart(input: Float32Array | null, options: ExplainOptions, lo: number, hi: number,
            onProgress?: (done: number, total: number) => void): Promise<SplitPart>;
  /**
   * Adds the helpers' parts to the main worker's own (same image and
   * options) and answers as explain does; rejects when the parts do not
   * cover the evaluations once or disagree on the class.
   */
  splitCombine(options: ExplainOptions, parts: SplitPart[]): Promise<Explanation>;

  // The faithfulness metrics split by method: the pool gives each helper the
  // main worker's kept maps with the input (evalInstall); every worker then
  // evaluates one method at a time (evaluate with EvaluateOptions.methods),
  // taking the next one when it is free; and the main worker merges the
  // results (evalCombine) and answers as evaluate does: results in explain
  // order, ranked, with the main worker's conservation gaps.

  /** The kept maps of the current input, in explain order, their version and the input. */
  evalPlan(): Promise<EvalPlan>;
  /** A helper's maps and input: makes them current for evaluate. */
  evalInstall(input: Float32Array, maps: EvalMap[]): Promise<true>;
  /**
   * Merges the Evaluation.methods entries of every method; rejects when the
   * main worker's maps are no longer those of the plan's version (a new
   * image or explanation since), or when the results do not cover them once.
   */
  evalCombine(options: EvaluateOptions, results: MethodEvaluation[], version: number): Promise<Evaluation>;
}

// What the page sends.

interface ExplainOptions {
  method: string;                               // a MethodInfo.name
  class?: number;                               // -1 or absent: the predicted class
  score?: string;                               // a ModelInfo.scores entry (default: the first, logit)
  layer?: string;                               // layer methods (MethodInfo.layer): default ModelInfo.camLayer
  seed?: number;                                // seeded methods and noise baselines (0..2^53)
  options?: OptionValues;                       // the method's params by name; absent ones take their defaults
}

// A method's option values by ParamInfo.name: numbers for int and float
// params, strings for choices, booleans for bool params.
type OptionValues = { [name: string]: number | string | boolean };

interface EvaluateOptions {
  steps?: number;                               // deletion/insertion steps (MetricsInfo.steps); the curves have steps + 1 points
  patch?: number;                               // patch side in input pixels (MetricsInfo.patch)
  reference?: string;                           // a MetricsInfo.references entry: what removed pixels become
  box?: { x0: number; y0: number; x1: number; y1: number };  // on the model's input grid, x1 and y1 excluded
  tolerance?: number;                           // pointing-game tolerance in input pixels (0)
  sanity?: boolean;                             // run the cascading randomisation check (slow; off by default)
  seed?: number;                                // its seed
  sweep?: ExplainOptions;                       // instead of the metrics: the completeness sweep of this IG map (CompletenessSweep)
  methods?: string[];                           // only these methods' kept maps (the pool's shares); absent: every kept map
}

// What the worker sends.

interface ModelInfo {
  name: string;
  input: [number, number, number];              // H, W, C
  classes: { id: string; name: string }[];
  preprocess: { height: number; width: number; channels: number; color: string;
                scale: string; resize: string; crop: string };
  layers: { name: string; kind: string; shape: [number, number, number]; spatial: boolean }[];
  camLayer: string;                             // the default layer of layer methods (the last Conv2D)
  params: number;
  // What the page builds its controls from; it copies none of it.
  families: { name: string; label: string }[]; // the method families, in the order the page shows them
  methods: MethodInfo[];                        // xai.Methods(): grouped by family
  scores: string[];                             // the target scores, the default first: logit, probability
  colormaps: ColormapInfo[];                    // xai.Colormaps()
  scaleRules: { name: string; label: string }[]; // the colour scales a person can choose (xai.ScaleRules): 'max', 'p99.5', 'p99', 'p98'
  displays: DisplayInfo[];                      // each kind of map (MethodInfo.display) with its default scale and colormap
  metrics: MetricsInfo;
}

// How a kind of map is shown unless a person picks otherwise
// (xai.Display.DefaultRule and Colormap).
interface DisplayInfo {
  name: 'max' | 'percentile' | 'signed';        // a MethodInfo.display
  rule: string;                                 // a scaleRules name
  colormap: string;                             // a ColormapInfo name
}

interface MethodInfo {
  name: string;                                 // registry name: ExplainOptions.method
  label: string; family: string;                // display name; a families[].name
  paper: string; url: string;                   // its source, and the paper's address
  doc: string;                                  // what the map shows and how to read its colours
  display: 'max' | 'percentile' | 'signed';     // signed maps are shown on a diverging colormap centred on zero
  layer: boolean;                               // explains a layer's output (ExplainOptions.layer applies)
  default: boolean;                             // computed when the user has chosen nothing
  seeded: boolean;                              // uses ExplainOptions.seed
  split: boolean;                               // the worker pool can split it (splitPlan, splitPart, splitCombine)
  params: ParamInfo[] | null;
}

interface ParamInfo {
  name: string; label: string; doc: string;
  kind: 'int' | 'float' | 'choice' | 'bool';
  default: number | string | boolean;
  min?: number; max?: number;                   // int and float
  choices?: string[];                           // choice
  with?: { param: string; values: string[] };   // it applies only when choice option param has one of these values (xai.Param.With)
}

interface ColormapInfo {
  name: string; label: string;
  diverging: boolean;                           // a neutral middle for zero: for signed maps
  lut: Uint8Array;                              // 256 RGBA entries: entry i is the colour at i/255 (xai.Colormap.LUT)
}

interface MetricsInfo {
  steps: number; minSteps: number; maxSteps: number;  // deletion/insertion steps: default and bounds
  patch: number;                                // the default patch side for this model's input
  reference: string; references: string[];     // what removed pixels become: default and choices
  keep: number[];                               // the fractions kept for the confidence drop
  gapThreshold: number;                         // a conservation gap above this (relative) flags a method
  sanityThreshold: number;                      // a mean Spearman above this fails the randomisation check
}

interface Prediction {
  class: number;
  probs: number[];
  top: number[];                                // up to five class indices, most probable first
  input: [number, number, number];
  ms: number;                                   // time in the worker
  view: Uint8Array;                             // the input as the model sees it, input[0] x input[1] RGBA
  fit: InputFit;                                // whether the image is of the kind the model was trained on
}

/** What the model and the image show about whether the image is of the
 * kind the model was trained on (xai.PredictFit; its thresholds are xai's
 * Fit* constants). The page shows problems and limits beside the
 * prediction, as they are. */
interface InputFit {
  coloured: number;                             // fraction of the image's pixels in colour (-1: not measured)
  grey: boolean;                                // the model reads grey (one channel)
  shift: number;                                // largest BatchNorm feature shift (training images: about 1)
  shiftLayer: string;                           // its layer ('' when the model has no BatchNorm)
  top: number;                                  // the top class's probability
  outside: boolean;                             // a problem says the image is unlike the training images
  problems: string[];                           // plain sentences, the confidence one last; empty when none
  limits: string;                               // what the checks cannot see
}

interface Explanation {
  method: string; label: string;
  class: number;                                // the class explained
  score: string;                                // the target's score (logit, probability)
  value: number;                                // the score at the input
  probs: number[];
  shape: [number, number];                      // display map H, W (CAMs: the layer's resolution)
  map: Float32Array;                            // the display map, shape[0] x shape[1]
  fullShape: [number, number, number];          // the method's map at its native resolution: H, W, C
  fullMap: Float32Array;                        // that map (what evaluate scores)
  min: number; max: number;                     // of the display map
  zero: boolean;                                // an all-zero map (nothing supports the class)
  values: OptionValues;                         // the method's options as used, defaults included
  passes: number;                               // forward (and backward) passes of one sample
  layer?: string; weights?: number[];           // layer methods: the layer; CAMs: channel weights
  extras?: Extra[];                             // further arrays of the method (xai.Result.Extras)
  check?: Check;                                // the method's conservation property
  display: 'max' | 'percentile' | 'signed';     // the method's kind of map (MethodInfo.display)
  scales: DisplayScale[];                       // the display map's colour scale under each ModelInfo.scaleRules entry, in order
  ms: number;                                   // this call's time in the worker: for a split method (splitCombine), the combine step only;
                                                // the page shows what it waited (app.js: waited)
}

// evaluate's answer to options.sweep: Integrated Gradients' completeness
// gap on the current image under other rules, step counts and baselines
// (xai.CompletenessSweep, xai.GapAdvice, xai.BestGapTrial).
interface CompletenessSweep {
  method: string;                               // 'ig'
  trials: GapTrial[];                           // per baseline (the map's first): linspace then trapezoid by rising steps, then gauss-legendre
  advice: string;                               // what the trials show, in a sentence or two
  best: string;                                 // the recommended trial ("trapezoid, 25 steps, baseline blur(sigma=5)"); '' when none holds
  use: OptionValues | null;                     // the map's options that run it (rule, steps, baseline, sigma); null when none holds
  threshold: number;                            // the relative gap a trial must stay within (MetricsInfo.gapThreshold)
  ms: number;
}

interface GapTrial {
  rule: string; steps: number; baseline: string;
  sum: number; want: number;                    // Σ attributions and the score difference it should equal
  rel: number;                                  // the relative gap
  flat: boolean;                                // the baseline scores as the image does: its gap says nothing
  pass: boolean;                                // within the threshold and not flat
}

// A display map's colour scale under one rule (xai.DisplayScale): the
// viewer colours the raw map from lo (the colormap's first colour) to hi
// (its last); signed maps are symmetric, lo = -hi, so zero is the middle.
interface DisplayScale {
  rule: string;                                 // a ModelInfo.scaleRules name
  lo: number; hi: number;                       // what the colour bar's ends stand for; hi <= lo: no contrast (all the first colour)
  below: boolean; above: boolean;               // values lie below lo / above hi (shown in the end colours)
}

// A further array a method returns (xai.Extra): Saliency's signed gradient
// "grad" (H x W x C), Score-CAM's masked "scores" (one per channel),
// Occlusion's window differences "diffs" (rows x columns of windows), ...
interface Extra { name: string; shape: number[]; data: Float32Array }

// A conservation property (xai.Check): Integrated Gradients' completeness,
// DeepLIFT's summation to delta, LRP's relevance conservation.
interface Check {
  name: string;
  sum: number; want: number;                    // Σ attributions, and the score difference it should equal
  scoreX: number; scoreRef: number;             // want = scoreX - scoreRef
  gap: number; rel: number;                     // sum - want, and relative to |want|
  threshold: number; pass: boolean;             // |rel| <= threshold
  layers?: { layer: string; sum: number }[];    // a layer-by-layer property: the sum at each layer
  sweep?: true;                                 // an explanation whose gap the completeness sweep measures (EvaluateOptions.sweep)
}

interface Memory { heapAlloc: number; heapSys: number; sys: number; numGC: number }

interface Curve { fraction: number[]; score: number[]; auc: number }

interface MapMetrics {
  class: number; score: string; prob: number;
  steps: number; patch: number; reference: string;
  deletion: Curve; insertion: Curve;
  faithfulness: number;                         // insertion.auc - deletion.auc
  confidence: { keep: number; prob: number; drop: number; raise: boolean }[];
  gini: number; entropy: number;
  pointing?: boolean; mass?: number;            // with a box only
}

interface SanityResult {
  class: number; seed: number; layers: string[]; spearman: number[];
  mean: number; threshold: number; pass: boolean;
}

interface MethodEvaluation {
  method: string; label: string; metrics: MapMetrics; sanity?: SanityResult;
  completenessGap?: number;                     // the conservation check's relative gap (Explanation.check.rel)
  ms: number;
}

interface Evaluation {
  methods: MethodEvaluation[];
  ranking: { scores: { method: string; faithfulness: number; insertion_auc: number; deletion_auc: number;
                       gini: number; entropy: number; flagged: boolean; sanity?: SanityResult;
                       completeness_gap?: number;
                       problems: string[] }[];          // why a flagged method is not trusted (xai.MethodScore.Problems); empty when none
             trusted: string;                   // '' when no method is trusted
             flags: string[] | null; verdict: string;
             headline: string };                // the verdict without the flags, which each method's line gives
  steps: number; patch: number; input: [number, number, number];
  ms: number;                                   // this call's time in the worker (evalCombine: the merge only); the page shows what it waited
}

interface SplitPlan { evaluations: number; input: Float32Array; class: number }  // input: H x W x C; class: what predict found for input, -1 if unknown

interface SplitPart {
  lo: number; hi: number;                       // the evaluations summed
  evaluations: number;                          // of the whole split
  class: number;                                // the class explained
  baselineScore: number;                        // Score(baseline) when hi === evaluations, else 0
  sum?: Float64Array;                           // H x W x C float64 sums: a helper's part only
}

interface EvalPlan { input: Float32Array; version: number; maps: EvalMap[] }  // version: evalCombine's check

interface EvalMap {
  method: string; options: ExplainOptions;      // as explained
  class: number; gap: number | null;            // the class explained; the conservation check's relative gap
  shape: [number, number, number];              // H, W, C of map
  map: Float32Array;                            // the method's map at its native resolution
}

// ---------------------------------------------------------------------------
// 2. worker.js: the messages between the page and the worker. worker.js
//    decodes images itself (createImageBitmap without colour conversion, then
//    OffscreenCanvas getImageData a band of rows at a time), calls Go with the
//    arguments as they came and transfers the typed arrays of the answer.

type WorkerRequest =
  | { id: number; method: 'loadModel'; args: [ArrayBuffer] }
  | { id: number; method: 'predict'; args: [Blob] }
  | { id: number; method: 'bootModel'; args: [] }   // boot.js's worker (worker.js?boot=1[&model=URL]): the model it fetched (URL, else models/index.json's first), loaded
                                                    //   -> { info: ModelInfo; bytes: ArrayBuffer; url: string; builtin: BuiltinModel | null; startup }
  | { id: number; method: 'bootSample'; args: [] }  // and the first sample it fetched, predicted -> { file: string; bytes: ArrayBuffer; prediction: Prediction } | null
  | { id: number; method: 'explain'; args: [ExplainOptions] }
  | { id: number; method: 'clearMaps'; args: [] }
  | { id: number; method: 'startup'; args: [] }   // answered once Go is ready, without calling it: the start-up stages, ms since the
                                                  //   worker started: created (its time origin), scripts (wasm_exec.js, kernels.js, goexit.js loaded),
                                                  //   kernelsCompiled, compiled, instantiated, ready, and for boot.js's worker modelFetched,
                                                  //   sampleFetched, sampleDecoded, modelLoaded, predicted as they happen
  | { id: number; method: 'memory'; args: [] | [boolean] }  // true: collect first, so heapAlloc is the live heap
  | { id: number; method: 'evaluate'; args: [EvaluateOptions] }
  | { id: number; method: 'cancel'; args: [] | ['metrics' | 'sweep'] } // stops every evaluate with a smaller id (or only the metrics', or only the sweep's); not queued
  | { id: number; method: 'splitPlan'; args: [ExplainOptions] }
  | { id: number; method: 'splitPart'; args: [Float32Array | null, ExplainOptions, number, number] }  // input (transferred), options, lo, hi
  | { id: number; method: 'splitCombine'; args: [ExplainOptions, SplitPart[]] }  // sums transferred
  | { id: number; method: 'evalPlan'; args: [] }
  | { id: number; method: 'evalInstall'; args: [Float32Array, EvalMap[]] }  // transferred
  | { id: number; method: 'evalCombine'; args: [EvaluateOptions, MethodEvaluation[], number] };  // options, results, the plan's version

// worker.js runs the calls one at a time in the order they arrive (cancel excepted).

type WorkerReply =
  | { id: number; result: ModelInfo }
  | { id: number; result: Prediction & { source: [number, number] } }
  | { id: number; result: Explanation }
  | { id: number; result: Memory & { wasmBytes: number; kernels: string /* nn's kernels: 'simd128 (interface N)', or 'portable: ' and why (www/kernels.js) */ } }
  | { id: number; result: Evaluation }
  | { id: number; result: true }                  // cancel, clearMaps, evalInstall
  | { id: number; result: SplitPlan }
  | { id: number; result: SplitPart }
  | { id: number; result: EvalPlan }
  | { id: number; progress: [number, number] }
  | { id: number; error: string }                // once Go's program has ended (out of memory...): "the compute engine stopped (why)..." to every call
  | { goExit: string };                          // no id, once, when Go's program ends: that text; the page (boot.js, compute.js) starts a new worker

// ---------------------------------------------------------------------------
// 3. The viewer iframe (viewer-2d.html; viewer.html, Ebitengine's build, with
//    ?viewer=gpu). The page posts ViewerMessage with targetOrigin
//    location.origin; viewer.js re-wraps typed arrays in its own realm and
//    calls the global `viewer` that the viewer's wasm registers. Maps are
//    raw scalar grids, each with its colour scale (lo, hi: the worker's
//    DisplayScale for the chosen rule) and colormap: colour and blend happen
//    in the viewer (its shader on the GPU), which samples the 256-entry
//    lookup table xai built (ColormapInfo.lut), so a colormap, scale or
//    opacity change never recomputes a map (the page sends the map again
//    with the new scale or colormap; hover still reads the raw values).
//    Inside Ebitengine's iframe, Go calls viewerWake() (viewer.js) after each
//    message: its frame loop waits in viewer.js while nothing changes.

type ViewerMessage =
  | { type: 'colormaps'; colormaps: { name: string; lut: Uint8Array }[] }      // the lookup tables styles name
  | { type: 'image'; rgba: Uint8Array; width: number; height: number }          // clears the maps
  | { type: 'slots'; labels: string[] }                                         // one empty panel per label, any number
  | { type: 'map'; slot: number; label: string; map: Float32Array; width: number; height: number;
      lo: number; hi: number;                   // the values shown in the colormap's first and last colours (clipped beyond)
      colormap: string;                         // a name of 'colormaps'
      signed?: boolean }                        // a flat scale (hi <= lo) shows zero's colour (the middle) instead of the first; empty map clears
  | { type: 'style'; style: { opacity: number; layout: 'grid' | 'single'; selected: number } }
  | { type: 'png'; slot: number };                                             // answered by ViewerEvent 'png'

type ViewerEvent =
  | { type: 'ready' }                                                          // Go has started (the page marks the time; messages need not wait for it: viewer.js holds them)
  | { type: 'shown'; at: number }                                             // the first map was drawn, at performance.timeOrigin + performance.now() in the viewer (ms since 1970): the page marks "maps shown" at that time
  | { type: 'hover'; slot?: number; label?: string; x?: number; y?: number; value?: number; w?: number; h?: number }
  | { type: 'layout'; layout: 'grid' | 'single'; selected: number }             // the user clicked a panel
  | { type: 'png'; slot: number; png?: Uint8Array; error?: string }
  | { type: 'error'; error: string }                                          // a call failed; the viewer runs on
  | { type: 'stopped'; error: string };                                       // the viewer cannot run (its wasm did not load, or its program ended), and why

interface ViewerAPI {
  // Each returns null or the error text.
  setColormaps(names: string[], luts: Uint8Array[]): string | null;
  setImage(rgba: Uint8Array, width: number, height: number): string | null;
  setSlots(labels: string[]): string | null;
  setMap(slot: number, label: string, float32Bytes: Uint8Array, width: number, height: number,
         lo: number, hi: number, colormap: string, signed: boolean): string | null;
  setStyle(opacity: number, layout: string, selected: number): string | null;
  png(slot: number): string | null;
}

// ---------------------------------------------------------------------------
// 4. The page: window.app, for tests and the console (app.js).

interface PageApp {
  state: {
    busy: boolean; model: ModelInfo | null; modelName: string; image: string; prediction: Prediction | null;
    builtin: BuiltinModel | null;               // the model's models/index.json entry (null: a model of the user's)
    builtins: BuiltinModel[];                   // models/index.json: the model picker's built-ins
    files: RoutedFile[];                        // every file dropped, pasted, picked or fetched from the model URL, as routed
    methods: MethodInfo[];                      // the methods of the current round of maps, in the registry's order
    options: ExplainOptions[];                  // what each was asked with
    results: Explanation[];                     // and its answer (index by index; a failed one is missing)
    generation: number; errors: string[];       // every error the page showed
    timings: [string, number][];                // [what, ms since navigation]: boot.js's first, then app.js's
    metrics: Evaluation | null; metricsBusy: boolean;
  };
  rpc(method: string, args?: unknown[], onProgress?: (done: number, total: number) => void): Promise<any>;  // a WorkerRequest
  memory(gc?: boolean): Promise<Memory & { wasmBytes: number }>;
  /** rpc('explain', [o]), split across the worker pool when the method's MethodInfo.split (app.pool then exists). */
  explain(o: ExplainOptions, onProgress?: (done: number, total: number) => void): Promise<Explanation>;
  explainOptions(method: string): ExplainOptions; // what the methods panel would send now for a method
  metricsOptions(): EvaluateOptions;             // what the faithfulness panel would send now (its steps, sanity and box)
  readonly pool: object | null;                  // pool.js's Pool, once a split method has run
}

//    The page explains the chosen methods (the methods panel; the registry's
//    Default methods at first) one after the other, with a card each under
//    the viewer; document.body.dataset.explained changes when a round is
//    done. The faithfulness panel (#metrics) then runs 'evaluate'; when it is
//    done document.body.dataset.evaluated changes and app.state.metrics holds
//    the Evaluation. Its table cells carry data-metric and data-value (full
//    precision). document.body.dataset.loaded is 'true' or 'false' once the
//    start-up is over.
//    Start-up: boot.js (window.mavisBoot, documented there) creates the worker,
//    which fetches the models index, the model and the first sample of the
//    model's samples itself (bootModel, bootSample); its timings come first
//    in app.state.timings.
//    Models and samples: the model picker lists models/index.json's built-ins
//    (BuiltinModel), then "a file" and "a URL". The gallery is the loaded
//    model's: a built-in's samples index (the first sample is explained when
//    a built-in is chosen), none for any other model. The model card shows
//    a built-in's domain, card and licence, and "Save as .safetensors"
//    (#model-save) for a model converted in the page.
//    The worker pool (pool.js): the main worker plus helpers, started the
//    first time a split method runs, each loading the current model; its size
//    is min(hardwareConcurrency, 4) and at most one per 2 GB of device memory.
//    A split method's evaluations are cut into ranges (splitRanges) that the
//    workers take one at a time as they become free.
//    Once the pool exists, the faithfulness panel's evaluate is split by
//    method across it too (pool.evaluate).
//    URL parameters: ?model=<relative URL of a .safetensors file> (a built-in's file: that
//    built-in, with its samples; default: models/index.json's first), ?autorun=0 (do not
//    explain the first sample on load), ?workers=N (the pool's size, main worker included; 1: no pool).

// ---------------------------------------------------------------------------
// 5. Files by content, and Keras files opened in the page.
//
//   page --import--> files.js --import--> sniff.js   (routing: what a file is, from its first bytes)
//   page --import--> keras.js --import()--> convert.js --postMessage--> convert-worker.js --calls--> convert.wasm (Go: wasm/convert)
//
// files.js routes every file dropped anywhere on the page, pasted, picked
// in the image or the model picker, or fetched from the model URL by
// sniff.js's routes: 'image' explains it, 'model' loads it, 'keras' opens
// keras.js's dialog (#convert-dialog: the architecture for a weights-only
// file, class names, pixel scale; "Convert and load"), null refuses it with
// unknownMessage. Unknown bytes named .safetensors / .h5 / .keras go to
// that reader, whose error says what is wrong with them.
//
// sniff.js gives the answers of Go's nn.Sniff (wasm/convert's TestSniffJS).
// convert.js starts its worker and loads convert.wasm (about 1.3 MB gzipped)
// on its first call only: import it with import() when a Keras file arrives,
// so that nothing of it is on the way to the first prediction. Its
// conversions equal bin/weightsconv's output byte for byte (both call
// weightsconv/keras.Convert; wasm/convert's TestNodeMatchesWeightsconv and
// wasm/browsertest's TestConvertInBrowser).

type FileKind = 'image' | 'safetensors' | 'hdf5' | 'zip' | 'unknown';

/** A file as files.js routed it (PageApp.state.files). */
interface RoutedFile {
  name: string;
  where: 'drop zone' | 'model card' | 'viewer' | 'converter' | 'page' | 'paste' | 'image picker' | 'model picker' | 'model URL';
  kind: FileKind; format: string;          // sniff.js's answer
  route: 'image' | 'model' | 'keras' | null;
}

interface SniffResult {
  kind: FileKind;
  /** 'PNG' | 'JPEG' | 'GIF' | 'WebP' | 'BMP' | 'safetensors' | 'HDF5' | 'zip'; for 'unknown', 'HEIF' | 'AVIF' (pictures the page does not read) or ''. */
  format: string;
}

interface SniffModule {
  /** How many leading bytes sniff looks at (2056, nn.SniffLen). */
  SNIFF_LEN: number;
  /** head: the file's first bytes (at least SNIFF_LEN, or all of them); size: the file's size (default head.length). */
  sniff(head: Uint8Array | ArrayBuffer, size?: number): SniffResult;
  /** Reads a File's or Blob's first SNIFF_LEN bytes and sniffs them. */
  sniffFile(blob: Blob): Promise<SniffResult>;
  /** What the page does with each kind: 'image' explains it, 'model' loads it (loadModel), 'keras' converts it (convert.js), null refuses it with unknownMessage. */
  routes: Record<FileKind, 'image' | 'model' | 'keras' | null>;
  /** The message for a file of kind 'unknown' and its format, saying what to do. */
  unknownMessage(format: string): string;
}

/** A built-in architecture, offered for a weights-only Keras file. */
interface Architecture {
  name: string;                            // 'fashion' | 'mavis' (nn.BuiltinNames)
  input: [number, number, number];         // height, width, channels
  classes: { id: string; name: string }[] | null; // the default class names, or null (the user names them)
}

/** What a Keras file holds, before it is converted (convert.js inspect). */
interface Inspection {
  format: 'Keras 3 .weights.h5' | 'Keras 3 .keras archive' | 'Keras 2 weights .h5' | 'Keras 2 model .h5';
  hasArchitecture: boolean;                // false: convert needs options.arch or options.spec
  architecture?: string;                   // the file's architecture name, when it has one
  layers: { name: string; vars: { name: string; shape: number[] }[] }[]; // the layers with weights, in file order
  values: number;                          // weight values in the file
  fits: string[];                          // built-in architectures whose every weight the file fills with the right shape
}

/** convert's options: strings only; any other name is refused. */
interface ConvertOptions {
  name?: string;      // the file's name, recorded in the metadata as weightsconv records it; default: the File's name
  arch?: string;      // a built-in architecture (Architecture.name), instead of the file's own
  spec?: string;      // an nn spec as JSON text (nn/spec.go), pasted or read from a file; not with arch
  classes?: string;   // class names, one per line ("wnid name" or "name"; # comments), typed or read from a text file;
                      // default: the built-in's (mavis: its five classes), else unnamed ("class 0", ...)
  scale?: '0..255' | '0..1';
  resize?: 'bilinear' | 'nearest' | 'bicubic' | 'lanczos3';
  crop?: 'none' | 'center';
}

/** What a converted file holds: the facts weightsconv prints. */
interface ConversionInfo {
  format: Inspection['format'];
  fileName: string;                        // the name to save it as: the input's with .safetensors (keras.OutputName)
  architecture: string;                    // spec name
  archFrom: string;                        // 'the file' | 'built-in NAME' | 'spec NAME'
  input: [number, number, number];
  layers: { name: string; class: string; output: [number, number, number]; params: number }[];
  trainable: number;
  nonTrainable: number;
  classes: { id: string; name: string }[]; // empty when unnamed
  preprocess: { height: number; width: number; channels: number; color: string; scale: string; resize: string; crop: string };
  bytes: number;                           // file.length
}

interface ConvertModule {
  architectures(): Promise<Architecture[]>;
  /** input: a File, Blob, ArrayBuffer or Uint8Array (copied, the caller keeps it). */
  inspect(input: Blob | ArrayBuffer | Uint8Array): Promise<Inspection>;
  /**
   * The .safetensors bytes bin/weightsconv writes for the same inputs: load
   * them with loadModel, offer them as "Save as .safetensors" under
   * info.fileName. Rejects with an Error saying what to give instead:
   * "keras: the file holds weights only (...): give its architecture, a
   * built-in (fashion, mavis) or an nn spec JSON", "keras: N class names
   * given, the model has M outputs", "keras: the file has no weights for
   * layer ...", "keras: this is a PNG image, not a Keras model file ...",
   * "convert: the file is N MB; the page converts Keras files up to 512 MB:
   * convert it with bin/weightsconv instead", "could not load the converter ...".
   */
  convert(input: Blob | ArrayBuffer | Uint8Array, options?: ConvertOptions): Promise<{ file: Uint8Array; info: ConversionInfo }>;
  /** Stops the converter's worker (pending calls reject); the next call starts a new one. */
  stop(): void;
}

/** convert.wasm's global object inside convert-worker.js (wasm/convert/main.go). */
interface MavisConvertAPI {
  architectures(): Promise<Architecture[]>;
  inspect(bytes: Uint8Array | ArrayBuffer): Promise<Inspection>;
  convert(bytes: Uint8Array | ArrayBuffer, options?: ConvertOptions): Promise<{ file: Uint8Array; info: ConversionInfo }>;
}

/** convert-worker.js's messages. */
type ConvertRequest = { id: number; method: 'architectures' | 'inspect' | 'convert'; args: unknown[] };
type ConvertResponse = { id: number; result: unknown } | { id: number; error: string };

// The built-in models: www/models/index.json, in the order the model picker
// lists them (the first is the page's default). Paths are relative to the
// site root. models_test.go holds every entry to its files.
interface BuiltinModel {
  file: string;          // 'models/mavis.safetensors': load it with loadModel
  name: string;          // what the picker shows
  domain: string;        // the inputs it knows, in a phrase ('colour photos of 5 Tiny-ImageNet animals: ...'), to show with a prediction
  card: string;          // its model card (Markdown): source, classes, input contract, training data, what it cannot know
  licence: string;       // 'Apache-2.0', ...
  licenceFile?: string;  // the licence text, when it is not the project's
  samples: string;       // its samples index ('samples/mavis/index.json'): Sample[]
}

/** An entry of a samples index; file is relative to the index's folder. */
interface Sample {
  file: string;
  label: string;
  inClass?: boolean;     // false: not one of the model's classes (the label says so)
  licence?: string;      // for photos not made by this project: 'CC0-1.0', 'public domain', ...
  author?: string;
  source?: string;
}

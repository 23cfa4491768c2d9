// api.d.ts: the JavaScript contracts of the MAVIS-XAI page, in one place.
//
//   page (app.js)  --postMessage-->  worker.js  --calls-->  worker.wasm (Go: wasm/worker)
//   page (app.js)  --postMessage-->  viewer.html/viewer.js  --calls-->  viewer.wasm (Go: wasm/viewer)
//
// Pixels and maps cross every boundary as typed arrays, never element by
// element: Go copies them once with js.CopyBytesToGo / CopyBytesToJS; float32
// maps travel as their little-endian bytes. Small results are JSON.

// ---------------------------------------------------------------------------
// 1. The Go compute engine: the global object worker.wasm registers inside the
//    Web Worker. Every method validates its arguments and returns a Promise;
//    errors and Go panics reject it with an Error whose message is the Go
//    error text ("nn: ...", "xai: ...", "worker: ...").

interface MavisWorkerAPI {
  /** Decodes a model file (.safetensors with the project's metadata) and makes it current. */
  loadModel(file: Uint8Array): Promise<string /* JSON ModelInfo */>;
  /**
   * Preprocesses non-premultiplied RGBA pixels with the model's own contract
   * (nn.ImageInput: resize, crop, colour, scale), keeps them as the current
   * input and classifies them. view is the input as the model sees it,
   * input[0] x input[1] RGBA.
   */
  predict(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number):
    Promise<{ json: string /* JSON Prediction */; view: Uint8Array }>;
  /**
   * Explains the current input. map holds the display map (shape[0] x shape[1]
   * float32 bytes); full, for Integrated Gradients, the H x W x C attribution.
   * onProgress(done, total) is called during long methods.
   */
  explain(options: string /* JSON ExplainOptions */, onProgress?: (done: number, total: number) => void):
    Promise<{ json: string /* JSON Explanation */; map: Uint8Array; full?: Uint8Array }>;
  /** The Go heap, for memory checks; with gc true it collects first (heapAlloc is then the live heap). */
  memory(gc?: boolean): Promise<string /* JSON Memory */>;
  /**
   * Measures how faithful the maps of the last explain calls are (one per
   * method, for the last predicted image): deletion and insertion curves
   * and AUCs, confidence drop, Gini, entropy, Integrated Gradients'
   * completeness gap, optionally the randomisation sanity check, and the
   * pointing game and relevance mass when a box is given; then ranks the
   * methods with a one-sentence verdict (package xai: Evaluator.Evaluate,
   * RandomisationCheck, Rank). Unlike the other methods it computes in a
   * goroutine that yields to the event loop between forward passes (at most every 50 ms):
   * onProgress(done, total) is called then, and returning false cancels
   * (the Promise rejects with "worker: metrics cancelled"). Rejects when no
   * image was predicted or nothing was explained yet.
   */
  evaluate(options: string /* JSON EvaluateOptions */, onProgress?: (done: number, total: number) => boolean | void):
    Promise<string /* JSON Evaluation */>;

  // The worker pool (www/pool.js, wasm/worker/pool.go): Integrated Gradients
  // split into ranges of its gradient evaluations (0 is x, the last the
  // baseline; xai.IGPathSumTo), computed by several workers and added by the
  // main worker (xai.CombineIGTo). options is the ExplainOptions object itself
  // (method 'ig'), not JSON.

  /** The number of gradient evaluations of IG with these options, and the current input (H x W x C float32 bytes). */
  igPlan(options: ExplainOptions): Promise<{ evaluations: number; input: Uint8Array }>;
  /**
   * IG's path sum over the evaluations [lo, hi). With input (igPlan's), a
   * helper's part: sum holds the H x W x C float64 sums; with a predicted
   * class (class -1) and lo > 0 the helper first predicts the input to
   * resolve it. With input null, the main worker's own part of its current
   * input, which must start at 0 and stays in Go for igCombine (no sum).
   */
  igPart(input: Uint8Array | null, options: ExplainOptions, lo: number, hi: number,
         onProgress?: (done: number, total: number) => void): Promise<IGPartResult & { sum?: Uint8Array }>;
  /**
   * Adds the helpers' parts to the main worker's own (same image and
   * options) and answers as explain does; rejects when the parts do not
   * cover the evaluations once or disagree on the class.
   */
  igCombine(options: ExplainOptions, parts: (IGPartResult & { sum: Uint8Array })[]):
    Promise<{ json: string /* JSON Explanation */; map: Uint8Array; full: Uint8Array }>;


  // The faithfulness metrics split by method: the pool gives each helper some
  // of the main worker's kept maps with the input (evalInstall, then its usual
  // evaluate), restricts the main worker to the rest (evalOnly, then evaluate)
  // and hands every share's per-method results back (evalCombine), which
  // restores the main worker's maps and answers as evaluate does: results in
  // explain order, ranked, with the main worker's completeness gaps.

  /** The kept maps of the current input, in explain order, and the input (float32 bytes). */
  evalPlan(): Promise<{ input: Uint8Array; maps: EvalMap<Uint8Array>[] }>;
  /** A helper's share: makes these maps and this input current for evaluate. */
  evalInstall(input: Uint8Array, maps: EvalMap<Uint8Array>[]): Promise<true>;
  /** The main worker's share: evaluate computes only these methods until evalCombine with the same token. */
  evalOnly(methods: string[], token: number): Promise<true>;
  /**
   * Restores the maps evalOnly set aside (unless the token is an older run's)
   * and merges the shares' Evaluation.methods entries; with results [] it only
   * restores (and rejects).
   */
  evalCombine(options: string /* JSON EvaluateOptions */, results: Evaluation['methods'], token: number):
    Promise<string /* JSON Evaluation */>;
}

interface EvalMap<A> {
  method: string; options: ExplainOptions;      // as explained
  class: number; gap: number | null;            // the class explained; IG's relative completeness gap
  shape: [number, number, number];              // H, W, C of map
  map: A;                                       // float32 (bytes to Go, Float32Array between workers)
}

interface IGPartResult {
  lo: number; hi: number;                       // the evaluations summed
  evaluations: number;                          // of the whole path
  class: number;                                // the class explained
  baselineScore: number;                        // Score(baseline) when hi === evaluations, else 0
}

interface EvaluateOptions {
  steps?: number;                               // deletion/insertion steps (32); the curves have steps + 1 points
  patch?: number;                               // patch side in input pixels (default max(1, min(H, W) / 28))
  reference?: 'rise' | 'black' | 'blur';        // removed pixels become black (deletion) / blurred (insertion): rise
  box?: { x0: number; y0: number; x1: number; y1: number };  // on the model's input grid, x1 and y1 excluded
  tolerance?: number;                           // pointing-game tolerance in input pixels (0)
  sanity?: boolean;                             // run the cascading randomisation check (slow; off by default)
  seed?: number;                                // its seed
}

interface Curve { fraction: number[]; score: number[]; auc: number }

interface MapMetrics {
  class: number; score: 'probability' | 'logit'; prob: number;
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

interface Evaluation {
  methods: { method: string; label: string; metrics: MapMetrics; sanity?: SanityResult;
             completenessGap?: number /* Integrated Gradients: relative gap */; ms: number }[];
  ranking: { scores: { method: string; faithfulness: number; insertion_auc: number; deletion_auc: number;
                       gini: number; entropy: number; sanity?: SanityResult; completeness_gap?: number }[];
             trusted: string;                   // '' when no method is trusted
             flags: string[] | null; verdict: string };
  steps: number; patch: number; input: [number, number, number]; ms: number;
}

interface ModelInfo {
  name: string;
  input: [number, number, number];              // H, W, C
  classes: { id: string; name: string }[];
  preprocess: { height: number; width: number; channels: number; color: 'rgb' | 'grey';
                scale: '0..255' | '0..1'; resize: string; crop: 'none' | 'center' };
  layers: { name: string; kind: string; shape: [number, number, number]; spatial: boolean }[];
  camLayer: string;                             // the default Grad-CAM layer (last Conv2D)
  params: number;
}

interface Prediction {
  class: number;
  probs: number[];
  top: number[];                                // up to five class indices, most probable first
  input: [number, number, number];
  ms: number;                                   // time in the worker
}

interface ExplainOptions {
  method: 'gradcam' | 'gradcampp' | 'saliency' | 'ig';
  class?: number;                               // -1 or absent: the predicted class
  score?: 'logit' | 'probability';              // default logit
  layer?: string;                               // Grad-CAM layer, default the last Conv2D
  posNorm?: boolean;                            // Grad-CAM++: normalise alpha over g > 0 only
  samples?: number;                             // saliency: > 0 means SmoothGrad with this many samples
  noise?: number;                               // SmoothGrad noise, fraction of the input range (0.15)
  seed?: number;
  steps?: number;                               // Integrated Gradients steps (50)
  baseline?: 'black' | 'white' | 'blur' | 'noise';
  sigma?: number;                               // blur baseline sigma in pixels (5)
  rule?: 'linspace' | 'trapezoid' | 'gauss-legendre';
}

interface Explanation {
  method: string;
  class: number;                                // the class explained
  score: 'logit' | 'probability';
  value: number;                                // the score at the input
  probs: number[];
  shape: [number, number];                      // display map H, W (CAMs: the layer's resolution)
  fullShape?: number[];                         // Integrated Gradients: H, W, C
  min: number; max: number;
  zero: boolean;                                // an all-zero map (nothing supports the class)
  layer?: string; weights?: number[];           // CAMs: layer and channel weights
  samples?: number;                             // SmoothGrad samples
  ig?: { steps: number; rule: string; baseline: string; baselineScore: number;
         sum: number; gap: number; relGap: number; evaluations: number };  // completeness
  ms: number;
}

interface Memory { heapAlloc: number; heapSys: number; sys: number; numGC: number }

// ---------------------------------------------------------------------------
// 2. worker.js: the messages between the page and the worker. worker.js
//    decodes images itself (createImageBitmap without colour conversion, then
//    OffscreenCanvas getImageData) and parses the JSON.

type WorkerRequest =
  | { id: number; method: 'loadModel'; args: [ArrayBuffer] }
  | { id: number; method: 'predict'; args: [Blob] }
  | { id: number; method: 'bootModel'; args: [] }   // boot.js's worker (worker.js?boot=1&model=URL): the model it fetched, loaded -> { info: ModelInfo; bytes: ArrayBuffer }
  | { id: number; method: 'bootSample'; args: [] }  // and the first sample it fetched, predicted -> { file: string; bytes: ArrayBuffer; prediction: Prediction } | null
  | { id: number; method: 'explain'; args: [ExplainOptions] }
  | { id: number; method: 'memory'; args: [] | [boolean] }
  | { id: number; method: 'evaluate'; args: [EvaluateOptions] }
  | { id: number; method: 'cancel'; args: [] }      // stops every evaluate with a smaller id; not queued
  | { id: number; method: 'igPlan'; args: [ExplainOptions] }
  | { id: number; method: 'igPart'; args: [Float32Array | null, ExplainOptions, number, number] }  // input (transferred), options, lo, hi
  | { id: number; method: 'igCombine'; args: [ExplainOptions, (IGPartResult & { sum: Float64Array })[]] }  // sums transferred
  | { id: number; method: 'evalPlan'; args: [] }
  | { id: number; method: 'evalInstall'; args: [Float32Array, EvalMap<Float32Array>[]] }  // transferred
  | { id: number; method: 'evalOnly'; args: [string[], number] }
  | { id: number; method: 'evalCombine'; args: [EvaluateOptions, Evaluation['methods'], number] };

// worker.js runs the calls one at a time in the order they arrive (cancel excepted).

type WorkerReply =
  | { id: number; result: ModelInfo }
  | { id: number; result: Prediction & { view: Uint8Array; source: [number, number] } }
  | { id: number; result: Explanation & { map: Float32Array; fullMap?: Float32Array } }
  | { id: number; result: Memory & { wasmBytes: number } }
  | { id: number; result: Evaluation }
  | { id: number; result: true }                  // cancel
  | { id: number; result: { evaluations: number; input: Float32Array } }                  // igPlan
  | { id: number; result: IGPartResult & { sum?: Float64Array } }                         // igPart (sum: a helper's)
  | { id: number; result: { input: Float32Array; maps: EvalMap<Float32Array>[] } }        // evalPlan
  | { id: number; progress: [number, number] }
  | { id: number; error: string };

// ---------------------------------------------------------------------------
// 3. The viewer iframe (viewer.html). The page posts ViewerMessage with
//    targetOrigin location.origin; viewer.js re-wraps typed arrays in its own
//    realm and calls the global `viewer` that viewer.wasm registers. Maps are
//    raw scalar grids: colour and blend happen in the viewer's shader, so a
//    colormap or opacity change never recomputes anything.

type ViewerMessage =
  | { type: 'image'; rgba: Uint8Array; width: number; height: number }          // clears the maps
  | { type: 'map'; slot: 0 | 1 | 2 | 3; label: string; map: Float32Array; width: number; height: number } // empty map clears
  | { type: 'style'; style: { colormap: 'jet' | 'viridis' | 'hot' | 'coolwarm' | 'grey'; opacity: number;
                              layout: 'grid' | 'single'; selected: number } }
  | { type: 'png'; slot: number };                                             // answered by ViewerEvent 'png'

type ViewerEvent =
  | { type: 'ready' }
  | { type: 'hover'; slot?: number; label?: string; x?: number; y?: number; value?: number; w?: number; h?: number }
  | { type: 'layout'; layout: 'grid' | 'single'; selected: number }             // the user clicked a panel
  | { type: 'png'; slot: number; png?: Uint8Array; error?: string }
  | { type: 'error'; error: string };

interface ViewerAPI {
  setImage(rgba: Uint8Array, width: number, height: number): string | null;     // null or the error text
  setMap(slot: number, label: string, float32Bytes: Uint8Array, width: number, height: number): string | null;
  setStyle(json: string): string | null;
  png(slot: number): string | null;
}

// ---------------------------------------------------------------------------
// 4. The page: window.app, for tests and the console.
//    app.state: { busy, model, modelName, image, prediction, results, errors, timings, metrics, metricsBusy }
//    The faithfulness panel (#metrics) runs 'evaluate' after every round of maps; when it is done
//    document.body.dataset.evaluated changes and app.state.metrics holds the Evaluation. Its table
//    cells carry data-metric and data-value (full precision).
//    app.rpc(method, args, onProgress?) sends a WorkerRequest; app.memory(gc) = rpc('memory', [gc]).
//    app.metricsOptions() is the EvaluateOptions the panel would send now (its steps, sanity and box).
//    Start-up: boot.js (window.mavisBoot, documented there) creates the worker, which fetches the model
//    and the first sample itself (bootModel, bootSample); its timings come first in app.state.timings.
//    app.explainIG(options, onProgress?) is rpc('explain', [options]) for Integrated Gradients split across
//    the worker pool (pool.js; app.pool once IG has run): the main worker plus min(hardwareConcurrency, 4) - 1
//    helper workers, started the first time IG runs, each loading the current model. Once the pool
//    exists, the faithfulness panel's evaluate is split by method across it too (pool.evaluate).
//    URL parameters: ?model=<relative URL of a .safetensors file>, ?autorun=0 (do not
//    explain the first sample on load), ?workers=N (the pool's size, main worker included; 1: no pool).

// ---------------------------------------------------------------------------
// 5. Files by content, and Keras files opened in the page.
//
//   page --import--> sniff.js                        (routing: what a file is, from its first bytes)
//   page --import()--> convert.js --postMessage--> convert-worker.js --calls--> convert.wasm (Go: wasm/convert)
//
// sniff.js gives the answers of Go's nn.Sniff (wasm/convert's TestSniffJS).
// convert.js starts its worker and loads convert.wasm (about 1.3 MB gzipped)
// on its first call only: import it with import() when a Keras file arrives,
// so that nothing of it is on the way to the first prediction. Its
// conversions equal bin/weightsconv's output byte for byte (both call
// weightsconv/keras.Convert; wasm/convert's TestNodeMatchesWeightsconv and
// wasm/browsertest's TestConvertInBrowser).

type FileKind = 'image' | 'safetensors' | 'hdf5' | 'zip' | 'unknown';

interface SniffResult {
  kind: FileKind;
  /** 'PNG' | 'JPEG' | 'GIF' | 'WebP' | 'BMP' | 'safetensors' | 'HDF5' | 'zip', or '' for 'unknown'. */
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
  unknownMessage: string;
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

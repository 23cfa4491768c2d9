// worker.js runs a .safetensors model of the page (the MAVIS architecture
// and weights that weightsconv wrote) in TensorFlow.js 4.22 with its wasm
// backend (XNNPACK, SIMD128), in a Web Worker as the page runs its Go
// engine: the comparison column of wasm/browsertest's TestBenchmarkTFJS.
// Benchmark only: nothing here is shipped in www/ (the test copies this
// file and TF.js's dist files from node_modules into its temporary site).
//
// page -> worker: {id, method, args}, worker -> page: {id, result} | {id, error}
//   load [ArrayBuffer]           builds the model from the .safetensors bytes
//   predict [Blob]               decodes, preprocesses and classifies; the image is kept
//   gradcam [], saliency []      the page's defaults: the logit of the predicted class,
//                                Grad-CAM at the last convolution
//   ig [steps]                   Integrated Gradients, all-zero baseline, inclusive linspace, plain mean
// Each answer has ms, the time inside the worker, and the result's sum
// (a check that the work was done).
'use strict';

importScripts('tf.min.js', 'tf-backend-wasm.min.js');

const ready = (async () => {
  tf.wasm.setWasmPaths(new URL('./', self.location.href).href);
  await tf.setBackend('wasm');
  await tf.ready();
  return tf.getBackend();
})();

let net = null;   // the model: {layers, preprocess, lastConv}
let image = null; // the last predicted input, (1, H, W, C)
let target = -1;  // its predicted class

// parse reads a .safetensors file: the little-endian header length, the
// JSON header (tensors and the __metadata__ strings), then the data.
function parse(buf) {
  const n = Number(new DataView(buf).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 8, n)));
  const meta = header.__metadata__ || {};
  const tensors = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (t.dtype !== 'F32') throw new Error(`${name}: dtype ${t.dtype}, want F32`);
    const [b, e] = t.data_offsets;
    tensors[name] = tf.tensor(new Float32Array(buf.slice(8 + n + b, 8 + n + e)), t.shape);
  }
  return { spec: JSON.parse(meta.spec), preprocess: JSON.parse(meta.preprocess), tensors };
}

// build turns the spec's layers into functions of a tensor, as Keras runs
// them at inference: Conv2D (fused bias and activation), BatchNormalization
// with the moving statistics, MaxPooling2D, Dropout (identity), Flatten,
// Dense (fused; the last one's softmax dropped: the logits).
function build({ spec, preprocess, tensors }) {
  const p = (layer, name) => {
    const t = tensors[`${layer}/${name}`];
    if (!t) throw new Error(`no tensor ${layer}/${name}`);
    return t;
  };
  const layers = [];
  let lastConv = -1;
  spec.layers.forEach((l, i) => {
    const c = l.config || {};
    const act = c.activation === 'relu' ? 'relu' : 'linear';
    switch (l.class) {
      case 'Conv2D': {
        const filter = p(l.name, 'kernel'), bias = p(l.name, 'bias');
        const strides = c.strides || [1, 1], pad = c.padding || 'valid';
        layers.push((x) => tf.fused.conv2d({ x, filter, bias, strides, pad, activation: act }));
        lastConv = i;
        break;
      }
      case 'BatchNormalization': {
        const g = p(l.name, 'gamma'), b = p(l.name, 'beta'), m = p(l.name, 'moving_mean'), v = p(l.name, 'moving_variance');
        const eps = c.epsilon || 1e-3;
        layers.push((x) => tf.batchNorm(x, m, v, b, g, eps));
        break;
      }
      case 'MaxPooling2D':
        layers.push((x) => tf.maxPool(x, c.pool_size || [2, 2], c.strides || c.pool_size || [2, 2], c.padding || 'valid'));
        break;
      case 'Dropout':
        layers.push((x) => x);
        break;
      case 'Flatten':
        layers.push((x) => x.reshape([x.shape[0], -1]));
        break;
      case 'Dense': {
        const k = p(l.name, 'kernel'), bias = p(l.name, 'bias');
        layers.push((x) => tf.fused.matMul({ a: x, b: k, bias, activation: act }));
        break;
      }
      default:
        throw new Error(`layer ${l.name}: class ${l.class} is not supported here`);
    }
  });
  return { layers, preprocess, lastConv, tensors };
}

// run applies layers [from, to) to x.
function run(x, from, to) {
  for (let i = from; i < to; i++) x = net.layers[i](x);
  return x;
}

const logits = (x) => run(x, 0, net.layers.length);

// decode turns an encoded image into RGBA pixels as the page's worker does.
async function decode(blob) {
  const bmp = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const canvas = new OffscreenCanvas(bmp.width, bmp.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(bmp, 0, 0);
  bmp.close();
  return ctx.getImageData(0, 0, canvas.width, canvas.height);
}

// input preprocesses RGBA pixels: RGB, bilinear resize to the model's size
// when needed, scale 0..255 or 0..1.
function input(pixels) {
  const pp = net.preprocess;
  return tf.tidy(() => {
    let x = tf.browser.fromPixels(pixels, 3).toFloat();
    if (x.shape[0] !== pp.height || x.shape[1] !== pp.width) x = tf.image.resizeBilinear(x, [pp.height, pp.width], true);
    if (pp.scale === '0..1') x = x.div(255);
    return x.expandDims(0);
  });
}

// score is the logit of class c, a scalar.
const score = (z, c) => z.slice([0, c], [1, 1]).sum();

async function call(method, args) {
  await ready;
  const t0 = performance.now();
  let sum = 0;
  switch (method) {
    case 'load':
      if (net) for (const f of Object.values(net.tensors || {})) f.dispose();
      net = build(parse(args[0]));
      return { backend: tf.getBackend(), ms: performance.now() - t0 };
    case 'predict': {
      const pixels = await decode(args[0]);
      if (image) image.dispose();
      image = input(pixels);
      const p = tf.tidy(() => tf.softmax(logits(image)));
      const probs = Array.from(await p.data());
      p.dispose();
      target = probs.indexOf(Math.max(...probs));
      return { probs, class: target, ms: performance.now() - t0 };
    }
    case 'gradcam': {
      // A = the last convolution's output, g = dScore/dA, w_k = mean g,
      // map = relu(Σ_k w_k A_k) / max.
      const map = tf.tidy(() => {
        const a = run(image, 0, net.lastConv + 1);
        const g = tf.grad((a) => score(run(a, net.lastConv + 1, net.layers.length), target))(a);
        const w = g.mean([0, 1, 2]);
        const cam = tf.relu(a.mul(w).sum(-1));
        return cam.div(tf.maximum(cam.max(), 1e-30));
      });
      sum = (await map.sum().data())[0];
      map.dispose();
      break;
    }
    case 'saliency': {
      const map = tf.tidy(() => tf.grad((x) => score(logits(x), target))(image).abs().max(-1));
      sum = (await map.sum().data())[0];
      map.dispose();
      break;
    }
    case 'ig': {
      const m = args[0] || 50;
      let total = tf.zerosLike(image);
      for (let k = 0; k < m; k++) {
        const alpha = m > 1 ? k / (m - 1) : 1;
        const next = tf.tidy(() => total.add(tf.grad((x) => score(logits(x), target))(image.mul(alpha))));
        total.dispose();
        total = next;
        await next.data(); // one evaluation at a time, as the page's engine runs them
      }
      const ig = tf.tidy(() => image.mul(total).div(m));
      total.dispose();
      sum = (await ig.sum().data())[0];
      ig.dispose();
      break;
    }
    default:
      throw new Error(`unknown method ${method}`);
  }
  return { sum, ms: performance.now() - t0 };
}

let queue = Promise.resolve();
self.onmessage = (e) => {
  const { id, method, args } = e.data;
  queue = queue.then(async () => {
    try {
      self.postMessage({ id, result: await call(method, args || []) });
    } catch (err) {
      self.postMessage({ id, error: String((err && err.message) || err) });
    }
  });
};

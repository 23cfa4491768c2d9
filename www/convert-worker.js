// convert-worker.js runs the Keras converter (convert.wasm: Go, wasm/convert)
// in a Web Worker of its own. convert.js starts it on its first call, so
// nothing here is loaded on the way to the first prediction. The contract
// is in api.d.ts (MavisConvertAPI).
//
// page -> worker: {id, method, args}
//   method "architectures": args []                        (the built-in architectures)
//   method "inspect":       args [Uint8Array]              (what a Keras file holds)
//   method "convert":       args [Uint8Array, ConvertOptions] (the .safetensors file and its ConversionInfo)
// worker -> page: {id, result} | {id, error}   (convert's file is transferred)
// Calls run one at a time, in the order they arrive.
'use strict';

importScripts('wasm_exec.js');

const ready = (async () => {
  let module;
  try {
    module = await WebAssembly.compileStreaming(fetch('convert.wasm'));
  } catch (e) {
    // A host that does not send application/wasm: fall back to bytes.
    const resp = await fetch('convert.wasm');
    if (!resp.ok) throw new Error(`could not load the converter, convert.wasm (HTTP ${resp.status}); run ./build.sh first, or convert the file with bin/weightsconv`);
    module = await WebAssembly.compile(await resp.arrayBuffer());
  }
  const go = new Go();
  const instance = await WebAssembly.instantiate(module, go.importObject);
  go.run(instance);
  if (!self.mavisConvert) throw new Error('convert.wasm did not register its API');
  return self.mavisConvert;
})();
ready.catch(() => {}); // every call reports it

const methods = ['architectures', 'inspect', 'convert'];
let queue = Promise.resolve();

self.onmessage = (e) => {
  const { id, method, args } = e.data || {};
  queue = queue.then(async () => {
    try {
      if (!methods.includes(method)) throw new Error(`convert: unknown method ${method} (have ${methods.join(', ')})`);
      const api = await ready;
      const result = await api[method](...(args || []));
      self.postMessage({ id, result }, result && result.file ? [result.file.buffer] : []);
    } catch (err) {
      self.postMessage({ id, error: String((err && err.message) || err) });
    }
  });
};

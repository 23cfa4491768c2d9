// exec.js is Go's $GOROOT/lib/wasm/wasm_exec_node.js with the SIMD128
// kernels loaded through www/kernels.js, the page's own loader (see
// go_js_wasm_exec beside it).
'use strict';

if (process.argv.length < 3) {
  console.error('usage: go_js_wasm_exec [wasm binary] [arguments]');
  process.exit(1);
}

globalThis.require = require;
globalThis.fs = require('fs');
globalThis.path = require('path');
globalThis.TextEncoder = require('util').TextEncoder;
globalThis.TextDecoder = require('util').TextDecoder;
globalThis.performance ??= require('performance');
globalThis.crypto ??= require('crypto');

require(path.join(process.env.GOROOT_WASM, 'wasm_exec.js'));
require(path.join(__dirname, '..', '..', '..', 'www', 'kernels.js'));

const kernelDir = path.join(__dirname, '..');
const compiled = process.env.MAVIS_SIMD === 'off'
  ? Promise.resolve({ note: 'mavis: the SIMD128 kernels are not used: MAVIS_SIMD=off withholds them; the portable kernels run' })
  : mavisKernels.compile(async (name) => WebAssembly.compile(fs.readFileSync(path.join(kernelDir, name))));

const go = new Go();
go.argv = process.argv.slice(2);
go.env = Object.assign({ TMPDIR: require('os').tmpdir() }, process.env);
go.exit = process.exit;
(async () => {
  const goModule = await WebAssembly.compile(fs.readFileSync(process.argv[2]));
  const link = mavisKernels.link(await compiled, goModule);
  go.importObject[mavisKernels.importModule] = link.imports;
  const instance = await WebAssembly.instantiate(goModule, go.importObject);
  link.install(instance);
  process.on('exit', (code) => { // Node.js exits if no event handler is pending
    if (code === 0 && !go.exited) {
      // deadlock, make Go print error and stack traces
      go._pendingEvent = { id: 0 };
      go._resume();
    }
  });
  return go.run(instance);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});

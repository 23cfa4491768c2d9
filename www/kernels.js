// kernels.js loads the WebAssembly SIMD128 kernels of the Go engine
// (kernels.wasm and forwarder.wasm, written by wasm/simd/gen; see
// wasm/simd/doc.go) for a Go program built with GOEXPERIMENT=simd, such as
// worker.wasm. worker.js imports it (import()), and so does the
// js/wasm test runner under node (wasm/simd/exec), so that the tests run
// the page's own loading code. It defines one global, mavisKernels:
//
//   const compiled = mavisKernels.compile(compileFile);   // as early as possible
//   ...
//   const link = mavisKernels.link(await compiled, goModule);
//   go.importObject[mavisKernels.importModule] = link.imports;
//   const instance = await WebAssembly.instantiate(goModule, go.importObject);
//   link.install(instance);   // before go.run(instance): nn's init asks for the kernels
//   // link.kernels says what runs ('simd128 (interface N)', or 'portable: ' and
//   // why); link.note is that why, also printed with console.warn
//
// compileFile(name) returns a promise of the compiled module of a file
// ('kernels.wasm' or 'forwarder.wasm'). Without SIMD128 the kernels fail
// to compile; without the files they fail to load: either way Go's
// imports get stubs that report no kernels (version 0), nn keeps its
// portable kernels, and the note says why (printed with console.warn).
'use strict';

(function (global) {
  const importModule = 'mavis_simd';

  // compile starts compiling both modules; it resolves to {kernels,
  // forwarder} (WebAssembly.Module each), or to {note} when they cannot be
  // used.
  async function compile(compileFile) {
    try {
      const [kernels, forwarder] = await Promise.all([compileFile('kernels.wasm'), compileFile('forwarder.wasm')]);
      return { kernels, forwarder };
    } catch (e) {
      const why = e instanceof WebAssembly.CompileError
        ? `this browser cannot compile them, probably for lack of WebAssembly SIMD128 (${e.message})`
        : `they could not be loaded (${(e && e.message) || e})`;
      return { note: `mavis: the SIMD128 kernels are not used: ${why}; the portable kernels run, several times slower` };
    }
  }

  // link prepares Go's mavis_simd imports for goModule (a
  // WebAssembly.Module) from what compile resolved to.
  function link(compiled, goModule) {
    const names = WebAssembly.Module.imports(goModule).filter((i) => i.module === importModule).map((i) => i.name);
    if (names.length === 0) {
      return { imports: {}, install() {}, kernels: 'portable: this build of the Go program has no SIMD kernels', note: '' };
    }
    const stub = (name) => () => { throw new Error(`${importModule}.${name}: the SIMD128 kernels are not loaded`); };
    const imports = {};
    for (const n of names) imports[n] = stub(n);
    if (!compiled.kernels) {
      imports.version = () => 0;
      warn(compiled.note);
      return { imports, install() {}, kernels: `portable: ${compiled.note}`, note: compiled.note };
    }
    const entries = WebAssembly.Module.exports(compiled.forwarder).map((e) => e.name);
    const table = new WebAssembly.Table({ element: 'anyfunc', initial: entries.length });
    const forwarder = new WebAssembly.Instance(compiled.forwarder, { env: { table } });
    let version = 0;
    let missing = names.filter((n) => n !== 'version' && !entries.includes(n));
    for (const n of entries) imports[n] = forwarder.exports[n];
    imports.version = () => version;
    const result = { imports, kernels: 'portable', note: '' };
    result.install = (instance) => {
      const kernels = new WebAssembly.Instance(compiled.kernels, { env: { memory: instance.exports.mem } });
      missing = missing.concat(entries.filter((n) => !kernels.exports[n]));
      if (missing.length > 0) {
        result.note = `mavis: the SIMD128 kernels are not used: kernels.wasm lacks ${missing.join(', ')} (a stale copy?); the portable kernels run`;
        result.kernels = `portable: ${result.note}`;
        warn(result.note);
        return;
      }
      entries.forEach((n, i) => table.set(i, kernels.exports[n]));
      version = kernels.exports.version();
      result.kernels = `simd128 (interface ${version})`;
    };
    return result;
  }

  function warn(note) {
    if (note) console.warn(note);
  }

  global.mavisKernels = { importModule, compile, link };
})(globalThis);

// goexit.js: what a compute worker answers once its Go program has ended.
// Go's program ends for good on a fatal error, such as running out of
// memory on a phone: wasm_exec.js then calls go.exit, and every later call
// into Go throws (or, for a call under way, may never answer). worker.js
// loads this after wasm_exec.js (import()) and sets go.exit =
// mavisGoExit.exit; it defines one global, mavisGoExit:
//
//   exit(code)   go.exit: records why Go ended (its first "fatal error: ..."
//                or "panic: ..." line on stderr), rejects gone and tells the
//                page ({goExit: why}; compute.js and boot.js start a new
//                worker)
//   gone         a Promise that rejects with that Error: worker.js races
//                each call against it
//   error()      that Error (the answer to every call from then on), or null
'use strict';

(function (global) {
  let ended = null;
  let reject = null;
  const gone = new Promise((_, r) => { reject = r; });
  gone.catch(() => {});

  // Go writes its fatal error to stderr (fd 2) through wasm_exec.js's fs.
  let line = ''; // the line Go is writing
  let fatal = ''; // its first "fatal error: ..." or "panic: ..." line
  const write = global.fs.writeSync;
  const text = new TextDecoder();
  global.fs.writeSync = function (fd, buf) {
    if (fd === 2 && !fatal) {
      const lines = (line + text.decode(buf)).split('\n');
      line = lines.pop().slice(0, 1000);
      fatal = lines.find((l) => /^(fatal error|panic): /.test(l)) || '';
    }
    return write.call(this, fd, buf);
  };

  function exit(code) {
    const why = fatal.replace(/^fatal error: /, '') || `exit code ${code}`;
    // Go's runtime says "out of memory" or, for its own structures,
    // "runtime: cannot allocate memory".
    const oom = /out of memory|cannot allocate memory/.test(why);
    ended = new Error(`the compute engine stopped (${oom ? 'out of memory' : why})` + (oom
      ? ': this device has no memory left for it. Try a smaller image or fewer methods at once.'
      : '.'));
    console.error(`mavis: ${ended.message}`);
    reject(ended);
    global.postMessage({ goExit: ended.message }); // the page starts a new worker
  }

  global.mavisGoExit = { exit, gone, error: () => ended };
})(globalThis);

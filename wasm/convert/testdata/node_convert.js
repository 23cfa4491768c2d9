// node_convert.js runs convert.wasm under node, as the page's converter
// worker runs it, for wasm/convert's TestNodeMatchesWeightsconv:
//
//   node node_convert.js WASM_EXEC_JS CONVERT_WASM JOBS_JSON
//
// JOBS_JSON lists {input, options, out}: each input file is converted with
// mavisConvert.convert(bytes, options); the .safetensors bytes go to out and
// the result ({info} or {error}) to out + '.json'. Then it writes
// mavisConvert.architectures() and inspect() of every input to
// JOBS_JSON + '.out.json'.
'use strict';

const fs = require('fs');
const [wasmExec, wasmFile, jobsFile] = process.argv.slice(2);

globalThis.fs = fs;
require(wasmExec);

(async () => {
  const go = new Go();
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(wasmFile), go.importObject);
  go.run(instance);
  const api = globalThis.mavisConvert;
  if (!api) throw new Error('convert.wasm registered no mavisConvert');
  const jobs = JSON.parse(fs.readFileSync(jobsFile, 'utf8'));
  const inspected = {};
  for (const job of jobs) {
    const bytes = new Uint8Array(fs.readFileSync(job.input));
    let record;
    try {
      const r = await api.convert(bytes, job.options);
      if (!(r.file instanceof Uint8Array)) throw new Error('convert: result.file is not a Uint8Array');
      fs.writeFileSync(job.out, r.file);
      record = { info: r.info };
    } catch (e) {
      record = { error: String(e.message || e) };
    }
    fs.writeFileSync(job.out + '.json', JSON.stringify(record));
    try {
      inspected[job.input] = await api.inspect(bytes.buffer); // an ArrayBuffer is accepted too
    } catch (e) {
      inspected[job.input] = { error: String(e.message || e) };
    }
  }
  const bad = {};
  for (const [name, args] of Object.entries({
    noBytes: ['not bytes'],
    badOption: [new Uint8Array(8), { arch: 7 }],
    unknownOption: [new Uint8Array(8), { architecture: 'mavis' }],
    notObject: [new Uint8Array(8), 'mavis'],
    noArgs: [],
  })) {
    try {
      await api.convert(...args);
      bad[name] = 'resolved';
    } catch (e) {
      bad[name] = String(e.message || e);
    }
  }
  const out = { architectures: await api.architectures(), inspected, bad };
  fs.writeFileSync(jobsFile + '.out.json', JSON.stringify(out));
  process.exit(0);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});

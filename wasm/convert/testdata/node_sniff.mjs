// node_sniff.mjs runs www/sniff.js under node for wasm/convert's
// TestSniffJS:  node node_sniff.mjs SNIFF_JS CASES_JSON
// CASES_JSON lists {head (base64), size}; it prints the JSON list of
// sniff(head, size) answers.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [sniffJS, casesFile] = process.argv.slice(2);
const { sniff, SNIFF_LEN } = await import(pathToFileURL(sniffJS).href);
const cases = JSON.parse(readFileSync(casesFile, 'utf8'));
const out = cases.map((c) => sniff(new Uint8Array(Buffer.from(c.head, 'base64')), c.size));
process.stdout.write(JSON.stringify({ sniffLen: SNIFF_LEN, answers: out }));

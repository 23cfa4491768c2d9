// format.js: how numbers read on the page.

// fmt shows a value to four significant digits (exponent notation when
// tiny or huge), and a missing or NaN one as a dash.
export function fmt(v) {
  if (v === undefined || v === null || Number.isNaN(v)) return '–';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3);
  return v.toPrecision(4).replace(/\.?0+$/, '');
}

// fixed3 shows a score to three decimals (the scores lie within a few
// units of zero), and a missing or NaN one as a dash.
export function fixed3(v) {
  return v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(3);
}

// duration shows a time in milliseconds as a person reads it: "4.7 ms",
// "350 ms", "8.6 s", "2 min 5 s".
export function duration(ms) {
  if (!(ms >= 0)) return '–';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

// percent shows a fraction as a percentage with one decimal ("0.0%", never
// "-0.0%", for a value that rounds to zero).
export function percent(v) {
  const p = 100 * v;
  return `${(Math.abs(p) < 0.05 ? 0 : p).toFixed(1)}%`;
}

// thousands writes an integer with commas between groups of three digits,
// as toLocaleString('en') does: that call loads the locale data the first
// time, which took 127-210 ms of the page's thread at start-up, in the task
// that shows the model, just before the first prediction arrives.
export function thousands(n) {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

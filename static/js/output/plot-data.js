// The data the output panel plots, from the run's export document (GET …/export: the only call that
// carries the data): the points, their task, the plane's domain and the range of regression targets.

/**
 * The smallest box around the points, padded by 5%; built-in data always shows at least [−6, 6].
 * @param {number[][]} rows
 * @param {number} col
 * @param {boolean} builtin
 * @returns {[number, number]}
 */
export function spanOf(rows, col, builtin) {
  let lo = builtin ? -6 : Infinity;
  let hi = builtin ? 6 : -Infinity;
  for (const r of rows) {
    if (r[col] < lo) lo = r[col];
    if (r[col] > hi) hi = r[col];
  }
  if (!(hi > lo)) [lo, hi] = [lo === Infinity ? -1 : lo - 1, hi === -Infinity ? 1 : hi + 1];
  const pad = builtin && lo >= -6 && hi <= 6 ? 0 : 0.05 * (hi - lo);
  return [lo - pad, hi + pad];
}

const rowsOf = (y) => (y || []).map((v) => (Array.isArray(v) ? v : [v]));

/**
 * What the output panel needs from an export document.
 * @param {{config: object, data: {task: string, x: number[][], y: any[], x_test?: number[][],
 *          y_test?: any[]}}} doc
 * @returns {import("./surface.js").PlotData}
 */
export function plotData(doc) {
  const d = doc.data;
  const x = d.x;
  const xt = d.x_test || [];
  const y = rowsOf(d.y);
  const yt = rowsOf(d.y_test);
  const inputs = x.length ? x[0].length : 0;
  const builtin = doc.config.dataset.name !== "custom";
  const all = x.concat(xt);
  let range = 0;
  for (const r of y.concat(yt)) range = Math.max(range, Math.abs(r[0]));
  const domain = { x1: spanOf(all, 0, builtin), x2: [-1, 1] };
  if (inputs >= 2) domain.x2 = spanOf(all, 1, builtin);
  else {
    let lo = Infinity;
    let hi = -Infinity;
    for (const r of y.concat(yt)) [lo, hi] = [Math.min(lo, r[0]), Math.max(hi, r[0])];
    const pad = 0.15 * (hi - lo || 1);
    domain.x2 = [lo - pad, hi + pad];
  }
  return { x, y, xt, yt, task: d.task, inputs, domain, range: range || 1 };
}

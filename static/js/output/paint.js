// Pixels of the output over the input plane (pure: buffers in, buffers out; the worker runs it): the
// surface as one tile, and every unit's map packed side by side in one atlas, each tile masked to the
// circle it is drawn into. How each unit's values become colours is heatmap.js's.

import { paintClasses, paintTile, scaleOf } from "./heatmap.js";

/**
 * @typedef {{task: string, range: number, output: string, activations: string[], discretize: boolean,
 *            pale: number, sub: number}} Look
 * @typedef {{values: Float64Array[], sizes: number[], P: number}} Field
 */

/**
 * How layer l's values are coloured: features and regression outputs by their largest |value|, a linear
 * output of a classifier like a probability, the rest by their activation's range.
 * @param {number} l
 * @param {number} L
 * @param {Look} look
 */
export function kindOf(l, L, look) {
  if (l === 1 || (l === L && look.task === "regression")) return "free";
  if (l === L) return look.output === "linear" ? "sigmoid" : look.output;
  return look.activations[l - 2];
}

/**
 * The surface: the output layer over the nx × ny grid, paler than the points drawn on it.
 * @param {Field} field
 * @param {{nx: number, ny: number}} grid
 * @param {Look} look
 * @returns {Uint8ClampedArray} RGBA, nx × ny
 */
export function surfacePixels(field, grid, look) {
  const px = new Uint8ClampedArray(grid.nx * grid.ny * 4);
  const L = field.sizes.length;
  const out = field.values[L - 1];
  const S = field.sizes[L - 1];
  if (look.task === "multiclass" && S > 1) {
    paintClasses(px, out, S, field.P, look.discretize, look.pale);
  } else {
    const range = look.task === "regression" ? look.range : 0;
    const scale = scaleOf(kindOf(L, L, look), out, 0, S, field.P, range);
    paintTile(px, 0, grid.nx, out, 0, S, grid, scale, look.discretize, look.pale);
  }
  return px;
}

/**
 * One unit's map at the grid's full resolution (the enlarged map on hover).
 * @param {Field} field
 * @param {{nx: number, ny: number}} grid
 * @param {Look} look
 * @param {number} l
 * @param {number} u
 */
export function unitPixels(field, grid, look, l, u) {
  const px = new Uint8ClampedArray(grid.nx * grid.ny * 4);
  const S = field.sizes[l - 1];
  const vals = field.values[l - 1];
  const range = l === field.sizes.length && look.task === "regression" ? look.range : 0;
  const scale = scaleOf(kindOf(l, field.sizes.length, look), vals, u - 1, S, field.P, range);
  paintTile(px, 0, grid.nx, vals, u - 1, S, grid, scale);
  return px;
}

/**
 * Every unit's map, side by side: tile i is unit units[i] = [l, u], at 1/look.sub of the grid's
 * resolution, transparent outside its inscribed circle (1-D data: a stripe, masked the same way).
 * @param {Field} field
 * @param {{nx: number, ny: number}} grid
 * @param {Look} look
 * @returns {{px: Uint8ClampedArray, width: number, height: number, tile: number, units: number[][]}}
 */
export function atlasPixels(field, grid, look) {
  const sub = look.sub;
  const nx = Math.ceil(grid.nx / sub);
  const ny = Math.ceil(grid.ny / sub);
  const units = [];
  field.sizes.forEach((S, i) => {
    for (let u = 1; u <= S; u++) units.push([i + 1, u]);
  });
  const tile = Math.max(nx, ny);
  const width = tile * units.length;
  const px = new Uint8ClampedArray(width * tile * 4);
  const L = field.sizes.length;
  units.forEach(([l, u], i) => {
    const S = field.sizes[l - 1];
    const vals = field.values[l - 1];
    const range = l === L && look.task === "regression" ? look.range : 0;
    const scale = scaleOf(kindOf(l, L, look), vals, u - 1, S, field.P, range);
    paintTile(px, i * tile, width, vals, u - 1, S, grid, scale, false, 1, sub);
    for (let r = 1; r < tile && ny === 1; r++)
      px.copyWithin((r * width + i * tile) * 4, i * tile * 4, (i * tile + nx) * 4);
  });
  const c = (tile - 1) / 2;
  const r2 = (tile / 2) * (tile / 2);
  for (let y = 0; y < tile; y++) {
    for (let x = 0; x < tile; x++) {
      if ((x - c) ** 2 + (y - c) ** 2 <= r2) continue;
      for (let i = 0; i < units.length; i++) px[(y * width + i * tile + x) * 4 + 3] = 0;
    }
  }
  return { px, width, height: tile, tile, units };
}

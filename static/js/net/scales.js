// How numbers become strokes and fills (pure): sign → a colour class, size → a width or an opacity.
// The colours themselves are CSS custom properties (static/css/app.css): blue for positive, orange for
// negative (colour-blind safe, as in TensorFlow Playground), and one purple hue for the error (δ, Θ·δ, D).

import { isNum } from "../core/format.js";

/** Thinnest and thickest link strokes, in px. */
export const MIN_WIDTH = 0.7;
export const MAX_WIDTH = 9;

/**
 * The CSS class of a value's sign: "pos", "neg", or "zero" (also for a non-finite value).
 * @param {number} v
 */
export function signClass(v) {
  if (!isNum(v) || v === 0) return "zero";
  return v > 0 ? "pos" : "neg";
}

/**
 * |v| / scale clipped to [0, 1] (0 for a non-finite value or scale).
 * @param {number} v
 * @param {number} scale
 */
export function intensity(v, scale) {
  if (!isNum(v) || !isNum(scale) || scale <= 0) return 0;
  return Math.min(1, Math.abs(v) / scale);
}

/**
 * A link's stroke width for a value, given the value that gets the thickest stroke.
 * @param {number} v
 * @param {number} scale
 * @param {number} [max=MAX_WIDTH]
 */
export function linkWidth(v, scale, max = MAX_WIDTH) {
  return MIN_WIDTH + (max - MIN_WIDTH) * Math.sqrt(intensity(v, scale));
}

/**
 * The largest finite |x| over nested arrays of numbers (0 when there is none).
 * @param {ArrayLike<any>} values
 * @returns {number}
 */
export function maxAbs(values) {
  let best = 0;
  const walk = (v) => {
    if (typeof v === "number") {
      if (Number.isFinite(v) && Math.abs(v) > best) best = Math.abs(v);
    } else if (v && typeof v.length === "number") {
      for (let i = 0; i < v.length; i++) walk(v[i]);
    }
  };
  walk(values);
  return best;
}

/**
 * A pleasant scale for weights: the largest |Θ|, but at least `floor` so that small weights look small.
 * @param {number} m the largest |value|
 * @param {number} [floor=1]
 */
export function niceScale(m, floor = 1) {
  return Math.max(m, floor);
}

/**
 * Ease in and out (smoothstep) of a progress p in [0, 1].
 * @param {number} p
 */
export function ease(p) {
  const t = Math.min(1, Math.max(0, p));
  return t * t * (3 - 2 * t);
}

/**
 * The part of a phase's progress p that falls in [from, to], rescaled to [0, 1].
 * @param {number} p
 * @param {number} from
 * @param {number} to
 */
export function segment(p, from, to) {
  return Math.min(1, Math.max(0, (p - from) / (to - from)));
}

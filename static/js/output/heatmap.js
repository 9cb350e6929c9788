// Colours for values over the input plane (pure apart from writing into ImageData): a diverging scale
// from orange (−1) through white (0) to blue (+1), as in TensorFlow Playground and colour-blind safe, and
// the Okabe–Ito palette for classes. Values are turned into t in [−1, 1] by a "scale" function per unit.

/** Okabe–Ito colours for classes 0..9 (colour-blind safe), as [r, g, b]. */
export const CLASS_RGB = Object.freeze([
  [230, 159, 0],
  [0, 114, 178],
  [0, 158, 115],
  [204, 121, 167],
  [86, 180, 233],
  [213, 94, 0],
  [240, 228, 66],
  [120, 120, 120],
  [0, 0, 0],
  [150, 90, 40],
]);

const NEG = [232, 135, 14];
const POS = [27, 109, 179];
const MID = [248, 249, 250];
const STEPS = 256;

/** 256 RGB entries for t from −1 to +1. */
const LUT = (() => {
  const lut = new Uint8ClampedArray(STEPS * 3);
  for (let i = 0; i < STEPS; i++) {
    const t = (i / (STEPS - 1)) * 2 - 1;
    const end = t < 0 ? NEG : POS;
    const f = Math.abs(t);
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = MID[c] + (end[c] - MID[c]) * f;
  }
  return lut;
})();

/**
 * The CSS colour of t in [−1, 1] on the diverging scale.
 * @param {number} t
 */
export function cssColor(t) {
  const i = lutIndex(t, false);
  return `rgb(${LUT[i * 3]},${LUT[i * 3 + 1]},${LUT[i * 3 + 2]})`;
}

/** The CSS colour of class c. @param {number} c */
export function classColor(c) {
  const [r, g, b] = CLASS_RGB[c % CLASS_RGB.length];
  return `rgb(${r},${g},${b})`;
}

function lutIndex(t, discrete, pale = 1) {
  if (Number.isNaN(t)) t = 0;
  if (discrete) t = t > 0 ? 1 : t < 0 ? -1 : 0;
  t *= pale;
  const i = Math.round(((t + 1) / 2) * (STEPS - 1));
  return Math.min(Math.max(i, 0), STEPS - 1);
}

/**
 * How a unit's values become t in [−1, 1]: {mul, add} with t = v·mul + add.
 * sigmoid and softmax (0..1) are centred at ½; tanh is already in [−1, 1]; anything unbounded (relu,
 * linear, the input features, regression outputs) is divided by its largest |value| (or `range`).
 * @param {string} kind an activation name, or "free"
 * @param {ArrayLike<number>} values point-major: the unit's value at point p is values[offset + p·step]
 * @param {number} offset
 * @param {number} step
 * @param {number} P points
 * @param {number} [range] a fixed largest |value| (regression targets)
 */
export function scaleOf(kind, values, offset, step, P, range) {
  if (kind === "sigmoid" || kind === "softmax") return { mul: 2, add: -1 };
  if (kind === "tanh") return { mul: 1, add: 0 };
  let m = range || 0;
  if (!m) {
    for (let p = 0, i = offset; p < P; p++, i += step) {
      const v = values[i] < 0 ? -values[i] : values[i];
      if (v > m) m = v;
    }
  }
  return { mul: m > 0 ? 1 / m : 1, add: 0 };
}

/**
 * Write a unit's values over the grid as pixels into an RGBA buffer at pixel offset `at` (row stride
 * `stride` pixels, tile width nx): the diverging scale, or sharp colours when `discrete`.
 * @param {Uint8ClampedArray} px RGBA
 * @param {number} at first pixel
 * @param {number} stride pixels per row of the buffer
 * @param {ArrayLike<number>} values point-major: point p's value is values[offset + p·step]
 * @param {number} offset
 * @param {number} step
 * @param {{nx: number, ny: number}} grid
 * @param {{mul: number, add: number}} scale
 * @param {boolean} [discrete]
 * @param {number} [pale=1] how far the colours go towards full saturation (the surface is paler than its points)
 * @param {number} [sub=1] take every sub-th point of every sub-th row: a tile of ⌈nx/sub⌉ × ⌈ny/sub⌉ pixels
 */
export function paintTile(px, at, stride, values, offset, step, grid, scale, discrete = false, pale = 1, sub = 1) {
  const nx = Math.ceil(grid.nx / sub);
  const ny = Math.ceil(grid.ny / sub);
  const { mul, add } = scale;
  const di = sub * step;
  for (let r = 0; r < ny; r++) {
    let o = (at + r * stride) * 4;
    let i = offset + r * sub * grid.nx * step;
    for (let c = 0; c < nx; c++, i += di, o += 4) {
      const k = lutIndex(values[i] * mul + add, discrete, pale) * 3;
      px[o] = LUT[k];
      px[o + 1] = LUT[k + 1];
      px[o + 2] = LUT[k + 2];
      px[o + 3] = 255;
    }
  }
}

/**
 * Write a multiclass output (S softmax units, unit-major) as pixels: each point the colour of its most
 * likely class, paler where the network is unsure (or solid when `discrete`).
 * @param {Uint8ClampedArray} px
 * @param {Float64Array} values P × S, point-major
 * @param {number} S
 * @param {number} P
 * @param {boolean} [discrete]
 * @param {number} [pale=1]
 */
export function paintClasses(px, values, S, P, discrete = false, pale = 1) {
  for (let p = 0; p < P; p++) {
    let best = 0;
    let bv = -1;
    for (let k = 0; k < S; k++) {
      const v = values[p * S + k];
      if (v > bv) [best, bv] = [k, v];
    }
    const f = (discrete ? 0.85 : Math.max(0, Math.min(1, (bv - 1 / S) / (1 - 1 / S))) * 0.9) * pale;
    const rgb = CLASS_RGB[best % CLASS_RGB.length];
    const o = p * 4;
    for (let c = 0; c < 3; c++) px[o + c] = MID[c] + (rgb[c] - MID[c]) * f;
    px[o + 3] = 255;
  }
}

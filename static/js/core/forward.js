// The network's forward pass over a grid of the input plane, in the page (pure, no DOM): the features of
// app/engine/datasets.feature_transform, the activations of app/engine/functions.py, and every unit's
// value at every grid point — the decision surface is the output layer's, the unit maps are the rest.
// docs/protocol.md explains why the page computes this itself instead of receiving it.

/** The input features, as the engine computes them from the raw inputs (x1, x2). */
export const FEATURES = Object.freeze({
  x1: (a) => a,
  x2: (_a, b) => b,
  "x1^2": (a) => a * a,
  "x2^2": (_a, b) => b * b,
  "x1*x2": (a, b) => a * b,
  "sin(x1)": (a) => Math.sin(a),
  "sin(x2)": (_a, b) => Math.sin(b),
});

/** The features that need only x1 (1-D data such as sine). */
export const ONE_INPUT = Object.freeze(["x1", "x1^2", "sin(x1)"]);

/**
 * tanh(x) as a rational function of x, within 3×10⁻⁷ of Math.tanh everywhere (Eigen's float tanh: an odd
 * degree-13 polynomial over an even degree-6 one, ±1 beyond ±7.9) and several times faster than
 * Math.tanh or one exp in V8 — a few hundred thousand of them a frame. The engine's float64 values agree
 * to that precision, far finer than a colour can show.
 * @param {number} x
 */
export function fastTanh(x) {
  if (x > 7.905311107635498) return 1;
  if (x < -7.905311107635498) return -1;
  const x2 = x * x;
  let p = -2.76076847742355e-16;
  p = p * x2 + 2.00018790482477e-13;
  p = p * x2 - 8.60467152213735e-11;
  p = p * x2 + 5.12229709037114e-8;
  p = p * x2 + 1.48572235717979e-5;
  p = p * x2 + 6.37261928875436e-4;
  p = p * x2 + 4.89352455891786e-3;
  let q = 1.19825839466702e-6;
  q = q * x2 + 1.18534705686654e-4;
  q = q * x2 + 2.268434632439e-3;
  q = q * x2 + 4.89352518554385e-3;
  return (x * p) / q;
}

/**
 * Activations in place over out[from, to), mirroring app/engine/functions.py: the sigmoid as the engine
 * computes it, ½·tanh(z/2) + ½, both through fastTanh.
 * @param {string} name
 * @param {Float64Array | Float32Array} out
 * @param {number} from
 * @param {number} to
 */
export function activate(name, out, from, to) {
  switch (name) {
    case "sigmoid":
      for (let i = from; i < to; i++) out[i] = 0.5 * fastTanh(0.5 * out[i]) + 0.5;
      break;
    case "tanh":
      for (let i = from; i < to; i++) out[i] = fastTanh(out[i]);
      break;
    case "relu":
      for (let i = from; i < to; i++) if (out[i] < 0) out[i] = 0;
      break;
    case "leaky_relu":
      for (let i = from; i < to; i++) if (out[i] < 0) out[i] *= 0.01;
      break;
    default: // linear
  }
}

/** Softmax across the S units of every point (point-major: out[p·S + k]), shifted by the max. */
function softmax(out, S, P) {
  for (let p = 0; p < P; p++) {
    const o = p * S;
    let max = -Infinity;
    for (let k = 0; k < S; k++) max = Math.max(max, out[o + k]);
    let sum = 0;
    for (let k = 0; k < S; k++) sum += out[o + k] = Math.exp(out[o + k] - max);
    for (let k = 0; k < S; k++) out[o + k] /= sum;
  }
}

/**
 * The points of an nx × ny grid over a domain, row by row from the top (x2 = max) so that point p is
 * pixel p of an image; 1-D data (ny = 1) has x2 = 0.
 * @param {{x1: [number, number], x2: [number, number]}} domain
 * @param {number} nx
 * @param {number} ny
 * @returns {{x1: Float64Array, x2: Float64Array, nx: number, ny: number, P: number}}
 */
export function makeGrid(domain, nx, ny) {
  const P = nx * ny;
  const x1 = new Float64Array(P);
  const x2 = new Float64Array(P);
  const [a0, a1] = domain.x1;
  const [b0, b1] = domain.x2;
  for (let r = 0; r < ny; r++) {
    for (let c = 0; c < nx; c++) {
      const p = r * nx + c;
      x1[p] = a0 + ((c + 0.5) / nx) * (a1 - a0);
      x2[p] = ny === 1 ? 0 : b1 - ((r + 0.5) / ny) * (b1 - b0);
    }
  }
  return { x1, x2, nx, ny, P };
}

/**
 * Weight matrices as flat row-major arrays: from the session's nested lists, or frame arrays as they are.
 * @param {Array<number[][] | {data: ArrayLike<number>, shape: number[]}>} weights
 * @returns {{data: ArrayLike<number>, shape: number[]}[]}
 */
export function toMats(weights) {
  return weights.map((w) => {
    if (!Array.isArray(w)) return w;
    const rows = w.length;
    const cols = rows ? w[0].length : 0;
    const data = new Float64Array(rows * cols);
    w.forEach((r, k) => data.set(r, k * cols));
    return { data, shape: [rows, cols] };
  });
}

/**
 * Every unit's value over the grid, point-major: values[l − 1][p·S_l + (u − 1)] is a_u^(l) at point p (all
 * the units of a point side by side, so that each sum runs in a register). Buffers are reused from `reuse`
 * (the previous result) when the shapes match.
 * @param {{data: ArrayLike<number>, shape: number[]}[]} mats Θ^(1..L−1)
 * @param {{features: string[], activations: string[], output: string}} net activations[l − 2] for layer l
 * @param {{x1: Float64Array, x2: Float64Array, P: number}} grid
 * @param {{values: Float64Array[]} | null} [reuse]
 * @returns {{values: Float64Array[], sizes: number[], P: number}}
 */
export function forwardGrid(mats, net, grid, reuse = null) {
  const P = grid.P;
  const sizes = [net.features.length, ...mats.map((m) => m.shape[0])];
  const values = sizes.map((S, i) => {
    const old = reuse?.values[i];
    return old && old.length === S * P ? old : new Float64Array(S * P);
  });
  const S1 = sizes[0];
  net.features.forEach((name, j) => {
    const f = FEATURES[name];
    const out = values[0];
    for (let p = 0; p < P; p++) out[p * S1 + j] = f(grid.x1[p], grid.x2[p]);
  });
  const L = sizes.length;
  for (let l = 1; l < L; l++) {
    const { data, shape } = mats[l - 1];
    const [rows, cols] = shape;
    const W = data instanceof Float64Array ? data : Float64Array.from(data);
    const inp = values[l - 1];
    const out = values[l];
    const n = cols - 1;
    for (let p = 0; p < P; p++) {
      const i0 = p * n;
      const o0 = p * rows;
      for (let k = 0; k < rows; k++) {
        const w0 = k * cols;
        let z = W[w0];
        for (let j = 0; j < n; j++) z += W[w0 + 1 + j] * inp[i0 + j];
        out[o0 + k] = z;
      }
    }
    const act = l === L - 1 ? net.output : net.activations[l - 1];
    if (act === "softmax") softmax(out, rows, P);
    else activate(act, out, 0, rows * P);
  }
  return { values, sizes, P };
}

/**
 * The activations of a session config per hidden layer, and its features and output activation.
 * @param {object} config the session config (features, activation, hidden, output_activation)
 * @returns {{features: string[], activations: string[], output: string}}
 */
export function netOf(config) {
  const act = config.activation;
  const hidden = config.hidden || [];
  return {
    features: config.features || [],
    activations: hidden.map((_, i) => (Array.isArray(act) ? act[i] : act)),
    output: config.output_activation,
  };
}

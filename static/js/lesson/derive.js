// The numbers of the derivation lesson, line by line, from one sample's engine trace: every line of every
// step is evaluated from the trace's own a, z, δ, D and Θ, and carries the engine's value it must equal
// (`engine`), so a test can hold each line to the engine's. Pure: no DOM, no strings. The sample and the
// first lines are in sample.js (re-exported here).

import { actOf, centralDifference, gPrime, pass, regGrad } from "./passes.js";
import { act, forwardUnit, outputDelta, sampleCost, unitDelta } from "./sample.js";

export * from "./sample.js";

/** @typedef {import("./sample.js").Sample} Sample */

/**
 * Step 3: ∂J/∂Θ_ki^(L−1) by the chain rule: ∂J/∂a_k · ∂a_k/∂z_k · ∂z_k/∂Θ_ki = (a_k − y_k)·g'·a_i = δ_k a_i.
 * @param {Sample} s
 * @param {number} k
 * @param {number} i
 */
export function outputGradient(s, k, i) {
  const l = s.L - 1;
  const d = outputDelta(s, k);
  const ai = act(s, l, i);
  const reg = regGrad(s.W[l - 1][k - 1][i], i, s.net, 1);
  return { l, k, i, delta: d, ai, product: d.value * ai, reg, value: d.value * ai + reg, engine: s.D[l][k - 1][i] };
}

/**
 * Step 4: ∂J/∂Θ_ki^(L−2) through the paths to the outputs: one path per output unit j,
 * (a_j − y_j)·Θ_jk^(L−1), summed, times g'(z_k^(L−1)) (1 for linear hidden units), times a_i^(L−2).
 * @param {Sample} s
 * @param {number} k a unit of layer L − 1
 * @param {number} i a unit of layer L − 2 (0 = bias)
 */
export function hiddenGradient(s, k, i) {
  const l = s.L - 2;
  const paths = s.W[l].map((row, j) => {
    const d = outputDelta(s, j + 1);
    return { j: j + 1, delta: d, w: row[k], product: d.value * row[k] };
  });
  const sum = paths.reduce((t, p) => t + p.product, 0);
  const g = actOf(s.net, l + 1, s.L);
  const a = s.a[l + 1][k - 1];
  const gp = gPrime(g, s.z[l + 1][k - 1], a);
  const deltaK = sum * gp;
  const ai = act(s, l, i);
  const reg = regGrad(s.W[l - 1][k - 1][i], i, s.net, 1);
  return {
    l,
    k,
    i,
    paths,
    sum,
    g,
    a,
    gPrime: gp,
    delta: deltaK,
    ai,
    product: deltaK * ai,
    reg,
    value: deltaK * ai + reg,
    engine: { delta: s.delta[l + 1][k - 1], D: s.D[l][k - 1][i] },
  };
}

/**
 * ∂J/∂Θ_ki^(l) = δ_k^(l+1)·a_i^(l) (+ the regularization part) for any weight.
 * @param {Sample} s
 * @param {number} l
 * @param {number} k
 * @param {number} i
 */
export function weightGradient(s, l, k, i) {
  const d = s.delta[l + 1][k - 1];
  const ai = act(s, l, i);
  const reg = regGrad(s.W[l - 1][k - 1][i], i, s.net, 1);
  return { l, k, i, delta: d, ai, reg, value: d * ai + reg, engine: s.D[l][k - 1][i] };
}

/**
 * Step 7: a derived value beside its central difference (J of this sample at Θ ± ε on the one weight).
 * @param {Sample} s
 * @param {number} l
 * @param {number} k
 * @param {number} i
 * @param {number} [eps]
 */
export function numericCheck(s, l, k, i, eps = 1e-5) {
  const analytic = weightGradient(s, l, k, i).value;
  const numerical = centralDifference(s.W, s.a[1], s.y, s.net, l, k, i, eps);
  const error = Math.abs(analytic - numerical) / Math.max(Math.abs(analytic) + Math.abs(numerical), 1e-7);
  return { l, k, i, analytic, numerical, error, eps };
}

/**
 * Step 8: one gradient-descent update of one weight on this sample: Θ ← Θ − α·∂J/∂Θ.
 * @param {Sample} s
 * @param {number} l
 * @param {number} k
 * @param {number} i
 * @param {number} alpha the learning rate
 */
export function update(s, l, k, i, alpha) {
  const before = s.W[l - 1][k - 1][i];
  const D = s.D[l][k - 1][i];
  return { l, k, i, before, alpha, D, change: -alpha * D, after: before - alpha * D };
}

/**
 * Step 8, symmetry: every weight set to one value c, then one pass and one update on this sample. The
 * hidden units of a layer get the same a, the same δ and the same update, so their weights stay equal.
 * @param {Sample} s
 * @param {number} c
 * @param {number} alpha
 */
export function symmetry(s, c, alpha) {
  const W = s.W.map((M) => M.map((r) => r.map(() => c)));
  const p = pass(W, s.a[1], s.y, s.net);
  const after = W.map((M, m) => M.map((r, k) => r.map((w, i) => w - alpha * p.D[m + 1][k][i])));
  const layers = [];
  for (let l = 2; l < s.L; l++) {
    const rows = after[l - 2];
    const same = rows.every((r) => r.every((w, i) => w === rows[0][i]));
    layers.push({ l, a: p.a[l], delta: p.delta[l], rowsAfter: rows, same });
  }
  return { c, alpha, layers, pass: p, after };
}

/**
 * Every number the lesson shows for a sample, with the engine's value beside each (for the tests and
 * for the "numbers agree" badge): [{name, value, engine}].
 * @param {Sample} s
 * @param {{k3?: number, i3?: number, k4?: number, i4?: number}} [pick] the weights of steps 3 and 4
 */
export function agreementTable(s, pick = {}) {
  const rows = [];
  const add = (name, value, engine) => rows.push({ name, value, engine });
  for (let l = 1; l < s.L; l++) {
    for (let k = 1; k <= s.sizes[l]; k++) {
      const f = forwardUnit(s, l, k);
      add(`z${l + 1}_${k}`, f.z, f.engine.z);
      add(`a${l + 1}_${k}`, f.a, f.engine.a);
    }
  }
  const c = sampleCost(s);
  add("J", c.total, c.engine.total);
  for (let l = 2; l <= s.L; l++)
    for (let k = 1; k <= s.sizes[l - 1]; k++) add(`delta${l}_${k}`, unitDelta(s, l, k).value, s.delta[l][k - 1]);
  const g3 = outputGradient(s, pick.k3 || 1, pick.i3 ?? 1);
  add(`D${g3.l}_${g3.k}${g3.i}`, g3.value, g3.engine);
  if (s.L >= 3) {
    const g4 = hiddenGradient(s, pick.k4 || Math.min(2, s.sizes[s.L - 2]), pick.i4 ?? Math.min(2, s.sizes[s.L - 3]));
    add(`delta${g4.l + 1}_${g4.k}(paths)`, g4.delta, g4.engine.delta);
    add(`D${g4.l}_${g4.k}${g4.i}`, g4.value, g4.engine.D);
  }
  return rows;
}

// One sample's pass as the engine traced it, read from a probe trace or the REST answer, and the first
// lines of the derivation (the forward equation, the cost, δ of any unit), each with the engine's value it
// must equal (`engine`). Pure: no DOM, no strings. derive.js adds the gradients and re-exports these.

import { activateLayer, actOf, gPrime, loss, simpleOutputDelta } from "./passes.js";

/**
 * @typedef {import("./passes.js").Net} Net
 * @typedef {object} Sample one sample's pass as the engine traced it (index 0 of a, z, delta, D unused)
 * @property {number} L layers
 * @property {number[]} sizes S_1..S_L
 * @property {number[][][]} W Θ^(1..L−1) the pass used (W[l − 1] is Θ^(l))
 * @property {number[][]} a a[l] (a[1] = x, the input features)
 * @property {number[][]} z z[l], l ≥ 2
 * @property {number[][]} delta delta[l], l ≥ 2
 * @property {number[][][]} D D[l] = ∂J/∂Θ^(l) for this sample (m = 1)
 * @property {number[]} y the targets
 * @property {{data: number, regularization: number, total: number}} cost
 * @property {Net} net
 * @property {number} index the training-set index
 */

/**
 * The maths of a session config.
 * @param {object} config the session config
 * @returns {Net}
 */
export function netOf(config) {
  const act = config.activation;
  const hidden = config.hidden || [];
  return {
    activations: hidden.map((_, i) => (Array.isArray(act) ? act[i] : act)),
    output: config.output_activation,
    loss: config.loss,
    regularization: config.regularization || "none",
    lambda: config.reg_rate || 0,
  };
}

/**
 * One sample's pass from a probe trace of one sample (trace.js's TraceModel).
 * @param {import("../core/trace.js").TraceModel} tm
 * @param {object} config
 * @returns {Sample}
 */
export function fromTrace(tm, config) {
  const L = tm.L;
  const a = [[]];
  const z = [[], []];
  const delta = [[], []];
  const D = [[]];
  for (let l = 1; l <= L; l++) a.push(tm.a[l][0]);
  for (let l = 2; l <= L; l++) {
    z.push(tm.z[l][0]);
    delta.push(tm.delta[l][0]);
  }
  for (let l = 1; l < L; l++) D.push(tm.D[l]);
  return {
    L,
    sizes: a.slice(1).map((v) => v.length),
    W: tm.weights,
    a,
    z,
    delta,
    D,
    y: tm.y[0],
    cost: { ...tm.cost },
    net: netOf(config),
    index: tm.indices[0],
  };
}

/**
 * One sample's pass from `POST /api/sessions/{id}/backprop` on one sample, with the weights it used.
 * @param {{layers: object[], gradients: number[][][], cost: object}} json
 * @param {number[][][]} W
 * @param {number[]} y
 * @param {object} config
 * @param {number} index
 * @returns {Sample}
 */
export function fromRest(json, W, y, config, index) {
  const L = json.layers.length;
  const a = [[]];
  const z = [[], []];
  const delta = [[], []];
  for (const layer of json.layers) {
    a[layer.layer] = layer.a[0];
    if (layer.layer >= 2) {
      z[layer.layer] = layer.z[0];
      delta[layer.layer] = layer.delta[0];
    }
  }
  return {
    L,
    sizes: a.slice(1).map((v) => v.length),
    W,
    a,
    z,
    delta,
    D: [[], ...json.gradients],
    y,
    cost: { ...json.cost },
    net: netOf(config),
    index,
  };
}

/** a_i^(l) with the bias a_0 = 1. @param {Sample} s @param {number} l @param {number} i */
export const act = (s, l, i) => (i === 0 ? 1 : s.a[l][i - 1]);

/**
 * Step 1: the forward equation of unit k of layer l + 1, every product written out.
 * @param {Sample} s
 * @param {number} l the layer the inputs come from (1..L−1)
 * @param {number} k the unit (1..S_{l+1})
 */
export function forwardUnit(s, l, k) {
  const row = s.W[l - 1][k - 1];
  const terms = row.map((w, i) => ({ i, w, a: act(s, l, i), product: w * act(s, l, i) }));
  const z = terms.reduce((sum, t) => sum + t.product, 0);
  const g = actOf(s.net, l + 1, s.L);
  // softmax needs the whole layer's z: the other units' from the trace, this one's as written out here
  const zs = s.z[l + 1].map((v, j) => (j === k - 1 ? z : v));
  return { l, k, terms, z, g, a: activateLayer(g, zs)[k - 1], engine: { z: s.z[l + 1][k - 1], a: s.a[l + 1][k - 1] } };
}

/**
 * Step 2: the cost of this sample, term by term (m = 1, so the regularization term uses m = 1 too).
 * @param {Sample} s
 */
export function sampleCost(s) {
  const aL = s.a[s.L];
  const terms = aL.map((a, k) => ({ k: k + 1, a, y: s.y[k], diff: a - s.y[k], square: (a - s.y[k]) ** 2 }));
  const data = loss(aL, s.y, s.net);
  const sumSq = s.W.reduce((t, M) => t + M.reduce((u, r) => u + r.slice(1).reduce((v, w) => v + w * w, 0), 0), 0);
  const sumAbs = s.W.reduce(
    (t, M) => t + M.reduce((u, r) => u + r.slice(1).reduce((v, w) => v + Math.abs(w), 0), 0),
    0,
  );
  const lambda = s.net.regularization === "none" ? 0 : s.net.lambda;
  const reg = s.net.regularization === "l1" ? lambda * sumAbs : (lambda / 2) * sumSq;
  return { terms, data, sumSq, sumAbs, lambda, reg, total: data + reg, engine: s.cost };
}

/**
 * Step 2, the set: J over the m training samples with the regularization term, from the frame's metrics.
 * @param {{train_loss: number, regularization: number}} metrics the engine's (mean data term, R)
 * @param {number} m the training samples
 * @param {number[][][]} W the current weights
 * @param {Net} net
 */
export function setCost(metrics, m, W, net) {
  let sumSq = 0;
  let sumAbs = 0;
  for (const M of W)
    for (const r of M)
      for (let i = 1; i < r.length; i++) [sumSq, sumAbs] = [sumSq + r[i] * r[i], sumAbs + Math.abs(r[i])];
  const lambda = net.regularization === "none" ? 0 : net.lambda;
  const reg = net.regularization === "l1" ? (lambda / m) * sumAbs : (lambda / (2 * m)) * sumSq;
  return {
    m,
    data: metrics.train_loss,
    sumSq,
    sumAbs,
    lambda,
    reg,
    total: metrics.train_loss + reg,
    engine: { reg: metrics.regularization },
  };
}

/**
 * δ of an output unit: the rule, and its value from a and y (and g'(z) when the rule needs it).
 * @param {Sample} s
 * @param {number} k 1..S_L
 */
export function outputDelta(s, k) {
  const L = s.L;
  const a = s.a[L][k - 1];
  const y = s.y[k - 1];
  const simple = simpleOutputDelta(s.net);
  const gp = simple ? 1 : gPrime(s.net.output, s.z[L][k - 1], a);
  return { l: L, k, a, y, simple, gPrime: gp, value: (a - y) * gp, engine: s.delta[L][k - 1] };
}

/**
 * δ of any unit (layer 2..L): at the output its rule, else the recursion term by term:
 * δ_k^(l) = (Σ_j Θ_jk^(l) δ_j^(l+1)) · g'(z_k^(l)).
 * @param {Sample} s
 * @param {number} l
 * @param {number} k
 */
export function unitDelta(s, l, k) {
  if (l === s.L) return { ...outputDelta(s, k), output: true };
  const W = s.W[l - 1];
  const terms = W.map((row, j) => ({ j: j + 1, w: row[k], d: s.delta[l + 1][j], product: row[k] * s.delta[l + 1][j] }));
  const sum = terms.reduce((t, x) => t + x.product, 0);
  const g = actOf(s.net, l, s.L);
  const a = s.a[l][k - 1];
  const gp = gPrime(g, s.z[l][k - 1], a);
  return {
    l,
    k,
    output: false,
    terms,
    sum,
    g,
    a,
    z: s.z[l][k - 1],
    gPrime: gp,
    value: sum * gp,
    engine: s.delta[l][k - 1],
  };
}

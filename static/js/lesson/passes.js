// The forward and backward pass of one sample in float64, written as the course writes it (docs/maths.md):
// the lesson's own reference, used for the numerical check (central differences of J need the cost at
// nudged weights, which no trace carries) and for the symmetry demonstration (all weights equal). The
// engine's trace stays the source of every number the lesson shows; tests hold this module to it.
// Pure: no DOM, no imports.

/**
 * @typedef {object} Net what the maths of a pass needs besides the weights
 * @property {string[]} activations g of each hidden layer (layer l uses activations[l − 2])
 * @property {string} output g_out: linear | sigmoid | tanh | softmax
 * @property {string} loss mse | cross_entropy
 * @property {string} [regularization] none | l1 | l2
 * @property {number} [lambda] the regularization rate λ
 */

/**
 * @typedef {object} PassValues one sample's values, indexed by layer (index 0 unused)
 * @property {number[][]} a a[l] = a^(l) without the bias (a[1] = x)
 * @property {number[][]} z z[l] (l ≥ 2)
 * @property {number[][]} delta delta[l] (l ≥ 2)
 * @property {number[][][]} D D[l] = ∂J/∂Θ^(l), shaped like Θ^(l)
 * @property {{data: number, regularization: number, total: number}} cost
 */

/**
 * g(z), the engine's way (sigmoid as ½·tanh(z/2) + ½).
 * @param {string} act
 * @param {number} z
 */
export function g(act, z) {
  switch (act) {
    case "sigmoid":
      return 0.5 * Math.tanh(0.5 * z) + 0.5;
    case "tanh":
      return Math.tanh(z);
    case "relu":
      return Math.max(z, 0);
    case "leaky_relu":
      return z > 0 ? z : 0.01 * z;
    default:
      return z;
  }
}

/**
 * g'(z) through z and a, as docs/maths.md writes it: sigmoid a(1 − a), tanh 1 − a², relu [z > 0].
 * @param {string} act
 * @param {number} z
 * @param {number} a
 */
export function gPrime(act, z, a) {
  switch (act) {
    case "sigmoid":
      return a * (1 - a);
    case "tanh":
      return 1 - a * a;
    case "relu":
      return z > 0 ? 1 : 0;
    case "leaky_relu":
      return z > 0 ? 1 : 0.01;
    default:
      return 1;
  }
}

/** The activation of layer l (2 ≤ l ≤ L) of a net. @param {Net} net @param {number} l @param {number} L */
export function actOf(net, l, L) {
  return l === L ? net.output : net.activations[l - 2];
}

/** Whether δ^(L) = a − y (mse + linear, or cross-entropy + sigmoid/softmax). @param {Net} net */
export function simpleOutputDelta(net) {
  return net.loss === "cross_entropy" || net.output === "linear";
}

/**
 * The per-sample loss ℓ(a, y) (docs/maths.md, "The cost").
 * @param {number[]} a
 * @param {number[]} y
 * @param {Net} net
 */
export function loss(a, y, net) {
  if (net.loss === "mse") return 0.5 * a.reduce((s, v, k) => s + (v - y[k]) ** 2, 0);
  if (net.output === "softmax") return -a.reduce((s, v, k) => s + (y[k] ? y[k] * Math.log(v) : 0), 0);
  return -a.reduce((s, v, k) => s + (y[k] ? y[k] * Math.log(v) : 0) + (1 - y[k] ? (1 - y[k]) * Math.log(1 - v) : 0), 0);
}

/**
 * The regularization term over m samples (bias column excluded).
 * @param {number[][][]} W Θ^(1..L−1)
 * @param {Net} net
 * @param {number} m
 */
export function regCost(W, net, m) {
  const lambda = net.lambda || 0;
  if (!lambda || !net.regularization || net.regularization === "none") return 0;
  let s = 0;
  for (const M of W)
    for (const r of M)
      for (let i = 1; i < r.length; i++) s += net.regularization === "l2" ? r[i] * r[i] : Math.abs(r[i]);
  return net.regularization === "l2" ? (lambda / (2 * m)) * s : (lambda / m) * s;
}

/**
 * ∂R/∂Θ_ki for one weight (0 for the bias column i = 0).
 * @param {number} w the weight
 * @param {number} i its column
 * @param {Net} net
 * @param {number} m
 */
export function regGrad(w, i, net, m) {
  const lambda = net.lambda || 0;
  if (i === 0 || !lambda || !net.regularization || net.regularization === "none") return 0;
  return net.regularization === "l2" ? (lambda / m) * w : (lambda / m) * Math.sign(w);
}

/**
 * The activations of a layer from its z (softmax across the layer, every other g unit by unit).
 * @param {string} act
 * @param {number[]} z
 */
export function activateLayer(act, z) {
  if (act !== "softmax") return z.map((v) => g(act, v));
  const max = Math.max(...z);
  const e = z.map((v) => Math.exp(v - max));
  const sum = e.reduce((s, v) => s + v, 0);
  return e.map((v) => v / sum);
}

/**
 * The forward pass of one input x: a[l], z[l].
 * @param {number[][][]} W
 * @param {number[]} x the input features a^(1)
 * @param {Net} net
 */
export function forward(W, x, net) {
  const L = W.length + 1;
  const a = [[], x.slice()];
  const z = [[], []];
  for (let l = 1; l < L; l++) {
    const zl = W[l - 1].map((row) => row.reduce((s, w, i) => s + w * (i === 0 ? 1 : a[l][i - 1]), 0));
    z.push(zl);
    a.push(activateLayer(actOf(net, l + 1, L), zl));
  }
  return { a, z };
}

/**
 * J of one sample (m = 1) at weights W.
 * @param {number[][][]} W
 * @param {number[]} x
 * @param {number[]} y
 * @param {Net} net
 */
export function cost(W, x, y, net) {
  const { a } = forward(W, x, net);
  return loss(a[a.length - 1], y, net) + regCost(W, net, 1);
}

/**
 * The whole pass of one sample (m = 1): forward, δ backward, D = δ·[1; a]ᵀ + ∂R/∂Θ.
 * @param {number[][][]} W
 * @param {number[]} x
 * @param {number[]} y
 * @param {Net} net
 * @returns {PassValues}
 */
export function pass(W, x, y, net) {
  const { a, z } = forward(W, x, net);
  const L = W.length + 1;
  const delta = [];
  const out = a[L].map((v, k) => v - y[k]);
  delta[L] = simpleOutputDelta(net) ? out : out.map((d, k) => d * gPrime(net.output, z[L][k], a[L][k]));
  for (let l = L - 1; l >= 2; l--) {
    const Wl = W[l - 1]; // Θ^(l) joins l to l + 1: δ^(l) = ((Θ^(l))ᵀ δ^(l+1))_{1..S_l} ⊙ g'(z^(l))
    delta[l] = a[l].map((_, k) => {
      let s = 0;
      for (let j = 0; j < Wl.length; j++) s += Wl[j][k + 1] * delta[l + 1][j];
      return s * gPrime(actOf(net, l, L), z[l][k], a[l][k]);
    });
  }
  const D = [[]];
  for (let l = 1; l < L; l++) {
    D.push(
      W[l - 1].map((row, k) =>
        row.map((w, i) => delta[l + 1][k] * (i === 0 ? 1 : a[l][i - 1]) + regGrad(w, i, net, 1)),
      ),
    );
  }
  const data = loss(a[L], y, net);
  const regularization = regCost(W, net, 1);
  return { a, z, delta, D, cost: { data, regularization, total: data + regularization } };
}

/**
 * The central difference (J(Θ + εe) − J(Θ − εe)) / 2ε for the one weight Θ^(l)_ki, at one sample.
 * @param {number[][][]} W
 * @param {number[]} x
 * @param {number[]} y
 * @param {Net} net
 * @param {number} l 1..L−1
 * @param {number} k row (1-based unit of layer l + 1)
 * @param {number} i column (0 = bias)
 * @param {number} [eps]
 */
export function centralDifference(W, x, y, net, l, k, i, eps = 1e-5) {
  const nudged = (d) =>
    W.map((M, m) =>
      m === l - 1 ? M.map((r, kk) => (kk === k - 1 ? r.map((w, ii) => (ii === i ? w + d : w)) : r)) : M,
    );
  return (cost(nudged(eps), x, y, net) - cost(nudged(-eps), x, y, net)) / (2 * eps);
}

// "Store the δ": how many multiply-adds one sample's gradient ∂J/∂Θ costs, for every weight, (a) by the
// chain rule written out weight by weight — one product per path from the weight to the cost, nothing
// reused — and (b) by backpropagation, which computes each δ once and reuses it for every weight that
// feeds the unit. Counted exactly by formula, and by brute force (the tests run both and compare; the
// brute-force versions also compute the gradient itself, so they are held to the engine's numbers).
//
// What counts: one multiplication of two numbers (with the addition into a sum that follows it) is one
// multiply-add. The product δ·1 of a bias weight counts, and so does the factor g'(z) of a hidden unit even
// where it is 1 (linear units) — the count is the general formula's. The forward pass (a, z, g'(z)) is
// already done in both cases, so it is not counted. Pure: no DOM.

/**
 * @typedef {object} Counts
 * @property {number} chain multiply-adds by the chain rule, weight by weight
 * @property {number} stored multiply-adds with stored δ (backpropagation)
 * @property {number} weights the number of weights (bias weights included)
 * @property {number[]} paths paths[l − 1]: how many paths lead from one weight of Θ^(l) to the cost
 */

/**
 * The counts by formula, for layer sizes S_1..S_L (bias units not counted). With h = L − 1 − l hidden units
 * on a path from a weight of Θ^(l) and P_l = S_{l+2}·…·S_L paths per weight:
 *   chain  = Σ_l S_{l+1}(S_l + 1) · (P_l·(2h + e) + 1)
 *   stored = e·S_L + Σ_{l=2}^{L−1} S_l(S_{l+1} + 1) + Σ_{l=1}^{L−1} S_{l+1}(S_l + 1)
 * where e = 0 when δ^(L) = a − y (linear + mse, or cross-entropy with sigmoid or softmax), else 1 (the
 * factor g'_out(z) of every output error).
 * @param {number[]} sizes
 * @param {boolean} [simpleOutput=true] δ^(L) = a − y
 * @returns {Counts}
 */
export function countOps(sizes, simpleOutput = true) {
  const L = sizes.length;
  const S = (l) => sizes[l - 1];
  const e = simpleOutput ? 0 : 1;
  let chain = 0;
  let stored = e * S(L);
  let weights = 0;
  const paths = [];
  for (let l = 1; l < L; l++) {
    const n = S(l + 1) * (S(l) + 1);
    let P = 1;
    for (let m = l + 2; m <= L; m++) P *= S(m);
    const h = L - 1 - l;
    paths.push(P);
    weights += n;
    chain += n * (P * (2 * h + e) + 1);
    stored += n;
    if (l >= 2) stored += S(l) * (S(l + 1) + 1);
  }
  return { chain, stored, weights, paths };
}

/** A multiply-add counter: mul(a, b) returns a·b and counts one. */
function counter() {
  const c = {
    n: 0,
    mul(a, b) {
      c.n += 1;
      return a * b;
    },
  };
  return c;
}

/**
 * The inputs the brute-force counts work on: a forward pass's values (passes.js PassValues), the weights and
 * the output error a − y, and each unit's g'(z).
 * @typedef {object} Forwarded
 * @property {number[][][]} W Θ^(1..L−1)
 * @property {number[][]} a a[l] (index 0 unused)
 * @property {number[][]} gp gp[l][k − 1] = g'(z_k^(l)) for 2 ≤ l ≤ L (for l = L: g'_out, used when not simple)
 * @property {number[]} err a^(L) − y
 * @property {boolean} simple δ^(L) = a − y
 */

/**
 * Every ∂ℓ/∂Θ by the chain rule, weight by weight: for each weight the sum over every path from the unit it
 * feeds to an output of the product of the path's factors (g', weights, the output error), times the
 * activation it comes from. Nothing is reused between weights or paths.
 * @param {Forwarded} f
 * @returns {{D: number[][][], ops: number}} D[l − 1] shaped like Θ^(l)
 */
export function chainRuleByHand(f) {
  const c = counter();
  const L = f.W.length + 1;
  // the products of every path from unit k of layer l to an output, each multiplied out on its own
  const pathProducts = (l, k) => {
    if (l === L) return [f.simple ? f.err[k - 1] : c.mul(f.err[k - 1], f.gp[L][k - 1])];
    const out = [];
    const next = f.W[l - 1]; // Θ^(l): its rows are the units of layer l + 1 that unit k feeds
    for (let j = 1; j <= next.length; j++) {
      for (const rest of pathProducts(l + 1, j)) out.push(c.mul(c.mul(f.gp[l][k - 1], next[j - 1][k]), rest));
    }
    return out;
  };
  const D = f.W.map((M, m) =>
    M.map((row, k) =>
      row.map((_, i) => {
        const sum = pathProducts(m + 2, k + 1).reduce((s, p) => s + p, 0);
        return c.mul(sum, i === 0 ? 1 : f.a[m + 1][i - 1]);
      }),
    ),
  );
  return { D, ops: c.n };
}

/**
 * Every ∂ℓ/∂Θ by backpropagation: δ^(L), then each δ^(l) once from δ^(l+1), then D = δ·[1; a]ᵀ.
 * @param {Forwarded} f
 * @returns {{D: number[][][], ops: number}}
 */
export function backpropByHand(f) {
  const c = counter();
  const L = f.W.length + 1;
  const delta = [];
  delta[L] = f.err.map((d, k) => (f.simple ? d : c.mul(d, f.gp[L][k])));
  for (let l = L - 1; l >= 2; l--) {
    const W = f.W[l - 1];
    delta[l] = f.a[l].map((_, k) => {
      let s = 0;
      for (let j = 0; j < W.length; j++) s += c.mul(W[j][k + 1], delta[l + 1][j]);
      return c.mul(s, f.gp[l][k]);
    });
  }
  const D = f.W.map((M, m) =>
    M.map((row, k) => row.map((_, i) => c.mul(delta[m + 2][k], i === 0 ? 1 : f.a[m + 1][i - 1]))),
  );
  return { D, ops: c.n };
}

/**
 * The counts of a network grown layer by layer: N's inputs and outputs with 1..maxHidden hidden layers
 * of `width` units each — the points of the lesson's chart.
 * @param {number} inputs
 * @param {number} outputs
 * @param {number} width
 * @param {number} maxHidden
 * @param {boolean} [simpleOutput=true]
 * @returns {{hidden: number, sizes: number[], chain: number, stored: number}[]}
 */
export function growth(inputs, outputs, width, maxHidden, simpleOutput = true) {
  const out = [];
  for (let h = 1; h <= maxHidden; h++) {
    const sizes = [inputs, ...Array(h).fill(width), outputs];
    const c = countOps(sizes, simpleOutput);
    out.push({ hidden: h, sizes, chain: c.chain, stored: c.stored });
  }
  return out;
}

// A step trace (docs/protocol.md, "trace") turned into per-layer lookups, and the small bits of maths the
// page needs to explain it: g'(z) per activation, the output-error rule, a per-sample loss. Pure.

import { t } from "../i18n/index.js";

/**
 * @typedef {object} TraceModel
 * @property {string} kind "step" | "probe"
 * @property {string} unit "sample" | "batch"
 * @property {number} step
 * @property {number[]} indices training-set indices, one per row
 * @property {number} m rows
 * @property {number} L layers
 * @property {object[]} phases the phases, in order
 * @property {Record<number, number[][]>} a a[l]: rows of a^(l)
 * @property {Record<number, number[][]>} z z[l] (l ≥ 2)
 * @property {Record<number, number[][]>} delta delta[l] (l ≥ 2)
 * @property {Record<number, number[][]>} D D[l]: the gradient of Θ^(l)
 * @property {Record<number, {before: number[][], delta: number[][], after: number[][]}>} update
 * @property {number[][]} y targets, rows
 * @property {{data: number|null, regularization: number|null, total: number|null}} cost
 * @property {number[][][]} weights Θ^(1..L−1) the pass used
 * @property {number} learningRate
 * @property {string} optimizer
 */

/**
 * The lookups of a trace message. `weightsNow` are the weights a probe trace used (it carries none).
 * @param {object} msg
 * @param {number[][][]} weightsNow
 * @returns {TraceModel}
 */
export function traceModel(msg, weightsNow) {
  const t = { a: {}, z: {}, delta: {}, D: {}, update: {}, y: [], cost: {} };
  for (const ph of msg.phases) {
    if (ph.phase === "forward") {
      t.a[ph.layer] = ph.a;
      if (ph.z) t.z[ph.layer] = ph.z;
    } else if (ph.phase === "cost") {
      t.y = ph.y;
      t.cost = { data: ph.data, regularization: ph.regularization, total: ph.total };
    } else if (ph.phase === "backward") {
      t.delta[ph.layer] = ph.delta;
    } else if (ph.phase === "gradient") {
      t.D[ph.layer] = ph.D;
    } else if (ph.phase === "update") {
      t.update[ph.layer] = { before: ph.before, delta: ph.delta, after: ph.after };
    }
  }
  const L = Math.max(...Object.keys(t.a).map(Number));
  const weights = [];
  for (let l = 1; l < L; l++) weights.push(t.update[l] ? t.update[l].before : weightsNow[l - 1]);
  return {
    ...t,
    kind: msg.kind,
    unit: msg.unit,
    step: msg.step,
    epoch: msg.epoch,
    indices: msg.indices,
    m: msg.indices.length,
    L,
    phases: msg.phases,
    weights,
    learningRate: msg.learning_rate,
    optimizer: msg.optimizer,
  };
}

/**
 * The name of a phase as the page exposes it (data-phase): "forward:2", "cost", "backward:3", …
 * @param {{phase: string, layer?: number}} ph
 */
export function phaseName(ph) {
  return ph.layer === undefined ? ph.phase : `${ph.phase}:${ph.layer}`;
}

/**
 * One row of a per-sample array, or the mean over the rows when row < 0.
 * @param {number[][] | undefined} rows
 * @param {number} row
 * @returns {number[] | null}
 */
export function pick(rows, row) {
  if (!rows?.length) return null;
  if (row >= 0) return rows[Math.min(row, rows.length - 1)];
  const out = new Array(rows[0].length).fill(0);
  for (const r of rows) r.forEach((v, i) => (out[i] += v / rows.length));
  return out;
}

/**
 * The derivative g'(z) of an activation, written as the course writes it and evaluated.
 * @param {string} act
 * @param {number} z
 * @param {number} a
 * @returns {{expr: string, value: number}} expr uses "a" and "z" for the unit's own values
 */
export function derivative(act, z, a) {
  switch (act) {
    case "sigmoid":
      return { expr: "a(1 − a)", value: a * (1 - a) };
    case "tanh":
      return { expr: "1 − a²", value: 1 - a * a };
    case "relu":
      return { expr: t("deriv.relu"), value: z > 0 ? 1 : 0 };
    case "leaky_relu":
      return { expr: t("deriv.leaky"), value: z > 0 ? 1 : 0.01 };
    default:
      return { expr: "1", value: 1 };
  }
}

/**
 * Which rule gives the output error δ^(L), and why.
 * @param {string} loss "mse" | "cross_entropy"
 * @param {string} outAct the output activation
 * @returns {{simple: boolean, why: string}} simple: δ = a − y; otherwise δ = (a − y)·g'(z)
 */
export function outputRule(loss, outAct) {
  if (loss === "cross_entropy") return { simple: true, why: t("rule.ce", { out: outAct }) };
  if (outAct === "linear") return { simple: true, why: t("rule.mse_linear") };
  return { simple: false, why: t("rule.mse_other", { out: outAct }) };
}

/**
 * The activation of hidden layer l (2 ≤ l ≤ L − 1) from the session config.
 * @param {object} config
 * @param {number} l
 */
export function activationOf(config, l, L) {
  if (l === L) return config.output_activation;
  const act = config.activation;
  return Array.isArray(act) ? act[l - 2] : act;
}

/**
 * The per-sample loss ℓ of outputs a against targets y (docs/maths.md).
 * @param {number[]} a
 * @param {number[]} y
 * @param {string} loss
 * @param {string} outAct
 */
export function sampleLoss(a, y, loss, outAct) {
  if (loss === "mse") return 0.5 * a.reduce((s, v, k) => s + (v - y[k]) ** 2, 0);
  if (outAct === "softmax") return -a.reduce((s, v, k) => s + (y[k] ? y[k] * Math.log(v) : 0), 0);
  return -a.reduce((s, v, k) => {
    const pos = y[k] ? y[k] * Math.log(v) : 0;
    const neg = 1 - y[k] ? (1 - y[k]) * Math.log(1 - v) : 0;
    return s + pos + neg;
  }, 0);
}

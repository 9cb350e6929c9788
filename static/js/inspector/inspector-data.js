// The numbers the inspector explains, from either source: a step trace (one row of it, plus every row for
// the gradient's sum) or, while playing, a frame (the probe sample at the current weights and the latest
// batch's D and ΔΘ). Both give the same accessors, so the inspector does not care which it has.

import { FRAME, frameArray, hasStep } from "../core/frame.js";
import { pick } from "../core/trace.js";
import { t } from "../i18n/index.js";
import { unitValues } from "../scenes/live-scene.js";

/**
 * @typedef {object} InspectorData
 * @property {"trace" | "frame"} source
 * @property {string} who which sample the unit values belong to
 * @property {number | null} m samples behind D (null: unknown)
 * @property {(l: number) => ArrayLike<number> | null} z
 * @property {(l: number) => ArrayLike<number> | null} a
 * @property {(l: number) => ArrayLike<number> | null} delta
 * @property {(l: number) => number[] | null} deltaMean batch mean of δ^(l) (batch traces)
 * @property {(l: number) => {a: number[][], delta: number[][]} | null} rows every row of a^(l), δ^(l+1)
 * @property {number[] | null} y
 * @property {(l: number, k: number, j: number) => number} W the weight the pass used
 * @property {(l: number, k: number, j: number) => number | null} D
 * @property {(l: number, k: number, j: number) => number | null} dTheta the update ΔΘ (null: none)
 * @property {string | null} optimizer
 * @property {number | null} learningRate
 */

/**
 * The inspector's numbers from a step trace, for batch row `row`, as far as the phases played so far
 * computed them (phase: the index of the phase shown; absent: all of them) — no δ during the forward pass.
 * @param {import("../core/trace.js").TraceModel} model
 * @param {number} row
 * @param {number} [phase]
 * @returns {InspectorData}
 */
export function fromTrace(model, row, phase = Infinity) {
  const played = model.phases.slice(0, phase + 1);
  const after = (kind, l) => played.some((p) => p.phase === kind && p.layer === l);
  const when =
    (kind, get) =>
    (l, ...rest) =>
      after(kind, l) ? get(l, ...rest) : null;
  const mean = row < 0 && model.m > 1;
  const r = mean ? -1 : Math.max(0, Math.min(row, model.m - 1));
  const idx = model.indices[Math.max(0, r)];
  let who = model.m > 1 ? t("insp.who_row", { r, n: idx }) : t("insp.who_sample", { n: idx });
  if (mean) who = t("insp.who_mean", { m: model.m });
  return {
    source: "trace",
    mean,
    who,
    m: model.m,
    z: when("forward", (l) => pick(model.z[l], r)),
    a: when("forward", (l) => pick(model.a[l], r)),
    delta: when("backward", (l) => pick(model.delta[l], r)),
    deltaMean: when("backward", (l) => (model.m > 1 ? pick(model.delta[l], -1) : null)),
    rows: when("gradient", (l) => ({ a: model.a[l], delta: model.delta[l + 1] })),
    y: pick(model.y, r),
    W: (l, k, j) => model.weights[l - 1][k][j],
    D: when("gradient", (l, k, j) => (model.D[l] ? model.D[l][k][j] : null)),
    dTheta: when("update", (l, k, j) => (model.update[l] ? model.update[l].delta[k][j] : null)),
    optimizer: model.kind === "step" ? model.optimizer : null,
    learningRate: model.learningRate,
  };
}

/**
 * The inspector's numbers from a frame: the probe sample's values and the latest batch's D and ΔΘ.
 * @param {{header: object, arrays: object}} frame
 * @param {object} config the session config (optimizer, learning rate)
 * @returns {InspectorData}
 */
export function fromFrame(frame, config) {
  const cell = (key, k, j) => {
    const m = frameArray(frame, key);
    return m ? m.data[k * m.shape[1] + j] : null;
  };
  const probe = frame.header.probe || {};
  return {
    source: "frame",
    who: t("insp.who_probe", { n: probe.sample ?? 0 }),
    m: frame.header.batch ? frame.header.batch.m : null,
    z: (l) => unitValues(frame, l, "probe").z,
    a: (l) => unitValues(frame, l, "probe").a,
    delta: (l) => unitValues(frame, l, "probe").delta,
    deltaMean: (l) => {
      const e = frameArray(frame, FRAME.E(l));
      return e ? Array.from(e.data) : null;
    },
    rows: () => null,
    y: null,
    W: (l, k, j) => cell(FRAME.W(l), k, j),
    D: (l, k, j) => cell(FRAME.D(l), k, j),
    dTheta: (l, k, j) => cell(FRAME.U(l), k, j),
    optimizer: hasStep(frame) ? config.optimizer : null,
    learningRate: config.learning_rate,
  };
}

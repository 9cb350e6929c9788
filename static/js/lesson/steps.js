// The nine steps of the derivation lesson: their order, the predictions each asks for, and each one's
// markup (steps-chain.js: 1–5, steps-dp.js: 6–9) with the sample's numbers, what it lights in the drawing,
// and the true value of every prediction. DOM-free: every function returns strings and plain data.

import { hiddenGradient, outputDelta, update } from "./derive.js";
import { COURSE } from "./markup.js";
import { stepCost, stepHidden, stepNotation, stepOutput, stepRecursion } from "./steps-chain.js";
import { stepMistakes, stepNumeric, stepStore, stepUpdate } from "./steps-dp.js";

export { COURSE, QUIZ } from "./markup.js";
export { growthChart } from "./steps-dp.js";

/** The steps, in order: id (i18n keys lesson.<id>.*) and the predictions each asks for. */
export const STEPS = Object.freeze([
  { id: "notation", predictions: [] },
  { id: "cost", predictions: [] },
  { id: "output", predictions: ["delta3"] },
  { id: "hidden", predictions: ["delta2", "grad"] },
  { id: "recursion", predictions: [] },
  { id: "store", predictions: [] },
  { id: "numeric", predictions: [] },
  { id: "update", predictions: ["update"] },
  { id: "mistakes", predictions: [] },
]);

const RENDER = {
  notation: stepNotation,
  cost: stepCost,
  output: stepOutput,
  hidden: stepHidden,
  recursion: stepRecursion,
  store: stepStore,
  numeric: stepNumeric,
  update: stepUpdate,
  mistakes: stepMistakes,
};

/**
 * The markup and the lit parts of step n (1..9).
 * @param {number} n
 * @param {StepContext} c
 * @returns {{html: string, lit: {units: string[], links: string[]}}}
 */
export function renderStep(n, c) {
  const out = RENDER[STEPS[n - 1].id](c);
  // Parentheses keep their size: stretched, those round a layer's index or a sum of squares grow huge
  out.html = out.html
    .replaceAll("<mo>(</mo>", '<mo stretchy="false">(</mo>')
    .replaceAll("<mo>)</mo>", '<mo stretchy="false">)</mo>');
  return out;
}

/**
 * The true value of each prediction, and the derivation object its slips are computed from.
 * @param {string} id
 * @param {import("./derive.js").Sample} s
 * @param {number} alpha
 * @returns {{value: number, d: object}}
 */
export function predictionTarget(id, s, alpha) {
  const L = s.L;
  if (id === "delta3") {
    const dd = outputDelta(s, COURSE.out.k);
    return { value: dd.value, d: dd };
  }
  const k = Math.min(COURSE.hidden.k, s.sizes[L - 2]);
  const i = Math.min(COURSE.hidden.i, s.sizes[Math.max(L - 3, 0)]);
  if (id === "delta2") {
    const g = hiddenGradient(s, k, i);
    return { value: g.delta, d: g };
  }
  if (id === "grad") {
    const g = hiddenGradient(s, k, i);
    return { value: g.value, d: g };
  }
  const u = update(s, Math.max(1, L - 2), k, i, alpha);
  return { value: u.after, d: u };
}

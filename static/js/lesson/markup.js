// The markup pieces the lesson's steps share: MathML helpers in the course's notation, the engine-agreement
// mark, the prediction box, and the weights the course derives. DOM-free: strings only.

import { fmt } from "../core/format.js";
import { math, mathD, mi, mn, mo, num, row, v } from "../core/mathml.js";
import { t } from "../i18n/index.js";

/** The weights the course derives: ∂J/∂Θ_11^(2) (step 3) and ∂J/∂Θ_22^(1) (step 4), in N's layers. */
export const COURSE = Object.freeze({ out: { k: 1, i: 1 }, hidden: { k: 2, i: 2 } });

/**
 * The common-mistakes checks of step 9: a question (i18n lesson.q.<id>), its choices and the right one.
 * Answers that depend on the network use N's sizes (L = 3).
 */
export const QUIZ = Object.freeze([
  { id: "theta_count", choices: ["1", "2", "3"], answer: "2" },
  { id: "delta1", choices: ["yes", "no"], answer: "no" },
  { id: "direction", choices: ["x3_a2", "x2_a3"], answer: "x3_a2" },
  { id: "nonoutput", choices: ["2", "3", "4"], answer: "3" },
  { id: "shape", choices: ["3x3", "3x4", "4x3"], answer: "3x4" },
  { id: "first", choices: ["0", "1"], answer: "1" },
]);

export const eq = (inner, cls = "") => `<div class="eq ${cls}">${inner}</div>`;
/** A long line in pieces, each its own <math>, that wrap between them on a narrow screen. */
export const pieces = (parts, cls = "") => eq(parts.map((p) => mathD(p)).join(""), `terms ${cls}`);
export const frac = (a, b) => `<mfrac>${a}${b}</mfrac>`;
export const paren = (...x) => row(mo("("), ...x, mo(")"));
export const d = (top, bottom) => frac(row(mi("∂"), top), row(mi("∂"), bottom));
export const J = mi("J");
/** a number, or "?" while the prediction it answers is not revealed */
export const val = (x, hidden, factor = false) => (hidden ? `<mi class="masked">?</mi>` : num(x, factor));
export const engineMark = (value, engine) =>
  Math.abs(value - engine) <= 1e-9 * (1 + Math.abs(engine))
    ? `<span class="agree" title="${t("lesson.agree_t")}">✓ ${t("lesson.agree")}</span>`
    : `<span class="disagree">≠ ${fmt(engine)}</span>`;
/** x_i for the inputs (the course's name), a_i^(l) otherwise; x_0 / a_0 = 1 for the bias. */
export const aSym = (l, i) => (l === 1 ? `<msub>${mi("x")}${mn(i)}</msub>` : v("a", i, l));
export const theta = (k, i, l) => v("Θ", [k, i], l);

/**
 * @typedef {object} StepContext
 * @property {import("./derive.js").Sample} s the current sample's pass
 * @property {{train_loss: number, regularization: number} | null} metrics the run's latest
 * @property {number} nTrain training samples
 * @property {object} config the session config
 * @property {Set<string>} revealed predictions answered right or shown
 * @property {{l: number, k: number}} unit the unit of step 5
 * @property {{hidden: number, width: number}} grow the network of step 6
 * @property {Record<string, string>} answers step 9's chosen answers
 */

/**
 * The markup of a prediction: the quantity, an input, "check" and "show me".
 * @param {string} id
 * @param {string} what MathML of the quantity
 * @param {boolean} revealed
 */
export function predictBox(id, what, revealed) {
  return `<form class="predict${revealed ? " done" : ""}" data-predict="${id}">
    <label><span>${t("lesson.predict")}</span> ${math(`${what}${mo("=")}`)}
      <input name="value" type="text" inputmode="decimal" autocomplete="off" spellcheck="false" aria-label="${t("lesson.predict_aria")}"></label>
    <button type="submit" class="primary">${t("lesson.check")}</button>
    <button type="button" data-act="show">${t("lesson.show")}</button>
    <p class="verdict" role="status" aria-live="polite"></p></form>`;
}

/** What a step lights: units "l:u" and links "l:k:i" (Θ^(l)_ki). */
export function lit(units, links) {
  return { units, links };
}

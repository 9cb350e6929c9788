// Tiny builders of MathML Core markup (rendered natively by the browser) in the notation of docs/maths.md.
// Every builder returns a string of MathML; numbers only ever come from format.js (never NaN).

import { fmt, fmtFactor } from "./format.js";

/** @param {string | number} s */
export const mi = (s) => `<mi>${s}</mi>`;
/** @param {string | number} s */
export const mn = (s) => `<mn>${s}</mn>`;
/** @param {string} s */
export const mo = (s) => `<mo>${s}</mo>`;
/** @param {...string} parts */
export const row = (...parts) => `<mrow>${parts.join("")}</mrow>`;
/** A text run inside maths. @param {string} s */
export const text = (s) => `<mtext>${s}</mtext>`;

/**
 * A number formatted to about 4 significant digits ("—" when not finite); negative in parentheses when
 * `factor` (it is multiplied).
 * @param {number | null | undefined} x
 * @param {boolean} [factor=false]
 */
export function num(x, factor = false) {
  return mn(factor ? fmtFactor(x) : fmt(x));
}

/**
 * base with a subscript and a parenthesised layer superscript: a_j^(l), Θ_kj^(l), δ_k^(l+1).
 * @param {string} base a MathML token (e.g. mi("a"))
 * @param {string | null} sub MathML, or null for none
 * @param {string | number} layer the layer (a number or MathML)
 */
export function sym(base, sub, layer) {
  const sup = row(mo("("), typeof layer === "number" ? mn(layer) : layer, mo(")"));
  return sub === null ? `<msup>${base}${sup}</msup>` : `<msubsup>${base}${row(sub)}${sup}</msubsup>`;
}

/**
 * a_j^(l) and its friends with plain indices.
 * @param {string} letter "a", "z", "δ", "Θ", "D"
 * @param {Array<number | string> | number | string | null} idx one index or [k, j]
 * @param {number | string} layer
 */
export function v(letter, idx, layer) {
  let sub = null;
  if (Array.isArray(idx)) sub = idx.map((i) => (typeof i === "number" ? mn(i) : mi(i))).join(mo(","));
  else if (idx !== null) sub = typeof idx === "number" ? mn(idx) : mi(idx);
  return sym(mi(letter), sub, typeof layer === "number" ? layer : row(layer));
}

/**
 * A whole <math> element (block: its own line).
 * @param {string} inner
 * @param {boolean} [block=false]
 */
export function math(inner, block = false) {
  return `<math${block ? ' display="block"' : ""}>${inner}</math>`;
}

/**
 * An inline <math> in display style (fractions and sums at full size), for the inspector's equations.
 * @param {string} inner
 */
export function mathD(inner) {
  return `<math displaystyle="true">${inner}</math>`;
}

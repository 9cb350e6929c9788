// Number formatting for the page: about 4 significant digits, a real minus sign, and never "NaN" or
// "Infinity" shown as a number (a missing or non-finite value reads "—").

const SUPERSCRIPT = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };

/** The dash shown instead of a missing or non-finite number. */
export const MISSING = "—";
/** The largest float32: the live frames clip a value that overflowed (a diverged run) to it. */
const F32_MAX = 3.4028234663852886e38;

/**
 * True for a finite number (not null, NaN or ±Infinity).
 * @param {unknown} x
 * @returns {x is number}
 */
export function isNum(x) {
  return typeof x === "number" && Number.isFinite(x);
}

function trimZeros(s) {
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}

/**
 * A number with `digits` significant digits: 0.6814, −0.04307, 1.144, 4.632×10⁻⁵; "—" when not finite;
 * "∞" / "−∞" for a value at float32's limit (it overflowed: the frames clip it there).
 * @param {number|null|undefined} x
 * @param {number} [digits=4]
 * @returns {string}
 */
export function fmt(x, digits = 4) {
  if (!isNum(x)) return MISSING;
  if (x === 0) return "0";
  const ax = Math.abs(x);
  const sign = x < 0 ? "−" : "";
  if (ax >= F32_MAX) return `${sign}∞`; // overflowed, not a real 3.403×10³⁸
  if (ax >= 1e-3 && ax < 1e5) {
    return sign + (ax >= 10 ** digits ? String(Math.round(ax)) : trimZeros(ax.toPrecision(digits)));
  }
  const [mant, exp] = ax.toExponential(digits - 1).split("e");
  const e = String(Number(exp)).replace(/./g, (c) => SUPERSCRIPT[c]);
  return `${sign}${trimZeros(mant)}×10${e}`;
}

/**
 * A short label for inside a unit: 3 significant digits, 2 in the ×10ⁿ form ("−4.8×10⁻⁴").
 * @param {number|null|undefined} x
 * @returns {string}
 */
export function fmtShort(x) {
  if (!isNum(x) || x === 0) return fmt(x);
  const ax = Math.abs(x);
  return fmt(x, ax >= 1e-3 && ax < 1e5 ? 3 : 2);
}

/**
 * Like fmt, but a negative number is wrapped in parentheses (for products written out term by term).
 * @param {number|null|undefined} x
 * @returns {string}
 */
export function fmtFactor(x) {
  const s = fmt(x);
  return isNum(x) && x < 0 ? `(${s})` : s;
}

/**
 * An integer counter with thin-space thousands separators ("12 345"); "—" when missing.
 * @param {number|null|undefined} n
 * @returns {string}
 */
export function fmtCount(n) {
  if (!isNum(n)) return MISSING;
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, "\u2009");
}

/**
 * Parse what fmt printed back into a number (tests, and the weight editor's echo).
 * @param {string} s
 * @returns {number}
 */
export function parseFmt(s) {
  const t = s.trim().replace(/[()]/g, "").replace(/−/g, "-");
  const m = t.match(/^(-?[\d.]+)×10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)$/);
  if (!m) return Number(t);
  const rev = Object.fromEntries(Object.entries(SUPERSCRIPT).map(([k, v]) => [v, k]));
  const exp = Number([...m[2]].map((c) => rev[c]).join(""));
  return Number(m[1]) * 10 ** exp;
}

// Predict, then reveal: is the learner's typed value the right one "within rounding", and if not, which
// usual slip gives their number (a flipped sign, a missing factor, one path of two, …)? Pure: no DOM.

/**
 * Parse what the learner typed: "0.123", "-1.5e-3", "−0,42" (a real minus sign, a decimal comma), "1/8".
 * @param {string} text
 * @returns {{value: number, decimals: number} | null} decimals: the digits typed after the point (for
 *   "1.5e-3": 4, the place of the last digit); null when it is not a number
 */
export function parseNumber(text) {
  const s = String(text).trim().replace(/[−–]/g, "-").replace(/\s+/g, "").replace(",", ".");
  if (!s) return null;
  const frac = /^(-?\d+)\/(\d+)$/.exec(s);
  if (frac) {
    const value = Number(frac[1]) / Number(frac[2]);
    return Number.isFinite(value) ? { value, decimals: 12 } : null;
  }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s)) return null;
  const value = Number(s);
  if (!Number.isFinite(value)) return null;
  const [mant, exp] = s.toLowerCase().split("e");
  const dot = mant.indexOf(".");
  const decimals = (dot < 0 ? 0 : mant.length - dot - 1) - Number(exp || 0);
  return { value, decimals };
}

/**
 * Whether `typed` is the true value within rounding: either it agrees to 3 significant digits, or it is the
 * true value rounded to the decimals the learner typed (at least 2 significant digits of it).
 * @param {number} typed
 * @param {number} decimals
 * @param {number} truth
 */
export function withinRounding(typed, decimals, truth) {
  const diff = Math.abs(typed - truth);
  const scale = Math.abs(truth);
  if (diff <= 5e-4 * scale + 1e-12) return true;
  const half = 0.5 * 10 ** -decimals * (1 + 1e-9);
  if (scale === 0) return decimals >= 2 && diff <= half;
  return diff <= half && half <= 0.05 * scale;
}

/**
 * @typedef {object} Slip a usual wrong answer: the key of its explanation and the number it gives
 * @property {string} key i18n key (lesson.slip.<key>)
 * @property {number} value
 */

/**
 * @typedef {object} Verdict
 * @property {"right" | "wrong" | "unreadable"} result
 * @property {string | null} slip the matched slip's key, when wrong and one matches
 * @property {number | null} typed
 */

/**
 * Judge a prediction.
 * @param {string} text what the learner typed
 * @param {number} truth the engine's value
 * @param {Slip[]} [slips] the usual wrong answers for this quantity, checked in order
 * @returns {Verdict}
 */
export function judge(text, truth, slips = []) {
  const p = parseNumber(text);
  if (!p) return { result: "unreadable", slip: null, typed: null };
  if (withinRounding(p.value, p.decimals, truth)) return { result: "right", slip: null, typed: p.value };
  for (const s of slips) {
    if (
      Number.isFinite(s.value) &&
      Math.abs(s.value - truth) > 5e-4 * Math.abs(truth) + 1e-12 &&
      withinRounding(p.value, p.decimals, s.value)
    ) {
      return { result: "wrong", slip: s.key, typed: p.value };
    }
  }
  return { result: "wrong", slip: null, typed: p.value };
}

/**
 * The usual slips of the lesson's predictions, from the derivation's numbers (derive.js).
 * @param {string} id the prediction: "delta3" (δ_k^(L)), "delta2" (δ_k^(L−1)), "grad" (∂J/∂Θ^(L−2)_ki),
 *   "update" (the updated weight)
 * @param {object} d the derivation object of that step
 * @returns {Slip[]}
 */
export function slipsFor(id, d) {
  if (id === "delta3") {
    return [
      { key: "sign", value: -d.value },
      { key: "squared", value: 0.5 * (d.a - d.y) ** 2 },
      { key: "no_gprime", value: d.a - d.y },
    ];
  }
  if (id === "delta2") {
    const out = [
      { key: "sign", value: -d.delta },
      { key: "no_gprime", value: d.sum },
    ];
    for (const p of d.paths)
      out.push({ key: "one_path", value: p.product * d.gPrime }, { key: "one_path", value: p.product });
    return out;
  }
  if (id === "grad") {
    const out = [
      { key: "sign", value: -d.value },
      { key: "no_input", value: d.delta },
      { key: "no_gprime", value: d.sum * d.ai },
    ];
    for (const p of d.paths) out.push({ key: "one_path", value: p.product * d.gPrime * d.ai });
    return out;
  }
  if (id === "update") {
    return [
      { key: "plus", value: d.before + d.alpha * d.D },
      { key: "no_alpha", value: d.before - d.D },
      { key: "change_only", value: -d.alpha * d.D },
    ];
  }
  return [];
}

// The link half of the inspector: ∂J/∂Θ_kj^(l) = (1/m) Σ_i δ_k^(l+1) a_j^(l) (+ the regularization part)
// written out with the pass's own numbers, then the update the optimizer made (−αD for sgd, not for the
// others: the actual ΔΘ is shown).

import { fmt, isNum } from "../core/format.js";
import { math as inline, mathD as math, mi, mn, mo, num, row, text, v } from "../core/mathml.js";
import { t } from "../i18n/index.js";

const MAX_PRODUCTS = 6;
const eq = (inner, cls = "") => `<div class="eq ${cls}">${inner}</div>`;
const field = (name, value) => `<span class="num" data-field="${name}">${fmt(value)}</span>`;
const frac = (a, b) => `<mfrac>${a}${b}</mfrac>`;

/**
 * The gradient of one weight, term by term when the per-sample rows are known.
 * @param {{l: number, k: number, j: number, th: string, D: number | null, w: number, data: object,
 *          config: object}} p
 */
export function gradientHtml({ l, k, j, th, D, w, data, config }) {
  const reg = config.regularization;
  const lam = config.reg_rate;
  const hasReg = reg !== "none" && lam > 0;
  const aj = j === 0 ? mn(1) : v("a", j, l);
  const regSym =
    reg === "l2"
      ? `${frac(mi("λ"), mi("m"))}${th}`
      : `${frac(mi("λ"), mi("m"))}${mi("sign")}${row(mo("("), th, mo(")"))}`;
  let head = `${frac(mi("∂J"), row(mi("∂"), th))}${mo("=")}${frac(mn(1), mi("m"))}${`<munder>${mo("Σ")}${mi("i")}</munder>`}${v("δ", k + 1, l + 1)}${aj}`;
  if (hasReg && j > 0) head += `${mo("+")}${regSym}`;
  let out = `<h4>${t("insp.gradient")}</h4>${eq(math(head))}`;
  if (j === 0) out += `<p class="why">${t(hasReg ? "insp.bias_col_reg" : "insp.bias_col")}</p>`;
  const rows = data.rows(l);
  if (!rows?.delta || !isNum(D)) {
    const m = data.m ? ` (m = ${data.m})` : "";
    out += eq(`${math(`${mi("D")}${mo("=")}`)} <strong>${field("D-result", D)}</strong>`, "result");
    return `${out}<p class="hint">${t("insp.from_batch", { m })}</p>`;
  }
  const m = rows.delta.length;
  let sum = 0;
  const products = rows.delta.map((dr, i) => {
    const a = j === 0 ? 1 : rows.a[i][j - 1];
    sum += dr[k] * a;
    return math(`${i ? mo("+") : ""}${num(dr[k], true)}${mo("·")}${num(a, true)}`);
  });
  const dataTerm = sum / m;
  const allRows = rows.delta.map((dr, i) => [i, dr[k], j === 0 ? 1 : rows.a[i][j - 1]]);
  const shown = products.slice(0, MAX_PRODUCTS);
  if (m > MAX_PRODUCTS) shown.push(math(`${mo("+")}${text(t("insp.more", { n: m - MAX_PRODUCTS }))}`));
  if (m === 1) {
    out += eq(math(`${mo("=")}`) + shown.join("") + math(`${mo("=")}${num(dataTerm)}`), "terms");
  } else {
    shown[shown.length - 1] = shown[shown.length - 1].replace(/<\/math>$/, `${mo("]")}</math>`);
    out += eq(math(`${mo("=")}${frac(mn(1), mn(m))}${mo("[")}`) + shown.join(""), "terms");
    out += eq(math(`${mo("=")}${frac(mn(1), mn(m))}${row(mo("("), num(sum), mo(")"))}${mo("=")}${num(dataTerm)}`));
  }
  if (m > MAX_PRODUCTS) out += allTerms(allRows, [mi("i"), v("δ", k + 1, l + 1), aj], sum);
  if (hasReg && j > 0) {
    const r = reg === "l2" ? (lam / m) * w : (lam / m) * Math.sign(w);
    const what = reg === "l2" ? num(w, true) : row(mi("sign"), mo("("), num(w), mo(")"));
    out += eq(math(`${mo("+")}${frac(num(lam), mn(m))}${what}${mo("=")}${mo("+")}${num(r, true)}`));
  }
  return out + eq(`${math(`${mi("D")}${mo("=")}`)} <strong>${field("D-result", D)}</strong>`, "result");
}

/**
 * The update of one weight: −αD for sgd; for momentum and adam the rule they use and the actual ΔΘ.
 * @param {{th: string, w: number, D: number | null, dT: number | null, data: object, config: object}} p
 */
export function updateHtml({ th, w, D, dT, data, config }) {
  let out = `<h4>${t("insp.the_update")}</h4>`;
  if (!data.optimizer || !isNum(dT)) {
    return `${out}<p class="hint">${t("insp.no_update")}</p>`;
  }
  const before = data.source === "frame" ? w - dT : w;
  const after = before + dT;
  const alpha = data.learningRate;
  if (data.optimizer === "sgd") {
    out += eq(
      math(
        `${mi("ΔΘ")}${mo("=")}${mo("−")}${mi("α")}${mi("D")}${mo("=")}${mo("−")}${num(alpha)}${mo("×")}${num(D, true)}${mo("=")}${num(dT)}`,
      ),
    );
  } else if (data.optimizer === "momentum") {
    out += `<p class="why">${t("insp.momentum", { mu: fmt(config.momentum), alpha: fmt(alpha) })}</p>`;
    out += eq(math(`${mi("ΔΘ")}${mo("=")}${mi("v")}${mo("=")}${num(dT)}`));
  } else {
    out += `<p class="why">${t("insp.adam", { alpha: fmt(alpha) })}</p>`;
    out += eq(math(`${mi("ΔΘ")}${mo("=")}${num(dT)}`));
  }
  out += eq(math(`${th}${mo(":")}${num(before)}${mo("→")}${num(after)}`), "result");
  return out;
}

/**
 * Every term of a sum the equation above shortens with "… n more", in a table that unfolds: each row's
 * two factors and their product, and the sum, so that a student can check it by hand.
 * @param {Array<[number | string, number, number]>} rows [label, first factor, second factor]
 * @param {[string, string, string]} heads MathML of the three column heads
 * @param {number} sum
 */
export function allTerms(rows, heads, sum) {
  const body = rows
    .map(([i, x, y]) => `<tr><th scope="row">${i}</th><td>${fmt(x)}</td><td>${fmt(y)}</td><td>${fmt(x * y)}</td></tr>`)
    .join("");
  const head = `${heads.map((h) => `<th scope="col">${inline(h)}</th>`).join("")}<th scope="col">${inline(mo("·"))}</th>`;
  return `<details class="all-terms"><summary>${t("insp.all_terms", { n: rows.length })}</summary>
    <div class="gc-wrap"><table class="gc-table terms-table"><thead><tr>${head}</tr></thead><tbody>${body}</tbody>
    <tfoot><tr><th scope="row">${inline(mo("Σ"))}</th><td colspan="2"></td><td>${fmt(sum)}</td></tr></tfoot></table></div></details>`;
}

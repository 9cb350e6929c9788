// The caption under the network in step mode: what the current phase computes, as an equation (MathML)
// and, where it helps, the number it produced.

import { fmt } from "../core/format.js";
import { math, mi, mn, mo, num, row, sym, text, v } from "../core/mathml.js";
import { activationOf, outputRule, pick } from "../core/trace.js";
import { t } from "../i18n/index.js";

const vec = (letter, l) => sym(mi(letter), null, l);
const bracket = (inner) => row(mo("["), mn(1), mo(";"), inner, mo("]"));
const times = mo("⊙");

/**
 * The caption of phase `index` of a trace: {title, html} (html holds inline MathML).
 * @param {import("../core/trace.js").TraceModel} model
 * @param {number} index
 * @param {{row: number, config: object}} opts
 * @returns {{title: string, html: string}}
 */
export function caption(model, index, { row: r, config }) {
  const ph = model.phases[index];
  const L = model.L;
  const l = ph.layer;
  const batch = model.m > 1;
  const who = batch ? t("cap.who_batch", { m: model.m }) : t("cap.who_sample", { n: model.indices[0] });
  let title = `${t(`phase.${ph.phase}`)}${l ? ` · ${t("phase.layer", { l })}` : ""}`;
  let html = "";
  if (ph.phase === "forward" && l === 1) {
    html = t("cap.input", { eq: math(`${vec("a", 1)}${mo("=")}${mi("x")}`), who });
  } else if (ph.phase === "forward") {
    const g = activationOf(config, l, L);
    const z = `${vec("z", l)}${mo("=")}${vec("Θ", l - 1)}${bracket(vec("a", l - 1))}`;
    const a = math(`${vec("a", l)}${mo("=")}${mi("g")}${row(mo("("), vec("z", l), mo(")"))}`);
    html = t(l === L ? "cap.forward_out" : "cap.forward", { z: math(z), a, g });
  } else if (ph.phase === "cost") {
    const y = pick(model.y, r);
    const loss = t(`loss.${config.loss}_long`);
    html = batch
      ? t("cap.cost_batch", {
          loss,
          eq: math(`${mi("J")}${mo("=")}${text("(1/m) Σ ℓ")}${mo("=")}${num(model.cost.data)}`),
          who,
        })
      : t("cap.cost_sample", {
          loss,
          eq: math(`${mi("ℓ")}${mo("=")}${num(model.cost.data)}`),
          y: y.map((x) => fmt(x)).join(", "),
        });
  } else if (ph.phase === "backward" && l === L) {
    const rule = outputRule(config.loss, config.output_activation);
    const rhs = rule.simple
      ? `${vec("a", L)}${mo("−")}${mi("y")}`
      : `${row(mo("("), vec("a", L), mo("−"), mi("y"), mo(")"))}${times}${mi("g′")}${row(mo("("), vec("z", L), mo(")"))}`;
    html = t("cap.out_error", { eq: math(`${vec("δ", L)}${mo("=")}${rhs}`), why: rule.why });
    title = `${t("phase.backward")} · ${t("phase.out_layer", { l: L })}`;
  } else if (ph.phase === "backward") {
    const g = activationOf(config, l, L);
    const rhs = `${row(mo("("), `<msup>${mi("Θ")}${row(mo("("), mn(l), mo(")"), mo("⊤"))}</msup>`, vec("δ", l + 1), mo(")"))}${times}${mi("g′")}${row(mo("("), vec("z", l), mo(")"))}`;
    html = t("cap.hidden_error", {
      eq: math(`${vec("δ", l)}${mo("=")}${rhs}`),
      g,
      share: math(`${v("Θ", ["k", "j"], l)}${v("δ", "k", l + 1)}`),
    });
  } else if (ph.phase === "gradient") {
    const a = bracket(vec("a", l));
    const body = batch
      ? `${text("(1/m)")}${mo("Σ")}${vec("δ", l + 1)}<msup>${a}${mo("⊤")}</msup>`
      : `${vec("δ", l + 1)}<msup>${a}${mo("⊤")}</msup>`;
    const reg =
      config.regularization !== "none" && config.reg_rate > 0
        ? t("cap.reg_term", { kind: config.regularization.toUpperCase() })
        : "";
    html = t("cap.gradient", { eq: math(`${vec("D", l)}${mo("=")}${body}`), reg });
  } else if (ph.phase === "update") {
    const u = model.update[l];
    let big = 0;
    u.delta.forEach((rw) => rw.forEach((x) => (big = Math.max(big, Math.abs(x)))));
    const opt = model.optimizer;
    const rule =
      opt === "sgd"
        ? math(`${vec("Θ", l)}${mo("←")}${vec("Θ", l)}${mo("−")}${mi("α")}${vec("D", l)}`) +
          `, α = ${fmt(model.learningRate)}`
        : t("cap.opt_rule", { opt, eq: math(`${vec("Θ", l)}${mo("←")}${vec("Θ", l)}${mo("+")}${mi("ΔΘ")}`) });
    html = t("cap.update", { rule, big: fmt(big) });
  }
  return { title, html };
}

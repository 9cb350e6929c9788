// The inspector: click a unit for z, a, δ and the formula that produced δ with the live numbers filled in,
// term by term; click a link for ∂J/∂Θ = (1/m)Σ δ·a (+ regularization), the update, and an editable weight.

import { fmt, isNum } from "../core/format.js";
import { math, mathD, mi, mn, mo, num, row, sym, text, v } from "../core/mathml.js";
import { useSheet } from "../core/style.js";
import { activationOf, derivative, outputRule } from "../core/trace.js";
import { t } from "../i18n/index.js";
import { allTerms, gradientHtml, updateHtml } from "./inspector-link.js";

useSheet("explain");

const MAX_TERMS = 12;
const paren = (...x) => row(mo("("), ...x, mo(")"));
const eq = (inner, cls = "") => `<div class="eq ${cls}">${inner}</div>`;
const eqD = (inner, cls = "") => eq(mathD(inner), cls);
/** An equation in pieces that wrap between them (each piece its own <math>). */
const chain = (parts, cls = "") =>
  eq(parts.map((p) => (p.startsWith("<strong") ? p : math(p))).join(""), `terms ${cls}`);
const field = (name, value) => `<span class="num" data-field="${name}">${fmt(value)}</span>`;

/** The inspector panel (see the module comment); it renders into its container and never reads the store. */
export class Inspector {
  /**
   * @param {HTMLElement} root
   * @param {{onSelect: (sel: object) => void, onSetWeight: (l: number, k: number, j: number, v: number) => void}} h
   */
  constructor(root, { onSelect, onSetWeight }) {
    this.root = root;
    root.addEventListener("click", (ev) => {
      const b = ev.target.closest("[data-select]");
      if (b) onSelect(JSON.parse(b.dataset.select));
    });
    root.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const f = ev.target;
      const value = Number(f.elements.weight.value);
      if (f.elements.weight.value.trim() === "" || !Number.isFinite(value)) {
        f.querySelector(".hint").textContent = t("insp.finite");
        return;
      }
      f.dataset.sent = "1";
      onSetWeight(+f.dataset.layer, +f.dataset.row, +f.dataset.col, value);
      f.querySelector(".hint").textContent = t("insp.sent");
    });
  }

  /**
   * Show a selection with the numbers of `data` (null: nothing to show yet).
   * @param {object | null} sel
   * @param {import("./inspector-data.js").InspectorData | null} data
   * @param {{config: object, sizes: number[], weightNow: (l: number, k: number, j: number) => number}} ctx
   */
  render(sel, data, ctx) {
    const active = document.activeElement;
    const editing = this.root.contains(active) && active.name === "weight";
    if (editing && active.form.dataset.sent !== "1" && active.value !== active.defaultValue) return;
    let html;
    if (!sel) {
      html = `<p class="hint">${t("insp.empty")}</p>`;
    } else if (!data) {
      html = `<p class="hint">${t("insp.waiting")}</p>`;
    } else if (sel.kind === "unit") {
      html = this.unit(sel, data, ctx);
    } else {
      html = this.link(sel, data, ctx);
    }
    this.root.innerHTML = html;
    if (editing) this.root.querySelector("input[name=weight]")?.focus();
  }

  unit({ layer: l, unit: u }, data, { config, sizes }) {
    const L = sizes.length;
    if (u === 0) {
      return `<h3>${math(v("a", 0, l))} <small>${t("insp.bias_of", { l })}</small></h3>
        <p>${t("insp.bias_text", { a: math(`${v("a", 0, l)}${mo("=")}${mn(1)}`), th: math(v("Θ", ["k", 0], l)), next: l + 1 })}</p>
        ${linkButtons(l, 0, sizes)}`;
    }
    const j = u - 1;
    const kind = l === 1 ? "input" : l === L ? "output" : "hidden";
    const act = l === 1 ? null : activationOf(config, l, L);
    const z = l > 1 ? data.z(l) : null;
    const a = data.a(l);
    const d = l > 1 ? data.delta(l) : null;
    let out = `<h3>${math(v("a", u, l))} <small>${t(`insp.${kind}_unit`, { u, l })}${act ? ` · ${act}` : ""}</small></h3>
      <p class="who">${data.who}</p><dl class="values">`;
    if (l > 1) out += `<dt>${math(v("z", u, l))}</dt><dd>${z ? field("z", z[j]) : "—"}</dd>`;
    out += `<dt>${math(v("a", u, l))}</dt><dd>${a ? field("a", a[j]) : "—"}</dd>`;
    if (l > 1) out += `<dt>${math(v("δ", u, l))}</dt><dd>${d ? field("delta", d[j]) : "—"}</dd>`;
    const mean = l > 1 ? data.deltaMean(l) : null;
    if (mean && data.source === "trace" && !data.mean)
      out += `<dt>${t("insp.mean_delta")}</dt><dd>${field("delta-mean", mean[j])}</dd>`;
    out += "</dl>";
    if (l === 1) {
      out += `<p>${t("insp.input_text", { a: math(`${v("a", u, 1)}${mo("=")}${mi("x")}`), d: math(sym(mi("δ"), null, 1)) })}</p>`;
    } else if (data.mean) {
      out += `<p class="why">${t("insp.mean_note")}</p>`;
    } else if (data.source === "trace" && z && a && !d) {
      out += `<p class="hint">${t("insp.not_yet", { l })}</p>`;
    } else if (!z || !a || !d) {
      out += `<p class="hint">${t("insp.step_once")}</p>`;
    } else if (l === L) {
      out += this.outputDelta(u, j, z, a, d, data, config, L);
    } else {
      out += this.hiddenDelta(l, u, j, z, a, d, data, act);
    }
    return out + linkButtons(l, u, sizes);
  }

  outputDelta(u, j, z, a, d, data, config, L) {
    const rule = outputRule(config.loss, config.output_activation);
    const y = data.y ? data.y[j] : null;
    let out = `<h4>${t("insp.out_error")}</h4><p class="why">${rule.why}.</p>`;
    out += `<p class="why same-delta">${t(rule.simple ? "insp.same_delta" : "insp.not_same_delta", { ce: config.output_activation === "softmax" ? "softmax" : "sigmoid" })}</p>`;
    if (y === null) {
      out += eq(math(`${v("δ", u, L)}${mo("=")}${text(rule.simple ? "a − y" : "(a − y)·g′(z)")}`));
      return `${out}<p class="hint">${t("insp.target_in_trace")}</p>`;
    }
    if (rule.simple) {
      out += eq(
        math(
          `${v("δ", u, L)}${mo("=")}${v("a", u, L)}${mo("−")}${mi("y")}${mo("=")}${num(a[j])}${mo("−")}${num(y, true)}`,
        ),
      );
    } else {
      const g = derivative(config.output_activation, z[j], a[j]);
      out += eq(
        math(
          `${v("δ", u, L)}${mo("=")}${paren(v("a", u, L), mo("−"), mi("y"))}${mo("·")}${mi("g′")}${paren(v("z", u, L))}`,
        ),
      );
      out += gPrime(config.output_activation, u, L, j, z, a);
      out += eq(
        math(`${v("δ", u, L)}${mo("=")}${paren(num(a[j]), mo("−"), num(y, true))}${mo("·")}${num(g.value, true)}`),
      );
    }
    return out + chain([mo("="), `<strong>${field("delta-result", d[j])}</strong>`], "result");
  }

  hiddenDelta(l, u, j, z, a, d, data, act) {
    const next = data.delta(l + 1);
    const terms = [];
    let sum = 0;
    for (let k = 0; k < next.length; k++) {
      const w = data.W(l, k, u);
      sum += w * next[k];
      terms.push({ k, w, dk: next[k] });
    }
    const g = derivative(act, z[j], a[j]);
    let out = `<h4>${t("insp.how_delta")}</h4>`;
    out += eqD(
      `${v("δ", u, l)}${mo("=")}${paren(`<munder>${mo("Σ")}${mi("k")}</munder>`, v("Θ", ["k", u], l), v("δ", "k", l + 1))}${mo("·")}${mi("g′")}${paren(v("z", u, l))}`,
    );
    const shown = terms.slice(0, MAX_TERMS);
    const products = shown.map((tm, i) => {
      const btn = JSON.stringify({ kind: "link", layer: l, row: tm.k, col: u });
      const sign = i ? mo("+") : "";
      return `<button type="button" class="term" data-select='${btn}' title="Θ${tm.k + 1},${u} · δ${tm.k + 1}: ${t("insp.select_link")}">${math(`${sign}${num(tm.w, true)}${mo("·")}${num(tm.dk, true)}`)}</button>`;
    });
    if (terms.length > shown.length)
      products.push(math(`${mo("+")}${text(t("insp.more", { n: terms.length - shown.length }))}`));
    if (terms.length === 1) products.push(math(`${mo("=")}${num(sum)}`));
    out += `<div class="eq terms"><span class="lead">${math(`${mo("Σ")}${mo("=")}`)}</span>${products.join("")}</div>`;
    const values = shown.map((tm, i) => math(`${i ? mo("+") : mo("=")}${num(tm.w * tm.dk, i > 0)}`));
    if (terms.length > shown.length) values.push(math(`${mo("+")}${text("…")}`));
    if (terms.length > 1) out += eq(values.join("") + math(`${mo("=")}${num(sum)}`), "terms");
    if (terms.length > shown.length) {
      out += allTerms(
        terms.map((tm) => [tm.k + 1, tm.w, tm.dk]),
        [mi("k"), v("Θ", ["k", u], l), v("δ", "k", l + 1)],
        sum,
      );
    }
    out += gPrime(act, u, l, j, z, a);
    out += chain(
      [
        `${v("δ", u, l)}${mo("=")}${num(sum, true)}${mo("×")}${num(g.value, true)}`,
        mo("="),
        `<strong>${field("delta-result", d[j])}</strong>`,
      ],
      "result",
    );
    return out;
  }

  link({ layer: l, row: k, col: j }, data, { config, weightNow }) {
    const from = j === 0 ? t("insp.the_bias") : math(v("a", j, l));
    const th = v("Θ", [k + 1, j], l);
    const w = data.W(l, k, j);
    const now = weightNow(l, k, j);
    const D = data.D(l, k, j);
    const dT = data.dTheta(l, k, j);
    let out = `<h3>${math(th)} <small>${t("insp.weight_of", { l })}</small></h3>
      <p class="who">${t("insp.from_to", { from, to: math(v("a", k + 1, l + 1)), row: k + 1, col: j, th: math(sym(mi("Θ"), null, l)) })}</p>
      <dl class="values"><dt>${data.source === "trace" ? t("insp.theta_used") : t("insp.theta_now")}</dt><dd>${field("theta", w)}</dd>
      <dt>${math(`${mi("D")}${mo("=")}${mi("∂J")}${mo("/")}${mi("∂Θ")}`)}</dt><dd>${isNum(D) ? field("D", D) : "—"}</dd>
      <dt>${t("insp.update")}</dt><dd>${isNum(dT) ? field("dtheta", dT) : "—"}</dd></dl>`;
    out += gradientHtml({ l, k, j, th, D, w, data, config });
    out += updateHtml({ th, w, D, dT, data, config });
    out += `<form class="weight-edit" data-layer="${l}" data-row="${k}" data-col="${j}">
      <label>${t("insp.set_to", { th: math(th) })} <input name="weight" type="number" step="any" required
        value="${isNum(now) ? Number(now.toPrecision(7)) : ""}" aria-label="${t("insp.new_value", { l, row: k + 1, col: j })}"></label>
      <button type="submit">${t("insp.set_weight")}</button><p class="hint" aria-live="polite"></p></form>`;
    return out;
  }
}

/** The line g′(z) = its formula = the formula with a's value = the value, for unit u of layer l. */
function gPrime(act, u, l, j, z, a) {
  const g = derivative(act, z[j], a[j]);
  const gz = `${mi("g′")}${paren(v("z", u, l))}`;
  let filled = null;
  if (act === "sigmoid") filled = `${num(a[j])}${paren(mn(1), mo("−"), num(a[j]))}`;
  else if (act === "tanh") filled = `${mn(1)}${mo("−")}<msup>${paren(num(a[j]))}${mn(2)}</msup>`;
  else if (act === "relu" || act === "leaky_relu") filled = text(`z = ${fmt(z[j])}`);
  const parts = [`${gz}${mo("=")}${text(g.expr)}`];
  if (filled) parts.push(`${mo(act.endsWith("relu") ? "," : "=")}${filled}`);
  parts.push(`${mo(act.endsWith("relu") ? "→" : "=")}${num(g.value)}`);
  return chain(parts);
}

function linkButtons(l, u, sizes) {
  const L = sizes.length;
  const btn = (sel, label) =>
    `<button type="button" class="chip" data-select='${JSON.stringify(sel)}'>${label}</button>`;
  let out = "";
  if (l > 1 && u > 0) {
    const ins = [];
    for (let j = 0; j <= Math.min(sizes[l - 2], 15); j++)
      ins.push(btn({ kind: "link", layer: l - 1, row: u - 1, col: j }, math(v("Θ", [u, j], l - 1))));
    out += `<p class="links-list">${t("insp.weights_in")} ${ins.join("")}</p>`;
  }
  if (l < L) {
    const outs = [];
    for (let k = 0; k < Math.min(sizes[l], 16); k++)
      outs.push(btn({ kind: "link", layer: l, row: k, col: u }, math(v("Θ", [k + 1, u], l))));
    out += `<p class="links-list">${t("insp.weights_out")} ${outs.join("")}</p>`;
  }
  return out;
}

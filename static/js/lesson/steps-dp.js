// Steps 6–9 of the derivation lesson as markup: "store the δ" (the counts and their chart), the numerical
// check, one update and the symmetry step, the common mistakes. Each returns {html, lit}. DOM-free.

import { fmt } from "../core/format.js";
import { math, mathD, mi, mn, mo, num, row, text, v } from "../core/mathml.js";
import { t } from "../i18n/index.js";
import { numericCheck, symmetry, update } from "./derive.js";
import { d, eq, frac, J, lit, paren, predictBox, QUIZ, theta, val } from "./markup.js";
import { countOps, growth } from "./opcount.js";

/** A small SVG chart of both counts (log scale) against the number of hidden layers. */
export function growthChart(points, current) {
  const W = 300;
  const H = 150;
  const pad = { l: 44, r: 10, t: 10, b: 26 };
  const max = Math.max(...points.map((p) => p.chain));
  const lmax = Math.ceil(Math.log10(Math.max(max, 10)));
  const X = (h) => pad.l + ((h - 1) / Math.max(points.length - 1, 1)) * (W - pad.l - pad.r);
  const Y = (n) => H - pad.b - (Math.log10(Math.max(n, 1)) / lmax) * (H - pad.t - pad.b);
  const line = (key) =>
    points.map((p, n) => `${n ? "L" : "M"}${X(p.hidden).toFixed(1)},${Y(p[key]).toFixed(1)}`).join("");
  let grid = "";
  for (let e = 0; e <= lmax; e++)
    grid += `<line x1="${pad.l}" x2="${W - pad.r}" y1="${Y(10 ** e)}" y2="${Y(10 ** e)}" class="grid"/><text x="${pad.l - 4}" y="${Y(10 ** e) + 4}" text-anchor="end">10${e ? `<tspan dy="-5" font-size="8">${e}</tspan>` : "⁰"}</text>`;
  const ticks = points
    .map((p) => `<text x="${X(p.hidden)}" y="${H - 8}" text-anchor="middle">${p.hidden}</text>`)
    .join("");
  const dots = (key) =>
    points
      .map(
        (p) =>
          `<circle cx="${X(p.hidden)}" cy="${Y(p[key])}" r="${p.hidden === current ? 4.5 : 2.5}"><title>${p.sizes.join("–")}: ${p[key]}</title></circle>`,
      )
      .join("");
  return `<svg class="ops-chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${t("lesson.store.chart")}">${grid}${ticks}
    <path class="chain" d="${line("chain")}"/><g class="chain">${dots("chain")}</g>
    <path class="stored" d="${line("stored")}"/><g class="stored">${dots("stored")}</g></svg>
    <p class="ops-key"><span class="chain">■ ${t("lesson.store.chain")}</span> <span class="stored">■ ${t("lesson.store.stored")}</span> · ${t("lesson.store.axis")}</p>`;
}

export function stepStore(c) {
  const { s } = c;
  const simple = s.net.loss === "cross_entropy" || s.net.output === "linear";
  const here = countOps(s.sizes, simple);
  const { hidden, width } = c.grow;
  const inputs = s.sizes[0];
  const outputs = s.sizes[s.L - 1];
  const grownSizes = [inputs, ...Array(hidden).fill(width), outputs];
  const grown = countOps(grownSizes, simple);
  const pts = growth(inputs, outputs, width, 6, simple);
  let html = `<p>${t("lesson.store.p1", { k: s.sizes[0] + 1 })}</p>`;
  html += `<table class="ops"><thead><tr><th>${t("lesson.store.net")}</th><th>${t("lesson.store.chain")}</th><th>${t("lesson.store.stored")}</th><th>${t("lesson.store.ratio")}</th></tr></thead><tbody>
    <tr data-net="current"><td>${t("lesson.store.this", { sizes: s.sizes.join("–") })}</td><td data-count="chain">${here.chain}</td><td data-count="stored">${here.stored}</td><td>${(here.chain / here.stored).toFixed(1)}×</td></tr>
    <tr data-net="grown"><td>${grownSizes.join("–")}</td><td data-count="chain">${grown.chain}</td><td data-count="stored">${grown.stored}</td><td>${(grown.chain / grown.stored).toFixed(1)}×</td></tr></tbody></table>`;
  html += `<div class="grow" role="group" aria-label="${t("lesson.store.grow")}">
    <span>${t("lesson.store.layers")}</span><button type="button" data-grow="hidden" data-by="-1" aria-label="${t("lesson.store.fewer_layers")}">−</button><b data-grown="hidden">${hidden}</b><button type="button" data-grow="hidden" data-by="1" aria-label="${t("lesson.store.more_layers")}">+</button>
    <span>${t("lesson.store.units")}</span><button type="button" data-grow="width" data-by="-1" aria-label="${t("lesson.store.fewer_units")}">−</button><b data-grown="width">${width}</b><button type="button" data-grow="width" data-by="1" aria-label="${t("lesson.store.more_units")}">+</button></div>`;
  html += growthChart(pts, hidden);
  html += `<p class="why">${t("lesson.store.p2")}</p><details><summary>${t("lesson.store.how")}</summary><p>${t("lesson.store.formula")}</p></details>`;
  return { html, lit: lit([], []) };
}

export function stepNumeric(c) {
  const { s } = c;
  const rows = [];
  const key = [];
  if (s.L >= 3) key.push([s.L - 2, Math.min(2, s.sizes[s.L - 2]), Math.min(2, s.sizes[s.L - 3])]);
  key.push([s.L - 1, 1, 1]);
  for (const [l, k, i] of key) rows.push({ ...numericCheck(s, l, k, i), key: true });
  for (let l = 1; l < s.L; l++)
    for (let k = 1; k <= s.sizes[l]; k++)
      for (let i = 0; i <= s.sizes[l - 1]; i++)
        if (!key.some(([a, b, e]) => a === l && b === k && e === i)) rows.push(numericCheck(s, l, k, i));
  const eps = rows[0].eps;
  let html = `<p>${t("lesson.numeric.p1")}</p>`;
  html += eq(
    mathD(
      `${d(J, v("Θ", ["k", "i"], mi("l")))}${mo("≈")}${frac(row(J, paren(mi("Θ"), mo("+"), mi("ε")), mo("−"), J, paren(mi("Θ"), mo("−"), mi("ε"))), row(mn(2), mi("ε")))}${mo(",")}${mi("ε")}${mo("=")}<msup>${mn(10)}${row(mo("−"), mn(Math.round(-Math.log10(eps))))}</msup>`,
    ),
  );
  const tr = (r) =>
    `<tr class="${r.error < 1e-6 ? "ok" : "bad"}"${r.key ? " data-course" : ""} data-weight="${r.l}:${r.k}:${r.i}"><td>${math(theta(r.k, r.i, r.l))}</td><td>${fmt(r.analytic, 6)}</td><td>${fmt(r.numerical, 6)}</td><td>${fmt(r.error, 2)}</td></tr>`;
  html += `<div class="gc-wrap"><table class="gc-table numeric"><thead><tr><th>${t("lesson.numeric.weight")}</th><th>${t("lesson.numeric.derived")}</th><th>${t("lesson.numeric.central")}</th><th>${t("lesson.numeric.error")}</th></tr></thead><tbody>${rows.map(tr).join("")}</tbody></table></div>`;
  html += `<p class="why">${t("lesson.numeric.p2")}</p>`;
  return {
    html,
    lit: lit(
      [],
      key.map(([l, k, i]) => `${l}:${k}:${i}`),
    ),
  };
}

export function stepUpdate(c) {
  const { s, revealed } = c;
  const L = s.L;
  const l = Math.max(1, L - 2);
  const k = Math.min(2, s.sizes[l]);
  const i = Math.min(2, s.sizes[l - 1]);
  const alpha = c.config.learning_rate;
  const u = update(s, l, k, i, alpha);
  const hide = !revealed.has("update");
  const th = theta(k, i, l);
  let html = `<p>${t("lesson.update.p1", { opt: c.config.optimizer })}</p>`;
  html += eq(mathD(`${th}${mo("≔")}${th}${mo("−")}${mi("α")}${d(J, th)}`));
  html += predictBox("update", row(th, text(" "), text(t("lesson.update.after"))), !hide);
  html += eq(
    mathD(
      `${mo("=")}${num(u.before)}${mo("−")}${num(alpha)}${mo("·")}${num(u.D, true)}${mo("=")}${val(u.after, hide)}`,
    ),
    "result",
  );
  html += `<p><button type="button" data-act="apply-update" ${hide ? "disabled" : ""}>${t("lesson.update.apply")}</button> <small class="hint">${t("lesson.update.apply_t")}</small></p>`;
  const sym = symmetry(s, 0.5, alpha);
  html += `<h4>${t("lesson.update.sym_title")}</h4><p>${t("lesson.update.sym_p", { c: "0.5" })}</p>`;
  for (const layer of sym.layers) {
    const vals = (arr, sym2) =>
      arr.map((x, n) => `${n ? mo(",") : ""}${v(sym2, n + 1, layer.l)}${mo("=")}${num(x)}`).join("");
    html += eq(math(vals(layer.a, "a")), "terms") + eq(math(vals(layer.delta, "δ")), "terms");
    html += `<p class="why">${t(layer.same ? "lesson.update.sym_same" : "lesson.update.sym_diff", { l: layer.l, lm: layer.l - 1 })}</p>`;
  }
  html += `<p><button type="button" data-act="symmetry-scenario">${t("lesson.update.sym_try")}</button></p>`;
  return { html, lit: lit([`${l}:${i}`, `${l + 1}:${k}`], [`${l}:${k}:${i}`]) };
}

export function stepMistakes(c) {
  let html = `<p>${t("lesson.mistakes.p1")}</p><ol class="quiz">`;
  for (const q of QUIZ) {
    const chosen = c.answers[q.id];
    const verdict =
      chosen === undefined
        ? ""
        : chosen === q.answer
          ? `<span class="right">✓ ${t("lesson.right_short")}</span> ${t(`lesson.q.${q.id}.why`)}`
          : `<span class="wrong">✗ ${t("lesson.wrong_short")}</span> ${t(`lesson.q.${q.id}.why`)}`;
    html += `<li data-quiz="${q.id}"><p>${t(`lesson.q.${q.id}`)}</p><div class="choices">${q.choices
      .map(
        (ch) =>
          `<button type="button" data-choice="${ch}" aria-pressed="${chosen === ch}">${t(`lesson.q.${q.id}.${ch}`)}</button>`,
      )
      .join("")}</div><p class="verdict" role="status">${verdict}</p></li>`;
  }
  return { html: `${html}</ol>`, lit: lit([], []) };
}

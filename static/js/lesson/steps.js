// The nine steps of the derivation lesson as markup: each step's text (i18n), its equations in MathML with
// the sample's numbers (derive.js), what it lights in the network drawing, and the values the learner
// predicts before they are shown. DOM-free: every function returns strings and plain data.

import { fmt } from "../core/format.js";
import { math, mathD, mi, mn, mo, num, row, text, v } from "../core/mathml.js";
import { t } from "../i18n/index.js";
import {
  forwardUnit,
  hiddenGradient,
  numericCheck,
  outputDelta,
  outputGradient,
  sampleCost,
  setCost,
  symmetry,
  unitDelta,
  update,
} from "./derive.js";
import { countOps, growth } from "./opcount.js";

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

const eq = (inner, cls = "") => `<div class="eq ${cls}">${inner}</div>`;
const frac = (a, b) => `<mfrac>${a}${b}</mfrac>`;
const paren = (...x) => row(mo("("), ...x, mo(")"));
const d = (top, bottom) => frac(row(mi("∂"), top), row(mi("∂"), bottom));
const J = mi("J");
/** a number, or "?" while the prediction it answers is not revealed */
const val = (x, hidden, factor = false) => (hidden ? `<mi class="masked">?</mi>` : num(x, factor));
const engineMark = (value, engine) =>
  Math.abs(value - engine) <= 1e-9 * (1 + Math.abs(engine))
    ? `<span class="agree" title="${t("lesson.agree_t")}">✓ ${t("lesson.agree")}</span>`
    : `<span class="disagree">≠ ${fmt(engine)}</span>`;
/** x_i for the inputs (the course's name), a_i^(l) otherwise; x_0 / a_0 = 1 for the bias. */
const aSym = (l, i) => (l === 1 ? `<msub>${mi("x")}${mn(i)}</msub>` : v("a", i, l));
const theta = (k, i, l) => v("Θ", [k, i], l);

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
function predictBox(id, what, revealed) {
  return `<form class="predict${revealed ? " done" : ""}" data-predict="${id}">
    <label><span>${t("lesson.predict")}</span> ${math(`${what}${mo("=")}`)}
      <input name="value" type="text" inputmode="decimal" autocomplete="off" spellcheck="false" aria-label="${t("lesson.predict_aria")}"></label>
    <button type="submit" class="primary">${t("lesson.check")}</button>
    <button type="button" data-act="show">${t("lesson.show")}</button>
    <p class="verdict" role="status" aria-live="polite"></p></form>`;
}

/** What a step lights: units "l:u" and links "l:k:i" (Θ^(l)_ki). */
function lit(units, links) {
  return { units, links };
}

function stepNotation(c) {
  const { s } = c;
  const f = forwardUnit(s, 1, 1);
  const L = s.L;
  const terms = f.terms.map((x, n) => `${n ? mo("+") : ""}${theta(1, x.i, 1)}${aSym(1, x.i)}`).join("");
  const nums = f.terms.map((x, n) => `${n ? mo("+") : ""}${num(x.w, true)}${mo("·")}${num(x.a, true)}`).join("");
  const g = f.g === "linear" ? mi("z") : row(mi("g"), paren(mi("z")));
  const html = `<p>${t("lesson.notation.p1")}</p>
  <ul class="notation"><li>${math(v("a", "i", mi("j")))} ${t("lesson.notation.a")}</li>
  <li>${math(v("Θ", ["k", "i"], mi("j")))} ${t("lesson.notation.theta")}</li>
  <li>${math(`<msub>${mi("x")}${mn(0)}</msub>${mo("=")}${v("a", 0, mi("j"))}${mo("=")}${mn(1)}`)} ${t("lesson.notation.bias")}</li></ul>
  <p>${t("lesson.notation.p2", { L, S: s.sizes.join("–") })}</p>
  ${eq(mathD(`${v("z", 1, 2)}${mo("=")}${terms}`))}
  ${eq(mathD(`${mo("=")}${nums}${mo("=")}${num(f.z)}`), "terms")}
  ${eq(mathD(`${v("a", 1, 2)}${mo("=")}${g.replace("<mi>z</mi>", v("z", 1, 2))}${mo("=")}${num(f.a)}`), "result")}
  <p class="why">${t(`lesson.notation.g.${f.g === "linear" ? "linear" : "other"}`, { g: f.g })} ${engineMark(f.a, f.engine.a)}</p>`;
  return { html, lit: lit(["1:0", "1:1", "1:2", "1:3", "2:1"], ["1:1:0", "1:1:1", "1:1:2", "1:1:3"]) };
}

function stepCost(c) {
  const { s } = c;
  const sc = sampleCost(s);
  const L = s.L;
  const mse = s.net.loss === "mse";
  let html = `<p>${t(mse ? "lesson.cost.p1" : "lesson.cost.p1_ce")}</p>`;
  if (mse) {
    const sym = sc.terms
      .map(
        (x, n) =>
          `${n ? mo("+") : ""}<msup>${paren(v("a", x.k, L), mo("−"), `<msub>${mi("y")}${mn(x.k)}</msub>`)}${mn(2)}</msup>`,
      )
      .join("");
    const nums = sc.terms
      .map((x, n) => `${n ? mo("+") : ""}<msup>${paren(num(x.a), mo("−"), num(x.y, true))}${mn(2)}</msup>`)
      .join("");
    html += eq(
      mathD(
        `${J}${mo("=")}${frac(mn(1), mn(2))}<munderover>${mo("∑")}${row(mi("k"), mo("="), mn(1))}${mn(s.sizes[L - 1])}</munderover><msup>${paren(v("a", "k", L), mo("−"), `<msub>${mi("y")}${mi("k")}</msub>`)}${mn(2)}</msup>${mo("=")}${frac(mn(1), mn(2))}${paren(sym)}`,
      ),
    );
    html += eq(mathD(`${mo("=")}${frac(mn(1), mn(2))}${paren(nums)}${mo("=")}${num(sc.data)}`), "terms");
  } else {
    const yk = `<msub>${mi("y")}${mi("k")}</msub>`;
    const ak = v("a", "k", L);
    const term =
      s.net.output === "softmax"
        ? `${yk}${mi("ln")}${ak}`
        : `${mo("[")}${yk}${mi("ln")}${ak}${mo("+")}${paren(mn(1), mo("−"), yk)}${mi("ln")}${paren(mn(1), mo("−"), ak)}${mo("]")}`;
    html += eq(mathD(`${J}${mo("=")}${mo("−")}<munder>${mo("∑")}${mi("k")}</munder>${term}${mo("=")}${num(sc.data)}`));
  }
  if (sc.lambda)
    html += eq(
      mathD(
        `${mo("+")}${frac(mi("λ"), mn(2))}${mo("∑")}<msup>${mi("Θ")}${mn(2)}</msup>${mo("=")}${frac(num(sc.lambda), mn(2))}${mo("·")}${num(sc.sumSq)}${mo("=")}${num(sc.reg)}`,
      ),
    );
  html +=
    eq(math(`${J}${mo("=")}${num(sc.total)}`), "result") +
    `<p class="why">${engineMark(sc.total, sc.engine.total)}</p>`;
  if (c.metrics) {
    const set = setCost(c.metrics, c.nTrain, s.W, s.net);
    const m = mi("m");
    const sumI = `<munderover>${mo("∑")}${row(mi("i"), mo("="), mn(1))}${m}</munderover>`;
    const sumK = `<munder>${mo("∑")}${mi("k")}</munder>`;
    const reg = `${frac(mi("λ"), row(mn(2), m))}<munder>${mo("∑")}${mi("l")}</munder><munder>${mo("∑")}${mi("j")}</munder><munder>${mo("∑")}${row(mi("i"), mo("≥"), mn(1))}</munder><msup>${paren(v("Θ", ["i", "j"], mi("l")))}${mn(2)}</msup>`;
    html += `<p>${t("lesson.cost.p2", { m: c.nTrain })}</p>`;
    html += eq(
      mathD(
        `${J}${paren(mi("Θ"))}${mo("=")}${frac(mn(1), row(mn(2), m))}${sumI}${sumK}<msup>${paren(`<msub>${row(`<msub>${mi("h")}${mi("Θ")}</msub>`, paren(`<msup>${mi("x")}${paren(mi("i"))}</msup>`))}${mi("k")}</msub>`, mo("−"), `<msubsup>${mi("y")}${mi("k")}${paren(mi("i"))}</msubsup>`)}${mn(2)}</msup>${mo("+")}${reg}`,
      ),
    );
    html += eq(
      mathD(
        `${mo("=")}${num(set.data)}${mo("+")}${frac(num(set.lambda), row(mn(2), mo("·"), mn(c.nTrain)))}${mo("·")}${num(set.sumSq)}${mo("=")}${num(set.total)}`,
      ),
      "terms",
    );
    html += `<p class="why">${t(set.lambda ? "lesson.cost.reg_on" : "lesson.cost.reg_off")}${set.lambda ? ` ${engineMark(set.reg, set.engine.reg)}` : ""}</p>`;
  }
  const outs = s.sizes[L - 1];
  return {
    html,
    lit: lit(
      Array.from({ length: outs }, (_, k) => `${L}:${k + 1}`),
      [],
    ),
  };
}

function stepOutput(c) {
  const { s, revealed } = c;
  const L = s.L;
  const { k, i } = COURSE.out;
  const g = outputGradient(s, k, i);
  const hideD = !revealed.has("delta3");
  const th = theta(k, i, L - 1);
  const aL = v("a", k, L);
  const zL = v("z", k, L);
  const yk = `<msub>${mi("y")}${mn(k)}</msub>`;
  const simple = g.delta.simple;
  let html = `<p>${t("lesson.output.p1")}</p>`;
  html += eq(mathD(`${d(J, th)}${mo("=")}${d(J, aL)}${mo("·")}${d(aL, zL)}${mo("·")}${d(zL, th)}`));
  const gp = simple ? mn(1) : row(mi("g′"), paren(zL));
  html += eq(
    mathD(
      `${mo("=")}${paren(aL, mo("−"), yk)}${mo("·")}${gp}${mo("·")}${aSym(L - 1, i)}${mo("=")}${v("δ", k, L)}${aSym(L - 1, i)}`,
    ),
  );
  html += `<p class="why">${t(simple ? "lesson.output.simple" : "lesson.output.gprime", { out: s.net.output })}</p>`;
  html += predictBox("delta3", v("δ", k, L), !hideD);
  html += eq(
    mathD(
      `${v("δ", k, L)}${mo("=")}${paren(num(g.delta.a), mo("−"), num(g.delta.y, true))}${simple ? "" : `${mo("·")}${num(g.delta.gPrime)}`}${mo("=")}${val(g.delta.value, hideD)}`,
    ),
  );
  html += eq(
    mathD(
      `${d(J, th)}${mo("=")}${val(g.delta.value, hideD, true)}${mo("·")}${num(g.ai, true)}${g.reg ? `${mo("+")}${num(g.reg, true)}` : ""}${mo("=")}${val(g.value, hideD)}`,
    ),
    "result",
  );
  if (!hideD) html += `<p class="why">${engineMark(g.value, g.engine)}</p>`;
  return { html, lit: lit([`${L - 1}:${i}`, `${L}:${k}`], [`${L - 1}:${k}:${i}`]) };
}

function stepHidden(c) {
  const { s, revealed } = c;
  const L = s.L;
  if (L < 3) return { html: `<p>${t("lesson.needs_hidden")}</p>`, lit: lit([], []) };
  const k = Math.min(COURSE.hidden.k, s.sizes[L - 2]);
  const i = Math.min(COURSE.hidden.i, s.sizes[L - 3]);
  const g = hiddenGradient(s, k, i);
  const l = g.l;
  const hide2 = !revealed.has("delta2");
  const hideG = !revealed.has("grad");
  const th = theta(k, i, l);
  const ak = v("a", k, l + 1);
  const err = (j) => paren(v("a", j, L), mo("−"), `<msub>${mi("y")}${mn(j)}</msub>`);
  const gp = g.g === "linear" ? "" : `${mo("·")}${row(mi("g′"), paren(v("z", k, l + 1)))}`;
  const symPaths = g.paths.map((p, n) => `${n ? mo("+") : ""}${err(p.j)}${theta(p.j, k, l + 1)}`).join("");
  const dPaths = g.paths.map((p, n) => `${n ? mo("+") : ""}${v("δ", p.j, L)}${theta(p.j, k, l + 1)}`).join("");
  let html = `<p>${t("lesson.hidden.p1", { n: g.paths.length })}</p><ol class="paths">${g.paths.map((p) => `<li>${math(`${aSym(l, i)}${mo("→")}${ak}${mo("→")}${v("a", p.j, L)}${mo("→")}${J}`)}</li>`).join("")}</ol>`;
  html += eq(
    mathD(
      `${d(J, th)}${mo("=")}<munder>${mo("∑")}${mi("j")}</munder>${d(J, v("a", "j", L))}${d(v("a", "j", L), ak)}${d(ak, v("z", k, l + 1))}${d(v("z", k, l + 1), th)}`,
    ),
  );
  html += eq(mathD(`${mo("=")}${paren(symPaths)}${gp}${mo("·")}${aSym(l, i)}`));
  html += eq(mathD(`${mo("=")}${paren(dPaths)}${gp}${mo("·")}${aSym(l, i)}${mo("=")}${v("δ", k, l + 1)}${aSym(l, i)}`));
  html += `<p class="why">${t(g.g === "linear" ? "lesson.hidden.linear" : "lesson.hidden.gprime", { g: g.g, gp: fmt(g.gPrime) })}</p>`;
  html += predictBox("delta2", v("δ", k, l + 1), !hide2);
  const nums = g.paths
    .map((p, n) => `${n ? mo("+") : ""}${num(p.delta.value, true)}${mo("·")}${num(p.w, true)}`)
    .join("");
  html += eq(
    mathD(
      `${v("δ", k, l + 1)}${mo("=")}${paren(nums)}${g.g === "linear" ? "" : `${mo("·")}${num(g.gPrime)}`}${mo("=")}${val(g.sum, hide2)}${g.g === "linear" ? "" : `${mo("·")}${num(g.gPrime)}`}${mo("=")}${val(g.delta, hide2)}`,
    ),
    "terms",
  );
  if (!hide2) html += `<p class="why">${engineMark(g.delta, g.engine.delta)}</p>`;
  html += predictBox("grad", d(J, th), !hideG);
  html += eq(
    mathD(
      `${d(J, th)}${mo("=")}${val(g.delta, hide2 && hideG, true)}${mo("·")}${num(g.ai, true)}${g.reg ? `${mo("+")}${num(g.reg, true)}` : ""}${mo("=")}${val(g.value, hideG)}`,
    ),
    "result",
  );
  if (!hideG) html += `<p class="why">${engineMark(g.value, g.engine.D)}</p>`;
  const units = [`${l}:${i}`, `${l + 1}:${k}`, ...g.paths.map((p) => `${L}:${p.j}`)];
  const links = [`${l}:${k}:${i}`, ...g.paths.map((p) => `${l + 1}:${p.j}:${k}`)];
  return { html, lit: lit(units, links) };
}

function stepRecursion(c) {
  const { s } = c;
  const L = s.L;
  const l = Math.max(2, Math.min(c.unit.l, L));
  const k = Math.max(1, Math.min(c.unit.k, s.sizes[l - 1]));
  const u = unitDelta(s, l, k);
  let html = `<p>${t("lesson.recursion.p1")}</p>`;
  html += eq(
    mathD(
      `${v("δ", null, mi("L"))}${mo("=")}${v("a", null, mi("L"))}${mo("−")}${mi("y")}${text(" ")}${text(t("lesson.recursion.simple"))}`,
    ),
  );
  html += eq(
    mathD(
      `${v("δ", null, mi("L"))}${mo("=")}${paren(v("a", null, mi("L")), mo("−"), mi("y"))}${mo("⊙")}${mi("g′")}${paren(v("z", null, mi("L")))}${text(" ")}${text(t("lesson.recursion.other"))}`,
    ),
  );
  html += eq(
    mathD(
      `${v("δ", null, mi("l"))}${mo("=")}${paren(`<msup>${paren(v("Θ", null, mi("l")))}${mi("T")}</msup>`, v("δ", null, row(mi("l"), mo("+"), mn(1))))}${mo("⊙")}${mi("g′")}${paren(v("z", null, mi("l")))}${text(" ")}${text(t("lesson.recursion.range"))}`,
    ),
  );
  html += `<p class="why">${t("lesson.recursion.no_delta1")}</p>`;
  html += `<p>${t("lesson.recursion.pick", { unit: math(v("a", k, l)) })}</p>`;
  let unitsLit = [`${l}:${k}`];
  let links = [];
  if (u.output) {
    html += eq(
      mathD(
        `${v("δ", k, l)}${mo("=")}${paren(num(u.a), mo("−"), num(u.y, true))}${u.simple ? "" : `${mo("·")}${num(u.gPrime)}`}${mo("=")}${num(u.value)}`,
      ),
      "result",
    );
  } else {
    const sym = u.terms.map((x, n) => `${n ? mo("+") : ""}${theta(x.j, k, l)}${v("δ", x.j, l + 1)}`).join("");
    const nums = u.terms.map((x, n) => `${n ? mo("+") : ""}${num(x.w, true)}${mo("·")}${num(x.d, true)}`).join("");
    const gp = row(mi("g′"), paren(v("z", k, l)));
    html += eq(mathD(`${v("δ", k, l)}${mo("=")}${paren(sym)}${mo("·")}${gp}`));
    html += eq(mathD(`${mo("=")}${paren(nums)}${mo("·")}${num(u.gPrime)}${mo("=")}${num(u.value)}`), "terms result");
    unitsLit = unitsLit.concat(u.terms.map((x) => `${l + 1}:${x.j}`));
    links = u.terms.map((x) => `${l}:${x.j}:${k}`);
  }
  html += `<p class="why">${engineMark(u.value, u.engine)}</p>`;
  return { html, lit: lit(unitsLit, links) };
}

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

function stepStore(c) {
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

function stepNumeric(c) {
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

function stepUpdate(c) {
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

function stepMistakes(c) {
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

// Steps 1–5 of the derivation lesson as markup: notation and the forward equation, the cost, ∂J/∂Θ₁₁⁽²⁾,
// ∂J/∂Θ₂₂⁽¹⁾ through its two paths, the δ recursion. Each returns {html, lit}. DOM-free.

import { fmt } from "../core/format.js";
import { math, mathD, mi, mn, mo, num, row, v } from "../core/mathml.js";
import { t } from "../i18n/index.js";
import { forwardUnit, hiddenGradient, outputGradient, sampleCost, setCost, unitDelta } from "./derive.js";
import { aSym, COURSE, d, engineMark, eq, frac, J, lit, paren, pieces, predictBox, theta, val } from "./markup.js";

export function stepNotation(c) {
  const { s } = c;
  const f = forwardUnit(s, 1, 1);
  const L = s.L;
  const terms = f.terms.map((x, n) => `${n ? mo("+") : ""}${theta(1, x.i, 1)}${aSym(1, x.i)}`).join("");
  const nums = f.terms.map((x, n) => `${n ? mo("+") : mo("=")}${num(x.w, true)}${mo("·")}${num(x.a, true)}`);
  const g = f.g === "linear" ? mi("z") : row(mi("g"), paren(mi("z")));
  const html = `<p>${t("lesson.notation.p1")}</p>
  <ul class="notation"><li>${math(v("a", "i", mi("j")))} ${t("lesson.notation.a")}</li>
  <li>${math(v("Θ", ["k", "i"], mi("j")))} ${t("lesson.notation.theta")}</li>
  <li>${math(`<msub>${mi("x")}${mn(0)}</msub>${mo("=")}${v("a", 0, mi("j"))}${mo("=")}${mn(1)}`)} ${t("lesson.notation.bias")}</li></ul>
  <p>${t("lesson.notation.p2", { L, S: s.sizes.join("–") })}</p>
  ${eq(mathD(`${v("z", 1, 2)}${mo("=")}${terms}`))}
  ${pieces([...nums, `${mo("=")}${num(f.z)}`])}
  ${eq(mathD(`${v("a", 1, 2)}${mo("=")}${g.replace("<mi>z</mi>", v("z", 1, 2))}${mo("=")}${num(f.a)}`), "result")}
  <p class="why">${t(`lesson.notation.g.${f.g === "linear" ? "linear" : "other"}`, { g: f.g })} ${engineMark(f.a, f.engine.a)}</p>`;
  return { html, lit: lit(["1:0", "1:1", "1:2", "1:3", "2:1"], ["1:1:0", "1:1:1", "1:1:2", "1:1:3"]) };
}

export function stepCost(c) {
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

export function stepOutput(c) {
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

export function stepHidden(c) {
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
  const gpNum = g.g === "linear" ? "" : `${mo("·")}${num(g.gPrime)}`;
  const nums = g.paths.map(
    (p, n) =>
      `${n ? mo("+") : `${v("δ", k, l + 1)}${mo("=")}${mo("(")}`}${num(p.delta.value, true)}${mo("·")}${num(p.w, true)}`,
  );
  html += pieces([
    ...nums,
    `${mo(")")}${gpNum}`,
    `${mo("=")}${val(g.sum, hide2)}${gpNum}`,
    `${mo("=")}${val(g.delta, hide2)}`,
  ]);
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

export function stepRecursion(c) {
  const { s } = c;
  const L = s.L;
  const l = Math.max(2, Math.min(c.unit.l, L));
  const k = Math.max(1, Math.min(c.unit.k, s.sizes[l - 1]));
  const u = unitDelta(s, l, k);
  let html = `<p>${t("lesson.recursion.p1")}</p>`;
  html += eq(mathD(`${v("δ", null, mi("L"))}${mo("=")}${v("a", null, mi("L"))}${mo("−")}${mi("y")}`));
  html += `<p class="why cond">${t("lesson.recursion.simple")}</p>`;
  html += eq(
    mathD(
      `${v("δ", null, mi("L"))}${mo("=")}${paren(v("a", null, mi("L")), mo("−"), mi("y"))}${mo("⊙")}${mi("g′")}${paren(v("z", null, mi("L")))}`,
    ),
  );
  html += `<p class="why cond">${t("lesson.recursion.other")}</p>`;
  html += eq(
    mathD(
      `${v("δ", null, mi("l"))}${mo("=")}${paren(`<msup>${paren(v("Θ", null, mi("l")))}${mi("T")}</msup>`, v("δ", null, row(mi("l"), mo("+"), mn(1))))}${mo("⊙")}${mi("g′")}${paren(v("z", null, mi("l")))}`,
    ),
  );
  html += `<p class="why cond">${t("lesson.recursion.range")}</p>`;
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
    const nums = u.terms.map(
      (x, n) => `${n ? mo("+") : `${mo("=")}${mo("(")}`}${num(x.w, true)}${mo("·")}${num(x.d, true)}`,
    );
    const gp = row(mi("g′"), paren(v("z", k, l)));
    html += eq(mathD(`${v("δ", k, l)}${mo("=")}${paren(sym)}${mo("·")}${gp}`));
    html += pieces([...nums, `${mo(")")}${mo("·")}${num(u.gPrime)}`, `${mo("=")}${num(u.value)}`], "result");
    unitsLit = unitsLit.concat(u.terms.map((x) => `${l + 1}:${x.j}`));
    links = u.terms.map((x) => `${l}:${x.j}:${k}`);
  }
  html += `<p class="why">${engineMark(u.value, u.engine)}</p>`;
  return { html, lit: lit(unitsLit, links) };
}

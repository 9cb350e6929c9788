// The lesson panel's pieces of markup and drawing (panel.js): the header (steps, the sample, the teacher's
// step in a room) and the overlay that lights a step's units and links in the network drawing.

import { fmt } from "../core/format.js";
import { t } from "../i18n/index.js";
import { STEPS } from "./steps.js";

const SVG = "http://www.w3.org/2000/svg";

/**
 * The panel's header: title, the step buttons, the sample with its x and y, the tools, the step's title.
 * @param {object} st the panel's state (panel.js)
 * @param {boolean} follow a room page (the teacher's step shown; no sample or weight tools)
 * @param {boolean} closable show the close button
 */
export function headerHtml(st, follow, closable) {
  const N = STEPS.length;
  const nav = STEPS.map(
    (x, i) =>
      `<li><button type="button" data-step="${i + 1}" aria-current="${i + 1 === st.step ? "step" : "false"}" title="${t(`lesson.s.${x.id}`)}">${i + 1}</button></li>`,
  ).join("");
  const s = st.s;
  const xy = s
    ? t("lesson.sample_of", {
        i: st.sample,
        x: s.a[1].map((v) => fmt(v)).join(", "),
        y: s.y.map((v) => fmt(v)).join(", "),
      })
    : t("lesson.waiting");
  const teacher =
    follow && st.teacher
      ? `<p class="teacher-step" role="status">${t("lesson.room.following", { n: st.teacher.step, title: t(`lesson.s.${STEPS[st.teacher.step - 1].id}`) })}${st.following ? "" : ` <button type="button" data-act="follow">${t("lesson.room.own")}</button>`}</p>`
      : "";
  const controls = follow
    ? ""
    : `<button type="button" data-act="new-sample">${t("lesson.new_sample")}</button> <button type="button" data-act="new-weights">${t("lesson.new_weights")}</button>`;
  return `<header class="lesson-head"><h2 id="lesson-title">${t("lesson.title")}</h2>
    <button type="button" class="close" data-act="close" aria-label="${t("lesson.close")}" ${closable ? "" : "hidden"}>×</button></header>
    ${teacher}<ol class="lesson-steps" aria-label="${t("lesson.steps")}">${nav}</ol>
    <p class="lesson-sample" data-sample="${st.sample}">${xy}</p><div class="lesson-tools">${controls}</div>
    <h3 class="step-title"><small>${t("lesson.step_of", { n: st.step, N })}</small> ${t(`lesson.s.${STEPS[st.step - 1].id}`)}</h3>`;
}

/**
 * Rings round the lit units and bright copies of the lit links, on top of the drawing.
 * @param {import("../net/network-view.js").NetworkView} view
 * @param {SVGGElement | null} overlay the group drawn before (reused), or null
 * @param {{units: string[], links: string[]}} lit units "l:u", links "l:k:i" (Θ^(l)_ki)
 * @returns {SVGGElement} the group
 */
export function drawLit(view, overlay, lit) {
  if (!overlay || !view.svg.contains(overlay)) {
    overlay = document.createElementNS(SVG, "g");
    overlay.setAttribute("class", "lesson-lit");
  }
  view.svg.append(overlay); // last: on top of everything drawn since
  overlay.textContent = "";
  const r = view.layout ? view.layout.r : 20;
  for (const key of lit.links) {
    const [l, k, i] = key.split(":").map(Number);
    const a = view.unitPos(l, i);
    const b = view.unitPos(l + 1, k);
    if (!a || !b) continue;
    const line = document.createElementNS(SVG, "line");
    for (const [n, v] of Object.entries({ x1: a.x, y1: a.y, x2: b.x, y2: b.y })) line.setAttribute(n, v.toFixed(1));
    line.setAttribute("class", "lit-link");
    line.dataset.lit = key;
    overlay.append(line);
  }
  for (const key of lit.units) {
    const [l, u] = key.split(":").map(Number);
    const p = view.unitPos(l, u);
    if (!p) continue;
    const c = document.createElementNS(SVG, "circle");
    for (const [n, v] of Object.entries({ cx: p.x, cy: p.y, r: r + 6 })) c.setAttribute(n, v.toFixed(1));
    c.setAttribute("class", "lit-unit");
    c.dataset.lit = key;
    overlay.append(c);
  }
  return overlay;
}

// The lessons the page adds to the playground: a ready-made scenario's explanation (under the scenarios
// menu), and the symmetry of identical units — a badge on every hidden layer whose units all have the same
// incoming weights, and a note over the network that says why they stay identical, with "now try xavier".

import { extend, has, t } from "../i18n/index.js";
import { el } from "../net/network-dom.js";
import { symmetricLayers } from "../net/symmetry.js";
import { SCENARIOS } from "./scenarios.js";

/**
 * Mount the lesson box and the symmetry badges.
 * @param {{store: object, actions: object, view: import("../net/network-view.js").NetworkView, box: HTMLElement,
 *          note: HTMLElement}} deps box: the symmetry note's place, note: the scenario explanation's
 */
export function mountLessons({ store, actions, view, box, note }) {
  let symmetric = [];
  let badges = null;

  function placeBadges() {
    const lay = view.layout;
    if (!lay) return;
    if (!badges || !view.svg.contains(badges)) badges = el("g", { class: "badges" }, view.svg);
    badges.textContent = "";
    for (const l of symmetric) {
      const n = view.unitPos(l, 1);
      if (!n) continue;
      const g = el(
        "g",
        {
          class: "sym-badge",
          "data-layer": l,
          transform: `translate(${n.x.toFixed(1)},${(lay.height - 52).toFixed(1)})`,
        },
        badges,
      );
      const label = t("sym.badge");
      const w = label.length * 6.6 + 26;
      el("rect", { x: -w / 2, y: -10, width: w, height: 20, rx: 10 }, g);
      el("text", { "text-anchor": "middle", "dominant-baseline": "central" }, g).textContent = `⚭ ${label}`;
      el("title", {}, g).textContent = t("sym.badge_title", { l });
    }
    view.layerGroups.forEach((g, i) => g.classList.toggle("symmetric", symmetric.includes(i + 1)));
  }
  view.svg.addEventListener("placed", placeBadges);

  const show = (el, html) => {
    if (el.dataset.html === html) return;
    el.dataset.html = html;
    el.innerHTML = html;
    el.hidden = !html;
  };

  let texts = null;

  function render(s) {
    const sc = s.scenario ? SCENARIOS.find((x) => x.id === s.scenario) : null;
    if (sc && !has(`sc.${sc.id}.text`)) {
      texts ||= import("../i18n/scenarios.js").then((m) => extend(m.table));
      texts.then(() => render(store.get()));
      return;
    }
    show(
      note,
      sc
        ? `<div class="lesson scenario" data-scenario="${sc.id}"><h3>${t(`sc.${sc.id}.title`)}</h3><p>${t(`sc.${sc.id}.text`)}</p>
        <button type="button" class="close" data-act="close-scenario" aria-label="${t("common.dismiss")}">×</button></div>`
        : "",
    );
    const layers = symmetric.join(", ");
    const init = s.session ? s.session.config.init : "";
    show(
      box,
      symmetric.length
        ? `<div class="lesson symmetry" role="status"><p><b>⚭ ${t("sym.title")}.</b> ${t("sym.text", { layers, init })}</p>
        <button type="button" class="primary" data-act="try-xavier">${t("sym.try")}</button></div>`
        : "",
    );
  }

  const onClick = (ev) => {
    const act = ev.target.closest("[data-act]")?.dataset.act;
    if (act === "close-scenario") actions.setScenario(null);
    if (act === "try-xavier") actions.tryXavier();
  };
  box.addEventListener("click", onClick);
  note.addEventListener("click", onClick);

  store.subscribe((s, changed) => {
    const has = (...keys) => keys.some((k) => changed.has(k));
    if (has("frame", "session")) {
      const now = symmetricLayers(actions.weightMats());
      if (now.join() !== symmetric.join()) {
        symmetric = now;
        placeBadges();
        render(s);
      }
    }
    if (has("lang")) placeBadges();
    if (has("scenario", "lang", "session")) render(s);
  });
}

// The settings panel (section#controls): the ready-made scenarios menu, the data, network and training
// controls (panel-*.js, csv-box.js), the errors the server sends back for a refused setting — shown
// beside the controls they concern — and sharing: copy the link, export and import the run.

import { listDatasets } from "../core/api.js";
import { t } from "../i18n/index.js";
import { LESSONS } from "../lesson/entry.js";
import { mountCsvBox } from "./csv-box.js";
import { mountDataPanel } from "./panel-data.js";
import { mountNetPanel } from "./panel-net.js";
import { mountTrainPanel } from "./panel-train.js";
import { SCENARIOS } from "./scenarios.js";

/**
 * Mount the whole settings panel.
 * @param {{store: object, actions: object, root: Document}} deps
 */
export function mountPanel(deps) {
  const { store, actions, root } = deps;
  const $ = (id) => root.getElementById(id);
  mountDataPanel(deps);
  mountCsvBox(deps);
  mountNetPanel(deps);
  mountTrainPanel(deps);

  listDatasets()
    .then((datasets) => store.set({ datasets }))
    .catch((err) => store.set({ notice: err.message }));

  const menu = $("scenario");
  menu.addEventListener("change", () => {
    if (menu.value.startsWith("lesson:")) actions.openLesson(menu.value.slice(7));
    else if (menu.value) actions.loadScenario(menu.value);
  });
  function scenarios(s) {
    menu.innerHTML =
      `<option value="">${t("ctl.scenario_pick")}</option>` +
      Object.keys(LESSONS)
        .map(
          (id) =>
            `<option value="lesson:${id}"${id === s.lesson ? " selected" : ""}>${t(`lesson.menu.${id}`)}</option>`,
        )
        .join("") +
      SCENARIOS.map(
        (sc) => `<option value="${sc.id}"${sc.id === s.scenario ? " selected" : ""}>${t(`sc.${sc.id}.title`)}</option>`,
      ).join("");
  }

  $("copy-link").addEventListener("click", async () => {
    const out = $("share-status");
    try {
      await navigator.clipboard.writeText(location.href);
      out.textContent = t("io.copied");
    } catch {
      out.textContent = t("io.copy_here");
      $("share-url").hidden = false;
      $("share-url").value = location.href;
      $("share-url").select();
    }
  });
  $("export").addEventListener("click", () => actions.exportRun().catch((err) => store.set({ notice: err.message })));
  $("import").addEventListener("change", (e) => {
    const file = e.target.files?.[0];
    e.target.value = "";
    if (file) actions.importRun(file);
  });

  function showError(err) {
    let shown = false;
    root.querySelectorAll("#controls [data-error-for]").forEach((p) => {
      const fields = p.dataset.errorFor.split(" ");
      const mine = Boolean(err) && !shown && fields.includes(String(err.field || "").split(".")[0]);
      shown = shown || mine;
      p.hidden = !mine;
      p.textContent = mine ? t("ctl.refused", { why: err.message }) : "";
    });
    if (err && !shown) store.set({ notice: err.message });
  }

  store.subscribe((s, changed) => {
    if (changed.has("scenario") || changed.has("lesson") || changed.has("lang")) scenarios(s);
    if (changed.has("controlError")) showError(s.controlError);
    if (changed.has("session") && s.controlError && !changed.has("controlError")) store.set({ controlError: null });
  });
  scenarios(store.get());
}

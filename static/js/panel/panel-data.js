// The data half of the settings panel: the dataset picker (thumbnails of every built-in set, and custom
// data), the number of classes (blobs), noise, the number of samples, the train/test ratio and
// "regenerate" (a new data seed). A new dataset may change the task or the number of inputs: the patch
// then also brings the task's default output and loss and features valid for the new inputs.

import { ONE_INPUT } from "../core/forward.js";
import { t } from "../i18n/index.js";
import { drawThumb } from "./thumbs.js";

/** The output activation and loss each task starts with (the server's defaults). */
export const TASK_DEFAULTS = Object.freeze({
  classification: ["sigmoid", "cross_entropy"],
  multiclass: ["softmax", "cross_entropy"],
  regression: ["linear", "mse"],
});

const DATASET_FIELDS = ["name", "samples", "noise", "train_fraction", "seed", "classes"];

/**
 * The settings patch that switches to a built-in dataset, with the output, loss and features it needs.
 * @param {{task: string, config: object}} session the current session
 * @param {{inputs: number} | null} current the current data's inputs (null: unknown)
 * @param {{name: string, task: string, inputs: number}} info the new dataset
 * @param {object} [changes] other dataset fields to change (noise, samples, …)
 */
export function datasetPatch(session, current, info, changes = {}) {
  const cfg = session.config;
  const dataset = {};
  for (const k of DATASET_FIELDS)
    if (cfg.dataset[k] !== undefined && cfg.dataset[k] !== null) dataset[k] = cfg.dataset[k];
  Object.assign(dataset, { name: info.name }, changes);
  const patch = { dataset };
  if (info.task !== session.task) [patch.output_activation, patch.loss] = TASK_DEFAULTS[info.task];
  const features = cfg.features || [];
  if (info.inputs === 1) {
    const keep = features.filter((f) => ONE_INPUT.includes(f));
    patch.features = keep.length ? keep : ["x1"];
  } else if (!features.length || (current && current.inputs !== 2) || features.every((f) => ONE_INPUT.includes(f))) {
    patch.features = ["x1", "x2"];
  } else patch.features = features;
  return patch;
}

/**
 * Mount the data controls.
 * @param {{store: object, actions: object, root: Document}} deps
 */
export function mountDataPanel({ store, actions, root }) {
  const $ = (id) => root.getElementById(id);
  const list = $("datasets");
  let built = "";

  function buildThumbs(datasets) {
    const names = datasets.map((d) => d.name).concat("custom");
    if (built === names.join()) return;
    built = names.join();
    list.innerHTML = names
      .map(
        (n) =>
          `<button type="button" class="thumb" role="radio" aria-checked="false" data-name="${n}"><canvas></canvas><span data-i18n="ds.${n}">${t(`ds.${n}`)}</span></button>`,
      )
      .join("");
    list.querySelectorAll(".thumb").forEach((b) => {
      drawThumb(b.querySelector("canvas"), b.dataset.name);
      const info = datasets.find((d) => d.name === b.dataset.name);
      b.title = info
        ? `${t(`ds.${info.name}`)} — ${t(`task.${info.task}`)}, ${t("ds.inputs", { n: info.inputs })}`
        : t("csv.title");
    });
  }

  /** Switch to a built-in dataset, or change fields of the current one (changes: noise, samples, …). */
  function pick(name, changes = {}) {
    const s = store.get();
    if (!s.session) return;
    const info = s.datasets.find((d) => d.name === name);
    if (!info) return;
    actions.configure(datasetPatch(s.session, s.data, info, changes));
  }
  const current = () => store.get().session.config.dataset;

  list.addEventListener("click", (ev) => {
    const b = ev.target.closest(".thumb");
    if (!b) return;
    if (b.dataset.name === "custom") {
      $("csv-box").open = true;
      $("csv-text").focus();
    } else pick(b.dataset.name);
  });
  list.addEventListener("keydown", (ev) => {
    if (!["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"].includes(ev.key)) return;
    const items = [...list.querySelectorAll(".thumb")];
    const i = items.indexOf(ev.target.closest(".thumb"));
    if (i < 0) return;
    ev.preventDefault();
    const step = ev.key === "ArrowLeft" || ev.key === "ArrowUp" ? -1 : 1;
    items[(i + step + items.length) % items.length].focus();
  });

  const onRange = (id, out, fmt) => {
    $(id).addEventListener("input", (e) => ($(out).textContent = fmt(Number(e.target.value))));
  };
  onRange("noise", "noise-out", (v) => `${v}%`);
  onRange("ratio", "ratio-out", (v) => `${v}%`);
  $("noise").addEventListener("change", (e) => pick(current().name, { noise: Number(e.target.value) / 100 }));
  $("ratio").addEventListener("change", (e) => pick(current().name, { train_fraction: Number(e.target.value) / 100 }));
  $("samples").addEventListener("change", (e) => pick(current().name, { samples: Number(e.target.value) }));
  $("classes").addEventListener("change", (e) => pick(current().name, { classes: Number(e.target.value) }));
  $("regenerate").addEventListener("click", () => pick(current().name, { seed: (current().seed + 1) % 2 ** 32 }));

  function reflect(s) {
    const ds = s.session.config.dataset;
    const custom = ds.name === "custom";
    list.querySelectorAll(".thumb").forEach((b) => b.setAttribute("aria-checked", String(b.dataset.name === ds.name)));
    list.querySelectorAll(".thumb").forEach((b) => (b.tabIndex = b.dataset.name === ds.name ? 0 : -1));
    const set = (id, v) => {
      if (root.activeElement !== $(id)) $(id).value = String(v);
    };
    set("noise", Math.round(ds.noise * 100));
    $("noise-out").textContent = `${Math.round(ds.noise * 100)}%`;
    set("ratio", Math.round(ds.train_fraction * 100));
    $("ratio-out").textContent = `${Math.round(ds.train_fraction * 100)}%`;
    const samples = $("samples");
    if (![...samples.options].some((o) => Number(o.value) === ds.samples))
      samples.add(new Option(String(ds.samples), ds.samples));
    set("samples", ds.samples);
    set("classes", ds.classes);
    $("classes-row").hidden = ds.name !== "blobs";
    for (const id of ["noise", "ratio", "samples", "regenerate"]) $(id).disabled = custom;
    $("data-seed").textContent = custom
      ? t("ctl.custom_data", { n: s.session.n_train, m: s.session.n_test })
      : t("ctl.data_seed", { seed: ds.seed });
  }

  store.subscribe((s, changed) => {
    if ((changed.has("datasets") || changed.has("lang")) && s.datasets.length) {
      if (changed.has("lang")) built = "";
      buildThumbs(s.datasets);
      if (s.session) reflect(s);
    }
    if ((changed.has("session") || changed.has("lang")) && s.session) reflect(s);
  });
}

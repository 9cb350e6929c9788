// The training half of the settings panel: learning rate (TensorFlow Playground's choices, or any value
// typed in), batch size, optimizer (and momentum μ), regularization and its rate, initialization (and
// its scale), seed, and the speed (steps per frame). Hyperparameters change without a reset; a new
// initialization or seed means new weights, so those re-initialize (the seed through the server itself).

import { t } from "../i18n/index.js";
import { PACES } from "./config-actions.js";

const RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const REG_RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];

const numOptions = (values, current) => {
  const list = values.includes(current) ? values : [...values, current].sort((a, b) => a - b);
  return list.map((v) => `<option value="${v}"${v === current ? " selected" : ""}>${v}</option>`).join("");
};

/**
 * Mount the training controls.
 * @param {{store: object, actions: object, root: Document}} deps
 */
export function mountTrainPanel({ store, actions, root }) {
  const $ = (id) => root.getElementById(id);

  /** A number typed into an input, checked against [lo, hi]; an out-of-range value is refused here. */
  function number(id, lo, hi, integer = false) {
    const el = $(id);
    const v = Number(el.value);
    const ok = el.value.trim() !== "" && Number.isFinite(v) && v >= lo && v <= hi && (!integer || Number.isInteger(v));
    el.setAttribute("aria-invalid", String(!ok));
    if (!ok) store.set({ controlError: { field: id.replace(/-/g, "_"), message: t("ctl.range", { lo, hi }) } });
    return ok ? v : null;
  }
  const send = (patch) => actions.configure(patch);

  $("lr-select").addEventListener("change", (e) => send({ learning_rate: Number(e.target.value) }));
  $("learning-rate").addEventListener("change", () => {
    const v = number("learning-rate", 1e-12, 100);
    if (v !== null) send({ learning_rate: v });
  });
  $("batch-size").addEventListener("change", () => {
    const v = number("batch-size", 1, 100000, true);
    if (v !== null) send({ batch_size: v });
  });
  $("optimizer").addEventListener("change", (e) => send({ optimizer: e.target.value }));
  $("momentum").addEventListener("change", () => {
    const v = number("momentum", 0, 0.999);
    if (v !== null) send({ momentum: v });
  });
  $("regularization").addEventListener("change", (e) => send({ regularization: e.target.value }));
  $("reg-rate").addEventListener("change", (e) => send({ reg_rate: Number(e.target.value) }));
  $("init").addEventListener("change", (e) => {
    send({ init: e.target.value });
    actions.reset();
  });
  $("init-scale").addEventListener("change", () => {
    const v = number("init-scale", 0, 100);
    if (v === null) return;
    send({ init_scale: v });
    actions.reset();
  });
  $("seed").addEventListener("change", () => {
    const v = number("seed", 0, 2 ** 32 - 1, true);
    if (v !== null) send({ seed: v });
  });
  $("seed-dice").addEventListener("click", () => send({ seed: Math.floor(Math.random() * 100000) }));
  $("pace").addEventListener("change", (e) => actions.setPace(e.target.value));

  function reflect(s) {
    const c = s.session.config;
    const set = (id, v) => {
      const el = $(id);
      if (root.activeElement !== el) {
        el.value = String(v);
        el.removeAttribute("aria-invalid");
      }
    };
    $("lr-select").innerHTML = numOptions(RATES, c.learning_rate);
    set("learning-rate", c.learning_rate);
    set("batch-size", c.batch_size);
    $("batch-size").max = String(s.session.n_train);
    set("optimizer", c.optimizer);
    set("momentum", c.momentum);
    $("momentum-row").hidden = c.optimizer !== "momentum";
    set("regularization", c.regularization);
    $("reg-rate").innerHTML = numOptions(REG_RATES, c.reg_rate);
    $("reg-rate").disabled = c.regularization === "none";
    set("init", c.init);
    set("init-scale", c.init_scale);
    $("scale-row").hidden = c.init !== "uniform" && c.init !== "constant";
    set("seed", c.seed);
  }

  function paces(s) {
    $("pace").innerHTML = PACES.map(
      (p) => `<option value="${p.key}"${p.key === s.pace ? " selected" : ""}>${t(`pace.${p.key}`)}</option>`,
    ).join("");
  }

  store.subscribe((s, changed) => {
    if (s.session && ["session", "lang", "controlError"].some((k) => changed.has(k))) reflect(s);
    if (changed.has("pace") || changed.has("lang")) paces(s);
  });
  paces(store.get());
}

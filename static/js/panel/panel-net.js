// The network half of the settings panel: input features (only the valid ones for 1-D data), hidden
// layers and units with + and − (within the server's limits, shown), the hidden activation (one for all
// layers, or one per layer), the output activation and the loss. Every change goes to the live session;
// a refused output/loss pair comes back as the server's error, shown beside the controls.

import { ONE_INPUT } from "../core/forward.js";
import { t } from "../i18n/index.js";
import { featureLabel } from "../scenes/stage.js";

/** The server's default limits (BPP_MAX_HIDDEN_LAYERS, BPP_MAX_UNITS). */
export const LIMITS = Object.freeze({ layers: 8, units: 64 });
const ALL = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"];
const ACTS = ["tanh", "sigmoid", "relu", "leaky_relu", "linear"];

const options = (values, current, label = (v) => v) =>
  values.map((v) => `<option value="${v}"${v === current ? " selected" : ""}>${label(v)}</option>`).join("");

/**
 * Mount the network controls.
 * @param {{store: object, actions: object, root: Document}} deps
 */
export function mountNetPanel({ store, actions, root }) {
  const $ = (id) => root.getElementById(id);
  const cfg = () => store.get().session.config;
  const acts = (c) => (Array.isArray(c.activation) ? c.activation.slice() : c.hidden.map(() => c.activation));

  /** A new list of hidden layers, with the activation list kept in step when it is per layer. */
  function setHidden(hidden) {
    const c = cfg();
    let activation = c.activation;
    if (Array.isArray(activation)) {
      const old = acts(c);
      activation = hidden.map((_, i) => old[Math.min(i, old.length - 1)] || "tanh");
      if (new Set(activation).size <= 1) activation = activation[0] || "tanh";
    }
    actions.configure({ hidden, activation });
  }

  $("features").addEventListener("click", (ev) => {
    const b = ev.target.closest("[data-f]");
    if (!b || b.disabled) return;
    const cur = cfg().features || [];
    const on = cur.includes(b.dataset.f);
    if (on && cur.length === 1) {
      $("features-hint").textContent = t("ctl.one_feature");
      return;
    }
    const next = ALL.filter((f) => (f === b.dataset.f ? !on : cur.includes(f)));
    actions.configure({ features: next });
  });
  $("layer-minus").addEventListener("click", () => setHidden(cfg().hidden.slice(0, -1)));
  $("layer-plus").addEventListener("click", () => {
    const h = cfg().hidden;
    if (h.length < LIMITS.layers) setHidden([...h, h.length ? h[h.length - 1] : 4]);
  });
  $("layers").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-l]");
    if (!b) return;
    const h = cfg().hidden.slice();
    const i = Number(b.dataset.l);
    h[i] = Math.max(1, Math.min(LIMITS.units, h[i] + (b.dataset.act === "plus" ? 1 : -1)));
    setHidden(h);
  });
  $("layers").addEventListener("change", (ev) => {
    const sel = ev.target.closest("select[data-l]");
    if (!sel) return;
    const list = acts(cfg());
    list[Number(sel.dataset.l)] = sel.value;
    actions.configure({ activation: new Set(list).size === 1 ? list[0] : list });
  });
  $("activation").addEventListener(
    "change",
    (e) => e.target.value !== "mixed" && actions.configure({ activation: e.target.value }),
  );
  $("output-act").addEventListener("change", (e) => actions.configure({ output_activation: e.target.value }));
  $("loss").addEventListener("change", (e) => actions.configure({ loss: e.target.value }));

  function reflect(s) {
    const active = root.activeElement;
    const focusKey = active?.closest?.("#controls")
      ? active.dataset.f || `${active.dataset.l}-${active.dataset.act}`
      : null;
    render(s);
    if (focusKey) {
      const [l, act] = focusKey.split("-");
      const again =
        $("features").querySelector(`[data-f="${focusKey}"]`) ||
        $("layers").querySelector(`[data-l="${l}"][data-act="${act}"]`);
      if (again && !again.disabled) again.focus();
    }
  }

  function render(s) {
    const c = s.session.config;
    const inputs = s.data ? s.data.inputs : 2;
    const feats = c.features || [];
    $("features").innerHTML = ALL.map((f) => {
      const ok = inputs <= 2 && (inputs === 2 || ONE_INPUT.includes(f));
      return `<button type="button" class="chip feat" data-f="${f}" aria-pressed="${feats.includes(f)}"${ok ? "" : " disabled"}>${featureLabel(f)}</button>`;
    }).join("");
    $("features-hint").textContent =
      inputs > 2 ? t("ctl.raw_inputs", { n: inputs }) : inputs === 1 ? t("ctl.one_input") : "";
    const h = c.hidden;
    const list = acts(c);
    $("layer-count").textContent = String(h.length);
    $("layer-minus").disabled = h.length === 0;
    $("layer-plus").disabled = h.length >= LIMITS.layers;
    $("limits").textContent = t("ctl.limits", { layers: LIMITS.layers, units: LIMITS.units });
    $("layers").innerHTML = h
      .map(
        (n, i) => `<div class="layer-row"><span>${t("ctl.hidden_n", { n: i + 1 })}</span>
        <button type="button" data-l="${i}" data-act="minus" aria-label="${t("ctl.fewer_units", { n: i + 1 })}"${n <= 1 ? " disabled" : ""}>−</button>
        <b data-units="${i}">${n}</b>
        <button type="button" data-l="${i}" data-act="plus" aria-label="${t("ctl.more_units", { n: i + 1 })}"${n >= LIMITS.units ? " disabled" : ""}>+</button>
        <select data-l="${i}" aria-label="${t("ctl.layer_act", { n: i + 1 })}">${options(ACTS, list[i])}</select></div>`,
      )
      .join("");
    const mixed = new Set(list).size > 1;
    $("activation").innerHTML =
      options(ACTS, mixed ? "mixed" : list[0] || (typeof c.activation === "string" ? c.activation : "tanh")) +
      (mixed ? `<option value="mixed" selected>${t("ctl.per_layer")}</option>` : "");
    $("activation").disabled = h.length === 0;
    $("output-act").innerHTML = options(["linear", "sigmoid", "tanh", "softmax"], c.output_activation);
    $("loss").innerHTML = options(["mse", "cross_entropy"], c.loss, (v) => t(`loss.${v}`));
  }

  store.subscribe((s, changed) => {
    if (s.session && ["session", "lang", "data", "controlError"].some((k) => changed.has(k))) reflect(s);
  });
}

// The header bar, the step-mode toolbar and the banner: every button and input calls an action, and
// the controls reflect the store (play/pause label, readouts, connection, the diverged banner).
// Keyboard: Space play/pause, → next phase or step, ← previous phase, R reset (not while typing).

import { fmt, fmtCount } from "../core/format.js";
import { t } from "../i18n/index.js";
import { applySize } from "./textsize.js";

const SPEEDS = [0.25, 0.5, 1, 2, 4];
const CONFIRM_MS = 4000;

/**
 * Bind the page's controls to actions and keep them in step with the store.
 * @param {{store: object, actions: object, root: Document}} deps
 */
export function mountControls({ store, actions, root }) {
  const $ = (id) => root.getElementById(id);
  const on = (id, type, fn) => $(id).addEventListener(type, fn);

  on("play", "click", () => actions.toggle());
  on("step", "click", () => actions.step());
  on("header-step", "click", () => actions.step());
  on("reset", "click", () => actions.reset());
  on("banner-reset", "click", () => actions.reset());
  on("notice-close", "click", () => store.set({ notice: null }));
  on("prev", "click", () => actions.prev());
  on("next", "click", () => actions.nextPhase());
  on("replay", "click", () => actions.replay());
  on("random-sample", "click", () => actions.randomSample());
  on("sample", "change", (e) => actions.setSample(Number(e.target.value)));
  on("row", "change", (e) => actions.setRow(Number(e.target.value)));
  on("speed", "input", (e) => {
    const speed = SPEEDS[Number(e.target.value)];
    e.target.setAttribute("aria-valuetext", `${speed}×`);
    $("speed-out").textContent = `${speed}×`;
    actions.setSpeed(speed);
  });
  on("autoplay", "change", (e) => actions.setAutoplay(e.target.checked));
  on("size", "change", (e) => actions.setSize(e.target.value));
  on("show-live", "click", () => actions.showLive());
  root
    .querySelectorAll("input[name=view]")
    .forEach((r) => r.addEventListener("change", () => actions.setView(r.value)));
  root
    .querySelectorAll("input[name=unit]")
    .forEach((r) => r.addEventListener("change", () => actions.setUnit(r.value)));
  root
    .querySelectorAll("input[name=source]")
    .forEach((r) => r.addEventListener("change", () => actions.setSource(r.value)));

  // "R" on a run that has trained asks first: a second R within a few seconds resets (a stray key must not
  // throw away a long run; the Reset button, pressed on purpose, resets at once).
  let armed = -Infinity;
  const resetKey = () => {
    const { step } = store.get();
    if (step > 0 && performance.now() - armed > CONFIRM_MS) {
      armed = performance.now();
      store.set({ notice: t("bar.reset_confirm", { step: fmtCount(step) }) });
      return;
    }
    armed = -Infinity;
    if (step > 0) store.set({ notice: null });
    actions.reset();
  };
  root.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    const native = nativeKeys(e.target);
    if (native === "all" || native.includes(e.key)) return;
    const act = { " ": actions.toggle, ArrowRight: actions.next, ArrowLeft: actions.prev, r: resetKey, R: resetKey };
    if (act[e.key]) {
      e.preventDefault();
      act[e.key]();
    }
  });

  const text = (id, value) => setText($(id), value);

  const paint = (s, changed) => {
    const has = (...keys) => keys.some((k) => changed.has(k));
    if (has("status", "lang")) {
      const playing = s.status === "playing";
      $("play").textContent = playing ? t("bar.pause") : t("bar.play");
      $("play").setAttribute("aria-pressed", String(playing));
      $("play").disabled = s.status === "diverged";
      root.body.dataset.status = s.status;
    }
    if (has("step", "epoch", "metrics")) paintReadout(s, $);
    if (has("status", "divergence", "lang")) {
      const div = s.status === "diverged";
      $("banner").hidden = !div;
      if (div) {
        const d = s.divergence;
        const why = d ? t("bar.diverged_at", { step: fmtCount(d.step), reason: d.reason }) : t("bar.diverged_nan");
        text("banner-text", why);
      }
    }
    if (has("notice")) {
      $("notice").hidden = !s.notice;
      text("notice-text", s.notice || "");
    }
    if (has("connection", "lang")) {
      text("conn-text", t(`conn.${s.connection}`));
      $("conn").dataset.state = s.connection;
    }
    if (has("size")) showSize(s.size, $);
    if (has("session", "lang") && s.session) {
      $("sample").max = String(s.session.n_train - 1);
      text("sample-max", t("stage.of_n", { n: fmtCount(s.session.n_train) }));
    }
    if (has("sample") && Number($("sample").value) !== s.sample) $("sample").value = String(s.sample);
    if (has("unit")) {
      $("sample-wrap").hidden = s.unit === "batch";
      $("random-sample").hidden = s.unit === "batch";
    }
    if (has("trace", "row", "lang")) {
      const m = s.trace ? s.trace.m : 1;
      $("row-wrap").hidden = m <= 1;
      const sel = $("row");
      if (m > 1 && (sel.options.length !== m + 1 || has("lang"))) {
        const rows = s.trace.indices.map((idx, i) => `<option value="${i}">${i} · #${idx}</option>`);
        sel.innerHTML = `<option value="-1">${t("stage.batch_mean")}</option>${rows.join("")}`;
      }
      sel.value = String(s.row);
    }
    if (has("trace", "phase", "mode")) paintPhaseButtons(s, $);
    if (has("view")) root.querySelectorAll("input[name=view]").forEach((r) => (r.checked = r.value === s.view));
  };
  store.subscribe(paint);
  // Everything once now, in the current language (a reload in 简体中文 must not leave "▶ Play").
  paint(store.get(), new Set(Object.keys(store.get())));
}

/**
 * The keys a focused element needs for itself: everything in a text field, Space on a button or a
 * checkbox, the arrows on a radio group or a slider.
 * @param {EventTarget} t
 * @returns {"all" | string[]}
 */
function nativeKeys(t) {
  if (!(t instanceof Element)) return [];
  if (t.closest("textarea, select, [contenteditable=true]")) return "all";
  if (t instanceof HTMLInputElement) {
    if (t.type === "radio" || t.type === "range") return ["ArrowLeft", "ArrowRight"];
    if (t.type === "checkbox") return [" "];
    return "all";
  }
  if (t.closest("button, [role=button]")) return [" ", "Enter"];
  return [];
}

/**
 * Set an element's text, only when it differs (no needless layout).
 * @param {HTMLElement} el
 * @param {string} value
 */
export function setText(el, value) {
  if (el.textContent !== value) el.textContent = value;
}

/**
 * The header's readout — step, epoch, train and test loss — for the store's state (main and room page).
 * @param {{step: number, epoch: number, metrics: {train_loss?: number, test_loss?: number} | null}} s
 * @param {(id: string) => HTMLElement} $
 */
export function paintReadout(s, $) {
  setText($("r-step"), fmtCount(s.step));
  setText($("r-epoch"), fmtCount(s.epoch));
  setText($("r-train"), fmt(s.metrics?.train_loss));
  setText($("r-test"), fmt(s.metrics?.test_loss));
}

/**
 * Enable the previous / next / replay / live buttons of step mode for the store's state (main and room page).
 * @param {{mode: string, trace: {phases: unknown[]} | null, phase: number}} s
 * @param {(id: string) => HTMLElement} $
 */
export function paintPhaseButtons(s, $) {
  const stepping = s.mode === "step" && Boolean(s.trace);
  $("prev").disabled = !stepping || s.phase <= 0;
  $("next").disabled = !stepping || s.phase >= s.trace.phases.length - 1;
  $("replay").disabled = !stepping;
  $("show-live").hidden = !stepping;
}

/**
 * Show the page at a size (normal, large text, projector) and the size select saying so (main and room page).
 * @param {string} size
 * @param {(id: string) => HTMLElement} $
 */
export function showSize(size, $) {
  applySize(size);
  $("size").value = size;
}

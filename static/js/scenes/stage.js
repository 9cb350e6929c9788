// The centre of the page and the inspector: paints the network from the store (frames while playing, the
// trace's timeline in step mode), the phase strip, the caption, the legend and the inspector panel. Step
// mode's painters (step-scene.js, captions.js and its MathML) load with the first trace: a page that has
// just opened shows frames, and stays light.

import { fmt } from "../core/format.js";
import { frameFits, hasBatch } from "../core/frame.js";
import { activationOf, phaseName } from "../core/trace.js";
import { getLang, t } from "../i18n/index.js";
import { fromFrame, fromTrace } from "../inspector/inspector-data.js";
import { paintLive } from "./live-scene.js";

const SUB = "₀₁₂₃₄₅₆₇₈₉";
const SHORT = { forward: "a", cost: "ℓ", backward: "δ", gradient: "D", update: "Θ" };
const INSPECT_EVERY_MS = 300;

/** "x1^2" → "x₁²", "x1*x2" → "x₁x₂", "sin(x1)" → "sin x₁". */
export function featureLabel(name) {
  return name
    .replace(/x(\d+)/g, (_, d) => `x${d.replace(/\d/g, (c) => SUB[c])}`)
    .replace("^2", "²")
    .replace("*", "")
    .replace(/sin\((.+)\)/, "sin $1");
}

const swatch = (cls, label) => `<span class="key"><i class="sw ${cls}"></i>${label}</span>`;

/**
 * Mount the stage; returns renderStep(index, p), which the timeline calls on every animation frame.
 * @param {{store: object, view: import("../net/network-view.js").NetworkView,
 *          inspector: import("../inspector/inspector-lazy.js").LazyInspector, timeline: import("./timeline.js").Timeline,
 *          els: {svg: SVGSVGElement, box: HTMLElement, caption: HTMLElement, legend: HTMLElement,
 *                phases: HTMLElement}, actions: object}} deps
 */
export function mountStage({ store, view, inspector, timeline, els, actions }) {
  let lastInspect = 0;
  let inspectTimer = 0;
  /** @type {{paintStep: Function, caption: Function} | null} */
  let stepMods = null;
  let stepLoading = null;

  /** Load step mode's painters once, then draw the step shown (a failed load is tried again next time). */
  function loadStep() {
    if (stepLoading) return;
    stepLoading = Promise.all([import("./step-scene.js"), import("./captions.js")]).then(
      ([scene, captions]) => {
        stepMods = { paintStep: scene.paintStep, caption: captions.caption };
        const s = store.get();
        renderPhases(s);
        renderStep(timeline.index, timeline.p);
      },
      () => {
        stepLoading = null;
      },
    );
  }

  function setShape(s) {
    const cfg = s.session.config;
    const L = s.sizes.length;
    const titles = s.sizes.map((_, i) => {
      const l = i + 1;
      if (l === 1) return t("net.input");
      const what = l === L ? t("net.output") : t("net.hidden", { n: l - 1 });
      return `${what}\n${activationOf(cfg, l, L)}`;
    });
    const raw = Array.from({ length: s.sizes[0] }, (_, i) => `x${i + 1}`); // >2 inputs: the raw columns
    const inputs = (cfg.features?.length ? cfg.features : raw).map(featureLabel);
    view.setShape(s.sizes, { inputs, titles });
    // The one- and two-column layouts give the network a height for its tallest column (screens.css).
    els.box.style.setProperty("--rows", String(Math.max(...s.sizes) + 1));
  }

  function renderStep(index, p) {
    const s = store.get();
    if (s.mode !== "step" || !s.trace || index < 0) return;
    if (!stepMods) return loadStep();
    const info = stepMods.paintStep(view, s.trace, index, p, { row: s.row, config: s.session.config });
    legendStep(s.trace.phases[index], info);
  }

  function legendStep(ph, info) {
    let html = swatch("pos", "Θ &gt; 0") + swatch("neg", "Θ &lt; 0") + swatch("bias", t("leg.bias_unit"));
    if (ph.phase === "backward" && info.shareScale !== null) {
      html = swatch("err", t("leg.share", { max: fmt(info.shareScale) })) + html;
    } else if (ph.phase === "gradient" || ph.phase === "backward") {
      html = swatch("err", t("leg.err_grad")) + html;
    }
    els.legend.innerHTML = `${html}<span class="key note-key">${t("leg.step_note")}</span>`;
  }

  function renderLive(s) {
    if (!s.frame || !frameFits(s.frame, s.sizes)) return;
    const info = paintLive(view, s.frame, { view: s.view, source: s.source, sizes: s.sizes });
    const max = fmt(info.scale);
    const what = {
      weights: swatch("pos", "Θ &gt; 0") + swatch("neg", "Θ &lt; 0") + t("leg.w_width", { max }),
      activations: swatch("pos", "a &gt; 0") + swatch("neg", "a &lt; 0") + t("leg.a_fill"),
      error: swatch("err", t("leg.err_units")) + t("leg.err_width", { max }),
      gradients: swatch("err", t("leg.grad")) + t("leg.d_width", { max }),
      updates: swatch("pos", "ΔΘ &gt; 0") + swatch("neg", "ΔΘ &lt; 0") + t("leg.u_width", { max }),
    }[info.view];
    const src =
      s.source === "batch" && hasBatch(s.frame)
        ? t("leg.src_batch")
        : t("leg.src_sample", { n: s.frame.header.probe?.sample ?? 0 });
    const miss = info.missing ? t("leg.no_step") : "";
    const maps = s.maps && s.data && s.data.inputs <= 2 ? t("leg.maps") : "";
    els.legend.innerHTML = `${what}${swatch("bias", t("leg.bias"))}<span class="key note-key">${t("leg.units_from", { src })}${miss}${maps}</span>`;
    els.svg.dataset.phase = "live";
  }

  function renderPhases(s) {
    if (s.mode !== "step" || !s.trace) {
      els.phases.innerHTML = "";
      els.caption.innerHTML = s.status === "playing" ? t("cap.playing") : t("cap.idle");
      return;
    }
    const phases = s.trace.phases;
    const traceKey = String(s.trace.step) + s.trace.kind + phases.length + getLang();
    if (els.phases.dataset.trace !== traceKey) {
      els.phases.dataset.trace = traceKey;
      els.phases.innerHTML = phases
        .map((ph, i) => {
          const lbl = ph.layer ? `${SHORT[ph.phase]}<sup>(${ph.layer})</sup>` : SHORT[ph.phase];
          const first = i === 0 || phases[i - 1].phase !== ph.phase ? " first" : "";
          const name = t(`phase.${ph.phase}`) + (ph.layer ? ` · ${t("phase.layer", { l: ph.layer })}` : "");
          return `<li class="${ph.phase}${first}"><button type="button" data-goto="${i}" data-phase="${phaseName(ph)}" aria-label="${name}">${lbl}</button></li>`;
        })
        .join("");
    }
    els.phases.querySelectorAll("button").forEach((b, i) => {
      b.classList.toggle("done", i < s.phase);
      b.classList.toggle("current", i === s.phase);
      if (i === s.phase) b.setAttribute("aria-current", "step");
      else b.removeAttribute("aria-current");
    });
    if (!stepMods) return loadStep();
    const c = stepMods.caption(s.trace, s.phase, { row: s.row, config: s.session.config });
    els.caption.innerHTML = `<strong>${c.title}</strong> — ${c.html}`;
    els.svg.dataset.phase = phaseName(phases[s.phase]);
  }

  function inspectorData(s) {
    if (s.mode === "step" && s.trace) return fromTrace(s.trace, s.row, s.phase);
    return s.frame ? fromFrame(s.frame, s.session.config) : null;
  }

  function renderInspector(s) {
    lastInspect = performance.now();
    performance.mark("bpp-inspector-start");
    const weights = actions.weightsNow();
    inspector.render(s.selection, inspectorData(s), {
      config: s.session ? s.session.config : {},
      sizes: s.sizes,
      weightNow: (l, k, j) => (weights[l - 1] ? weights[l - 1][k][j] : NaN),
    });
    performance.measure("bpp-inspector", "bpp-inspector-start");
  }

  els.phases.addEventListener("click", (ev) => {
    const b = ev.target.closest("[data-goto]");
    if (b) actions.gotoPhase(Number(b.dataset.goto));
  });

  function repaint(s) {
    if (s.mode === "step" && s.trace) renderStep(timeline.index, timeline.p);
    else renderLive(s);
  }

  new ResizeObserver(() => {
    const r = els.box.getBoundingClientRect();
    view.resize(r.width, r.height);
    repaint(store.get());
  }).observe(els.box);

  store.subscribe((s, changed) => {
    const has = (...keys) => keys.some((k) => changed.has(k));
    if (has("sizes", "session", "lang") && s.session) setShape(s);
    if (has("size")) {
      view.place();
      repaint(s);
    }
    if (s.mode === "live" && has("frame", "view", "source", "mode", "sizes", "lang", "maps")) renderLive(s);
    if (s.mode === "step" && has("row", "mode", "sizes", "lang")) renderStep(timeline.index, timeline.p);
    if (has("trace", "phase", "row", "mode", "status", "lang")) renderPhases(s);
    if (has("selection", "sizes")) view.select(s.selection);
    if (has("selection", "trace", "row", "mode", "session", "lang", "phase")) renderInspector(s);
    else if (has("frame") && s.selection && s.mode === "live") {
      clearTimeout(inspectTimer);
      const wait = INSPECT_EVERY_MS - (performance.now() - lastInspect);
      inspectTimer = setTimeout(() => renderInspector(store.get()), Math.max(0, wait));
    }
  });
  return { renderStep };
}

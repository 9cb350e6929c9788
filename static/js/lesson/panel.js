// The derivation lesson's panel (/?lesson=derivation): the nine steps of steps.js beside the network drawing,
// the parts each step talks about lit in the drawing, the sample's numbers from the engine (a probe trace
// of the lesson's sample, asked again whenever the weights, the sample or the settings change), predict-
// then-reveal with "show me", and the room: the teacher's step and sample go to every student's room page,
// and each student's right or wrong prediction to the class view's count. Loaded only when opened.

import { fmt } from "../core/format.js";
import { useSheet } from "../core/style.js";
import { traceModel } from "../core/trace.js";
import { extend, onLangChange, t } from "../i18n/index.js";
import { table } from "../i18n/lesson.js";
import { fromTrace } from "./derive.js";
import { drawLit, headerHtml } from "./panel-view.js";
import { judge, slipsFor } from "./predict.js";
import { predictionTarget, QUIZ, renderStep, STEPS } from "./steps.js";

extend(table);
useSheet("explain"); // the equations' and the numerical check's styles, shared with the inspector
useSheet("lesson");

/**
 * @typedef {object} LessonHooks how the panel talks to the page it sits in
 * @property {(msg: object) => void} send a live-channel message (the page's socket)
 * @property {EventTarget} socket the page's LiveSocket (trace, state, status events)
 * @property {(i: number) => void} [setSample] the page's own sample follows the lesson's (main page)
 * @property {(l: number, k: number, i: number, value: number) => void} [setWeight] null: read-only (room)
 * @property {() => void} [newWeights] re-initialize (main page)
 * @property {() => void} [close] leave the lesson
 * @property {() => void} [symmetryScenario] open the symmetry experiment
 * @property {(state: {step: number, sample: number}) => void} [onMove] the teacher's step or sample changed
 * @property {(id: string, right: boolean, sample: number) => void} [onAnswer] a first verdict on a prediction
 */

/**
 * Mount the lesson panel into `host` (before its first child) and light the drawing of `view`.
 * @param {{store: object, view: import("../net/network-view.js").NetworkView, host: HTMLElement, hooks: LessonHooks,
 *          follow?: boolean}} deps follow: the steps and sample are the teacher's (room page)
 * @returns {{show: (state: {step?: number, sample?: number}) => void, destroy: () => void, state: () => object}}
 */
export function mountLesson({ store, view, host, hooks, follow = false }) {
  const panel = document.createElement("section");
  panel.id = "lesson-panel";
  panel.className = "lesson-panel";
  panel.setAttribute("aria-labelledby", "lesson-title");
  host.prepend(panel);
  document.body.classList.add("lesson-open");

  const st = {
    step: 1,
    sample: store.get().sample || 0,
    revealed: new Set(),
    answered: new Set(), // predictions already counted for this sample (the first verdict counts)
    verdicts: {},
    unit: { l: 2, k: 2 },
    grow: { hidden: 2, width: 3 },
    answers: {},
    s: null,
    following: follow,
    teacher: null,
  };
  let overlay = null;

  // -- the engine's numbers: a probe trace of the lesson's sample -------------------------------------------
  let seen = "";
  function ask() {
    hooks.send({ type: "trace", sample: st.sample });
  }
  const onTrace = (e) => {
    const d = e.detail;
    const session = store.get().session;
    if (!session) return;
    if (d.kind !== "probe") return ask(); // a step changed the weights: the lesson's sample again
    if (d.indices.length !== 1 || d.indices[0] !== st.sample || !d.weights) return;
    const key = JSON.stringify([d.weights, d.phases, session.config]);
    if (key === seen) return; // the same numbers again (a state change that left them): nothing moves
    seen = key;
    st.s = fromTrace(traceModel(d, d.weights), session.config);
    render();
  };
  const onState = () => ask();
  const onStatus = (e) => e.detail.status === "paused" && ask();
  hooks.socket.addEventListener("trace", onTrace);
  hooks.socket.addEventListener("state", onState);
  hooks.socket.addEventListener("status", onStatus);
  const onHello = () => ask();
  hooks.socket.addEventListener("hello", onHello);

  // -- rendering -----------------------------------------------------------------------------------------
  function render() {
    const active = document.activeElement;
    const typing =
      panel.contains(active) && active.name === "value"
        ? { form: active.form.dataset.predict, value: active.value }
        : null;
    let body = "";
    let lit = { units: [], links: [] };
    if (st.s) {
      const session = store.get().session;
      const out = renderStep(st.step, {
        s: st.s,
        metrics: store.get().metrics,
        nTrain: session ? session.n_train : 0,
        config: session ? session.config : {},
        revealed: st.revealed,
        unit: st.unit,
        grow: st.grow,
        answers: st.answers,
      });
      body = out.html;
      lit = out.lit;
      const sizes = st.s.sizes.join("–");
      if (sizes !== "3–3–2") body = `<p class="hint not-n">${t("lesson.not_n", { sizes })}</p>${body}`;
    }
    const nav = `<nav class="lesson-nav"><button type="button" data-act="prev" ${st.step === 1 ? "disabled" : ""}>${t("lesson.prev")}</button>
      <button type="button" class="primary" data-act="next" ${st.step === STEPS.length ? "disabled" : ""}>${t("lesson.next")}</button></nav>`;
    const edit = follow ? "" : `<p class="hint">${t("lesson.edit_hint")}</p>`;
    panel.innerHTML = `${headerHtml(st, follow, Boolean(hooks.close))}<div class="step-body" data-step-id="${STEPS[st.step - 1].id}">${body}</div>${edit}${nav}`;
    panel.dataset.step = String(st.step);
    for (const [id, v] of Object.entries(st.verdicts)) {
      const p = panel.querySelector(`form[data-predict="${id}"] .verdict`);
      if (p) [p.innerHTML, p.className] = [v.html, `verdict ${v.cls}`];
    }
    if (typing) {
      const input = panel.querySelector(`form[data-predict="${typing.form}"] input[name=value]`);
      if (input) {
        input.value = typing.value;
        input.focus();
      }
    }
    light(lit);
  }

  function light(lit) {
    st.lit = lit;
    overlay = drawLit(view, overlay, lit);
  }
  const onPlaced = () => st.lit && light(st.lit);
  view.svg.addEventListener("placed", onPlaced);

  // -- the learner's actions ----------------------------------------------------------------------------------
  function go(step, fromTeacher = false) {
    st.step = Math.max(1, Math.min(STEPS.length, step));
    if (!fromTeacher && follow) st.following = st.teacher ? st.step === st.teacher.step : false;
    render();
    if (!fromTeacher && hooks.onMove) hooks.onMove({ step: st.step, sample: st.sample });
    panel.querySelector(".step-title").scrollIntoView?.({ block: "nearest" });
  }

  function setSample(i, fromTeacher = false) {
    if (i === st.sample && st.s) return;
    st.sample = i;
    st.revealed = new Set();
    st.answered = new Set();
    st.verdicts = {};
    st.s = null;
    seen = "";
    if (hooks.setSample) hooks.setSample(i);
    render();
    ask();
    if (!fromTeacher && hooks.onMove) hooks.onMove({ step: st.step, sample: st.sample });
  }

  function verdict(id, html, cls) {
    st.verdicts[id] = { html, cls };
    const p = panel.querySelector(`form[data-predict="${id}"] .verdict`);
    if (p) [p.innerHTML, p.className] = [html, `verdict ${cls}`];
  }

  function check(form) {
    const id = form.dataset.predict;
    if (!st.s) return;
    const session = store.get().session;
    const target = predictionTarget(id, st.s, session.config.learning_rate);
    const v = judge(form.elements.value.value, target.value, slipsFor(id, target.d));
    if (v.result === "unreadable") return verdict(id, t("lesson.unreadable"), "unreadable");
    count(id, v.result === "right");
    if (v.result === "right") {
      st.revealed.add(id);
      st.verdicts[id] = { html: `✓ ${t("lesson.right", { v: fmt(target.value) })}`, cls: "right" };
      return render();
    }
    const slip = v.slip ? `${t(`lesson.slip.${v.slip}`)} ` : "";
    st.revealed.add(id);
    st.verdicts[id] = {
      html: `✗ ${t("lesson.wrong", { typed: fmt(v.typed), v: fmt(target.value) })} ${slip}${t("lesson.where")}`,
      cls: "wrong",
    };
    render();
  }

  function count(id, right) {
    if (st.answered.has(id)) return;
    st.answered.add(id);
    if (hooks.onAnswer) hooks.onAnswer(id, right, st.sample);
  }

  panel.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const form = ev.target.closest("form[data-predict]");
    if (form) check(form);
  });
  panel.addEventListener("click", (ev) => {
    const b = ev.target.closest("button");
    if (!b || b.disabled) return;
    if (b.dataset.step) return go(Number(b.dataset.step));
    if (b.dataset.grow) {
      const key = b.dataset.grow;
      const [lo, hi] = key === "hidden" ? [1, 6] : [1, 8];
      st.grow[key] = Math.max(lo, Math.min(hi, st.grow[key] + Number(b.dataset.by)));
      return render();
    }
    if (b.dataset.choice) {
      const li = b.closest("[data-quiz]");
      const q = QUIZ.find((x) => x.id === li.dataset.quiz);
      if (st.answers[q.id] === undefined) count(`quiz.${q.id}`, b.dataset.choice === q.answer);
      st.answers[q.id] = b.dataset.choice;
      return render();
    }
    const act = b.dataset.act;
    if (act === "prev") go(st.step - 1);
    else if (act === "next") go(st.step + 1);
    else if (act === "show") {
      const id = b.closest("form").dataset.predict;
      const target = predictionTarget(id, st.s, store.get().session.config.learning_rate);
      count(id, false);
      st.revealed.add(id);
      st.verdicts[id] = { html: t("lesson.revealed", { v: fmt(target.value) }), cls: "shown" };
      render();
    } else if (act === "new-sample") {
      const n = store.get().session ? store.get().session.n_train : 1;
      let i = st.sample;
      while (n > 1 && i === st.sample) i = Math.floor(Math.random() * n);
      setSample(i);
    } else if (act === "new-weights" && hooks.newWeights) {
      st.revealed = new Set();
      st.answered = new Set();
      st.verdicts = {};
      hooks.newWeights();
    } else if (act === "apply-update" && hooks.setWeight && st.s) {
      const L = st.s.L;
      const l = Math.max(1, L - 2);
      const k = Math.min(2, st.s.sizes[l]);
      const i = Math.min(2, st.s.sizes[l - 1]);
      const u = predictionTarget("update", st.s, store.get().session.config.learning_rate);
      hooks.setWeight(l, k - 1, i, u.value);
    } else if (act === "symmetry-scenario" && hooks.symmetryScenario) hooks.symmetryScenario();
    else if (act === "close" && hooks.close) hooks.close();
    else if (act === "follow" && st.teacher) {
      st.following = true;
      go(st.teacher.step, true);
    }
  });
  // step 5: the unit clicked in the drawing
  const onSvgClick = (ev) => {
    const node = ev.target.closest("[data-unit]");
    if (!node || st.step !== 5 || node.hasAttribute("data-bias")) return;
    const l = Number(node.dataset.layer);
    if (l < 2) return;
    st.unit = { l, k: Number(node.dataset.unit) };
    render();
  };
  view.svg.addEventListener("click", onSvgClick);
  const offLang = onLangChange(() => render());
  const unsub = store.subscribe((s, changed) => {
    if (changed.has("metrics") && st.step === 2 && s.status !== "playing") render();
    // the page's own sample control (main page): the lesson follows it
    if (!follow && changed.has("sample") && s.sample !== st.sample) setSample(s.sample);
  });

  render();
  ask();

  return {
    /** The teacher's state arrived (room page), or the URL asked for a step. */
    show({ step, sample }) {
      if (follow) st.teacher = { step: step || 1, sample: sample || 0 };
      if (sample !== undefined && (!follow || st.following)) setSample(sample, true);
      if (step !== undefined && (!follow || st.following)) go(step, true);
      else render();
    },
    state: () => ({ step: st.step, sample: st.sample }),
    destroy() {
      hooks.socket.removeEventListener("trace", onTrace);
      hooks.socket.removeEventListener("state", onState);
      hooks.socket.removeEventListener("status", onStatus);
      hooks.socket.removeEventListener("hello", onHello);
      view.svg.removeEventListener("placed", onPlaced);
      view.svg.removeEventListener("click", onSvgClick);
      offLang();
      unsub();
      if (overlay) overlay.remove();
      panel.remove();
      document.body.classList.remove("lesson-open");
    },
  };
}

// The room page's composition root (docs/classroom.md): the teacher's run live and read-only, drawn by the same
// modules as the main page (the network view, the stage, the timeline, the inspector, the controller), a
// button that forks it into a session of one's own, and the join box for a missing or unknown code.
// The room's channel (/api/rooms/{code}/ws) needs no token and takes only `ack` and `trace`.

import "./i18n/page.js";
import { CODE_RE, normalizeCode } from "./classroom/join-code.js";
import { roomCall } from "./classroom/room-api.js";
import { createController } from "./core/controller.js";
import { fmtCount } from "./core/format.js";
import { LiveSocket } from "./core/socket.js";
import { createStore, initialState } from "./core/store.js";
import { ready } from "./i18n/index.js";
import { applyI18n, bindLangSelect, getLang, onLangChange, t, useRoomStrings } from "./i18n/room.js";
import { Inspector } from "./inspector/inspector.js";
import { followLesson } from "./lesson/entry.js";
import { NetworkView } from "./net/network-view.js";
import { onSwipe } from "./net/swipe.js";
import { mountOutput } from "./output/output.js";
import { plotData } from "./output/plot-data.js";
import { UnitMaps } from "./output/unit-maps.js";
import { paintPhaseButtons, paintReadout, setText, showSize } from "./page/controls.js";
import { mountFolds, reveal } from "./page/fold.js";
import { mountOffline } from "./page/offline.js";
import { mountTabs } from "./page/tabs.js";
import { savedSize } from "./page/textsize.js";
import { mountStage } from "./scenes/stage.js";
import { Timeline } from "./scenes/timeline.js";

const $ = (id) => document.getElementById(id);
const body = document.body;
const SPEEDS = [0.25, 0.5, 1, 2, 4];
const SESSION_KEY = "bpp.session"; // where the main page looks for this tab's session (session.js)

/** A Storage that keeps nothing: the room never drives or remembers a session of its own. */
const nowhere = { getItem: () => null, setItem() {}, removeItem() {} };

/** The strings the static HTML cannot say by itself (the i18n module translates the data-i18n* ones). */
function translate() {
  const unknown = $("join-unknown");
  if (unknown.dataset.code) unknown.textContent = t("room.unknown", { code: unknown.dataset.code });
  else unknown.textContent = t("room.unknown_plain");
}

// -- the join box: normalise what was typed, then go to the room's page (the server says if it is open) --
function mountJoin() {
  const form = $("join-form");
  const input = $("join-code");
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const code = normalizeCode(input.value);
    if (!CODE_RE.test(code)) {
      $("join-error").hidden = false;
      $("join-error").textContent = t("room.bad_code");
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    location.assign(`/room/${code}`);
  });
  input.addEventListener("input", () => {
    $("join-error").hidden = true;
    input.removeAttribute("aria-invalid");
  });
}

// -- the room --------------------------------------------------------------------------------------------
function mountRoom(code) {
  const store = createStore(initialState({ size: savedSize(), lang: getLang() }));
  onLangChange((lang) => store.set({ lang }));
  const roomUrl = () =>
    `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/api/rooms/${encodeURIComponent(code)}/ws`;
  const socket = new LiveSocket(roomUrl);
  // Before the controller's own listener, which would start a session of our own: a room that is gone was
  // closed (or its teacher's session ended). Nothing to resume.
  socket.addEventListener("gone", (e) => {
    e.stopImmediatePropagation();
    store.set({ closed: /expired/.test(e.detail.reason || "") ? "expired" : true, connection: "offline" });
  });
  let stage = null;
  const timeline = new Timeline({
    render: (index, p) => stage?.renderStep(index, p),
    phase: (index) => store.set({ phase: index }),
  });
  const actions = {
    ...createController({ store, socket, timeline, storage: nowhere, url: { query: "", config: {} } }),
    setTab: (tab) => store.set({ tab }),
    setView2: (patch) => store.set(patch),
  };
  const view = new NetworkView($("net"), {
    onSelect: (sel) => {
      actions.select(sel);
      reveal($("inspector"));
    },
  });
  onSwipe($("net-box"), { onLeft: () => actions.nextPhase(), onRight: () => actions.prev() });
  const inspector = new Inspector($("inspector-body"), { onSelect: actions.select, onSetWeight() {} });
  const els = { svg: $("net"), box: $("net-box"), caption: $("caption"), legend: $("legend"), phases: $("phases") };
  stage = mountStage({ store, view, inspector, timeline, actions, els });
  mountOutput({ store, actions, maps: new UnitMaps({ box: $("net-box"), view }), root: document });
  mountTabs({ store, actions, list: document.querySelector(".tabs"), root: document });
  mountFolds(document);
  mountOffline({ store, banner: $("offline"), parts: [$("trace"), $("sample"), $("fork-form")] });
  if (body.dataset.export !== "0") syncData(store, code);
  mountRoomControls(store, actions);
  mountFork(store, code);
  window.__bpp = { store, socket, actions, timeline };
  followLesson({ store, socket, view, host: $("side"), code });
  socket.connect({ id: code, token: null });
}

function mountRoomControls(store, actions) {
  const on = (id, type, fn) => $(id).addEventListener(type, fn);
  const traceSample = () => {
    const n = store.get().session ? store.get().session.n_train : 1;
    const sample = Math.max(0, Math.min(n - 1, Math.round(Number($("sample").value)) || 0));
    store.set({ sample });
    actions.send({ type: "trace", sample });
  };
  on("trace", "click", traceSample);
  on("sample", "keydown", (e) => e.key === "Enter" && traceSample());
  on("prev", "click", () => actions.prev());
  on("next", "click", () => actions.nextPhase());
  on("replay", "click", () => actions.replay());
  on("show-live", "click", () => actions.showLive());
  on("notice-close", "click", () => store.set({ notice: null }));
  on("autoplay", "change", (e) => actions.setAutoplay(e.target.checked));
  on("size", "change", (e) => actions.setSize(e.target.value));
  on("speed", "input", (e) => {
    const speed = SPEEDS[Number(e.target.value)];
    e.target.setAttribute("aria-valuetext", `${speed}×`);
    $("speed-out").textContent = `${speed}×`;
    actions.setSpeed(speed);
  });
  document
    .querySelectorAll("input[name=view]")
    .forEach((r) => r.addEventListener("change", () => actions.setView(r.value)));
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target instanceof Element && e.target.closest("input, textarea, select, [contenteditable=true]")) return;
    const act = { ArrowRight: actions.nextPhase, ArrowLeft: actions.prev };
    if (act[e.key] && store.get().mode === "step") {
      e.preventDefault();
      act[e.key]();
    }
  });

  const text = (id, value) => setText($(id), value);
  const paint = (s, changed) => {
    const has = (...keys) => keys.some((k) => changed.has(k));
    if (has("status", "closed", "lang")) {
      body.dataset.status = s.status;
      $("teacher-status").dataset.status = s.closed ? "closed" : s.status;
      text("teacher-status", t(s.closed ? "room.teacher_closed" : `room.teacher_${s.status}`));
    }
    // The teacher plays again: the frames draw the graph (a trace being shown gives way to them).
    if (has("status") && s.status === "playing") {
      if (s.mode === "step") actions.showLive();
      actions.setTab("output");
    }
    if (has("trace") && s.trace && s.trace.kind === "step") actions.setTab("inspector");
    if (has("step", "epoch", "metrics")) paintReadout(s, $);
    if (has("connection", "closed", "lang")) {
      const state = s.closed ? "closed" : s.connection;
      text("conn-text", t(`room.conn_${state}`));
      $("conn").dataset.state = state === "closed" ? "offline" : state;
    }
    if (has("closed", "lang") && s.closed) {
      $("room-closed").hidden = false;
      text("room-closed-text", t(s.closed === "expired" ? "room.expired_banner" : "room.closed_banner"));
      body.dataset.roomState = "closed";
      $("fork").disabled = true;
      $("trace").disabled = true;
    }
    if (has("notice")) {
      $("notice").hidden = !s.notice;
      text("notice-text", s.notice || "");
    }
    if (has("size")) showSize(s.size, $);
    if (has("session", "lang") && s.session) {
      $("sample").max = String(s.session.n_train - 1);
      text("sample-max", t("room.of", { n: fmtCount(s.session.n_train) }));
    }
    if (has("trace", "phase", "mode")) paintPhaseButtons(s, $);
    if (has("view")) document.querySelectorAll("input[name=view]").forEach((r) => (r.checked = r.value === s.view));
  };
  const all = () => paint(store.get(), new Set(["lang", ...Object.keys(store.get())]));
  store.subscribe(paint);
  onLangChange(all);
  all();
}

/**
 * The teacher's data points and metric history (the surface, the maps in the units, the charts from the
 * start) come from the room's public export, GET /api/rooms/{code}/export, fetched on joining — whether the
 * teacher plays or not — and again when the teacher's data change, unless the page says the server has no
 * such route (data-export="0"). The answer decides: without one the charts start at joining, no surface.
 */
function syncData(store, code) {
  let key = "";
  store.subscribe(async (s, changed) => {
    if (!changed.has("session") || !s.session) return;
    const now = `${JSON.stringify(s.session.config.dataset)}|${s.session.n_train}|${s.session.n_test}`;
    if (now === key) return;
    key = now;
    try {
      const doc = await roomCall("GET", `/${code}/export`);
      if (key === now) store.set({ data: plotData(doc), history: doc.state.history || [] });
      $("out-surface").hidden = false;
    } catch {
      key = "";
    }
  });
}

// -- forking: a session of one's own with the teacher's exact network, then on to the main page ---------
function mountFork(store, code) {
  const form = $("fork-form");
  const msg = $("fork-msg");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const button = $("fork");
    if (button.disabled) return;
    button.disabled = true;
    msg.textContent = t("room.forking");
    const name = $("fork-name").value.trim();
    try {
      const s = await roomCall("POST", `/${code}/fork`, { body: name ? { name } : {} });
      // The record session.js keeps: the main page at "/" (no ?config=) resumes it instead of starting one.
      // `room`: the main page links back here ("← Room ABCD-EFGH").
      const record = { id: s.id, token: s.token, config: s.config, query: "", room: code };
      sessionStorage.setItem(SESSION_KEY, JSON.stringify(record));
      msg.textContent = t("room.forked");
      location.assign("/");
    } catch (err) {
      if (err.status === 404) store.set({ closed: true, connection: "offline" });
      msg.textContent = t("room.fork_failed", { why: err.message });
      button.disabled = store.get().closed;
    }
  });
}

// -- boot -------------------------------------------------------------------------------------------------
useRoomStrings();
await ready(); // the chosen language's tables (a reload in 简体中文 loads them before the first string)
bindLangSelect($("lang"));
applyI18n(document);
onLangChange(translate);
translate();
mountJoin();
if (body.dataset.roomState === "open") mountRoom(body.dataset.room);

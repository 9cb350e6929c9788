// The controller: turns the live channel's messages into store updates and the learner's actions into
// messages. Frames are drawn on the next animation frame and acknowledged only after they were drawn.

import { t } from "../i18n/index.js";
import { fmtCount } from "./format.js";
import { toMats } from "./forward.js";
import { frameFits, frameWeights } from "./frame.js";
import { create, remember, remembered, shareable } from "./session.js";
import { traceModel } from "./trace.js";

/**
 * Wire a socket, a store and a timeline together; returns the actions the controls call.
 * @param {{store: ReturnType<import("./store.js").createStore>, socket: import("./socket.js").LiveSocket,
 *          timeline: import("../scenes/timeline.js").Timeline, storage: Storage, url: {query: string, config: object}}} deps
 */
export function createController({ store, socket, timeline, storage, url }) {
  let record = null;
  let pending = null;
  let owed = 0;
  let scheduled = false;
  let weightsFrom = "session";
  let wantProbe = false;
  let measured = 0;
  let matsOf = { session: null, mats: null };

  const sessionPatch = (s) => ({
    session: s,
    sizes: s.layer_sizes,
    status: s.status,
    divergence: s.divergence,
    metrics: s.metrics,
    step: s.step,
    epoch: s.epoch,
  });

  /** Θ now: from the newest of the session state (float64) and the latest frame (float32). */
  function weightsNow() {
    const { session, frame, sizes } = store.get();
    if (weightsFrom === "frame" && frame) {
      return frameWeights(frame, sizes.length).map((m) =>
        Array.from({ length: m.shape[0] }, (_, k) => Array.from(m.data.subarray(k * m.shape[1], (k + 1) * m.shape[1]))),
      );
    }
    return session ? session.weights : [];
  }

  /** Θ now as flat matrices (forward.js): the latest frame's W arrays when they fit, else the session's. */
  function weightMats() {
    const { session, frame, sizes } = store.get();
    if (weightsFrom === "frame" && frame && frameFits(frame, sizes)) return frameWeights(frame, sizes.length);
    if (!session) return null;
    if (matsOf.session !== session) matsOf = { session, mats: toMats(session.weights) };
    return matsOf.mats;
  }

  function drawPending() {
    scheduled = false;
    const frame = pending;
    pending = null;
    if (!frame) return;
    performance.mark("bpp-frame-start");
    const h = frame.header;
    const patch = { frame, step: h.step, epoch: h.epoch, status: h.status };
    if (h.metrics) patch.metrics = h.metrics;
    weightsFrom = "frame";
    store.set(patch);
    performance.mark("bpp-frame-end");
    performance.measure("bpp-frame", "bpp-frame-start", "bpp-frame-end");
    if (++measured % 5000 === 0) [performance.clearMarks(), performance.clearMeasures()]; // hours of play
    for (; owed > 0; owed--) socket.send({ type: "ack" });
  }

  let helloSeen = false;
  let dropped = false; // the socket dropped since the last hello: the next one says how the run came back
  socket.addEventListener("connection", (e) => {
    if (e.detail.state === "reconnecting") dropped = true;
    store.set({ connection: e.detail.state });
  });
  socket.addEventListener("hello", (e) => {
    owed = 0;
    pending = null;
    weightsFrom = "session";
    // Back after a drop at an earlier step (a restart from the last save): say so, with both steps.
    const was = store.get().step;
    const now = e.detail.session.step;
    if (helloSeen && now < was) store.set({ notice: t("notice.rewound", { now: fmtCount(now), was: fmtCount(was) }) });
    else if (helloSeen && dropped) store.set({ notice: t("notice.resumed", { now: fmtCount(now) }) });
    helloSeen = true;
    dropped = false;
    store.set(sessionPatch(e.detail.session));
    const { sample } = store.get();
    if (e.detail.probe !== sample && !e.detail.read_only) socket.send({ type: "set", probe: sample });
  });
  socket.addEventListener("state", (e) => {
    const before = store.get().sizes.join();
    weightsFrom = "session";
    store.set(sessionPatch(e.detail.session));
    if (store.get().sizes.join() !== before) {
      timeline.clear();
      store.set({ trace: null, mode: "live", selection: null });
    } else if (wantProbe) {
      wantProbe = false;
      socket.send({ type: "trace", sample: store.get().sample });
    }
  });
  socket.addEventListener("status", (e) => {
    const d = e.detail;
    // A frame still waiting for its animation frame was sent before this status (a pause sends the frame of
    // where it stopped, then the status): drawn after it, its status must not undo this one.
    if (pending) pending = { ...pending, header: { ...pending.header, status: d.status } };
    store.set({ status: d.status, divergence: d.divergence, step: d.step });
  });
  socket.addEventListener("trace", (e) => {
    const model = traceModel(e.detail, weightsNow());
    const { row: wanted, selection } = store.get();
    const row = Math.min(wanted, model.m - 1);
    // Nothing inspected yet: show the last hidden layer's first unit, whose δ comes straight from the output.
    const first = selection || { kind: "unit", layer: Math.max(2, model.L - 1), unit: 1 };
    store.set({ trace: model, mode: "step", row, phase: 0, selection: first });
    if (e.detail.kind === "probe") timeline.show(model.phases);
    else timeline.load(model.phases);
  });
  socket.addEventListener("frame", (e) => {
    pending = e.detail;
    owed += 1;
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(drawPending);
    }
  });
  socket.addEventListener("error", (e) => {
    const d = e.detail;
    // A refused setting is shown beside its control (panel.js); anything else in the notice bar.
    if (d.code === "invalid" && d.field) store.set({ controlError: { field: d.field, message: d.message } });
    else store.set({ notice: d.message });
  });
  socket.addEventListener("gradcheck", (e) => store.set({ gradcheck: e.detail, gradcheckBusy: false }));
  socket.addEventListener("refused", (e) => store.set({ connection: "offline", notice: e.detail.reason }));
  socket.addEventListener("gone", async () => {
    // The session expired or was deleted: start a new one with the same config.
    store.set({ connection: "reconnecting", notice: t("notice.expired") });
    const last = store.get().session;
    await start(last ? shareable(last.config).config : record ? record.config : url.config, true);
  });
  addEventListener("online", () => socket.auth && !socket.live && socket.open());

  async function start(config, fresh = false) {
    const old = fresh ? null : remembered(storage, url.query);
    if (old) {
      record = old;
    } else {
      const made = await create(storage, config, url.query);
      record = made.record;
      store.set(sessionPatch(made.state));
      if (made.notice) store.set({ notice: made.notice });
    }
    store.set({ auth: { id: record.id, token: record.token } });
    socket.connect({ id: record.id, token: record.token });
  }

  /** Drive another session from now on (an imported run): remember it and reconnect. */
  function adopt(state) {
    timeline.clear();
    record = { id: state.id, token: state.token, config: {}, query: record ? record.query : "" };
    remember(storage, record);
    weightsFrom = "session";
    store.set({ ...sessionPatch(state), trace: null, mode: "live", selection: null, frame: null, gradcheck: null });
    store.set({ auth: { id: record.id, token: record.token } });
    socket.connect({ id: record.id, token: record.token });
  }

  /** The URL of this setup changed: the remembered session goes with the new URL (a reload resumes it). */
  function relink(query, config) {
    if (!record) return;
    record = { ...record, query, config };
    remember(storage, record);
  }

  // A message the learner's action sends: when the server cannot be reached, say it was not sent.
  const send = (msg) => socket.send(msg) || store.set({ notice: t("notice.not_sent") });
  const actions = {
    /** Open the session (resume this tab's, or create one) and connect. */
    start: () => start(url.config),
    play() {
      timeline.stop();
      store.set({ mode: "live", tab: "output" });
      send({ type: "play" });
    },
    pause: () => send({ type: "pause" }),
    toggle() {
      if (store.get().status === "playing") actions.pause();
      else actions.play();
    },
    step() {
      const { unit, sample } = store.get();
      store.set({ tab: "inspector" });
      send(unit === "sample" ? { type: "step", unit: "sample", sample } : { type: "step", unit: "batch" });
    },
    next() {
      if (timeline.loaded && !timeline.done && store.get().mode === "step") timeline.next();
      else actions.step();
    },
    nextPhase: () => timeline.next(),
    prev: () => timeline.prev(),
    replay: () => timeline.replay(),
    gotoPhase(i) {
      timeline.stop();
      timeline.goto(i, 1);
    },
    reset() {
      timeline.clear();
      store.set({ trace: null, mode: "live" });
      send({ type: "reset" });
    },
    setWeight(layer, row, column, value) {
      wantProbe = store.get().mode === "step";
      send({ type: "set_weight", layer, row, column, value });
    },
    select: (selection) => store.set(selection ? { selection, tab: "inspector" } : { selection }),
    setSample(i) {
      const n = store.get().session ? store.get().session.n_train : 1;
      const sample = Math.max(0, Math.min(n - 1, Math.round(i) || 0));
      store.set({ sample });
      send({ type: "set", probe: sample });
    },
    randomSample() {
      const n = store.get().session ? store.get().session.n_train : 1;
      actions.setSample(Math.floor(Math.random() * n));
    },
    setView: (view) => store.set({ view, mode: "live" }),
    showLive: () => store.set({ mode: "live" }),
    setSource: (source) => store.set({ source }),
    setUnit: (unit) => store.set({ unit }),
    setRow: (row) => store.set({ row }),
    setSpeed(speed) {
      timeline.setSpeed(speed);
      store.set({ speed });
    },
    setAutoplay(autoplay) {
      timeline.setAutoplay(autoplay);
      store.set({ autoplay });
    },
    setSize: (size) => store.set({ size }),
    weightsNow,
    weightMats,
    adopt,
    relink,
    send,
  };
  return actions;
}

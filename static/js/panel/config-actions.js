// The settings panel's actions: settings sent to the live session (`set`; custom data over REST PATCH, too big
// for a live message), the training speed, ready-made scenarios, the gradient check, export and import,
// the data the output panel plots, and the URL that always holds the whole setup.

import { createSession, exportRun, patchSession } from "../core/api.js";
import { urlFor } from "../core/session.js";
import { t } from "../i18n/index.js";
import { plotData } from "../output/plot-data.js";
import { SCENARIOS, scenarioConfig } from "./scenarios.js";

/** Training speeds: steps per frame, or whole epochs per frame (1 epoch is the server's default). */
export const PACES = Object.freeze([
  { key: "s1", steps: 1 },
  { key: "s10", steps: 10 },
  { key: "e1", epochs: 1 },
  { key: "e5", epochs: 5 },
  { key: "e20", epochs: 20 },
]);

/**
 * The live channel's steps_per_frame for a speed (0: one epoch per frame, the server's default).
 * @param {string} key
 * @param {{n_train: number, config: {batch_size: number}} | null} session
 */
export function stepsPerFrame(key, session) {
  const pace = PACES.find((p) => p.key === key) || PACES[2];
  if (pace.steps) return pace.steps;
  if (pace.epochs === 1 || !session) return 0;
  return Math.min(100000, pace.epochs * Math.ceil(session.n_train / session.config.batch_size));
}

/**
 * Add the part-2 actions to the controller's.
 * @param {{store: object, socket: import("../core/socket.js").LiveSocket, actions: object}} deps
 */
export function addConfigActions({ store, socket, actions }) {
  let sentPace = null;
  let dataKey = "";
  let dataSeq = 0;

  function sendPace(force = false) {
    const s = store.get();
    const spf = stepsPerFrame(s.pace, s.session);
    if (force || spf !== sentPace) {
      if (socket.send({ type: "set", steps_per_frame: spf })) sentPace = spf;
    }
  }
  socket.addEventListener("hello", () => sendPace(true));
  socket.addEventListener("error", () => store.get().gradcheckBusy && store.set({ gradcheckBusy: false }));

  async function syncData(s) {
    const key = `${s.session.id}|${JSON.stringify(s.session.config.dataset)}|${s.session.n_train}|${s.session.n_test}`;
    if (key === dataKey || !s.auth || s.auth.id !== s.session.id) return; // a new session before its token
    dataKey = key;
    const seq = ++dataSeq;
    try {
      const doc = await exportRun(s.auth);
      if (seq === dataSeq) store.set({ data: plotData(doc), history: doc.state.history || [] });
    } catch {
      if (seq === dataSeq) dataKey = "";
    }
  }

  store.subscribe((s, changed) => {
    if ((changed.has("session") || changed.has("auth")) && s.session) syncData(s);
    if (changed.has("session") && s.session) sendPace();
    if (
      (changed.has("session") || changed.has("pace") || changed.has("scenario") || changed.has("lesson")) &&
      s.session
    ) {
      const { search, query } = urlFor(s.session.config, s.pace, s.scenario, s.lesson);
      if (search !== location.search) {
        history.replaceState(history.state, "", `${location.pathname}${search}${location.hash}`);
        actions.relink(query, s.session.config);
      }
    }
  });

  const more = {
    /**
     * Change settings of the live session (any PATCH field). Custom data goes over REST; resolves to
     * true when sent, or rejects with the server's ApiError.
     * @param {object} patch
     */
    async configure(patch) {
      store.set({ controlError: null });
      if (patch.dataset && patch.dataset.name === "custom") {
        await patchSession(store.get().auth, patch);
        return true;
      }
      return socket.send({ type: "set", ...patch });
    },
    /** @param {string} pace a key of PACES */
    setPace(pace) {
      store.set({ pace });
      sendPace(true);
    },
    /** Load a ready-made scenario by id: its whole config, its speed, its explanation. */
    loadScenario(id) {
      const sc = SCENARIOS.find((x) => x.id === id);
      if (!sc) return;
      actions.pause();
      store.set({ scenario: id, pace: sc.pace, trace: null, mode: "live", selection: null });
      more.configure(scenarioConfig(sc));
      sendPace(true);
    },
    /** Show (id) or dismiss (null) a scenario's explanation. */
    setScenario: (scenario) => store.set({ scenario }),
    /** Break the symmetry: random (xavier) initialization, and new weights. */
    tryXavier() {
      more.configure({ init: "xavier" });
      actions.reset();
    },
    /** Compare the analytic gradient with the numerical one (live channel "gradcheck"). */
    gradcheck() {
      if (actions.send({ type: "gradcheck" })) store.set({ gradcheckBusy: true, tab: "gradcheck" });
    },
    /** @param {"output" | "inspector" | "gradcheck"} tab */
    setTab: (tab) => store.set({ tab }),
    /** Output options: {showTest, discretize, maps, logLoss}. */
    setView2: (patch) => store.set(patch),
    /** Download the run as the REST API's JSON document. */
    async exportRun() {
      const s = store.get();
      const doc = await exportRun(s.auth);
      const blob = new Blob([JSON.stringify(doc)], { type: "application/json" });
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = `backprop-${doc.config.dataset.name}-step${doc.state.step}.json`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    },
    /**
     * Continue an exported run: POST /api/sessions {"import": doc} and drive the new session.
     * @param {File} file
     */
    async importRun(file) {
      let doc;
      try {
        doc = JSON.parse(await file.text());
      } catch (err) {
        store.set({ notice: t("io.not_json", { name: file.name, why: err.message }) });
        return;
      }
      try {
        const state = await createSession({ import: doc });
        actions.adopt(state);
        store.set({ notice: t("io.imported", { name: file.name, step: state.step }), scenario: null });
      } catch (err) {
        store.set({ notice: t("io.refused", { why: err.message }) });
      }
    },
  };
  Object.assign(actions, more);
  return actions;
}

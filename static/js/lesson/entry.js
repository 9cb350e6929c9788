// The lessons the page opens from the URL (?lesson=derivation) or the experiments menu: each its network
// and data, and the panel, loaded (with its strings, styles and maths) only when a lesson is opened, so the
// page's first load stays light. The page passes its socket and actions; the panel does the rest.

/** The lessons: id → the session config it runs on. */
export const LESSONS = Object.freeze({
  // Network N: 3 inputs + bias, 3 hidden units (sigmoid), 2 linear outputs, squared error, on network_n
  // (two targets made by a fixed network of N's shape, so N can learn them).
  derivation: {
    dataset: { name: "network_n", samples: 200, noise: 0.05, train_fraction: 0.5, seed: 0 },
    features: [],
    hidden: [3],
    activation: "sigmoid",
    output_activation: "linear",
    loss: "mse",
    learning_rate: 0.1,
    batch_size: 10,
    optimizer: "sgd",
    regularization: "none",
    reg_rate: 0,
    init: "xavier",
    seed: 0,
  },
});

/** The experiments menu's value of a lesson ("lesson:derivation"). @param {string} id */
export const menuValue = (id) => `lesson:${id}`;

/**
 * The URL of a lesson (a fresh session on its network).
 * @param {string} id
 */
export const lessonUrl = (id) => `/?lesson=${encodeURIComponent(id)}`;

/**
 * Open the lesson panel on the main page (lazily loaded).
 * @param {{store: object, socket: EventTarget, actions: object, view: object, host: HTMLElement,
 *          room?: () => ({code: string, teacher_token: string} | null)}} deps room: this page's open room
 * @returns {Promise<{show: Function, destroy: Function, state: Function}>}
 */
export async function openLesson({ store, socket, actions, view, host, room }) {
  const [{ mountLesson }, { roomCall }] = await Promise.all([import("./panel.js"), import("../room-api.js")]);
  let last = "";
  const lesson = mountLesson({
    store,
    view,
    host,
    hooks: {
      send: (msg) => socket.send(msg), // before the socket is up: nothing sent, and the hello asks again
      socket,
      setSample: (i) => actions.setSample(i),
      setWeight: (l, k, i, value) => actions.setWeight(l, k, i, value),
      newWeights: () => actions.reset(),
      symmetryScenario: () => actions.loadScenario("symmetry"),
      close: () => {
        lesson.destroy();
        const params = new URLSearchParams(location.search);
        params.delete("lesson");
        history.replaceState(history.state, "", `${location.pathname}?${params}`);
        store.set({ lesson: null });
      },
      // the teacher's step and sample go to the room this page's session is shown in
      onMove: (state) => tell(state),
    },
  });
  function tell(state) {
    const r = room && room();
    const key = JSON.stringify([r && r.code, state]);
    if (!r || key === last) return;
    last = key;
    roomCall("PUT", `/${r.code}/lesson`, { token: r.teacher_token, body: { lesson: "derivation", ...state } }).catch(() => (last = ""));
  }
  // a room opened after the lesson (or reopened): it gets the current step within two seconds
  const timer = setInterval(() => tell(lesson.state()), 2000);
  const destroy = lesson.destroy;
  lesson.destroy = () => {
    clearInterval(timer);
    const r = room && room();
    if (r) roomCall("PUT", `/${r.code}/lesson`, { token: r.teacher_token, body: { lesson: null } }).catch(() => {});
    destroy();
  };
  return lesson;
}

/**
 * The room page: follow the teacher's lesson (the room channel's `lesson` messages), mounting the panel on
 * the first one and removing it when the teacher stops; each first verdict goes to the class view.
 * @param {{store: object, socket: EventTarget & {send: (msg: object) => boolean}, view: object,
 *          host: HTMLElement, code: string}} deps
 */
export function followLesson({ store, socket, view, host, code }) {
  let panel = null;
  let loading = null;
  let latest = null;
  socket.addEventListener("lesson", async (e) => {
    latest = e.detail;
    if (!latest.lesson) {
      if (panel) panel.destroy();
      panel = null;
      return;
    }
    if (!panel) {
      loading ||= Promise.all([import("./panel.js"), import("../room-api.js")]).then(([{ mountLesson }, { roomCall }]) =>
        mountLesson({
          store,
          view,
          host,
          follow: true,
          hooks: {
            send: (msg) => socket.send(msg),
            socket,
            onAnswer: (prediction, right, sample) =>
              roomCall("POST", `/${code}/lesson/answers`, { body: { prediction, right, sample } }).catch(() => {}),
          },
        }),
      );
      const mounted = await loading;
      loading = null;
      if (panel !== mounted && !latest.lesson) return mounted.destroy(); // stopped while it loaded
      panel = mounted;
      window.__bpp.lesson = panel;
    }
    if (latest.lesson) panel.show({ step: latest.step, sample: latest.sample });
  });
}

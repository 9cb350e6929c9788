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
      onMove: (state) => {
        const r = room && room();
        const key = JSON.stringify(state);
        if (!r || key === last) return;
        last = key;
        roomCall("PUT", `/${r.code}/lesson`, { token: r.teacher_token, body: { lesson: "derivation", ...state } }).catch(() => (last = ""));
      },
    },
  });
  return lesson;
}

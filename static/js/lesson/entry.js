// The lessons the page opens (?lesson=derivation, the experiments menu): each one's network, and a loader
// of the rest (lesson/open.js and the panel) — only this small module is on the first page.

/** The lessons: id → the session config (on the defaults) it runs on. Network N: 3 inputs, 3 sigmoid hidden
 * units, 2 linear outputs, squared error (regression's defaults), on network_n. */
export const LESSONS = {
  derivation: {
    dataset: { name: "network_n", samples: 200, noise: 0.05 },
    hidden: [3],
    activation: "sigmoid",
    learning_rate: 0.1,
  },
};

/** @param {string} id */
export const lessonUrl = (id) => `/?lesson=${id}`;

/** Open the lesson panel (open.js: openLesson). @param {object} deps */
export const openLesson = (deps) => import("./open.js").then((m) => m.openLesson(deps));

/** The room page follows the teacher's lesson (open.js: followLesson), loaded on the first message. */
export function followLesson(deps) {
  let handle = null;
  deps.socket.addEventListener("lesson", async (e) => {
    if (!handle && !e.detail.lesson) return;
    handle ||= import("./open.js").then((m) => m.followLesson(deps));
    (await handle)(e);
  });
}

// Opening a lesson (loaded with it, from entry.js): on the main page the panel with the page's socket and
// actions, the teacher's step and sample sent to this session's room; on the room page the panel following
// the teacher's `lesson` messages, each first verdict sent to the class view.

import { roomCall } from "../classroom/room-api.js";
import { mountLesson } from "./panel.js";

/** This page's open room, when the teacher opened one on this session (classroom.js keeps it). */
function myRoom(store) {
  try {
    const r = JSON.parse(sessionStorage.getItem("bpp.room") || "null");
    const auth = store.get().auth;
    return r && auth && r.session === auth.id ? r : null;
  } catch {
    return null;
  }
}

/**
 * Open the lesson panel on the main page.
 * @param {{store: object, socket: EventTarget, actions: object, view: object, host: HTMLElement}} deps
 * @returns {{show: Function, destroy: Function, state: Function}}
 */
export function openLesson({ store, socket, actions, view, host }) {
  const room = () => myRoom(store);
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
      // new random weights: a reset from a new seed (a reset alone would give the seed's same first weights)
      newWeights: () => actions.send({ type: "reset", seed: Math.floor(Math.random() * 2 ** 31) }),
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
    const r = room();
    const key = JSON.stringify([r?.code, state]);
    if (!r || key === last) return;
    last = key;
    roomCall("PUT", `/${r.code}/lesson`, { token: r.teacher_token, body: { lesson: "derivation", ...state } }).catch(
      () => (last = ""),
    );
  }
  // a room opened after the lesson (or reopened): it gets the current step within two seconds
  const timer = setInterval(() => tell(lesson.state()), 2000);
  const destroy = lesson.destroy;
  lesson.destroy = () => {
    clearInterval(timer);
    const r = room();
    if (r) roomCall("PUT", `/${r.code}/lesson`, { token: r.teacher_token, body: { lesson: null } }).catch(() => {});
    destroy();
  };
  return lesson;
}

/**
 * The room page: a handler of the room channel's `lesson` messages that mounts the panel on the first one,
 * shows the teacher's step and sample, and removes the panel when the teacher stops.
 * @param {{store: object, socket: EventTarget & {send: (msg: object) => boolean}, view: object,
 *          host: HTMLElement, code: string}} deps
 */
export function followLesson({ store, socket, view, host, code }) {
  let panel = null;
  let loading = null;
  let latest = null;
  return async (e) => {
    latest = e.detail;
    if (!latest.lesson) {
      if (panel) panel.destroy();
      panel = null;
      return;
    }
    if (!panel) {
      loading ||= Promise.resolve(
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
  };
}

// The composition root: one store, the live socket, the views and the controller, wired together.

import "./i18n/page.js";
import { mountClassroom } from "./classroom/classroom.js";
import { createController } from "./core/controller.js";
import { configFromUrl, forkedFrom } from "./core/session.js";
import { LiveSocket } from "./core/socket.js";
import { createStore, initialState } from "./core/store.js";
import { applyI18n, bindLangSelect, getLang, onLangChange, ready, t } from "./i18n/index.js";
import { LazyInspector } from "./inspector/inspector-lazy.js";
import { lessonUrl, openLesson } from "./lesson/entry.js";
import { NetworkView } from "./net/network-view.js";
import { onSwipe } from "./net/swipe.js";
import { mountOutput } from "./output/output.js";
import { UnitMaps } from "./output/unit-maps.js";
import { mountControls } from "./page/controls.js";
import { mountFolds, reveal } from "./page/fold.js";
import { mountOffline } from "./page/offline.js";
import { mountTabs } from "./page/tabs.js";
import { savedSize } from "./page/textsize.js";
import { addConfigActions } from "./panel/config-actions.js";
import { mountLessons } from "./panel/lessons.js";
import { mountPanel } from "./panel/panel.js";
import { mountStage } from "./scenes/stage.js";
import { Timeline } from "./scenes/timeline.js";

const $ = (id) => document.getElementById(id);
await ready();
applyI18n(document);
const url = configFromUrl(location.search);

const store = createStore(
  initialState({
    size: savedSize(),
    notice: url.error,
    lang: getLang(),
    pace: url.pace,
    scenario: url.scenario,
    lesson: url.lesson,
  }),
);
bindLangSelect($("lang"));
onLangChange((lang) => store.set({ lang }));

const socket = new LiveSocket();
let stage = null;
const timeline = new Timeline({
  render: (index, p) => stage?.renderStep(index, p),
  phase: (index) => store.set({ phase: index }),
});
const actions = addConfigActions({
  store,
  socket,
  actions: createController({ store, socket, timeline, storage: sessionStorage, url }),
});
// A unit or a link tapped or clicked: the inspector shows it (and comes into view on a phone).
const view = new NetworkView($("net"), {
  onSelect: (sel) => {
    actions.select(sel);
    reveal($("inspector"));
  },
});
onSwipe($("net-box"), { onLeft: () => actions.next(), onRight: () => actions.prev() });
const inspector = new LazyInspector($("inspector-body"), { onSelect: actions.select, onSetWeight: actions.setWeight });
stage = mountStage({
  store,
  view,
  inspector,
  timeline,
  actions,
  els: { svg: $("net"), box: $("net-box"), caption: $("caption"), legend: $("legend"), phases: $("phases") },
});
const maps = new UnitMaps({ box: $("net-box"), view });
mountControls({ store, actions, root: document });
mountPanel({ store, actions, root: document });
mountOutput({ store, actions, maps, root: document });
let gradcheckView = null; // the table module is loaded on the first check
$("gradcheck-run").addEventListener("click", async () => {
  gradcheckView ||= import("./inspector/gradcheck-view.js").then((m) => m.mountGradcheck({ store, root: document }));
  await gradcheckView;
  actions.gradcheck();
});
mountLessons({ store, actions, view, box: $("lesson"), note: $("scenario-note") });
mountTabs({ store, actions, list: document.querySelector(".tabs"), root: document });
mountFolds(document);
mountOffline({
  store,
  banner: $("offline"),
  parts: [
    document.querySelector(".transport"),
    $("controls"),
    $("step"),
    $("random-sample"),
    $("sample-wrap"),
    $("gradcheck-run"),
    $("banner-reset"),
  ],
});

// A debug hook for tests and the curious: the store, the socket and the actions.
window.__bpp = { store, socket, actions, timeline };

actions
  .start()
  .catch((err) => store.set({ connection: "offline", notice: t("notice.no_session", { why: err.message }) }));
mountClassroom({ store, root: document.getElementById("classroom") });

// The derivation lesson: ?lesson=derivation, or the experiments menu (a fresh session on its network N).
actions.openLesson = (id) => location.assign(lessonUrl(id));
if (url.lesson) window.__bpp.lesson = openLesson({ store, socket, actions, view, host: $("side") });

// A fork made in a room: a way back to the room (the fork stays this tab's session).
const room = forkedFrom(sessionStorage);
const paintBack = () => {
  const back = $("back-room");
  back.hidden = !forkedFrom(sessionStorage);
  if (room) [back.href, back.textContent] = [`/room/${encodeURIComponent(room)}`, t("room.back", { code: room })];
};
store.subscribe((_s, changed) => (changed.has("auth") || changed.has("lang")) && paintBack());
paintBack();

// The composition root: one store, the live socket, the views and the controller, wired together.

import { createController } from "./controller.js";
import { mountControls } from "./controls.js";
import { Inspector } from "./inspector.js";
import { NetworkView } from "./network-view.js";
import { configFromUrl } from "./session.js";
import { LiveSocket } from "./socket.js";
import { mountStage } from "./stage.js";
import { createStore } from "./store.js";
import { Timeline } from "./timeline.js";

const $ = (id) => document.getElementById(id);
const url = configFromUrl(location.search);

const store = createStore({
  auth: null,
  session: null,
  sizes: [],
  connection: "connecting",
  status: "paused",
  divergence: null,
  metrics: null,
  step: 0,
  epoch: 0,
  frame: null,
  trace: null,
  phase: 0,
  mode: "live",
  view: "weights",
  source: "probe",
  sample: 0,
  unit: "sample",
  row: 0,
  selection: null,
  speed: 1,
  autoplay: true,
  large: false,
  notice: url.error,
});

const socket = new LiveSocket();
let stage = null;
const timeline = new Timeline({
  render: (index, p) => stage && stage.renderStep(index, p),
  phase: (index) => store.set({ phase: index }),
});
const actions = createController({ store, socket, timeline, storage: sessionStorage, url });
const view = new NetworkView($("net"), { onSelect: actions.select });
const inspector = new Inspector($("inspector-body"), { onSelect: actions.select, onSetWeight: actions.setWeight });
stage = mountStage({
  store,
  view,
  inspector,
  timeline,
  actions,
  els: { svg: $("net"), box: $("net-box"), caption: $("caption"), legend: $("legend"), phases: $("phases") },
});
mountControls({ store, actions, root: document });

// A debug hook for tests and the curious: the store, the socket and the actions.
window.__bpp = { store, socket, actions, timeline };

actions.start().catch((err) => store.set({ connection: "offline", notice: `Could not start a session: ${err.message}` }));

// The page's one mutable state store: views read it and subscribe; only controllers call set().

/**
 * Every key of the page's state (main page and room page), with what it holds. `initialState()` gives each
 * its starting value; a page passes the few that depend on the page (the URL, remembered preferences).
 * @typedef {object} State
 * @property {{id: string, token: string} | null} auth the session we drive (the room page: the teacher's)
 * @property {object | null} session the session state (hello / state / REST), weights included
 * @property {number[]} sizes S_1..S_L
 * @property {"connecting" | "live" | "reconnecting" | "offline"} connection the live channel as the page sees it
 * @property {"paused" | "playing" | "diverged"} status the run's status
 * @property {{step: number, reason: string} | null} divergence why and when the run diverged
 * @property {object | null} metrics the latest metrics (docs/protocol.md, "frame" header)
 * @property {number} step the run's step count
 * @property {number} epoch the run's epoch count
 * @property {import("./frame.js").Frame | null} frame the latest decoded frame {header, arrays}
 * @property {object | null} trace the step-mode trace being played (trace.js `traceModel`; timeline.js)
 * @property {number} phase the index of the trace phase shown
 * @property {"live" | "step"} mode "live" (frames draw the graph) | "step" (the trace does)
 * @property {"weights" | "activations" | "error" | "gradients" | "updates"} view the live view
 * @property {"probe" | "batch"} source where unit values come from in live mode
 * @property {number} sample the selected training sample
 * @property {"sample" | "batch"} unit the step unit
 * @property {number} row the batch row shown for a batch trace
 * @property {{kind: "unit", layer: number, unit: number} | {kind: "link", layer: number, row: number,
 *            col: number} | null} selection what the inspector shows
 * @property {number} speed the step animation's speed factor
 * @property {boolean} autoplay play the phases one after another
 * @property {"normal" | "large" | "projector"} size the page's text size (textsize.js)
 * @property {string | null} notice a message for the user (errors, refused configs)
 * @property {string} lang the page's language ("en" | "zh"; i18n/index.js)
 * @property {"output" | "inspector" | "gradcheck"} tab the side panel's tab shown (tabs.js)
 * @property {string | null} pace the training speed's key (session.js; "e1": one epoch per frame); main page
 * @property {string | null} scenario the ready-made scenario the run started from (scenarios.js), if any
 * @property {string | null} lesson the lesson open on the main page (lesson/entry.js: "derivation"), if any
 * @property {object[]} datasets the built-in datasets (GET /api/datasets), for the dataset picker
 * @property {import("../output/surface.js").PlotData | null} data the run's data as the output panel plots it
 *           (plot-data.js)
 * @property {object[] | null} history the run's saved metrics (one per log interval), for the charts
 * @property {boolean} showTest show the test points on the output plot
 * @property {boolean} discretize show the decision surface as classes, not as a gradient of confidence
 * @property {boolean} maps draw each unit's own output inside its node (unit-maps.js)
 * @property {boolean} logLoss the loss chart's y axis is logarithmic
 * @property {object | null} gradcheck the latest gradient check's answer (docs/protocol.md, "gradcheck")
 * @property {boolean} gradcheckBusy a gradient check was asked for and has not answered yet
 * @property {{field: string, message: string} | null} controlError a refused setting, shown by its control
 * @property {boolean | "expired"} closed the room page: the room is closed (or expired)
 */

/**
 * The state a page starts from: every key of State, with `overrides` for those the page knows at once.
 * @param {Partial<State>} [overrides]
 * @returns {State}
 */
export function initialState(overrides = {}) {
  return {
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
    size: "normal",
    notice: null,
    lang: "en",
    tab: "output",
    pace: null,
    scenario: null,
    lesson: null,
    datasets: [],
    data: null,
    history: null,
    showTest: false,
    discretize: false,
    maps: true,
    logLoss: false,
    gradcheck: null,
    gradcheckBusy: false,
    controlError: null,
    closed: false,
    ...overrides,
  };
}

/**
 * A store: get() the state, set() a patch (subscribers hear about the keys that changed).
 * @param {State} initial
 */
export function createStore(initial) {
  let state = Object.freeze({ ...initial });
  /** @type {Set<(state: State, changed: Set<string>) => void>} */
  const listeners = new Set();

  return {
    /** @returns {State} */
    get() {
      return state;
    },
    /**
     * Merge a patch into the state and notify every subscriber of the keys whose value changed.
     * @param {Partial<State>} patch
     */
    set(patch) {
      const changed = new Set();
      for (const [k, v] of Object.entries(patch)) {
        if (state[k] !== v) changed.add(k);
      }
      if (changed.size === 0) return;
      state = Object.freeze({ ...state, ...patch });
      for (const fn of listeners) fn(state, changed);
    },
    /**
     * Call fn(state, changedKeys) after every change; returns the unsubscribe function.
     * @param {(state: State, changed: Set<string>) => void} fn
     */
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}

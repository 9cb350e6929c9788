// The page's one mutable state store: views read it and subscribe; only controllers call set().

/**
 * @typedef {object} State
 * @property {{id: string, token: string} | null} auth the session we drive
 * @property {object | null} session the session state (hello / state / REST), weights included
 * @property {number[]} sizes S_1..S_L
 * @property {string} connection "connecting" | "live" | "reconnecting" | "offline"
 * @property {string} status "paused" | "playing" | "diverged"
 * @property {{step: number, reason: string} | null} divergence
 * @property {object | null} metrics the latest metrics
 * @property {number} step
 * @property {number} epoch
 * @property {object | null} frame the latest decoded frame {header, arrays}
 * @property {object | null} trace the step-mode trace being played (see timeline.js)
 * @property {number} phase the index of the trace phase shown
 * @property {string} mode "live" (frames draw the graph) | "step" (the trace does)
 * @property {string} view the live view: "weights" | "activations" | "error" | "gradients" | "updates"
 * @property {string} source where unit values come from in live mode: "probe" | "batch"
 * @property {number} sample the selected training sample
 * @property {string} unit the step unit: "sample" | "batch"
 * @property {number} row the batch row shown for a batch trace
 * @property {{kind: "unit", layer: number, unit: number} | {kind: "link", layer: number, row: number,
 *            col: number} | null} selection what the inspector shows
 * @property {number} speed animation speed factor
 * @property {boolean} autoplay play the phases one after another
 * @property {string} size the page's size: "normal" | "large" | "projector" (textsize.js)
 * @property {string | null} notice a message for the user (errors, refused configs)
 */

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

// The keys of a live frame's arrays, named as in docs/protocol.md ("frame", the table of arrays), and the
// small reads every view makes of a decoded frame. The only module that spells an array's name: the views
// ask for `frameArray(frame, FRAME.W(l))`, never for a template string of their own.

/**
 * @typedef {{data: Float32Array, shape: number[]}} FrameArray
 * @typedef {{header: object, arrays: Record<string, FrameArray>}} Frame
 */

/** The name of each array of a frame, by layer l (1-based, the course's numbering; docs/maths.md). */
export const FRAME = Object.freeze({
  /** Θ^(l) now, S_{l+1} × (1 + S_l), l = 1 … L−1. */
  W: (l) => `W${l}`,
  /** The latest step's gradient D^(l), like Θ^(l) (absent before the first step). */
  D: (l) => `D${l}`,
  /** The latest step's update ΔΘ^(l), like Θ^(l) (absent before the first step). */
  U: (l) => `U${l}`,
  /** a^(l) averaged over the latest step's batch, S_l values, l = 1 … L. */
  A: (l) => `A${l}`,
  /** δ^(l) averaged over the latest step's batch, S_l values, l = 2 … L. */
  E: (l) => `E${l}`,
  /** ‖D^(l)‖ of the latest step, L−1 values. */
  N: "N",
  /** a^(l) of the probe sample at the current weights. */
  PA: (l) => `PA${l}`,
  /** z^(l) of the probe sample at the current weights, l = 2 … L. */
  PZ: (l) => `PZ${l}`,
  /** δ^(l) of the probe sample at the current weights, l = 2 … L. */
  PE: (l) => `PE${l}`,
});

/**
 * One array of a frame, or null when the frame does not carry it.
 * @param {Frame} frame
 * @param {string} key a name from FRAME
 * @returns {FrameArray | null}
 */
export function frameArray(frame, key) {
  return frame.arrays[key] || null;
}

/**
 * Whether the frame carries the latest step's gradients and updates (not before the first step).
 * @param {Frame} frame
 */
export function hasStep(frame) {
  return Boolean(frame.arrays[FRAME.D(1)]);
}

/**
 * Whether the frame carries batch means (a^(l) and δ^(l) averaged over the latest step's batch).
 * @param {Frame} frame
 */
export function hasBatch(frame) {
  return Boolean(frame.arrays[FRAME.A(1)]);
}

/**
 * Whether a frame's weight matrices have the shapes of the network drawn (a reshape may be in flight).
 * @param {Frame} frame
 * @param {number[]} sizes S_1 … S_L
 */
export function frameFits(frame, sizes) {
  for (let l = 1; l < sizes.length; l++) {
    const w = frame.arrays[FRAME.W(l)];
    if (!w || w.shape[0] !== sizes[l] || w.shape[1] !== sizes[l - 1] + 1) return false;
  }
  return sizes.length > 1 && !frame.arrays[FRAME.W(sizes.length)];
}

/**
 * Θ^(1) … Θ^(L−1) of a frame as they are (flat, row-major), for L = sizes.length.
 * @param {Frame} frame
 * @param {number} L
 * @returns {(FrameArray | null)[]}
 */
export function frameWeights(frame, L) {
  const out = [];
  for (let l = 1; l < L; l++) out.push(frameArray(frame, FRAME.W(l)));
  return out;
}

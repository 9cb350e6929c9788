// The network's values over the input plane, and their pictures, for the surface and the unit maps:
// computed by a worker (field-worker.js, paint.js), so that the main thread only copies pixels and draws. At most one
// request is in flight; while it runs, a newer one replaces the waiting one (the newest wins), and every
// answer is drawn as it comes. Requests are posted in a task of their own, not inside a frame's drawing.

import { netOf } from "../core/forward.js";

/** Grid points per side over the plane (2-D data), and along the axis (1-D data). */
export const GRID_2D = 50;
export const GRID_1D = 100;

/**
 * The grid of a dataset's plane: {domain, nx, ny}.
 * @param {{inputs: number, domain: object}} data
 */
export function gridOf(data) {
  return data.inputs === 2
    ? { domain: data.domain, nx: GRID_2D, ny: GRID_2D }
    : { domain: data.domain, nx: GRID_1D, ny: 1 };
}

/**
 * @typedef {{px: Uint8ClampedArray, width: number, height: number}} Pixels RGBA
 * @typedef {{id: number, sizes: number[], P: number, output: Float64Array, surface: Pixels | null,
 *            atlas: (Pixels & {tile: number, units: number[][]}) | null,
 *            zoom: (Pixels & {layer: number, unit: number}) | null, ms: number,
 *            job: {config: object, data: object}}} FieldAnswer
 */

/**
 * A canvas (not in the page) holding some pixels, reused from `canvas` when given.
 * @param {Pixels} p
 * @param {HTMLCanvasElement} [canvas]
 */
export function canvasOf(p, canvas = document.createElement("canvas")) {
  if (canvas.width !== p.width || canvas.height !== p.height) [canvas.width, canvas.height] = [p.width, p.height];
  canvas.getContext("2d").putImageData(new ImageData(p.px, p.width, p.height), 0, 0);
  return canvas;
}

/**
 * A worker-backed forward pass; onAnswer(answer) is called with each answer.
 * @param {(answer: FieldAnswer) => void} onAnswer
 */
export function createField(onAnswer) {
  const worker = new Worker(new URL("./field-worker.js", import.meta.url), { type: "module" });
  let busy = false;
  let waiting = null;
  let lastMats = null;
  let lastKey = "";
  let seq = 0;
  const jobs = new Map();
  const kick = new MessageChannel(); // "post the waiting request" as a task of its own
  kick.port1.onmessage = () => {
    if (busy || !waiting) return;
    const next = waiting;
    waiting = null;
    performance.mark("bpp-post-start");
    post(next);
    performance.measure("bpp-post", "bpp-post-start");
  };

  function post(job) {
    busy = true;
    const id = ++seq;
    jobs.set(id, job);
    // Every Θ^(l) in one buffer (one transfer): the worker cuts it back into matrices by their shapes.
    const shapes = job.mats.map((m) => m.shape);
    const flat = new Float64Array(shapes.reduce((n, [r, c]) => n + r * c, 0));
    let at = 0;
    for (const m of job.mats) {
      flat.set(m.data, at);
      at += m.data.length;
    }
    const msg = { id, flat, shapes, net: netOf(job.config), grid: gridOf(job.data), look: job.look, want: job.want };
    worker.postMessage(msg, [flat.buffer]);
  }

  worker.onerror = () => {
    busy = false; // a failed answer must not stop the next ones (the error itself is in the console)
  };
  worker.onmessage = (e) => {
    const answer = e.data;
    answer.job = jobs.get(answer.id);
    jobs.delete(answer.id);
    busy = false;
    onAnswer(answer);
    if (waiting) kick.port2.postMessage(null);
  };

  return {
    /**
     * Ask for the pictures at these weights (nothing is sent when nothing changed since the last request).
     * @param {{data: ArrayLike<number>, shape: number[]}[] | null} mats
     * @param {object} config the session config
     * @param {{inputs: number} | null} data
     * @param {import("./paint.js").Look} look
     * @param {{surface: boolean, maps: boolean, zoom: {layer: number, unit: number} | null}} want
     * @returns {boolean} whether there is a plane to compute
     */
    request(mats, config, data, look, want) {
      if (!mats || !data || !config || data.inputs < 1 || data.inputs > 2) return false;
      const net = netOf(config);
      if (mats.length !== net.activations.length + 1 || net.features.length !== mats[0].shape[1] - 1) return false;
      const key = JSON.stringify([look, want]);
      if (mats === lastMats && key === lastKey) return true;
      [lastMats, lastKey] = [mats, key];
      waiting = { mats, config, data, look, want };
      if (!busy) kick.port2.postMessage(null);
      return true;
    },
  };
}

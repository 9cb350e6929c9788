// What the network shows while training plays: one frame's arrays (docs/protocol.md) in the chosen view —
// the weights Θ, the activations a, the error δ on each unit (with the links lit by Θ_kj·δ_k and the
// error streaming backward), the gradients D or the updates ΔΘ of the latest batch.

import { fmtShort } from "../core/format.js";
import { FRAME, frameArray, frameWeights, hasBatch, hasStep } from "../core/frame.js";
import { intensity, linkWidth, maxAbs, niceScale, signClass } from "../net/scales.js";

/**
 * Element (k, j) of a frame matrix, or NaN when the array is absent.
 * @param {{data: Float32Array, shape: number[]} | undefined} m
 */
function at(m, k, j) {
  return m ? m.data[k * m.shape[1] + j] : NaN;
}

/**
 * The unit values a frame carries for layer l: activations and errors of the probe sample or the batch mean.
 * @param {{arrays: object}} frame
 * @param {number} l
 * @param {"probe" | "batch"} source
 * @returns {{a: Float32Array | null, z: Float32Array | null, delta: Float32Array | null}}
 */
export function unitValues(frame, l, source) {
  const get = (key) => frameArray(frame, key)?.data ?? null;
  return source === "batch" && hasBatch(frame)
    ? { a: get(FRAME.A(l)), z: null, delta: get(FRAME.E(l)) }
    : { a: get(FRAME.PA(l)), z: get(FRAME.PZ(l)), delta: get(FRAME.PE(l)) };
}

/**
 * Paint the network for one frame in one view; returns what the legend should say.
 * @param {import("../net/network-view.js").NetworkView} view
 * @param {{header: object, arrays: object}} frame
 * @param {{view: string, source: "probe" | "batch", sizes: number[]}} opts
 * @returns {{view: string, scale: number, missing: boolean}}
 */
export function paintLive(view, frame, { view: mode, source, sizes }) {
  const L = sizes.length;
  const want = mode;
  if ((mode === "gradients" || mode === "updates") && !hasStep(frame)) mode = "weights";
  const W = frameWeights(frame, L);
  const wScale = niceScale(Math.max(...W.map((m) => maxAbs(m ? m.data : []))));
  const units = [];
  for (let l = 1; l <= L; l++) units.push(unitValues(frame, l, source));

  let scale = wScale;
  let linkFn;
  if (mode === "error") {
    const shares = [];
    for (let l = 1; l < L; l++) {
      const d = units[l].delta;
      const m = W[l - 1];
      const s = new Float32Array(m.data.length);
      for (let k = 0; k < m.shape[0]; k++) {
        for (let j = 1; j < m.shape[1]; j++) s[k * m.shape[1] + j] = at(m, k, j) * (d ? d[k] : 0);
      }
      shares.push({ data: s, shape: m.shape });
    }
    scale = Math.max(...shares.map((s) => maxAbs(s.data)));
    linkFn = (l, k, j) => {
      if (j === 0) return [0.7, "zero", 0.2];
      const v = at(shares[l - 1], k, j);
      return [linkWidth(v, scale), "err", 0.3 + 0.7 * intensity(v, scale)];
    };
  } else if (mode === "gradients" || mode === "updates") {
    const key = mode === "gradients" ? FRAME.D : FRAME.U;
    const mats = W.map((_, i) => frameArray(frame, key(i + 1)));
    scale = Math.max(...mats.map((m) => maxAbs(m.data)));
    linkFn = (l, k, j) => {
      const v = at(mats[l - 1], k, j);
      const cls = mode === "gradients" ? "err grad" : signClass(v);
      return [linkWidth(v, scale), cls, 0.3 + 0.7 * intensity(v, scale)];
    };
  } else {
    const faint = mode === "activations";
    linkFn = (l, k, j) => {
      const w = at(W[l - 1], k, j);
      return [linkWidth(w, wScale), signClass(w), (faint ? 0.15 : 0.35) + (faint ? 0.3 : 0.6) * intensity(w, wScale)];
    };
  }
  view.paintLinks(linkFn);
  view.paintFlow(null, "forward", 0, "", null);
  view.svg.classList.toggle("streaming", mode === "error");

  const showErr = mode === "error" || mode === "gradients";
  const dScale = showErr ? Math.max(...units.slice(1).map((u) => maxAbs(u.delta || []))) : 0;
  for (let l = 1; l <= L; l++) {
    const { a, delta } = units[l - 1];
    const aScale = Math.max(1, maxAbs(a || []));
    for (let u = 1; u <= sizes[l - 1]; u++) {
      const v = a ? a[u - 1] : NaN;
      const d = delta ? delta[u - 1] : NaN;
      if (mode === "error") {
        const op = l === 1 ? 0 : intensity(d, dScale);
        view.paintUnit(l, u, { cls: "err", op: 0.06 + 0.9 * op, text: l === 1 ? "" : fmtShort(d), dark: op > 0.55 });
      } else {
        const op = intensity(v, aScale);
        const pill = showErr && l > 1 ? `δ ${fmtShort(d)}` : null;
        view.paintUnit(l, u, { cls: signClass(v), op: 0.08 + 0.9 * op, text: fmtShort(v), dark: op > 0.55, pill });
      }
    }
  }
  view.setNotes(null, null);
  view.focus({});
  return { view: mode, scale, missing: mode !== want };
}

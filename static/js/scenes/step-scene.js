// What the network shows at one moment of a step trace (phase index, progress p): the values revealed
// so far, the pulse on the links of the current phase, and the links of each Θ^(l) in the stage they
// have reached — weights, then lit by the error's share Θ_kj·δ_k, then their gradient D, then updated.

import { fmt, fmtShort } from "../core/format.js";
import { pick, sampleLoss } from "../core/trace.js";
import { ease, intensity, linkWidth, maxAbs, niceScale, segment, signClass } from "../net/scales.js";

/**
 * Where each layer stands at (index, p): how far its units and its links have got.
 * @param {import("../core/trace.js").TraceModel} model
 * @param {number} index
 * @param {number} p
 */
export function stageAt(model, index, p) {
  const s = { reveal: {}, delta: {}, links: {}, linkT: {}, cost: 0 };
  model.phases.forEach((ph, i) => {
    if (i > index) return;
    const q = i < index ? 1 : p;
    const l = ph.layer;
    if (ph.phase === "forward") s.reveal[l] = l === 1 ? segment(q, 0, 0.4) : segment(q, 0.55, 1);
    else if (ph.phase === "cost") s.cost = segment(q, 0.2, 0.6);
    else if (ph.phase === "backward") {
      s.delta[l] = l === model.L ? segment(q, 0.2, 0.6) : segment(q, 0.6, 1);
      if (l < model.L) [s.links[l], s.linkT[l]] = ["share", segment(q, 0, 0.7)];
    } else if (ph.phase === "gradient") [s.links[l], s.linkT[l]] = ["grad", segment(q, 0, 0.6)];
    else if (ph.phase === "update") [s.links[l], s.linkT[l]] = ["update", ease(segment(q, 0.1, 0.9))];
  });
  return s;
}

/**
 * Paint the network for a trace at (index, p), showing the values of batch row `row` (−1: the mean).
 * @param {import("../net/network-view.js").NetworkView} view
 * @param {import("../core/trace.js").TraceModel} model
 * @param {number} index
 * @param {number} p
 * @param {{row: number, config: object}} opts
 */
export function paintStep(view, model, index, p, { row, config }) {
  const cur = model.phases[index];
  const st = stageAt(model, index, p);
  const L = model.L;
  const wScale = niceScale(maxAbs(model.weights));
  const deltas = {};
  for (let l = 2; l <= L; l++) deltas[l] = pick(model.delta[l], row);
  const shares = {};
  const shareScale = {};
  const dScale = {};
  for (let l = 1; l < L; l++) {
    const d = deltas[l + 1];
    shares[l] = d ? model.weights[l - 1].map((r, k) => r.map((w, j) => (j === 0 ? 0 : w * d[k]))) : null;
    shareScale[l] = shares[l] ? maxAbs(shares[l]) : 0;
    dScale[l] = model.D[l] ? maxAbs(model.D[l]) : 0;
  }
  const weightAt = (l, k, j) => {
    const w = model.weights[l - 1][k][j];
    const u = model.update[l];
    return st.links[l] === "update" && u ? w + u.delta[k][j] * st.linkT[l] : w;
  };

  view.paintLinks((l, k, j) => {
    const stage = st.links[l];
    const t = st.linkT[l];
    if (stage === "share" && t > 0) {
      if (j === 0) return [0.7, "zero", 0.25];
      const v = shares[l][k][j];
      return [linkWidth(v, shareScale[l]), "err", 0.3 + 0.7 * intensity(v, shareScale[l]), t];
    }
    if (stage === "grad" && t > 0) {
      const v = model.D[l][k][j];
      return [linkWidth(v, dScale[l]), "err grad", (0.3 + 0.7 * intensity(v, dScale[l])) * (0.4 + 0.6 * t)];
    }
    const w = weightAt(l, k, j);
    const live = stage === "update" && cur.phase === "update" && cur.layer === l && p < 1;
    return [linkWidth(w, wScale), signClass(w) + (live ? " updating" : ""), 0.35 + 0.6 * intensity(w, wScale)];
  });

  if (cur.phase === "forward" && cur.layer > 1 && p < 0.75) {
    const l = cur.layer - 1;
    view.paintFlow(l, "forward", segment(p, 0, 0.75), "pulse", (k, j) => {
      return Math.min(6, Math.max(2.5, linkWidth(model.weights[l - 1][k][j], wScale)));
    });
  } else if (cur.phase === "backward" && cur.layer < L && p < 0.75) {
    const l = cur.layer;
    view.paintFlow(l, "backward", segment(p, 0, 0.7), "pulse err", (k, j) => {
      return j === 0 ? 0 : Math.max(3, linkWidth(shares[l][k][j], shareScale[l]) + 1.5);
    });
  } else {
    view.paintFlow(null, "forward", 0, "", null);
  }

  for (let l = 1; l <= L; l++) {
    const a = pick(model.a[l], row);
    const rev = st.reveal[l] || 0;
    const scale = l === 1 || l < L ? Math.max(1, maxAbs(a)) : 1;
    const dl = deltas[l];
    const dRev = st.delta[l] || 0;
    for (let u = 1; u <= a.length; u++) {
      const v = a[u - 1];
      const op = intensity(v, scale) * rev;
      view.paintUnit(l, u, {
        cls: signClass(v),
        op: 0.08 + 0.92 * op,
        text: rev > 0.5 ? fmtShort(v) : "",
        dark: op > 0.55,
        pill: dl && dRev > 0 ? `δ ${fmtShort(dl[u - 1])}` : null,
      });
    }
  }

  if (st.cost > 0) {
    const y = pick(model.y, row);
    const aL = pick(model.a[L], row);
    const notes = y.map((v) => `${row < 0 && model.m > 1 ? "mean y" : "y"} = ${fmtShort(v)}`);
    let footer = [`ℓ = ${fmt(model.cost.data)}`];
    if (model.m > 1) {
      const own = row >= 0 ? [`ℓ = ${fmt(sampleLoss(aL, y, config.loss, config.output_activation))} (row ${row})`] : [];
      footer = [...own, `J = ${fmt(model.cost.data)} (batch)`];
    }
    view.setNotes(notes, footer);
  } else {
    view.setNotes(null, null);
  }
  const done = index === model.phases.length - 1 && p >= 1;
  view.focus(done ? {} : focusOf(cur, L));
  const lit = cur.phase === "backward" && cur.layer < L;
  return { wScale, shareScale: lit ? shareScale[cur.layer] : null };
}

function focusOf(ph, L) {
  switch (ph.phase) {
    case "forward":
      return { units: ph.layer, links: ph.layer > 1 ? ph.layer - 1 : null };
    case "cost":
      return { units: L, links: null };
    case "backward":
      return { units: ph.layer, links: ph.layer < L ? ph.layer : null };
    default:
      return { units: null, links: ph.layer };
  }
}

// A small appending line chart on a canvas (after TensorFlow Playground's AppendingLineChart): series of
// (step, value) points, a linear or logarithmic y axis, and an HTML legend with each series' latest value.
// It owns its container; the owner pushes points and calls draw(). The canvas holds only lines: the axis
// labels are HTML over it, because text drawn on a canvas in the page makes the browser recompute the
// page's styles on the spot, in the middle of a frame.

import { fmt, fmtCount } from "../core/format.js";

const MAX_POINTS = 400; // a few per pixel column of a side-panel chart
const BASE_PAD = { left: 46, right: 8, top: 6, bottom: 18 }; // CSS px at the 15 px text size
const LABEL_GAP = 12; // px between two y labels, at least
const CHAR_W = 7; // px per character of a tick label, at most

/**
 * @typedef {{key: string, label: string, color: string, dash?: number[]}} Series
 */

/** One line chart (see the module comment). */
export class LineChart {
  /**
   * @param {HTMLElement} root an empty container
   * @param {{series: Series[], log?: boolean, min?: number | null, max?: number | null, height?: number}} opts
   *   min/max: fixed y bounds on the linear scale (accuracy: 0..1)
   */
  constructor(root, opts) {
    this.root = root;
    this.opts = { min: null, max: null, height: 120, ...opts };
    this.log = Boolean(opts.log);
    root.classList.add("chart");
    // The height is in rem (opts.height at the 15 px base), so the chart grows with the page's text.
    root.innerHTML = `<div class="chart-plot" style="height:${this.opts.height / 15}rem"><canvas></canvas><div class="chart-ticks"></div></div><div class="chart-legend"></div>`;
    this.canvas = root.querySelector("canvas");
    this.tickBox = root.querySelector(".chart-ticks");
    this.legend = root.lastChild;
    this.ctx = this.canvas.getContext("2d");
    this.tickKey = "";
    this.width = 0;
    this.cssWidth = 0;
    this.cssHeight = this.opts.height;
    this.height = 0;
    this.dirty = true;
    this.setSeries(opts.series);
    // The width comes from the observer, never from a layout read while a frame is drawn.
    new ResizeObserver((entries) => {
      this.cssWidth = Math.round(entries[0].contentRect.width);
      this.cssHeight = Math.round(entries[0].contentRect.height) || this.opts.height;
      this.dirty = true;
      this.draw();
    }).observe(root.firstChild);
  }

  /** Replace the series (clears the data). @param {Series[]} series */
  setSeries(series) {
    this.series = series;
    this.clear();
    this.legend.innerHTML = series
      .map(
        (s) =>
          `<span class="key"><i class="sw${s.dash ? " dash" : ""}" style="--c:${s.color}"></i><span>${s.label}</span> <b></b></span>`,
      )
      .join("");
    this.latest = [...this.legend.querySelectorAll("b")];
  }

  /** New legend labels for the same series (a language switch). @param {string[]} labels */
  relabel(labels) {
    this.legend.querySelectorAll(".key > span").forEach((el, i) => (el.innerHTML = labels[i] ?? ""));
  }

  /**
   * Forget the points from step x on (the run went back to x: a reset, a restart from a checkpoint, or a
   * frame older than the history just loaded), so that x's new point replaces them.
   * @param {number} x
   */
  truncate(x) {
    const n = this.xs.findIndex((v) => v >= x);
    if (n < 0) return;
    this.xs.length = n;
    for (const ys of this.ys) ys.length = n;
    this.dirty = true;
  }

  /** Forget every point. */
  clear() {
    this.xs = [];
    this.ys = this.series.map(() => []);
    this.dirty = true;
  }

  /** @param {boolean} log a logarithmic y axis */
  setLog(log) {
    this.log = log;
    this.dirty = true;
  }

  /** The x of the last point, or −1. */
  get lastX() {
    return this.xs.length ? this.xs[this.xs.length - 1] : -1;
  }

  /**
   * Append one point per series at x (a missing or non-finite value leaves a gap).
   * @param {number} x
   * @param {Array<number | null | undefined>} values
   */
  push(x, values) {
    this.xs.push(x);
    this.series.forEach((_, i) => this.ys[i].push(Number.isFinite(values[i]) ? values[i] : NaN));
    if (this.xs.length > MAX_POINTS) {
      const keep = (a) => a.filter((_, i) => i % 2 === 0 || i === a.length - 1);
      this.xs = keep(this.xs);
      this.ys = this.ys.map(keep);
    }
    this.dirty = true;
  }

  fit() {
    const w = this.cssWidth;
    const h = this.cssHeight;
    if ((w === this.width && h === this.height) || w === 0) return w > 0;
    const dpr = window.devicePixelRatio || 1;
    this.width = w;
    this.height = h;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return true;
  }

  bounds() {
    let lo = Infinity;
    let hi = -Infinity;
    for (const ys of this.ys) {
      for (const v of ys) {
        if (Number.isNaN(v) || (this.log && v <= 0)) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    if (this.log) {
      if (!(hi > 0)) return [1e-3, 1];
      const a = Math.floor(Math.log10(lo));
      const b = Math.max(a + 1, Math.ceil(Math.log10(hi)));
      return [10 ** a, 10 ** b];
    }
    const min = this.opts.min ?? Math.min(0, lo === Infinity ? 0 : lo);
    const max = this.opts.max ?? (hi === -Infinity ? 1 : hi > min ? hi * 1.05 : min + 1);
    return [min, max];
  }

  /**
   * Redraw when something changed, at most every `every` ms (a chart a tenth of a second late is not seen).
   * @param {number} [every=0]
   */
  draw(every = 0) {
    const now = performance.now();
    if (!this.dirty || now - (this.drawn || 0) < every || !this.fit()) return;
    this.dirty = false;
    this.drawn = now;
    const { ctx } = this;
    const W = this.width;
    const H = this.height;
    // The paddings and labels grow with the chart (the page's text size).
    const k = H / this.opts.height;
    const PAD = {
      left: BASE_PAD.left * k,
      right: BASE_PAD.right * k,
      top: BASE_PAD.top * k,
      bottom: BASE_PAD.bottom * k,
    };
    const pw = W - PAD.left - PAD.right;
    const ph = H - PAD.top - PAD.bottom;
    ctx.clearRect(0, 0, W, H);
    const [lo, hi] = this.bounds();
    const fy = this.log
      ? (v) => PAD.top + ph * (1 - (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)))
      : (v) => PAD.top + ph * (1 - (v - lo) / (hi - lo));
    const n = this.xs.length;
    const x0 = n ? this.xs[0] : 0;
    const x1 = n > 1 ? this.xs[n - 1] : x0 + 1;
    const fx = (x) => PAD.left + (pw * (x - x0)) / (x1 - x0 || 1);
    ctx.strokeStyle = "#e3e7ec";
    ctx.lineWidth = 1;
    const labels = [];
    let labelled = -Infinity;
    for (const v of this.ticks(lo, hi)) {
      const y = Math.round(fy(v)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(PAD.left, y);
      ctx.lineTo(W - PAD.right, y);
      ctx.stroke();
      // A label too close to the one below it would cover it: the line stays, the label goes.
      if (Math.abs(y - labelled) < LABEL_GAP * k) continue;
      labelled = y;
      labels.push(
        `<span class="y" style="top:${y.toFixed(0)}px;width:${(PAD.left - 4).toFixed(0)}px">${fmt(v, 2)}</span>`,
      );
    }
    if (n) {
      const first = fmtCount(x0);
      const last = fmtCount(x1);
      labels.push(`<span class="x0" style="left:${PAD.left.toFixed(0)}px">${first}</span>`);
      // The step labels sit at both ends of the x axis; on a chart too narrow for both, only the first.
      if ((first.length + last.length) * CHAR_W * k + 12 < pw)
        labels.push(`<span class="x1" style="right:${PAD.right.toFixed(0)}px">${last}</span>`);
    }
    const key = labels.join("");
    if (key !== this.tickKey) [this.tickKey, this.tickBox.innerHTML] = [key, key];
    this.series.forEach((s, i) => {
      const ys = this.ys[i];
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 2;
      ctx.setLineDash(s.dash || []);
      ctx.beginPath();
      let pen = false;
      for (let k = 0; k < n; k++) {
        const v = ys[k];
        if (Number.isNaN(v) || (this.log && v <= 0)) {
          pen = false;
          continue;
        }
        const y = Math.max(PAD.top, Math.min(PAD.top + ph, fy(v)));
        if (pen) ctx.lineTo(fx(this.xs[k]), y);
        else ctx.moveTo(fx(this.xs[k]), y);
        pen = true;
      }
      ctx.stroke();
      this.latest[i].textContent = n ? fmt(ys[n - 1]) : "";
    });
    ctx.setLineDash([]);
  }

  ticks(lo, hi) {
    if (this.log) {
      const out = [];
      const a = Math.round(Math.log10(lo));
      const b = Math.round(Math.log10(hi));
      const step = Math.max(1, Math.ceil((b - a) / 4));
      for (let e = a; e <= b; e += step) out.push(10 ** e);
      return out;
    }
    const span = hi - lo;
    const raw = span / 3;
    const mag = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) out.push(Math.abs(v) < 1e-12 ? 0 : v);
    return out;
  }
}

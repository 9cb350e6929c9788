// The output over the input plane: the decision surface (classification; multiclass coloured by class),
// the fitted surface (2-D regression) or the fitted curve (1-D regression), with the training points and,
// on request, the test points. Two stacked canvases: the surface, redrawn with every answer of the worker
// (field.js: a bitmap, or the output's values for the curve), and the points, redrawn only when the data,
// the options or the size change.

import { canvasOf } from "./field.js";
import { classColor, cssColor } from "./heatmap.js";

/**
 * @typedef {{x: number[][], y: number[][], xt: number[][], yt: number[][], task: string, inputs: number,
 *            domain: {x1: [number, number], x2: [number, number]}, range: number}} PlotData
 *   range: the largest |y| (regression colours and the curve's axis)
 */

/** The surface widget (see the module comment). */
export class Surface {
  /** @param {HTMLElement} box an empty container, square */
  constructor(box) {
    this.box = box;
    box.innerHTML = `<canvas class="surf"></canvas><canvas class="pts"></canvas>`;
    [this.surf, this.pts] = box.querySelectorAll("canvas");
    this.data = null;
    this.opts = { showTest: false, discretize: false };
    this.size = 0;
    this.last = null;
    new ResizeObserver((entries) => {
      const size = Math.round(entries[0].contentRect.width);
      if (size && size !== this.size) {
        this.size = size;
        this.fit();
        this.drawPoints();
        if (this.last) this.update(this.last);
      }
    }).observe(box);
  }

  fit() {
    const dpr = window.devicePixelRatio || 1;
    for (const c of [this.surf, this.pts]) {
      c.width = c.height = Math.round(this.size * dpr);
      c.getContext("2d").setTransform(dpr, 0, 0, dpr, 0, 0);
    }
  }

  /** @param {PlotData | null} data */
  setData(data) {
    this.data = data;
    this.drawPoints();
  }

  /** @param {{showTest: boolean, discretize: boolean}} opts */
  setOptions(opts) {
    this.opts = { ...this.opts, ...opts };
    this.drawPoints();
  }

  /** Where a data point goes on the canvas. */
  place(x1, x2) {
    const { domain } = this.data;
    const s = this.size;
    const u = ((x1 - domain.x1[0]) / (domain.x1[1] - domain.x1[0])) * s;
    const v = ((domain.x2[1] - x2) / (domain.x2[1] - domain.x2[0])) * s;
    return [u, v];
  }

  /** The colour of a target row. */
  colorOf(y) {
    const { task, range } = this.data;
    if (task === "multiclass") return classColor(y.indexOf(Math.max(...y)));
    if (task === "classification") return cssColor(2 * y[0] - 1);
    return cssColor(Math.max(-1, Math.min(1, y[0] / (range || 1))));
  }

  drawPoints() {
    const ctx = this.pts.getContext("2d");
    const s = this.size;
    ctx.clearRect(0, 0, s, s);
    if (!this.data || !s || this.data.inputs > 2) return;
    const oneD = this.data.inputs === 1;
    const r = s > 360 ? 4 : 3.4;
    const draw = (xs, ys, test) => {
      ctx.lineWidth = test ? 1.6 : 1;
      ctx.strokeStyle = test ? "#1b2431" : "#ffffff";
      for (let i = 0; i < xs.length; i++) {
        const [u, v] = oneD ? this.place(xs[i][0], ys[i][0]) : this.place(xs[i][0], xs[i][1]);
        ctx.fillStyle = this.colorOf(ys[i]);
        ctx.beginPath();
        ctx.arc(u, v, r, 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
      }
    };
    draw(this.data.x, this.data.y, false);
    if (this.opts.showTest) draw(this.data.xt, this.data.yt, true);
    this.drawAxes(ctx);
  }

  drawAxes(ctx) {
    const { domain } = this.data;
    const s = this.size;
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#4a5565";
    ctx.lineWidth = 3;
    ctx.strokeStyle = "rgba(255,255,255,.85)";
    const label = (text, x, y, align, base) => {
      ctx.textAlign = align;
      ctx.textBaseline = base;
      ctx.strokeText(text, x, y);
      ctx.fillText(text, x, y);
    };
    const n = (v) => String(Math.round(v * 10) / 10).replace("-", "−");
    label(n(domain.x1[0]), 3, s - 2, "left", "bottom");
    label(n(domain.x1[1]), s - 3, s - 2, "right", "bottom");
    label(n(domain.x2[1]), 3, 2, "left", "top");
  }

  /**
   * Draw an answer of the worker: the surface's pixels, or the 1-D curve from the output's values.
   * @param {import("./field.js").FieldAnswer} answer
   */
  update(answer) {
    this.last = answer;
    const s = this.size;
    if (!this.data || !s || this.data.inputs > 2) return;
    const ctx = this.surf.getContext("2d");
    if (this.data.inputs === 1) {
      this.curve(ctx, answer.output, answer.sizes[answer.sizes.length - 1]);
    } else if (answer.surface) {
      this.tile = canvasOf(answer.surface, this.tile);
      ctx.imageSmoothingEnabled = !this.opts.discretize;
      ctx.drawImage(this.tile, 0, 0, s, s);
    }
  }

  /** 1-D regression: the fitted curve y = h(x) over the axis, on a white plot with a zero line. */
  curve(ctx, out, S) {
    const nx = out.length / S;
    const s = this.size;
    ctx.fillStyle = "#fbfcfd";
    ctx.fillRect(0, 0, s, s);
    const [, y0] = this.place(0, 0);
    ctx.strokeStyle = "#d9dee5";
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(0, y0);
    ctx.lineTo(s, y0);
    ctx.stroke();
    ctx.strokeStyle = "#b3208f";
    ctx.lineWidth = 2.5;
    ctx.beginPath();
    const { x1 } = this.data.domain;
    for (let c = 0; c < nx; c++) {
      const x = x1[0] + ((c + 0.5) / nx) * (x1[1] - x1[0]);
      const [u, v] = this.place(x, out[c * S]);
      const vv = Math.max(-s, Math.min(2 * s, v));
      if (c) ctx.lineTo(u, vv);
      else ctx.moveTo(u, vv);
    }
    ctx.stroke();
  }
}

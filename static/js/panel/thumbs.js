// Small pictures of the built-in datasets for the dataset picker (as TensorFlow Playground shows them):
// a sketch of each generator of app/engine/datasets.py drawn on a canvas, with a seeded generator so the
// thumbnails never change. They illustrate the shapes only; the real data comes from the server.

import { classColor, cssColor } from "../output/heatmap.js";

/** A small seeded random generator (mulberry32), uniform in [0, 1). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const N = 70;
const U = (r, lo, hi) => lo + (hi - lo) * r();
const normal = (r) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());

/** Points [x1, x2, class] in about [−6, 6]² for the classification sketches. */
const POINTS = {
  circle(r) {
    return Array.from({ length: N }, (_, i) => {
      const inner = i % 2 === 0;
      const rad = inner ? U(r, 0, 2.5) : U(r, 3.5, 5);
      const a = U(r, 0, 2 * Math.PI);
      return [rad * Math.sin(a), rad * Math.cos(a), inner ? 1 : 0];
    });
  },
  xor(r) {
    return Array.from({ length: N }, () => {
      const x = U(r, -5, 5);
      const y = U(r, -5, 5);
      return [x, y, x * y > 0 ? 1 : 0];
    });
  },
  gauss(r) {
    return Array.from({ length: N }, (_, i) => {
      const c = i % 2 ? -2 : 2;
      return [c + normal(r) * 0.9, c + normal(r) * 0.9, i % 2 ? 0 : 1];
    });
  },
  spiral(r) {
    return Array.from({ length: N }, (_, i) => {
      const k = i % 2;
      const f = Math.floor(i / 2) / (N / 2);
      const t = 1.75 * 2 * Math.PI * f + k * Math.PI;
      return [5 * f * Math.sin(t) + U(r, -0.2, 0.2), 5 * f * Math.cos(t) + U(r, -0.2, 0.2), 1 - k];
    });
  },
  moons(r) {
    return Array.from({ length: N }, (_, i) => {
      const t = U(r, 0, Math.PI);
      const up = i % 2 === 0;
      const [x, y] = up ? [Math.cos(t), Math.sin(t)] : [1 - Math.cos(t), 0.5 - Math.sin(t)];
      return [(x - 0.5) * 3.5, (y - 0.25) * 3.5, up ? 1 : 0];
    });
  },
  blobs(r) {
    return Array.from({ length: N }, (_, i) => {
      const c = i % 3;
      const a = (2 * Math.PI * c) / 3;
      return [4 * Math.cos(a) + normal(r) * 0.7, 4 * Math.sin(a) + normal(r) * 0.7, c];
    });
  },
};

/** Regression sketches: the target over the plane. */
const FIELDS = {
  plane: (x, y) => (x + y) / 12,
  multi_gauss(x, y) {
    let v = 0;
    for (const [cx, cy, s] of [
      [-4, 2.5, 1],
      [0, 2.5, -1],
      [4, 2.5, 1],
      [-4, -2.5, -1],
      [0, -2.5, 1],
      [4, -2.5, -1],
    ]) {
      v += s * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 2);
    }
    return v;
  },
  // the first target of network_n over (x1, x2) at x3 = 0 (its inputs span ±3.5, drawn over ±6)
  network_n(x, y) {
    const sig = (v) => 1 / (1 + Math.exp(-v));
    const [u, w] = [(x * 3.5) / 6, (y * 3.5) / 6];
    return -1 + 1.5 * sig(u - 0.5 * w) + 0.5 * sig(-0.5 - 0.5 * u);
  },
};

/**
 * Draw the thumbnail of dataset `name` on a canvas of size × size CSS pixels.
 * @param {HTMLCanvasElement} canvas
 * @param {string} name
 * @param {number} [size=52]
 */
export function drawThumb(canvas, name, size = 52) {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = canvas.height = Math.round(size * dpr);
  canvas.style.width = canvas.style.height = `${size}px`;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const px = (v) => ((v + 6) / 12) * size;
  const py = (v) => ((6 - v) / 12) * size;
  ctx.fillStyle = "#f8f9fa";
  ctx.fillRect(0, 0, size, size);
  const r = rng(7);
  if (FIELDS[name]) {
    const cell = size / 13;
    for (let i = 0; i < 13; i++) {
      for (let j = 0; j < 13; j++) {
        const x = -6 + (i + 0.5) * (12 / 13);
        const y = 6 - (j + 0.5) * (12 / 13);
        ctx.fillStyle = cssColor(Math.max(-1, Math.min(1, FIELDS[name](x, y))));
        ctx.fillRect(i * cell, j * cell, cell + 0.5, cell + 0.5);
      }
    }
    return;
  }
  if (name === "sine") {
    ctx.strokeStyle = "#b9c1cc";
    ctx.beginPath();
    ctx.moveTo(0, size / 2);
    ctx.lineTo(size, size / 2);
    ctx.stroke();
    for (let i = 0; i < 40; i++) {
      const x = U(r, -6, 6);
      const y = Math.sin(x) * 4.2 + normal(r) * 0.3;
      ctx.fillStyle = cssColor(Math.sin(x));
      dot(ctx, px(x), py(y), 2.2);
    }
    return;
  }
  if (POINTS[name]) {
    for (const [x, y, c] of POINTS[name](r)) {
      ctx.fillStyle = name === "blobs" ? classColor(c) : cssColor(c ? 1 : -1);
      dot(ctx, px(x), py(y), 2.2);
    }
    return;
  }
  ctx.fillStyle = "#4a5565";
  ctx.font = `600 ${Math.round(size / 4)}px system-ui, sans-serif`;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ctx.fillText("CSV", size / 2, size / 2);
}

function dot(ctx, x, y, rad) {
  ctx.beginPath();
  ctx.arc(x, y, rad, 0, 2 * Math.PI);
  ctx.fill();
}

// The forward pass over the input plane and its pictures, off the main thread: a module worker that
// answers each request with the surface and the atlas of unit maps as RGBA pixels (handed over without a
// copy), the output layer's values (the 1-D curve) and, when a unit is hovered, its map at full size.
// (Pixels rather than ImageBitmaps: making a bitmap in a worker costs more than the main thread's
// putImageData of the same pixels when Chromium draws in software.)

import { forwardGrid, makeGrid } from "../core/forward.js";
import { atlasPixels, surfacePixels, unitPixels } from "./paint.js";

let grid = null;
let gridKey = "";
let field = null;

self.onmessage = (e) => {
  const { id, flat, shapes, net, grid: g, look, want } = e.data;
  let at = 0;
  const mats = shapes.map(([r, c]) => {
    const data = flat.subarray(at, at + r * c);
    at += r * c;
    return { data, shape: [r, c] };
  });
  const t0 = performance.now();
  const key = JSON.stringify(g);
  if (key !== gridKey) [grid, gridKey] = [makeGrid(g.domain, g.nx, g.ny), key];
  field = forwardGrid(mats, net, grid, field);
  const L = field.sizes.length;
  const out = { id, sizes: field.sizes, P: field.P, output: field.values[L - 1].slice(), surface: null, atlas: null };
  if (want.surface && grid.ny > 1)
    out.surface = { px: surfacePixels(field, grid, look), width: grid.nx, height: grid.ny };
  if (want.maps) out.atlas = atlasPixels(field, grid, look);
  const z = want.zoom;
  out.zoom = null;
  if (z && z.layer <= L && z.unit <= field.sizes[z.layer - 1]) {
    out.zoom = { ...z, px: unitPixels(field, grid, look, z.layer, z.unit), width: grid.nx, height: grid.ny };
  }
  out.ms = performance.now() - t0;
  const transfer = [out.output.buffer, ...[out.surface, out.atlas, out.zoom].filter(Boolean).map((p) => p.px.buffer)];
  self.postMessage(out, transfer);
};

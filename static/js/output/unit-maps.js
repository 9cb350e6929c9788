// Each unit's own output over the input plane, drawn inside its node (TensorFlow Playground's signature):
// one canvas under the network's SVG, where the worker's atlas of maps (field.js: one image, a tile per
// unit, already round) is drawn into the circles; hovering a unit shows its map enlarged beside it.

import { t } from "../i18n/index.js";
import { canvasOf } from "./field.js";

const ZOOM = 168;
const SUBS = "₀₁₂₃₄₅₆₇₈₉";
const SUPS = "⁰¹²³⁴⁵⁶⁷⁸⁹";
const subscript = (n) => String(n).replace(/\d/g, (d) => SUBS[d]);
const superscript = (n) => `⁽${String(n).replace(/\d/g, (d) => SUPS[d])}⁾`;

/** The unit-map layer of the network (see the module comment). */
export class UnitMaps {
  /**
   * @param {{box: HTMLElement, view: import("../net/network-view.js").NetworkView}} deps
   */
  constructor({ box, view }) {
    this.view = view;
    this.canvas = document.createElement("canvas");
    this.canvas.className = "maps";
    this.canvas.setAttribute("aria-hidden", "true");
    box.prepend(this.canvas);
    this.zoom = document.createElement("div");
    this.zoom.className = "unit-zoom";
    this.zoom.hidden = true;
    this.zoom.innerHTML = `<canvas width="${ZOOM}" height="${ZOOM}"></canvas><p></p>`;
    box.append(this.zoom);
    this.size = { w: 0, h: 0 };
    /** The hovered unit {layer, unit, el}, or null; onHover() is told when it changes. */
    this.hover = null;
    this.onHover = () => {};
    this.atlas = null;
    this.image = document.createElement("canvas");
    this.big = document.createElement("canvas");
    this.shown = false;
    new ResizeObserver((entries) => {
      const r = entries[0].contentRect;
      this.size = { w: r.width, h: r.height };
      this.dpr = window.devicePixelRatio || 1;
      this.canvas.width = Math.round(r.width * this.dpr);
      this.canvas.height = Math.round(r.height * this.dpr);
      if (this.atlas) this.draw(this.atlas);
    }).observe(box);
    view.svg.addEventListener("placed", () => this.atlas && this.draw(this.atlas));
    // A mouse shows a unit's map enlarged while it hovers the unit; a finger or a pen, which cannot hover,
    // by tapping the unit (tapping anything else hides it).
    const point = (node) => {
      const hover = node ? { layer: +node.dataset.layer, unit: +node.dataset.unit, el: node } : null;
      if (hover?.el === this.hover?.el) return;
      this.hover = hover;
      if (!hover) this.zoom.hidden = true;
      this.onHover();
    };
    let touching = false;
    view.svg.addEventListener("pointerdown", (ev) => (touching = ev.pointerType !== "mouse"));
    view.svg.addEventListener(
      "pointerover",
      (ev) => ev.pointerType === "mouse" && point(ev.target.closest(".node.unit")),
    );
    view.svg.addEventListener("pointerleave", (ev) => ev.pointerType === "mouse" && point(null));
    view.svg.addEventListener("click", (ev) => touching && point(ev.target.closest(".node.unit")));
  }

  /** Hide the maps (step mode, maps switched off, no plane to draw). */
  hide() {
    if (!this.shown) return;
    this.shown = false;
    this.atlas = null;
    this.canvas.getContext("2d").clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.view.svg.classList.remove("maps");
    this.zoom.hidden = true;
  }

  /**
   * Draw every unit's map from the worker's atlas (tile i is the map of unit units[i] = [l, u]).
   * @param {import("./field.js").Pixels & {tile: number, units: number[][]}} atlas
   */
  draw(atlas) {
    if (this.atlas !== atlas) canvasOf(atlas, this.image);
    this.atlas = atlas;
    const lay = this.view.layout;
    if (!lay || !this.size.w) return;
    const index = new Map(atlas.units.map(([l, u], i) => [`${l}:${u}`, i]));
    const ctx = this.canvas.getContext("2d");
    const { w, h } = this.size;
    const s = Math.min(w / lay.width, h / lay.height);
    const ox = (w - lay.width * s) / 2;
    const oy = (h - lay.height * s) / 2;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.imageSmoothingEnabled = true;
    const rr = lay.r * s;
    const T = atlas.tile;
    for (const n of lay.nodes) {
      const i = index.get(n.key);
      if (n.bias || i === undefined) continue;
      ctx.drawImage(this.image, i * T, 0, T, T, ox + n.x * s - rr, oy + n.y * s - rr, 2 * rr, 2 * rr);
    }
    if (!this.shown) {
      this.shown = true;
      this.view.svg.classList.add("maps");
    }
  }

  /**
   * Show the hovered unit's map, enlarged, beside it.
   * @param {import("./field.js").Pixels & {layer: number, unit: number}} zoom
   */
  drawZoom(zoom) {
    const hv = this.hover;
    if (!hv || !this.shown || hv.layer !== zoom.layer || hv.unit !== zoom.unit) return;
    const ctx = this.zoom.firstChild.getContext("2d");
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(canvasOf(zoom, this.big), 0, 0, ZOOM, ZOOM);
    const L = this.view.sizes.length;
    const what = hv.layer === 1 ? t("maps.input") : hv.layer === L ? t("maps.output") : t("maps.hidden");
    const cap = `a${subscript(hv.unit)}${superscript(hv.layer)} · ${what}`;
    const p = this.zoom.lastChild;
    if (p.textContent !== cap) p.textContent = cap;
    if (this.zoom.hidden || this.zoomFor !== hv.el) {
      this.zoomFor = hv.el;
      const box = this.zoom.parentElement.getBoundingClientRect();
      const r = hv.el.getBoundingClientRect();
      const right = r.right + 12 + ZOOM + 16 < box.right;
      const x = right ? r.right - box.left + 12 : r.left - box.left - ZOOM - 28;
      const y = Math.max(0, Math.min(box.height - ZOOM - 40, r.top - box.top + r.height / 2 - ZOOM / 2));
      this.zoom.style.transform = `translate(${Math.round(x)}px, ${Math.round(y)}px)`;
      this.zoom.hidden = false;
    }
  }
}

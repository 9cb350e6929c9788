// The network drawn in SVG (elements from network-dom.js, positions from layout.js). The DOM is built
// once per shape; the paint* methods only change attributes, and only when the value differs from the
// last one written. The view never reads the store: scenes tell it what to show.

import { layoutNetwork, linkKey, NARROW, nodeKey } from "./layout.js";
import { buildNetwork, el } from "./network-dom.js";
import { cssPerUnit, fitTitles, textScale } from "./network-fit.js";

/** A stroke width to the nearest quarter pixel, an opacity to the nearest 0.05 (as attribute strings). */
const quarter = (w) => String(Math.round(w * 4) / 4);
const twentieth = (x) => String(Math.round(x * 20) / 20);

/** The SVG renderer of one network (see the module comment). */
export class NetworkView {
  /**
   * @param {SVGSVGElement} svg
   * @param {{onSelect: (sel: object) => void}} handlers
   */
  constructor(svg, { onSelect }) {
    this.svg = svg;
    this.onSelect = onSelect;
    this.sizes = [];
    this.box = { width: 800, height: 500 };
    /** @type {Map<string, import("./network-dom.js").NodeRec>} */
    this.nodes = new Map();
    /** @type {Map<string, import("./network-dom.js").LinkRec>} */
    this.links = new Map();
    this.layout = null;
    svg.addEventListener("click", (ev) => this.click(ev));
    svg.addEventListener("keydown", (ev) => {
      if ((ev.key === "Enter" || ev.key === " ") && ev.target.closest("[data-unit], [data-hit]")) {
        ev.preventDefault();
        ev.stopPropagation();
        this.click(ev);
      }
    });
  }

  click(ev) {
    const node = ev.target.closest("[data-unit]");
    if (node) {
      this.onSelect({ kind: "unit", layer: +node.dataset.layer, unit: +node.dataset.unit });
      return;
    }
    const link = ev.target.closest("[data-hit]");
    if (link) {
      const [layer, row, col] = link.dataset.hit.split(":").map(Number);
      this.onSelect({ kind: "link", layer, row, col });
    }
  }

  /**
   * Build the DOM for a network shape (no-op when the shape is unchanged).
   * @param {number[]} sizes S_1..S_L
   * @param {{inputs: string[], titles: string[]}} labels input names and one title per layer
   */
  setShape(sizes, labels) {
    const key = `${sizes.join("-")}|${labels.inputs.join(",")}|${labels.titles.join(",")}`;
    if (key === this.shapeKey) return;
    this.shapeKey = key;
    this.sizes = sizes.slice();
    this.selectedLine = null;
    this.notesKey = null;
    Object.assign(this, buildNetwork(this.svg, sizes, labels));
    this.place();
  }

  /**
   * Fit the drawing to a box (CSS pixels): recompute the layout and move every element.
   * @param {number} width
   * @param {number} height
   */
  resize(width, height) {
    this.box = { width: Math.max(320, width), height: Math.max(240, height) };
    this.place();
  }

  place() {
    if (!this.sizes.length) return;
    // The drawing is scaled with the page's text (so Large text enlarges it and never shrinks it); a big
    // box also draws everything larger, up to 1.45×.
    const fit = Math.min(1.45, Math.max(1, Math.min(this.box.width / 1000, this.box.height / 560)));
    const zoom = Math.max(fit, textScale(this.svg.ownerDocument));
    const box = { width: this.box.width / zoom, height: this.box.height / zoom };
    // A narrow drawing leaves the input names only the room they need.
    const names = this.inputNames.map((n) => (n.e.textContent || "").length);
    const margins = box.width < NARROW ? { left: 36 + 8 * Math.max(2, ...names) } : {};
    const lay = layoutNetwork(this.sizes, box, margins);
    this.layout = lay;
    const { r } = lay;
    this.svg.setAttribute("viewBox", `0 0 ${lay.width} ${lay.height}`);
    this.svg.classList.toggle("dense", lay.dense);
    this.svg.classList.toggle("compact", lay.compact);
    this.svg.classList.toggle("narrow", lay.narrow);
    this.svg.style.setProperty("--r", `${r}px`);
    // A finger needs ~44 CSS px: each unit has a transparent disc at least that wide to tap.
    const tapR = Math.max(r, 22 / cssPerUnit(this.box, lay)).toFixed(1);
    for (const n of lay.nodes) {
      const rec = this.nodes.get(n.key);
      rec.g.set("transform", `translate(${n.x.toFixed(1)},${n.y.toFixed(1)})`);
      if (rec.bias) {
        const s = r * 0.8;
        for (const [k, v] of Object.entries({ x: -s, y: -s, width: 2 * s, height: 2 * s, rx: s * 0.35 })) {
          rec.shape.set(k, v.toFixed(1));
        }
        rec.lbl.set("x", (-s - 4).toFixed(1));
        rec.lbl.set("text-anchor", "end");
        rec.lbl.set("y", (s * 0.3).toFixed(1));
      } else {
        rec.shape.set("r", r.toFixed(1));
        rec.tap.set("r", tapR);
        rec.lbl.set("x", lay.compact ? (-r - 3).toFixed(1) : 0);
        rec.lbl.set("y", lay.compact ? (-r * 0.45).toFixed(1) : (-r - 5).toFixed(1));
        rec.lbl.set("text-anchor", lay.compact ? "end" : "middle");
      }
      if (rec.pill) {
        rec.pill.set("transform", `translate(0,${(r + 11).toFixed(1)})`);
        this.sizePill(rec);
      }
    }
    for (const p of lay.links) {
      const rec = this.links.get(p.key);
      rec.pos = p;
      for (const c of [rec.line, rec.flow, rec.hit, rec.focus]) {
        if (!c) continue;
        c.set("x1", p.x1.toFixed(1));
        c.set("y1", p.y1.toFixed(1));
        c.set("x2", p.x2.toFixed(1));
        c.set("y2", p.y2.toFixed(1));
      }
    }
    this.inputNames.forEach((t, i) => {
      const n = lay.nodes.find((m) => m.layer === 1 && m.unit === i + 1);
      t.set("x", (n.x - r - 8).toFixed(1));
      t.set("y", (n.y + 5).toFixed(1));
    });
    fitTitles(this.titles, lay);
    this.svg.dispatchEvent(new CustomEvent("placed"));
  }

  sizePill(rec) {
    const text = rec.pillText.a.$text || "";
    const w = Math.max(34, text.length * 7.4 + 12);
    rec.pillRect.set("x", (-w / 2).toFixed(1));
    rec.pillRect.set("width", w.toFixed(1));
    rec.pillRect.set("y", -9);
    rec.pillRect.set("height", 18);
  }

  /** The position {x, y} of a unit's centre (after layout), or null. */
  unitPos(layer, unit) {
    return this.layout ? this.layout.nodes.find((n) => n.layer === layer && n.unit === unit) || null : null;
  }

  /**
   * Paint every link: fn(layer, row, col) → [strokeWidth, className, opacity, reveal?]. reveal f in [0, 1]
   * draws only the part of the link the flow has reached: from the right end (f > 0, the error flowing
   * backward) or from the left (f < 0, forward); absent: the whole link.
   * @param {(layer: number, row: number, col: number) => [number, string, number, number?]} fn
   */
  paintLinks(fn) {
    for (const rec of this.links.values()) {
      const p = rec.pos;
      if (!p) continue;
      const [w, cls, op, reveal] = fn(p.layer, p.row, p.col);
      if (reveal === undefined || Math.abs(reveal) >= 1) {
        rec.line.set("stroke-dasharray", null);
        rec.line.set("stroke-dashoffset", null);
      } else {
        const f = Math.abs(reveal);
        rec.line.set("stroke-dasharray", `${f.toFixed(3)} 2`);
        rec.line.set("stroke-dashoffset", reveal > 0 ? (f - 1).toFixed(3) : 0);
      }
      rec.line.set("stroke-width", quarter(w)); // coarse steps: fewer writes while weights drift
      rec.base = `link ${cls}`;
      rec.line.set("class", rec.line.e === this.selectedLine ? `${rec.base} selected` : rec.base);
      rec.line.set("stroke-opacity", twentieth(op));
    }
  }

  /**
   * Show the moving pulse on the links of Θ^(layer) (forward: left to right, backward: right to left) at
   * progress p, with widths from fn(row, col); layer null hides every pulse.
   * @param {number | null} layer
   * @param {"forward" | "backward"} dir
   * @param {number} p
   * @param {string} cls
   * @param {(row: number, col: number) => number} [widthOf]
   */
  paintFlow(layer, dir, p, cls, widthOf) {
    const d = 0.1;
    const offset = dir === "forward" ? d - p * (1 + d) : p * (1 + d) - 1;
    for (const rec of this.links.values()) {
      const pos = rec.pos;
      if (!pos) continue;
      const on = layer !== null && pos.layer === layer;
      const w = on && widthOf ? widthOf(pos.row, pos.col) : 0;
      rec.flow.set("visibility", on && w > 0 ? "visible" : "hidden");
      if (on && w > 0) {
        rec.flow.set("class", `flow ${cls}`);
        rec.flow.set("stroke-width", w.toFixed(2));
        rec.flow.set("stroke-dashoffset", offset.toFixed(3));
      }
    }
  }

  /**
   * Paint one unit: its fill (class "pos" | "neg" | "err" | "zero" at opacity op), the value inside it, and
   * the δ pill below it (null hides it).
   * @param {number} layer
   * @param {number} unit
   * @param {{cls?: string, op?: number, text?: string, pill?: string | null, dark?: boolean}} look
   */
  paintUnit(layer, unit, look) {
    const rec = this.nodes.get(nodeKey(layer, unit));
    if (!rec || rec.bias || !this.layout) return;
    rec.shape.set("class", `shape ${look.cls || "zero"}`);
    rec.shape.set("fill-opacity", twentieth(look.op ?? 0));
    const text = look.text || "";
    rec.val.text(text);
    rec.val.set("class", look.dark ? "val on-dark" : "val");
    // Squeeze a long number (−3.21×10⁻⁴) into its circle rather than let it spill over the links.
    const room = 2 * this.layout.r - 5;
    const fits = text.length * 6.4 <= room;
    rec.val.set("textLength", fits ? null : room.toFixed(1));
    rec.val.set("lengthAdjust", fits ? null : "spacingAndGlyphs");
    const pill = look.pill ?? null;
    rec.pill.set("visibility", pill === null ? "hidden" : "visible");
    if (pill !== null && rec.pillText.a.$text !== pill) {
      rec.pillText.text(pill);
      this.sizePill(rec);
    }
  }

  /**
   * Emphasise one layer of units and/or the links of one Θ^(l) (the others are dimmed); null: no emphasis.
   * @param {{units?: number | null, links?: number | null}} focus
   */
  focus({ units = null, links = null }) {
    const any = units !== null || links !== null;
    this.svg.classList.toggle("focusing", any);
    this.layerGroups.forEach((g, i) => g.classList.toggle("active", units === i + 1));
    this.linkGroups.forEach((g, i) => g.classList.toggle("active", links === i + 1));
  }

  /**
   * Text beside the output units: one string per output unit, and lines under them (null clears).
   * @param {string[] | null} perUnit
   * @param {string[] | null} footer
   */
  setNotes(perUnit, footer) {
    const key = JSON.stringify([perUnit, footer, this.layout?.width, this.layout?.height]);
    if (key === this.notesKey) return;
    this.notesKey = key;
    this.notesG.textContent = "";
    if (!this.layout) return;
    const L = this.sizes.length;
    const r = this.layout.r;
    (perUnit || []).forEach((text, i) => {
      const n = this.unitPos(L, i + 1);
      el("text", { x: n.x + r + 10, y: n.y + 5, class: "note" }, this.notesG).textContent = text;
    });
    const last = this.unitPos(L, this.sizes[L - 1]);
    (footer || []).forEach((text, i) => {
      const attrs = { x: last.x - r, y: last.y + r + 34 + 18 * i, class: "note cost" };
      el("text", attrs, this.notesG).textContent = text;
    });
  }

  /**
   * Ring the selected unit or link.
   * @param {object | null} sel
   */
  select(sel) {
    for (const e of this.svg.querySelectorAll(".node.selected")) e.classList.remove("selected");
    const prev = this.selectedLine;
    this.selectedLine = null;
    for (const rec of this.links.values()) {
      if (rec.line.e === prev) rec.line.set("class", rec.base);
    }
    if (!sel) return;
    if (sel.kind === "unit") {
      const node = this.svg.querySelector(`.node[data-layer="${sel.layer}"][data-unit="${sel.unit}"]`);
      if (node) node.classList.add("selected");
      return;
    }
    const rec = this.links.get(linkKey(sel.layer, sel.row, sel.col));
    if (rec) {
      this.selectedLine = rec.line.e;
      rec.line.set("class", `${rec.base} selected`);
    }
  }
}

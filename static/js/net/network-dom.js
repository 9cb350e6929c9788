// The SVG elements of a network, built once per shape: one <g> per layer with its units (circles) and
// its bias unit ("+1", a rounded square), and for every link a visible <line>, a <line> for the moving
// pulse and a wide invisible <line> to click. Every element is wrapped in a Cached writer.

import { t } from "../i18n/index.js";
import { countParts, linkKey, nodeKey } from "./layout.js";

const SVG = "http://www.w3.org/2000/svg";
const MAX_FOCUSABLE = 300;

/** Create an SVG element with attributes, appended to parent. */
export function el(name, attrs = {}, parent = null) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}

/** An element with a memory of the attributes written to it, so that repeated paints cost nothing. */
export class Cached {
  constructor(e) {
    this.e = e;
    this.a = Object.create(null);
  }
  set(name, value) {
    const v = value === null ? null : String(value);
    if (this.a[name] !== v) {
      this.a[name] = v;
      if (v === null) this.e.removeAttribute(name);
      else this.e.setAttribute(name, v);
    }
  }
  text(value) {
    if (this.a.$text !== value) {
      this.a.$text = value;
      this.e.textContent = value;
    }
  }
}

/** Write "a", subscript j, superscript (l) into an SVG <text> with tspans. */
function symbol(text, base, sub, sup) {
  text.textContent = "";
  el("tspan", { class: "sym" }, text).textContent = base;
  el("tspan", { dy: "0.35em", "font-size": "72%" }, text).textContent = String(sub);
  el("tspan", { dy: "-0.85em", "font-size": "72%" }, text).textContent = `(${sup})`;
}

/**
 * @typedef {{g: Cached, tap: Cached | null, shape: Cached, val: Cached, lbl: Cached, pill: Cached | null, pillRect: Cached | null,
 *            pillText: Cached | null, bias: boolean}} NodeRec
 * @typedef {{line: Cached, flow: Cached, hit: Cached, focus: Cached | null, pos: object | null, base: string}} LinkRec
 */

/**
 * Build the elements of a network of the given sizes into an (emptied) <svg>.
 * @param {SVGSVGElement} svg
 * @param {number[]} sizes S_1..S_L
 * @param {{inputs: string[], titles: string[]}} labels input names, one title per layer ("\n" breaks lines)
 */
export function buildNetwork(svg, sizes, labels) {
  svg.textContent = "";
  /** @type {Map<string, NodeRec>} */
  const nodes = new Map();
  /** @type {Map<string, LinkRec>} */
  const links = new Map();
  const out = { nodes, links, titles: [], inputNames: [], linkGroups: [], layerGroups: [] };
  const L = sizes.length;
  const linkG = el("g", { class: "links" }, svg);
  const flowG = el("g", { class: "flows", "aria-hidden": "true" }, svg);
  const hitG = el("g", { class: "hits" }, svg);
  const layerG = el("g", { class: "layers" }, svg);
  // Tab reaches the units, then the weights: a focusable copy of each link comes after the units (for
  // networks of up to MAX_FOCUSABLE links; the inspector lists a unit's weights as buttons too). The
  // copies take no pointer events: a click lands on a unit first, else on a link's click area below.
  const keyG = countParts(sizes).links <= MAX_FOCUSABLE ? el("g", { class: "keys" }, svg) : null;
  out.notesG = el("g", { class: "notes" }, svg);
  for (let l = 1; l <= L; l++) {
    if (l < L) {
      const lg = el("g", { class: "layer-links", "data-layer-links": l }, linkG);
      out.linkGroups.push(lg);
      const fg = el("g", { class: "layer-flows" }, flowG);
      const hg = el("g", {}, hitG);
      for (let k = 0; k < sizes[l]; k++) {
        for (let j = 0; j <= sizes[l - 1]; j++) {
          const key = linkKey(l, k, j);
          const attrs = { "data-link": key, "data-layer": l, "data-row": k, "data-col": j, pathLength: 1 };
          const line = new Cached(el("line", { ...attrs, class: "link" }, lg));
          const flow = new Cached(el("line", { class: "flow", pathLength: 1, "stroke-dasharray": "0.1 2" }, fg));
          const name = t("net.link_title", { l, row: k + 1, col: j });
          const hit = new Cached(el("line", { class: "hit", "data-hit": key }, hg));
          el("title", {}, hit.e).textContent = name;
          const keyAttrs = { class: "key", "data-hit": key, tabindex: 0, role: "button", "aria-label": name };
          const focus = keyG ? new Cached(el("line", keyAttrs, keyG)) : null;
          links.set(key, { line, flow, hit, focus, pos: null, base: "link" });
        }
      }
    }
    const g = el("g", { class: "layer", "data-layer": l }, layerG);
    out.layerGroups.push(g);
    const title = el("text", { class: "col-title", "text-anchor": "middle" }, g);
    (labels.titles[l - 1] || "").split("\n").forEach((line, i) => {
      el("tspan", { x: 0, dy: i ? "1.2em" : 0 }, title).textContent = line;
    });
    out.titles.push(new Cached(title));
    for (let u = l < L ? 0 : 1; u <= sizes[l - 1]; u++) nodes.set(nodeKey(l, u), buildNode(g, l, u));
    if (l === 1) {
      for (let u = 1; u <= sizes[0]; u++) {
        const t = el("text", { class: "input-name", "text-anchor": "end" }, g);
        t.textContent = labels.inputs[u - 1] || `x${u}`;
        out.inputNames.push(new Cached(t));
      }
    }
  }
  return out;
}

/** One unit (or bias unit) of layer l: its shape, value, label a_u^(l) and, for units, the δ pill. */
function buildNode(parent, l, u) {
  const bias = u === 0;
  const attrs = { class: bias ? "node bias" : "node unit", "data-layer": l, "data-unit": u, tabindex: 0 };
  if (bias) attrs["data-bias"] = "";
  attrs.role = "button";
  attrs["aria-label"] = bias ? t("net.bias_aria", { l }) : t("net.unit_aria", { u, l });
  const g = el("g", attrs, parent);
  // A transparent disc under a unit, at least a fingertip wide (network-view.js sizes it).
  const tap = bias ? null : el("circle", { class: "tap" }, g);
  const shape = el(bias ? "rect" : "circle", { class: "shape" }, g);
  const val = el("text", { class: "val", "text-anchor": "middle", "dominant-baseline": "central" }, g);
  if (bias) val.textContent = "+1";
  const lbl = el("text", { class: "lbl", "text-anchor": "middle" }, g);
  symbol(lbl, "a", u, l);
  // Bias units have no δ: only units get the pill that shows it.
  const pill = bias ? null : el("g", { class: "pill", visibility: "hidden" }, g);
  if (pill) el("rect", { rx: 4 }, pill);
  const pillText = pill ? el("text", { "text-anchor": "middle", "dominant-baseline": "central" }, pill) : null;
  return {
    g: new Cached(g),
    tap: tap && new Cached(tap),
    shape: new Cached(shape),
    val: new Cached(val),
    lbl: new Cached(lbl),
    pill: pill && new Cached(pill),
    pillRect: pill && new Cached(pill.firstChild),
    pillText: pill && new Cached(pillText),
    bias,
  };
}

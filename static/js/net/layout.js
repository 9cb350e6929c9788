// Where the network's units, bias units and links go, for given layer sizes and a box (pure: no DOM).
// Layers are numbered 1..L as in docs/maths.md; unit 0 of a non-output layer is its bias unit "+1" and units
// 1..S_l are a_1..a_S. The link (l, k, j) is Θ^(l)[k][j]: from unit j of layer l (j = 0: the bias) to
// unit k + 1 of layer l + 1 — k is the row of Θ^(l), j its column, exactly as in the weights JSON.

/**
 * @typedef {{key: string, layer: number, unit: number, bias: boolean, x: number, y: number}} NodePos
 * @typedef {{key: string, layer: number, row: number, col: number, x1: number, y1: number,
 *            x2: number, y2: number}} LinkPos
 * @typedef {{nodes: NodePos[], links: LinkPos[], r: number, spacing: number, colGap: number,
 *            compact: boolean, dense: boolean, narrow: boolean, width: number, height: number}} Layout
 */

/** Default margins: room for the input names on the left and the output notes (y, ℓ) on the right. */
export const MARGINS = Object.freeze({ left: 64, right: 150, top: 18, bottom: 50 });
/** Below this width (a phone, or a page drawn large) the margins shrink and the units take more of each
 * column, so that they stay big enough to read and to tap. */
export const NARROW = 640;
const NARROW_MARGINS = Object.freeze({ left: 48, right: 84, top: 14, bottom: 46 });
const MAX_SPACING = 104;
const MAX_R = 26;
const MIN_R = 7;

/**
 * The key of a unit ("layer:unit"), used for data attributes and caches.
 * @param {number} layer
 * @param {number} unit
 */
export function nodeKey(layer, unit) {
  return `${layer}:${unit}`;
}

/**
 * The key of a link ("layer:row:col").
 * @param {number} layer
 * @param {number} row
 * @param {number} col
 */
export function linkKey(layer, row, col) {
  return `${layer}:${row}:${col}`;
}

/**
 * Positions of every unit, bias unit and link of a network with the given layer sizes, in a box.
 * Bias units sit in one row along the top; each column's units are centred in the space below. A box
 * narrower than NARROW gets small margins and units up to a quarter of the column gap (else a sixth).
 * @param {number[]} sizes S_1..S_L (bias units not counted), L ≥ 2
 * @param {{width: number, height: number}} box
 * @param {Partial<typeof MARGINS>} [margins]
 * @returns {Layout}
 */
export function layoutNetwork(sizes, box, margins = {}) {
  if (!Array.isArray(sizes) || sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new Error("layoutNetwork: sizes must be at least two positive integers");
  }
  const narrow = box.width < NARROW;
  const m = { ...(narrow ? NARROW_MARGINS : MARGINS), ...margins };
  const L = sizes.length;
  const width = Math.max(box.width, m.left + m.right + 40 * (L - 1));
  const height = Math.max(box.height, m.top + m.bottom + 60);
  const colGap = (width - m.left - m.right) / (L - 1);
  const maxUnits = Math.max(...sizes);
  // One bias row plus the tallest stack of units share the height.
  const spacing = Math.min(MAX_SPACING, (height - m.top - m.bottom) / (maxUnits + 1));
  const r = Math.max(MIN_R, Math.min(MAX_R, spacing * (narrow ? 0.31 : 0.27), colGap * (narrow ? 0.25 : 0.16)));
  const biasY = m.top + spacing / 2;
  const unitsTop = m.top + spacing;
  const unitsHeight = height - unitsTop - m.bottom;

  const xOf = (l) => m.left + (l - 1) * colGap;
  const yOf = (l, unit) => {
    if (unit === 0) return biasY;
    const n = sizes[l - 1];
    const first = unitsTop + (unitsHeight - (n - 1) * spacing) / 2;
    return first + (unit - 1) * spacing;
  };

  /** @type {NodePos[]} */
  const nodes = [];
  for (let l = 1; l <= L; l++) {
    const first = l < L ? 0 : 1;
    for (let u = first; u <= sizes[l - 1]; u++) {
      nodes.push({ key: nodeKey(l, u), layer: l, unit: u, bias: u === 0, x: xOf(l), y: yOf(l, u) });
    }
  }

  /** @type {LinkPos[]} */
  const links = [];
  for (let l = 1; l < L; l++) {
    for (let k = 0; k < sizes[l]; k++) {
      for (let j = 0; j <= sizes[l - 1]; j++) {
        const [x1, y1, x2, y2] = trim(xOf(l), yOf(l, j), xOf(l + 1), yOf(l + 1, k + 1), r);
        links.push({ key: linkKey(l, k, j), layer: l, row: k, col: j, x1, y1, x2, y2 });
      }
    }
  }
  // compact: no room above a unit for its label (it goes to the upper left); dense: no room for values.
  // A narrow drawing keeps the values in units down to r = 14 (the page draws them in a smaller font).
  return {
    nodes,
    links,
    r,
    spacing,
    colGap,
    compact: spacing < 80,
    dense: r < (narrow ? 14 : 19),
    narrow,
    width,
    height,
  };
}

/** A segment between two centres, shortened by the node radius at both ends. */
function trim(x1, y1, x2, y2, r) {
  const dx = x2 - x1;
  const dy = y2 - y1;
  const len = Math.hypot(dx, dy) || 1;
  const ux = (dx / len) * r;
  const uy = (dy / len) * r;
  return [x1 + ux, y1 + uy, x2 - ux, y2 - uy];
}

/**
 * How many units, bias units and links a network of these sizes has.
 * @param {number[]} sizes
 * @returns {{units: number, bias: number, links: number}}
 */
export function countParts(sizes) {
  let links = 0;
  for (let l = 1; l < sizes.length; l++) links += sizes[l] * (sizes[l - 1] + 1);
  return { units: sizes.reduce((a, b) => a + b, 0), bias: sizes.length - 1, links };
}

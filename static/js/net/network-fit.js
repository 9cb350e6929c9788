// Fitting the drawn network to the screen (network-view.js): how large the page's text is, how many CSS
// pixels a unit of the layout takes, and layer titles that never run into each other.

/**
 * How much larger than 15 px the page's text is now (Large text, Projector, very wide screens).
 * @param {Document} doc
 */
export function textScale(doc) {
  const px = parseFloat(getComputedStyle(doc.documentElement).fontSize);
  return Number.isFinite(px) && px > 0 ? px / 15 : 1;
}

/**
 * CSS px per layout unit: the viewBox is fitted into the box (preserveAspectRatio "meet").
 * @param {{width: number, height: number}} box the SVG's box in CSS px
 * @param {import("./layout.js").Layout} lay
 */
export function cssPerUnit(box, lay) {
  return Math.min(box.width / lay.width, box.height / lay.height) || 1;
}

/**
 * Place the layer titles under their columns, in a smaller font when a title is wider than a column
 * (they must not run into each other: "INPUTHIDDEN1…").
 * @param {import("./network-dom.js").Cached[]} titles one <text> per layer
 * @param {import("./layout.js").Layout} lay
 */
export function fitTitles(titles, lay) {
  const els = titles.map((t) => t.e);
  titles.forEach((t, i) => {
    const n = lay.nodes.find((m) => m.layer === i + 1 && !m.bias);
    t.set("transform", `translate(${n.x.toFixed(1)},${(lay.height - 20).toFixed(1)})`);
  });
  for (const e of els) e.style.fontSize = "";
  const w = Math.max(...els.map((e) => e.getBBox().width));
  const room = lay.colGap - 6;
  if (w > room && w > 0) {
    const size = Math.max(6, (parseFloat(getComputedStyle(els[0]).fontSize) * room) / w);
    for (const e of els) e.style.fontSize = `${size.toFixed(1)}px`;
  }
}

// Touch gestures on the network: a horizontal swipe moves through the phases of a step (left: the next
// phase, right: the previous one), as the ◂ ▸ buttons and the arrow keys do. Vertical moves scroll the page.

const MIN_DX = 48; // px a finger must travel sideways
const MAX_SLOPE = 0.6; // |dy| / |dx| above this is a scroll, not a swipe

/**
 * Call onLeft / onRight when a touch or pen swipes across el.
 * @param {HTMLElement} el
 * @param {{onLeft: () => void, onRight: () => void}} handlers
 */
export function onSwipe(el, { onLeft, onRight }) {
  let start = null;
  el.addEventListener("pointerdown", (ev) => {
    start = ev.pointerType === "mouse" ? null : { x: ev.clientX, y: ev.clientY, id: ev.pointerId };
  });
  el.addEventListener("pointercancel", () => (start = null));
  el.addEventListener("pointerup", (ev) => {
    if (!start || ev.pointerId !== start.id) return;
    const dx = ev.clientX - start.x;
    const dy = ev.clientY - start.y;
    start = null;
    if (Math.abs(dx) < MIN_DX || Math.abs(dy) > MAX_SLOPE * Math.abs(dx)) return;
    if (dx < 0) onLeft();
    else onRight();
  });
}

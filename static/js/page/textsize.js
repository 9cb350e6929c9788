// The page's size: normal, large text or projector. One class on <html> ("large" | "projector") scales
// every rem of the style sheets, and the network with them (network-view.js follows the root font size);
// the layout reflows to fewer columns as the text grows (screens.css). Remembered for every page of the
// site in localStorage ("bpp.size").

const KEY = "bpp.size";

/** The sizes, smallest first. */
export const SIZES = Object.freeze(["normal", "large", "projector"]);

/** The size chosen last (on any page), or "normal". */
export function savedSize() {
  try {
    const s = globalThis.localStorage ? localStorage.getItem(KEY) : null;
    return s && SIZES.includes(s) ? s : "normal";
  } catch {
    return "normal";
  }
}

/**
 * Show the page at a size and remember it.
 * @param {string} size
 */
export function applySize(size) {
  const html = document.documentElement;
  html.classList.toggle("large", size === "large");
  html.classList.toggle("projector", size === "projector");
  try {
    localStorage.setItem(KEY, size);
  } catch {
    // private mode: the choice lasts for this page only
  }
}

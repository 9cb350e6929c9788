// The inspector, loaded on its first use: most of its code explains one unit or one link of a step, which
// a page that has just opened does not need yet. Until then it shows its hint; the first selection loads
// inspector.js (and inspector-link.js) and renders the latest request.

import { t } from "../i18n/index.js";

/** A stand-in with the Inspector's interface (render) that loads the real one when something is selected. */
export class LazyInspector {
  /**
   * @param {HTMLElement} root
   * @param {{onSelect: (sel: object) => void, onSetWeight: (l: number, k: number, j: number, v: number) => void}} h
   */
  constructor(root, h) {
    this.root = root;
    this.h = h;
    this.real = null;
    this.loading = null;
    this.pending = null;
  }

  /**
   * Render as inspector.js's Inspector.render does (see there); loads it on the first selection.
   * @param {object | null} sel
   * @param {object | null} data
   * @param {object} ctx
   */
  render(sel, data, ctx) {
    if (this.real) {
      this.real.render(sel, data, ctx);
      return;
    }
    this.pending = [sel, data, ctx];
    if (!sel) {
      this.root.innerHTML = `<p class="hint">${t("insp.empty")}</p>`;
      return;
    }
    this.loading ||= import("./inspector.js").then(({ Inspector }) => {
      this.real = new Inspector(this.root, this.h);
      this.real.render(...this.pending);
    });
  }
}

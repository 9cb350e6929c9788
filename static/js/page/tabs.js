// The side panel's tabs — Output, Inspector, Gradient check — as an ARIA tab list: one panel shown at a
// time, arrow keys move between tabs. The learner's actions pick the tab that shows their result
// (clicking a unit: the inspector; playing: the output); see controller.js.

/**
 * Bind the tab list to the store's `tab`.
 * @param {{store: object, actions: object, list: HTMLElement, root: Document}} deps
 */
export function mountTabs({ store, actions, list, root }) {
  const tabs = [...list.querySelectorAll("[role=tab]")];
  list.addEventListener("click", (ev) => {
    const b = ev.target.closest("[role=tab]");
    if (b) actions.setTab(b.dataset.tab);
  });
  list.addEventListener("keydown", (ev) => {
    const i = tabs.indexOf(ev.target);
    if (i < 0 || (ev.key !== "ArrowLeft" && ev.key !== "ArrowRight")) return;
    ev.preventDefault();
    ev.stopPropagation();
    const next = tabs[(i + (ev.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
    next.focus();
    actions.setTab(next.dataset.tab);
  });
  const show = (tab) => {
    for (const b of tabs) {
      const on = b.dataset.tab === tab;
      b.setAttribute("aria-selected", String(on));
      b.tabIndex = on ? 0 : -1;
      root.getElementById(b.getAttribute("aria-controls")).hidden = !on;
    }
  };
  store.subscribe((s, changed) => changed.has("tab") && show(s.tab));
  show(store.get().tab);
}

// The collapsible sections of the one- and two-column layouts (screens.css): a button in a section's
// heading folds the section away and back. On a wide screen the headings are hidden and nothing folds.

/**
 * Bind every fold button (`.fold`, aria-controls naming its section) under root.
 * @param {ParentNode} root
 */
export function mountFolds(root) {
  for (const button of root.querySelectorAll("button.fold")) {
    const section = button.ownerDocument.getElementById(button.getAttribute("aria-controls"));
    if (!section) continue;
    button.setAttribute("aria-expanded", String(!section.classList.contains("folded")));
    button.addEventListener("click", () => setFolded(section, !section.classList.contains("folded")));
  }
}

/**
 * Fold or unfold a section (its heading's button says which).
 * @param {HTMLElement} section
 * @param {boolean} folded
 */
export function setFolded(section, folded) {
  section.classList.toggle("folded", folded);
  const button = section.querySelector(":scope > .fold-head button.fold");
  if (button) button.setAttribute("aria-expanded", String(!folded));
}

/**
 * After a tap on the network in the one-column layout, bring the panel that answers it (the inspector)
 * into view: unfold its section and scroll to it. Elsewhere the panel is already on screen beside it.
 * @param {HTMLElement} panel
 */
export function reveal(panel) {
  const section = panel.closest(".side");
  const stage = panel.ownerDocument.getElementById("stage");
  if (!section || !stage) return;
  const oneColumn = section.getBoundingClientRect().top >= stage.getBoundingClientRect().bottom - 1;
  if (!oneColumn) return;
  setFolded(section, false);
  const r = panel.getBoundingClientRect();
  if (r.top < 0 || r.top > innerHeight * 0.6) panel.scrollIntoView({ behavior: "smooth", block: "start" });
}

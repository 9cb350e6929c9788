// Custom data from a pasted or uploaded CSV file. The text is checked in the page first (csv.js, loaded on
// first use): a bad file gets its line and column in words, and nothing is sent. Good data goes to the session over REST
// PATCH with features for its number of inputs and its task's output and loss; the server's refusal,
// if any, is shown the same way.

import { fmtCount } from "../core/format.js";
import { t } from "../i18n/index.js";

/**
 * Mount the CSV box.
 * @param {{store: object, actions: object, root: Document}} deps
 */
export function mountCsvBox({ store, actions, root }) {
  const $ = (id) => root.getElementById(id);
  const error = $("csv-error");
  const status = $("csv-status");

  function show(msg, ok = false) {
    error.hidden = ok || !msg;
    error.textContent = ok ? "" : msg;
    status.textContent = ok ? msg : "";
  }

  async function use(text, name) {
    const { customPatch, parseCsv } = await import("./csv.js");
    const parsed = parseCsv(text);
    if (parsed.error) {
      const e = parsed.error;
      const where = e.line
        ? e.column
          ? t("csv.at_cell", { line: e.line, column: e.column })
          : t("csv.at_line", { line: e.line })
        : "";
      show(`${name ? `${name}: ` : ""}${where}${t(e.code, e)}`);
      return;
    }
    const patch = customPatch(parsed, $("csv-task").value, Number($("csv-test").value));
    show(t("csv.sending", { n: fmtCount(parsed.x.length) }), true);
    try {
      await actions.configure(patch);
      const d = patch.dataset;
      show(
        t("csv.done", {
          n: fmtCount(d.x.length),
          m: fmtCount(d.x_test ? d.x_test.length : 0),
          inputs: parsed.x[0].length,
        }),
        true,
      );
    } catch (err) {
      show(t("csv.refused", { why: err.message }));
    }
  }

  $("csv-use").addEventListener("click", () => use($("csv-text").value, ""));
  $("csv-file").addEventListener("change", async (e) => {
    const file = e.target.files?.[0];
    if (!file) return;
    $("csv-box").open = true;
    const text = await file.text();
    $("csv-text").value = text.length > 200000 ? `${text.slice(0, 200000)}\n…` : text;
    e.target.value = "";
    await use(text, file.name);
  });
  store.subscribe((_s, changed) => {
    if (changed.has("lang") && !error.hidden) show("");
  });
}

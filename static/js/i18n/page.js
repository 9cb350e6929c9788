// The playground page's strings, registered with t() on import: English at once, Simplified Chinese when
// it is first chosen (readers of one language do not download the other). They live in four files to keep
// each small: the page itself (page-*.js), and the settings panel and lessons (panel-*.js).

import { extend, lazy } from "./index.js";
import { en as pageEn } from "./page-en.js";
import { en as panelEn } from "./panel-en.js";

/** The page's English strings. */
export const en = { ...pageEn, ...panelEn };

extend({ en });
lazy("zh", async () => {
  const [page, panel] = await Promise.all([import("./page-zh.js"), import("./panel-zh.js")]);
  return { zh: { ...page.zh, ...panel.zh } };
});

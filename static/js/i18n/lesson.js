// The derivation lesson's strings, both languages, loaded with the lesson (panel.js, tally.js extend() the
// page's tables with them): English in lesson-en.js, Chinese in lesson-zh.js.

import { en } from "./lesson-en.js";
import { zh } from "./lesson-zh.js";

export const table = { en, zh };

// Run by tests/test_lesson.py: reads engine traces as JSON on stdin (POST …/backprop of one sample, the
// weights and targets it used, the config) and prints what the lesson derives from each, so that Python
// can hold every line to the engine's numbers, its gradient check and its update.
import {
  agreementTable,
  fromRest,
  hiddenGradient,
  numericCheck,
  symmetry,
  update,
} from "../../static/js/lesson/derive.js";
import { countOps } from "../../static/js/lesson/opcount.js";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const out = JSON.parse(input).map((c) => {
  const s = fromRest(c.trace, c.weights, c.y, c.config, c.index);
  const numerical = s.W.map((M, m) => M.map((row, k) => row.map((_, i) => numericCheck(s, m + 1, k + 1, i).numerical)));
  const g4 = hiddenGradient(s, 2, 2);
  return {
    rows: agreementTable(s),
    numerical,
    paths: g4.paths.map((p) => p.product),
    update: update(s, 1, 2, 2, c.alpha),
    symmetry: symmetry(s, c.constant, c.alpha).layers,
    counts: countOps(s.sizes, s.net.loss === "cross_entropy" || s.net.output === "linear"),
  };
});
process.stdout.write(JSON.stringify(out));

// Custom data from CSV text (pure): columns x1[, x2 …], y — the last column is the target. A header line
// is optional (a first line that is not all numbers); blank lines and lines starting with # are skipped;
// the separator is a comma, a semicolon or a tab; with a semicolon or a tab, a decimal comma ("1,5", as
// spreadsheets in much of Europe write it) is read as a decimal point. A bad file gives one error with its line and column
// (both counted from 1), as {code, line, column, …} for the page to put into words.

import { TASK_DEFAULTS } from "./panel-data.js";

/** Limits the server enforces by default (BPP_MAX_SAMPLES, BPP_MAX_INPUTS). */
export const CSV_LIMITS = Object.freeze({ rows: 20000, inputs: 64 });

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * @typedef {{code: string, line?: number, column?: number, value?: string, got?: number, want?: number,
 *            limit?: number}} CsvError
 * @typedef {{x: number[][], y: number[], header: string[] | null, error: null} |
 *           {x: null, y: null, header: null, error: CsvError}} CsvResult
 */

function separatorOf(line) {
  if (line.includes("\t")) return "\t";
  if (line.includes(";")) return ";";
  return ",";
}

const fail = (error) => ({ x: null, y: null, header: null, error });
const DECIMAL_COMMA = /^([+-]?\d*),(\d+([eE][+-]?\d+)?)$/;

/**
 * Parse CSV text into inputs x (rows) and targets y (one number per row).
 * @param {string} text
 * @param {{rows: number, inputs: number}} [limits]
 * @returns {CsvResult}
 */
export function parseCsv(text, limits = CSV_LIMITS) {
  const lines = String(text)
    .replace(/^\uFEFF/, "")
    .split(/\r\n|\n|\r/);
  let sep = null;
  let width = 0;
  let header = null;
  const x = [];
  const y = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (!raw || raw.startsWith("#")) continue;
    const line = i + 1;
    if (sep === null) sep = separatorOf(raw);
    const cells = raw.split(sep).map((c) => (sep === "," ? c.trim() : c.trim().replace(DECIMAL_COMMA, "$1.$2")));
    if (!width) {
      width = cells.length;
      if (width < 2) return fail({ code: "csv.too_few_columns", line, got: width });
      if (width - 1 > limits.inputs)
        return fail({ code: "csv.too_many_inputs", line, got: width - 1, limit: limits.inputs });
      if (!cells.every((c) => NUMBER.test(c))) {
        header = cells;
        continue;
      }
    }
    if (cells.length !== width)
      return fail({
        code: "csv.width",
        line,
        column: Math.min(cells.length, width) + 1,
        got: cells.length,
        want: width,
      });
    const row = [];
    for (let j = 0; j < width; j++) {
      const c = cells[j];
      const v = Number(c);
      if (c === "") return fail({ code: "csv.empty", line, column: j + 1 });
      if (!NUMBER.test(c) || !Number.isFinite(v))
        return fail({ code: "csv.number", line, column: j + 1, value: c.slice(0, 24) });
      row.push(v);
    }
    if (x.length >= limits.rows) return fail({ code: "csv.too_many_rows", line, limit: limits.rows });
    y.push(row.pop());
    x.push(row);
  }
  if (x.length < 2) return fail({ code: "csv.too_few_rows", got: x.length });
  return { x, y, header, error: null };
}

/**
 * The task the server will infer for targets y (one column): 0/1 → classification, else regression.
 * @param {number[]} y
 * @returns {"classification" | "regression"}
 */
export function inferTask(y) {
  return y.every((v) => v === 0 || v === 1) ? "classification" : "regression";
}

/**
 * Split rows into training and test data: the last `testShare` of the rows are the test set.
 * @param {number[][]} x
 * @param {number[]} y
 * @param {number} testShare in [0, 1)
 */
export function splitRows(x, y, testShare) {
  const nTest = Math.min(x.length - 1, Math.round(x.length * testShare));
  const cut = x.length - nTest;
  const out = { x: x.slice(0, cut), y: y.slice(0, cut) };
  if (nTest > 0) Object.assign(out, { x_test: x.slice(cut), y_test: y.slice(cut) });
  return out;
}

/**
 * The settings patch for parsed custom data.
 * @param {{x: number[][], y: number[]}} parsed
 * @param {string} task "" (infer) | "classification" | "multiclass" | "regression"
 * @param {number} testShare
 */
export function customPatch(parsed, task, testShare) {
  const chosen = task || inferTask(parsed.y);
  const dataset = { name: "custom", ...splitRows(parsed.x, parsed.y, testShare) };
  if (task) dataset.task = task;
  const inputs = parsed.x[0].length;
  const features = inputs === 1 ? ["x1"] : inputs === 2 ? ["x1", "x2"] : [];
  const [output_activation, loss] = TASK_DEFAULTS[chosen];
  return { dataset, features, output_activation, loss };
}

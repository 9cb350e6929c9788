// Pure modules of the settings panel and the output, tested in Node (node --test tests/js): the forward pass over the
// grid, CSV parsing, symmetry, colour scales, scenarios, the URL, dataset patches and the speeds.
import assert from "node:assert/strict";
import { test } from "node:test";

import { activate, forwardGrid, makeGrid, netOf, toMats } from "../../static/js/core/forward.js";
import { configFromUrl, shareable, urlFor } from "../../static/js/core/session.js";
import { agreement } from "../../static/js/inspector/gradcheck-view.js";
import { symmetricLayers } from "../../static/js/net/symmetry.js";
import { paintTile, scaleOf } from "../../static/js/output/heatmap.js";
import { plotData, spanOf } from "../../static/js/output/plot-data.js";
import { stepsPerFrame } from "../../static/js/panel/config-actions.js";
import { customPatch, inferTask, parseCsv, splitRows } from "../../static/js/panel/csv.js";
import { datasetPatch } from "../../static/js/panel/panel-data.js";
import { BASE, SCENARIOS, scenarioConfig } from "../../static/js/panel/scenarios.js";

const close = (a, b, tol = 1e-6) => Math.abs(a - b) <= tol * (1 + Math.abs(b));

test("forward pass over a grid: features, activations, every unit's value", () => {
  const W1 = [
    [0.1, 0.5, -0.3],
    [-0.2, 0.4, 0.8],
  ];
  const W2 = [[0.3, -1.2, 0.7]];
  const grid = { x1: Float64Array.from([1, -2]), x2: Float64Array.from([0.5, 3]), P: 2 };
  const net = netOf({ features: ["x1", "x1*x2"], activation: "tanh", hidden: [2], output_activation: "sigmoid" });
  const f = forwardGrid(
    toMats([
      [
        [0.1, 0.5, -0.3],
        [-0.2, 0.4, 0.8],
      ],
      W2,
    ]),
    net,
    grid,
  );
  assert.deepEqual(f.sizes, [2, 2, 1]);
  for (let p = 0; p < 2; p++) {
    const feats = [grid.x1[p], grid.x1[p] * grid.x2[p]];
    assert.ok(close(f.values[0][P(1, p)], feats[1]), "point-major: the features of a point side by side");
    const h = W1.map((r) => Math.tanh(r[0] + r[1] * feats[0] + r[2] * feats[1]));
    h.forEach((v, k) => assert.ok(close(f.values[1][p * 2 + k], v, 1e-6)));
    const z = W2[0][0] + W2[0][1] * h[0] + W2[0][2] * h[1];
    assert.ok(close(f.values[2][p], 1 / (1 + Math.exp(-z))));
  }
  function P(u, p) {
    return p * 2 + u;
  }
});

test("activations mirror the engine; softmax outputs sum to 1; buffers are reused", () => {
  const z = Float32Array.from([-2, 0, 3]);
  const run = (name) => {
    const out = Float32Array.from(z);
    activate(name, out, 0, 3);
    return [...out];
  };
  assert.deepEqual(run("relu"), [0, 0, 3]);
  assert.ok(close(run("leaky_relu")[0], -0.02));
  assert.deepEqual(run("linear"), [-2, 0, 3]);
  assert.ok(close(run("sigmoid")[2], 1 / (1 + Math.exp(-3))));
  const big = Float64Array.from([-800, -1e-9, 0, 1e-9, 800]);
  activate("tanh", big, 0, 5);
  assert.deepEqual([big[0], big[2], big[4]], [-1, 0, 1], "no NaN where exp overflows");
  assert.ok(close(big[3], 1e-9, 1e-6));
  big[0] = -800;
  activate("sigmoid", big, 0, 1);
  assert.equal(big[0], 0);
  const grid = makeGrid({ x1: [-6, 6], x2: [-6, 6] }, 4, 4);
  assert.equal(grid.P, 16);
  assert.ok(grid.x2[0] > grid.x2[15], "row 0 is the top of the plane");
  const mats = toMats([
    [
      [0, 1, 0],
      [0, 0, 1],
      [1, 1, 1],
    ],
  ]);
  const net = { features: ["x1", "x2"], activations: [], output: "softmax" };
  const a = forwardGrid(mats, net, grid);
  for (let p = 0; p < 16; p++)
    assert.ok(close(a.values[1][3 * p] + a.values[1][3 * p + 1] + a.values[1][3 * p + 2], 1, 1e-12));
  const b = forwardGrid(mats, net, grid, a);
  assert.equal(a.values[1], b.values[1], "the same buffer");
  const oneD = makeGrid({ x1: [-6, 6], x2: [-1, 1] }, 10, 1);
  assert.ok(oneD.x2.every((v) => v === 0));
});

test("CSV: header optional, separators, errors with line and column, limits", () => {
  const ok = parseCsv("x1,x2,y\n1,2,0\n\n# a comment\n3,4.5e-1,1\n");
  assert.deepEqual(ok.x, [
    [1, 2],
    [3, 0.45],
  ]);
  assert.deepEqual(ok.y, [0, 1]);
  assert.deepEqual(ok.header, ["x1", "x2", "y"]);
  assert.deepEqual(parseCsv("1;2\n3;4").x, [[1], [3]]);
  assert.deepEqual(parseCsv("1\t2\n3\t4").y, [2, 4]);
  // a spreadsheet's semicolon CSV with decimal commas (issue 12): read, not "“1,0” is not a number"
  const eu = parseCsv("x1;x2;y\n1,0;-2,5;0\n0,25;3;1,5e1\n");
  assert.equal(eu.error, null);
  assert.deepEqual(eu.x, [
    [1, -2.5],
    [0.25, 3],
  ]);
  assert.deepEqual(eu.y, [0, 15]);
  assert.equal(parseCsv("1,0,2\n3,4,5").x[0].length, 2, "with commas as separators a comma is never a decimal point");
  assert.deepEqual(parseCsv("x,y\n1,2\n3,abc").error, { code: "csv.number", line: 3, column: 2, value: "abc" });
  assert.equal(parseCsv("1,2\n3,4,5").error.code, "csv.width");
  assert.equal(parseCsv("1,2\n3,4,5").error.line, 2);
  assert.equal(parseCsv("1,2\n3,").error.code, "csv.empty");
  assert.equal(parseCsv("1\n2").error.code, "csv.too_few_columns");
  assert.equal(parseCsv("1,2").error.code, "csv.too_few_rows");
  assert.equal(parseCsv("1,2\n3,NaN").error.code, "csv.number");
  assert.equal(parseCsv("1,2\n3,4\n5,6", { rows: 2, inputs: 64 }).error.code, "csv.too_many_rows");
  assert.equal(inferTask([0, 1, 1]), "classification");
  assert.equal(inferTask([0, 2]), "regression");
  const split = splitRows([[1], [2], [3], [4], [5]], [1, 2, 3, 4, 5], 0.4);
  assert.deepEqual([split.x.length, split.x_test.length], [3, 2]);
  assert.equal(splitRows([[1], [2]], [1, 2], 0).x_test, undefined);
  const patch = customPatch({ x: [[1], [2], [3]], y: [0.5, 1, 2] }, "", 0);
  assert.deepEqual([patch.features, patch.output_activation, patch.loss], [["x1"], "linear", "mse"]);
  assert.equal(
    customPatch(
      {
        x: [
          [1, 2, 3],
          [4, 5, 6],
        ],
        y: [0, 1],
      },
      "",
      0,
    ).features.length,
    0,
  );
});

test("symmetry: layers whose units all have the same incoming weights", () => {
  const m = (rows) => toMats([rows])[0];
  const same = m([
    [0.1, 0.2],
    [0.1, 0.2],
    [0.1, 0.2],
  ]);
  const diff = m([
    [0.1, 0.2],
    [0.1, 0.3],
  ]);
  const out = m([[1, 2, 3, 4]]);
  assert.deepEqual(symmetricLayers([same, diff, out]), [2]);
  assert.deepEqual(symmetricLayers([diff, same, out]), [3]);
  assert.deepEqual(symmetricLayers([m([[0.5, 1]]), out]), [], "one unit is not a symmetry");
  assert.deepEqual(symmetricLayers([same]), [], "the output layer is not checked");
  assert.deepEqual(symmetricLayers(null), []);
});

test("colour scales: sigmoid centred at ½, tanh as is, free scales by the largest |value|", () => {
  assert.deepEqual(scaleOf("sigmoid", [], 0, 1, 0), { mul: 2, add: -1 });
  assert.deepEqual(scaleOf("tanh", [], 0, 1, 0), { mul: 1, add: 0 });
  assert.equal(scaleOf("relu", [0, 9, 4, 9, -2, 9], 0, 2, 3).mul, 0.25, "every other value: one unit of two");
  assert.equal(scaleOf("free", [9], 0, 1, 1, 3).mul, 1 / 3);
  const px = new Uint8ClampedArray(2 * 4);
  paintTile(px, 0, 2, [-1, 5, 1, 5], 0, 2, { nx: 2, ny: 1 }, { mul: 1, add: 0 });
  assert.ok(px[2] < px[6], "positive is blue, negative orange");
  assert.equal(px[3], 255);
});

test("scenarios: full configs on top of the defaults", () => {
  const ids = SCENARIOS.map((s) => s.id);
  assert.deepEqual(ids, ["xor", "symmetry", "vanishing", "diverge", "overfit", "spiral"]);
  for (const sc of SCENARIOS) {
    const c = scenarioConfig(sc);
    for (const k of Object.keys(BASE)) assert.ok(k in c, `${sc.id}: ${k}`);
    assert.equal(Object.keys(c.dataset).length, Object.keys(BASE.dataset).length);
  }
  assert.equal(scenarioConfig(SCENARIOS[4]).dataset.name, "xor");
  assert.equal(scenarioConfig(SCENARIOS[4]).dataset.samples, 200);
});

test("the URL carries the whole setup and reads back; custom data stays out", () => {
  const config = { ...BASE, output_activation: null, dataset: { ...BASE.dataset, task: null } };
  const { search, query } = urlFor(config, "e5", "xor");
  const back = configFromUrl(search);
  assert.equal(back.query, query);
  assert.deepEqual(back.config.hidden, [4, 2]);
  assert.ok(!("output_activation" in back.config) && !("task" in back.config.dataset));
  assert.equal(back.pace, "e5");
  assert.equal(back.scenario, "xor");
  assert.equal(configFromUrl("").pace, "e1");
  assert.ok(configFromUrl("?config=%5B1%5D").error);
  const custom = shareable({ ...BASE, dataset: { name: "custom" } });
  assert.ok(custom.custom && !("dataset" in custom.config) && !("features" in custom.config));
  assert.ok(urlFor({ ...BASE, dataset: { name: "custom" } }, "e1", null).search.includes("data=custom"));
});

test("a new dataset brings its task's output and loss and valid features", () => {
  const session = { task: "classification", config: { ...BASE, features: ["x1", "x2", "x1*x2"] } };
  const sine = datasetPatch(session, { inputs: 2 }, { name: "sine", task: "regression", inputs: 1 });
  assert.deepEqual(sine.features, ["x1"]);
  assert.deepEqual([sine.output_activation, sine.loss], ["linear", "mse"]);
  assert.equal(sine.dataset.name, "sine");
  const xor = datasetPatch(session, { inputs: 2 }, { name: "xor", task: "classification", inputs: 2 }, { noise: 0.1 });
  assert.deepEqual(xor.features, ["x1", "x2", "x1*x2"]);
  assert.ok(!("loss" in xor));
  assert.equal(xor.dataset.noise, 0.1);
  const back = datasetPatch(
    { task: "regression", config: { ...BASE, features: ["sin(x1)"] } },
    { inputs: 1 },
    { name: "blobs", task: "multiclass", inputs: 2 },
  );
  assert.deepEqual(back.features, ["x1", "x2"]);
  assert.equal(back.output_activation, "softmax");
});

test("speeds, plot data, agreement classes", () => {
  const s = { n_train: 250, config: { batch_size: 10 } };
  assert.equal(stepsPerFrame("s1", s), 1);
  assert.equal(stepsPerFrame("e1", s), 0);
  assert.equal(stepsPerFrame("e5", s), 125);
  assert.equal(stepsPerFrame("nonsense", s), 0);
  assert.deepEqual(spanOf([[1], [2]], 0, true), [-6, 6]);
  const pd = plotData({
    config: { dataset: { name: "custom" } },
    data: { task: "regression", x: [[0], [10]], y: [1, -3] },
  });
  assert.equal(pd.inputs, 1);
  assert.equal(pd.range, 3);
  assert.ok(pd.domain.x1[0] < 0 && pd.domain.x1[1] > 10);
  assert.ok(pd.domain.x2[0] < -3 && pd.domain.x2[1] > 1, "1-D: the second axis is y");
  assert.equal(agreement(1e-8), "ok");
  assert.equal(agreement(1e-4), "warn");
  assert.equal(agreement(0.1), "bad");
  assert.equal(agreement(NaN), "bad");
});

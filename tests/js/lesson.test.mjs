// The derivation lesson's pure modules (static/js/lesson/): the pass of one sample, every derived line
// against the pass's own δ and D, central differences, the multiply-add counts by formula against brute
// force, and the judging of predictions. The engine side of the same numbers is tests/test_lesson.py.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  agreementTable,
  hiddenGradient,
  netOf,
  numericCheck,
  outputGradient,
  sampleCost,
  symmetry,
  unitDelta,
  update,
} from "../../static/js/lesson/derive.js";
import { backpropByHand, chainRuleByHand, countOps, growth } from "../../static/js/lesson/opcount.js";
import { centralDifference, pass } from "../../static/js/lesson/passes.js";
import { judge, parseNumber, slipsFor, withinRounding } from "../../static/js/lesson/predict.js";

const close = (a, b, tol = 1e-12) => Math.abs(a - b) <= tol * (1 + Math.abs(b));

// Network N: 3 inputs + bias, 3 hidden units, 2 linear outputs, squared error.
const W = [
  [
    [0.1, -0.4, 0.3, 0.2],
    [-0.2, 0.5, -0.6, 0.1],
    [0.3, 0.2, 0.4, -0.5],
  ],
  [
    [0.05, 0.7, -0.3, 0.2],
    [-0.1, -0.4, 0.8, 0.6],
  ],
];
const x = [0.5, -1.2, 2.0];
const y = [0.3, -0.7];
const CONFIG = {
  hidden: [3],
  activation: "sigmoid",
  output_activation: "linear",
  loss: "mse",
  regularization: "none",
  reg_rate: 0,
};

/** A Sample as derive.js reads it, from the lesson's own pass (standing in for an engine trace). */
function sampleOf(Wts, xs, ys, config) {
  const net = netOf(config);
  const p = pass(Wts, xs, ys, net);
  return {
    L: Wts.length + 1,
    sizes: p.a.slice(1).map((v) => v.length),
    W: Wts,
    a: p.a,
    z: p.z,
    delta: p.delta,
    D: p.D,
    y: ys,
    cost: p.cost,
    net,
    index: 0,
  };
}

test("the pass of N by hand: z, a, δ, D as the course writes them", () => {
  const s = sampleOf(W, x, y, CONFIG);
  const sig = (v) => 1 / (1 + Math.exp(-v));
  const a2 = W[0].map((r) => sig(r[0] + r[1] * x[0] + r[2] * x[1] + r[3] * x[2]));
  const a3 = W[1].map((r) => r[0] + r[1] * a2[0] + r[2] * a2[1] + r[3] * a2[2]);
  a2.forEach((v, k) => assert.ok(close(s.a[2][k], v)));
  a3.forEach((v, k) => assert.ok(close(s.a[3][k], v)));
  const d3 = a3.map((v, k) => v - y[k]);
  d3.forEach((v, k) => assert.ok(close(s.delta[3][k], v)));
  // the course's two lines: ∂J/∂Θ11(2) = δ1(3)·a1(2); ∂J/∂Θ22(1) = (δ1(3)Θ12(2) + δ2(3)Θ22(2))·g'(z2(2))·x2
  assert.ok(close(s.D[2][0][1], d3[0] * a2[0]));
  const d22 = (d3[0] * W[1][0][2] + d3[1] * W[1][1][2]) * a2[1] * (1 - a2[1]);
  assert.ok(close(s.delta[2][1], d22));
  assert.ok(close(s.D[1][1][2], d22 * x[1]));
  assert.ok(close(s.cost.total, 0.5 * ((a3[0] - y[0]) ** 2 + (a3[1] - y[1]) ** 2)));
});

test("every derived line equals the pass's value, and each gradient its central difference", () => {
  for (const config of [
    CONFIG,
    { ...CONFIG, activation: "linear" },
    { ...CONFIG, activation: "tanh", regularization: "l2", reg_rate: 0.3 },
  ]) {
    const s = sampleOf(W, x, y, config);
    for (const row of agreementTable(s))
      assert.ok(close(row.value, row.engine), `${row.name}: ${row.value} vs ${row.engine}`);
    const g4 = hiddenGradient(s, 2, 2);
    assert.equal(g4.paths.length, 2, "two paths from Θ22(1) to J, one per output");
    assert.ok(close(g4.paths[0].product + g4.paths[1].product, g4.sum));
    if (config.activation === "linear") assert.equal(g4.gPrime, 1, "linear hidden units: the course's line exactly");
    for (let l = 1; l <= 2; l++) {
      for (let k = 1; k <= W[l - 1].length; k++) {
        for (let i = 0; i < 4; i++) {
          const c = numericCheck(s, l, k, i);
          assert.ok(c.error < 1e-7, `Θ${k}${i}(${l}): ${c.analytic} vs ${c.numerical}`);
        }
      }
    }
  }
});

test("a classification variant: softmax + cross-entropy and sigmoid + cross-entropy give δ(L) = a − y", () => {
  for (const out of ["softmax", "sigmoid"]) {
    const config = { ...CONFIG, output_activation: out, loss: "cross_entropy" };
    const s = sampleOf(W, x, [1, 0], config);
    for (const row of agreementTable(s)) assert.ok(close(row.value, row.engine), `${out} ${row.name}`);
    assert.ok(close(unitDelta(s, 3, 1).value, s.a[3][0] - 1));
    assert.ok(numericCheck(s, 1, 2, 2).error < 1e-7);
  }
  const s = sampleOf(W, x, y, { ...CONFIG, output_activation: "tanh" });
  const d = unitDelta(s, 3, 2);
  assert.ok(!d.simple && close(d.value, (s.a[3][1] - y[1]) * (1 - s.a[3][1] ** 2)), "mse + tanh: (a − y)·g'(z)");
});

test("the cost of one sample term by term, with the regularization term (bias excluded)", () => {
  const s = sampleOf(W, x, y, { ...CONFIG, regularization: "l2", reg_rate: 0.5 });
  const c = sampleCost(s);
  const sq = W.flat().reduce((t, r) => t + r.slice(1).reduce((u, w) => u + w * w, 0), 0);
  assert.ok(close(c.sumSq, sq));
  assert.ok(close(c.reg, 0.25 * sq));
  assert.ok(close(c.total, c.engine.total));
});

test("one update of Θ22(1) and the symmetry of equal weights", () => {
  const s = sampleOf(W, x, y, CONFIG);
  const u = update(s, 1, 2, 2, 0.1);
  assert.ok(close(u.after, W[0][1][2] - 0.1 * s.D[1][1][2]));
  const sym = symmetry(s, 0.5, 0.1);
  const [hidden] = sym.layers;
  assert.ok(
    hidden.a.every((v) => v === hidden.a[0]),
    "equal a",
  );
  assert.ok(
    hidden.delta.every((v) => v === hidden.delta[0]),
    "equal δ",
  );
  assert.ok(hidden.same, "equal rows of Θ(1) after the update");
});

test("central difference of a weight is the slope of J", () => {
  const net = netOf(CONFIG);
  const d = centralDifference(W, x, y, net, 2, 1, 1);
  assert.ok(close(d, pass(W, x, y, net).D[2][0][1], 1e-8));
});

test("multiply-add counts: a hand count for N, and the formula against brute force", () => {
  // N by hand: chain rule — Θ(2): 8 weights × δ·a = 8; Θ(1): 12 weights × (2 paths × (Θ·g'·err: 2) + ·x) = 60.
  // stored δ — δ(2): 3 units × (2 products + g') = 9; D: 12 + 8 = 20.
  assert.deepEqual(countOps([3, 3, 2]), { chain: 68, stored: 29, weights: 20, paths: [2, 1] });
  const shapes = [
    [3, 3, 2],
    [3, 4, 4, 2],
    [2, 5, 3, 4, 1],
    [3, 2, 2, 2, 2, 2],
    [1, 1],
    [4, 6, 3],
  ];
  for (const sizes of shapes) {
    for (const simple of [true, false]) {
      const W2 = sizes
        .slice(1)
        .map((S, m) =>
          Array.from({ length: S }, (_, k) =>
            Array.from({ length: sizes[m] + 1 }, (_, i) => Math.sin(1 + k * 3 + i * 7 + m)),
          ),
        );
      const config = {
        hidden: sizes.slice(1, -1),
        activation: "tanh",
        output_activation: simple ? "linear" : "tanh",
        loss: "mse",
      };
      const xs = Array.from({ length: sizes[0] }, (_, i) => 0.3 * i - 0.5);
      const ys = Array.from({ length: sizes.at(-1) }, (_, k) => 0.2 * k);
      const net = netOf(config);
      const p = pass(W2, xs, ys, net);
      const L = sizes.length;
      const gp = p.a.map((al, l) => (l >= 2 ? al.map((a) => 1 - a * a) : []));
      const f = { W: W2, a: p.a, gp, err: p.a[L].map((a, k) => a - ys[k]), simple };
      const byHand = chainRuleByHand(f);
      const bp = backpropByHand(f);
      const c = countOps(sizes, simple);
      assert.equal(byHand.ops, c.chain, `chain rule ${sizes} ${simple}`);
      assert.equal(bp.ops, c.stored, `stored δ ${sizes} ${simple}`);
      for (let m = 0; m < W2.length; m++) {
        for (let k = 0; k < W2[m].length; k++) {
          for (let i = 0; i < W2[m][k].length; i++) {
            assert.ok(close(byHand.D[m][k][i], p.D[m + 1][k][i], 1e-10), "the chain rule's gradient is backprop's");
            assert.ok(close(bp.D[m][k][i], p.D[m + 1][k][i], 1e-12));
          }
        }
      }
    }
  }
  assert.deepEqual(
    [countOps([3, 4, 4, 4, 4, 2]).chain, countOps([3, 4, 4, 4, 4, 2]).stored],
    [21030, 158],
    "docs/maths.md",
  );
  const g = growth(3, 2, 3, 5);
  assert.deepEqual(g[0], { hidden: 1, sizes: [3, 3, 2], chain: 68, stored: 29 });
  for (let h = 1; h < g.length; h++)
    assert.ok(g[h].chain / g[h].stored > g[h - 1].chain / g[h - 1].stored, "the gap widens");
});

test("predictions: right within rounding, wrong with the slip named", () => {
  assert.deepEqual(parseNumber("−0,42"), { value: -0.42, decimals: 2 });
  assert.deepEqual(parseNumber("1.5e-3"), { value: 0.0015, decimals: 4 });
  assert.equal(parseNumber("abc"), null);
  assert.equal(parseNumber(""), null);
  assert.ok(withinRounding(0.1234, 4, 0.12344));
  assert.ok(withinRounding(0.12, 2, 0.1234), "rounded to the learner's two decimals");
  assert.ok(!withinRounding(0, 0, 0.004), "0 is not 0.004: two significant digits at least");
  assert.ok(!withinRounding(0.13, 2, 0.1234));
  const s = sampleOf(W, x, y, CONFIG);
  const g4 = hiddenGradient(s, 2, 2);
  const truth = g4.value;
  assert.equal(judge(truth.toPrecision(4), truth, slipsFor("grad", g4)).result, "right");
  assert.deepEqual(judge((-truth).toPrecision(4), truth, slipsFor("grad", g4)), {
    result: "wrong",
    slip: "sign",
    typed: Number((-truth).toPrecision(4)),
  });
  assert.equal(judge(g4.delta.toPrecision(4), truth, slipsFor("grad", g4)).slip, "no_input");
  assert.equal(
    judge((g4.paths[0].product * g4.gPrime * g4.ai).toPrecision(4), truth, slipsFor("grad", g4)).slip,
    "one_path",
  );
  assert.equal(judge("12345", truth, slipsFor("grad", g4)).slip, null);
  assert.equal(judge("x", truth).result, "unreadable");
  const u = update(s, 1, 2, 2, 0.1);
  assert.equal(judge((u.before + u.alpha * u.D).toPrecision(5), u.after, slipsFor("update", u)).slip, "plus");
  const d3 = unitDelta(s, 3, 1);
  assert.equal(judge(d3.value.toFixed(4), d3.value, slipsFor("delta3", d3)).result, "right");
  const g3 = outputGradient(s, 1, 1);
  assert.ok(close(g3.value, s.delta[3][0] * s.a[2][0]));
});

test("the nine steps render with the sample's numbers, hide predicted values until revealed, in both languages", async () => {
  const { STEPS, QUIZ, renderStep, predictionTarget } = await import("../../static/js/lesson/steps.js");
  const { extend, setLang, t } = await import("../../static/js/i18n/index.js");
  const { table } = await import("../../static/js/i18n/lesson.js");
  const { fmt } = await import("../../static/js/core/format.js");
  extend(table);
  const s = sampleOf(W, x, y, CONFIG);
  const base = {
    s,
    metrics: { train_loss: 0.2, regularization: 0 },
    nTrain: 100,
    config: { ...CONFIG, learning_rate: 0.1, optimizer: "sgd" },
    unit: { l: 2, k: 2 },
    grow: { hidden: 2, width: 3 },
    answers: {},
  };
  assert.equal(STEPS.length, 9);
  for (const lang of ["en", "zh"]) {
    await setLang(lang);
    for (let n = 1; n <= 9; n++) {
      const hidden = renderStep(n, { ...base, revealed: new Set() });
      const shown = renderStep(n, { ...base, revealed: new Set(STEPS.flatMap((st) => st.predictions)) });
      assert.ok(
        !/lesson\.[a-z_.]+/.test(shown.html.replace(/data-[a-z-]+="[^"]*"/g, "")),
        `step ${n} ${lang}: a missing string`,
      );
      assert.ok(!shown.html.includes("NaN") && !shown.html.includes("undefined"), `step ${n}`);
      for (const id of STEPS[n - 1].predictions) {
        const v = fmt(predictionTarget(id, s, 0.1).value);
        assert.ok(hidden.html.includes(`data-predict="${id}"`), `step ${n} asks for ${id}`);
        assert.ok(!hidden.html.includes(`<mn>${v}</mn>`), `step ${n}: ${id} = ${v} is hidden before the prediction`);
        assert.ok(shown.html.includes(`<mn>${v}</mn>`), `step ${n}: ${id} = ${v} is shown after it`);
      }
    }
  }
  await setLang("en");
  assert.ok(
    renderStep(1, { ...base, revealed: new Set() }).html.includes(`<mn>${fmt(s.a[2][0])}</mn>`),
    "a1(2) of the sample",
  );
  const st4 = renderStep(4, { ...base, revealed: new Set(["delta2", "grad"]) });
  assert.deepEqual(st4.lit.links.sort(), ["1:2:2", "2:1:2", "2:2:2"], "Θ22(1) and the two paths' Θ12(2), Θ22(2)");
  assert.ok(st4.html.includes(`<mn>${fmt(s.D[1][1][2])}</mn>`));
  const st6 = renderStep(6, { ...base, revealed: new Set() });
  assert.ok(
    st6.html.includes('<td data-count="chain">68</td>') && st6.html.includes('<td data-count="stored">29</td>'),
  );
  const st5 = renderStep(5, { ...base, unit: { l: 2, k: 3 }, revealed: new Set() });
  assert.ok(st5.html.includes(`<mn>${fmt(s.delta[2][2])}</mn>`), "δ of the clicked unit");
  const quiz = renderStep(9, { ...base, answers: { theta_count: "2", delta1: "yes" }, revealed: new Set() }).html;
  assert.equal((quiz.match(/class="right"/g) || []).length, 1);
  assert.equal((quiz.match(/class="wrong"/g) || []).length, 1);
  assert.equal(QUIZ.length, 6);
  assert.equal(t("lesson.s.store"), "Store the δ");
});

test("the steps render for the classification variants and deeper networks too", async () => {
  const { renderStep } = await import("../../static/js/lesson/steps.js");
  const { fmt } = await import("../../static/js/core/format.js");
  const cases = [
    [W, [1, 0], { ...CONFIG, output_activation: "softmax", loss: "cross_entropy" }],
    [
      W,
      [1, 0],
      { ...CONFIG, output_activation: "sigmoid", loss: "cross_entropy", regularization: "l2", reg_rate: 0.2 },
    ],
    [
      [
        W[0],
        [
          [0.1, 0.2, -0.3, 0.4],
          [0.3, -0.1, 0.2, 0.5],
          [-0.2, 0.1, 0.1, -0.4],
        ],
        W[1],
      ],
      y,
      { ...CONFIG, hidden: [3, 3] },
    ],
  ];
  for (const [Ws, ys, config] of cases) {
    const s = sampleOf(Ws, x, ys, config);
    const c = {
      s,
      metrics: { train_loss: 0.3, regularization: 0.01 },
      nTrain: 50,
      config: { ...config, learning_rate: 0.1, optimizer: "sgd" },
      unit: { l: 2, k: 1 },
      grow: { hidden: 1, width: 3 },
      answers: {},
      revealed: new Set(["delta3", "delta2", "grad", "update"]),
    };
    for (let n = 1; n <= 9; n++) {
      const out = renderStep(n, c);
      assert.ok(
        !out.html.includes("NaN") && !out.html.includes("undefined") && !out.html.includes("<mn>—</mn>"),
        `${config.output_activation} step ${n}`,
      );
    }
    assert.ok(
      renderStep(3, c).html.includes(`<mn>${fmt(s.D[s.L - 1][0][1])}</mn>`),
      "∂J/∂Θ11 of the last weight layer",
    );
    assert.ok(renderStep(4, c).html.includes(`<mn>${fmt(s.D[s.L - 2][1][2])}</mn>`), "∂J/∂Θ22 of the layer before");
  }
});

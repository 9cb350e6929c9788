// Pure modules of the page, tested in Node (node --test tests/js): layout, number formatting, scales,
// the trace helpers and the step-mode timeline with a fake clock.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fmt, fmtFactor, isNum, parseFmt } from "../../static/js/core/format.js";
import { derivative, outputRule, phaseName, pick, sampleLoss } from "../../static/js/core/trace.js";
import { countParts, layoutNetwork, linkKey, nodeKey } from "../../static/js/net/layout.js";
import { intensity, linkWidth, maxAbs, segment, signClass } from "../../static/js/net/scales.js";
import { Timeline } from "../../static/js/scenes/timeline.js";

const BOX = { width: 900, height: 520 };

test("layout has every unit, one bias unit per non-output layer and every link", () => {
  for (const sizes of [
    [2, 1],
    [2, 3, 1],
    [2, 4, 2, 1],
    [2, 2, 2, 2, 1],
    [6, 8, 8, 8, 8, 8, 8, 3],
  ]) {
    const lay = layoutNetwork(sizes, BOX);
    const parts = countParts(sizes);
    assert.equal(lay.nodes.filter((n) => !n.bias).length, parts.units);
    assert.equal(lay.nodes.filter((n) => n.bias).length, sizes.length - 1);
    assert.equal(lay.links.length, parts.links);
    assert.equal(new Set(lay.links.map((l) => l.key)).size, lay.links.length);
    assert.ok(!lay.nodes.some((n) => n.bias && n.layer === sizes.length), "no bias unit on the output layer");
  }
});

test("links follow Θ^(l)[k][j]: from unit j of layer l (0 = bias) to unit k + 1 of layer l + 1", () => {
  const sizes = [2, 4, 2, 1];
  const lay = layoutNetwork(sizes, BOX);
  const at = (l, u) => lay.nodes.find((n) => n.key === nodeKey(l, u));
  for (const link of lay.links) {
    const from = at(link.layer, link.col);
    const to = at(link.layer + 1, link.row + 1);
    assert.ok(from && to, link.key);
    // The segment is trimmed by the radius at both ends but points from `from` to `to`.
    const d1 = Math.hypot(link.x1 - from.x, link.y1 - from.y);
    const d2 = Math.hypot(link.x2 - to.x, link.y2 - to.y);
    assert.ok(Math.abs(d1 - lay.r) < 1e-6 && Math.abs(d2 - lay.r) < 1e-6, link.key);
  }
  assert.equal(linkKey(2, 1, 0), "2:1:0");
});

test("columns go left to right, units top to bottom, bias units in one row on top, all inside the box", () => {
  const lay = layoutNetwork([3, 5, 4, 2], BOX);
  const xs = [1, 2, 3, 4].map((l) => lay.nodes.find((n) => n.layer === l).x);
  assert.deepEqual(
    [...xs].sort((a, b) => a - b),
    xs,
  );
  const biasY = lay.nodes.filter((n) => n.bias).map((n) => n.y);
  assert.equal(new Set(biasY).size, 1);
  for (const n of lay.nodes) {
    assert.ok(n.x - lay.r >= 0 && n.x + lay.r <= BOX.width, `x of ${n.key}`);
    assert.ok(n.y - lay.r >= 0 && n.y + lay.r <= BOX.height, `y of ${n.key}`);
    if (!n.bias) assert.ok(n.y > biasY[0], `${n.key} below the bias row`);
  }
  const l2 = lay.nodes.filter((n) => n.layer === 2 && !n.bias).map((n) => n.y);
  assert.deepEqual(
    [...l2].sort((a, b) => a - b),
    l2,
  );
});

test("a crowded network gets smaller units and is marked dense; a tiny box still lays out", () => {
  const roomy = layoutNetwork([2, 3, 1], BOX);
  const crowded = layoutNetwork([6, 64, 64, 1], BOX);
  assert.ok(crowded.r < roomy.r);
  assert.ok(crowded.dense && !roomy.dense);
  const tiny = layoutNetwork([2, 4, 1], { width: 10, height: 10 });
  assert.ok(tiny.nodes.every((n) => Number.isFinite(n.x) && Number.isFinite(n.y)));
  assert.throws(() => layoutNetwork([3], BOX));
  assert.throws(() => layoutNetwork([2, 0, 1], BOX));
});

test("numbers: ~4 significant digits, a real minus, never NaN or Infinity", () => {
  assert.equal(fmt(0.6813996985420747), "0.6814");
  assert.equal(fmt(-0.04306803648700357), "−0.04307");
  assert.equal(fmt(1.143817935311014), "1.144");
  assert.equal(fmt(0.5), "0.5");
  assert.equal(fmt(0), "0");
  assert.equal(fmt(4.6319423170173336e-5), "4.632×10⁻⁵");
  assert.equal(fmt(123456), "1.235×10⁵");
  for (const bad of [NaN, Infinity, -Infinity, null, undefined, "1"]) assert.equal(fmt(bad), "—");
  // a diverged value the frame clipped to float32's largest is shown as the overflow it is (issue 12)
  assert.equal(fmt(3.4028234663852886e38), "∞");
  assert.equal(fmt(-3.4028234663852886e38), "−∞");
  assert.equal(fmt(3.0e38), "3×10³⁸");
  assert.equal(fmtFactor(-2), "(−2)");
  assert.ok(isNum(1) && !isNum(NaN) && !isNum(null));
  for (const x of [0.6814, -0.04307, 4.632e-5, -1.235e5])
    assert.ok(Math.abs(parseFmt(fmt(x)) - x) <= Math.abs(x) * 1e-12);
});

test("scales: sign classes, clipped intensities, widths grow with |value|, NaN-safe", () => {
  assert.equal(signClass(2), "pos");
  assert.equal(signClass(-2), "neg");
  assert.equal(signClass(NaN), "zero");
  assert.equal(intensity(5, 2), 1);
  assert.equal(intensity(NaN, 2), 0);
  assert.ok(linkWidth(0.1, 1) < linkWidth(0.5, 1));
  assert.equal(
    maxAbs([
      [1, -3],
      [NaN, 2],
    ]),
    3,
  );
  assert.equal(segment(0.5, 0, 0.25), 1);
});

test("trace helpers: phase names, rows and means, g'(z), the output rule, per-sample losses", () => {
  assert.equal(phaseName({ phase: "backward", layer: 3 }), "backward:3");
  assert.equal(phaseName({ phase: "cost" }), "cost");
  assert.deepEqual(
    pick(
      [
        [1, 2],
        [3, 4],
      ],
      1,
    ),
    [3, 4],
  );
  assert.deepEqual(
    pick(
      [
        [1, 2],
        [3, 4],
      ],
      -1,
    ),
    [2, 3],
  );
  assert.equal(derivative("tanh", 0.3, 0.5).value, 0.75);
  assert.equal(derivative("sigmoid", 0.3, 0.25).value, 0.1875);
  assert.equal(derivative("relu", 0, 0).value, 0);
  assert.equal(derivative("leaky_relu", -1, -0.01).value, 0.01);
  assert.ok(outputRule("cross_entropy", "sigmoid").simple);
  assert.ok(outputRule("mse", "linear").simple);
  assert.ok(!outputRule("mse", "tanh").simple);
  assert.ok(Math.abs(sampleLoss([0.6813996985420747], [0], "cross_entropy", "sigmoid") - 1.143817935311014) < 1e-12);
  assert.equal(sampleLoss([1, 3], [0, 1], "mse", "linear"), 2.5);
});

test("timeline: phases play in order with a fake clock; next, prev, replay, speed", () => {
  let now = 0;
  const queue = [];
  const seen = [];
  const tl = new Timeline({
    render: () => {},
    phase: (i) => seen.push(i),
    now: () => now,
    frame: (cb) => queue.push(cb),
    cancel: () => {},
  });
  const run = (ms) => {
    for (let t = 0; t < ms; t += 50) {
      now += 50;
      const cbs = queue.splice(0);
      cbs.forEach((cb) => cb());
    }
  };
  const phases = [{ phase: "forward" }, { phase: "cost" }, { phase: "backward" }, { phase: "update" }];
  tl.setSpeed(4);
  tl.load(phases);
  run(5000);
  assert.deepEqual(seen, [0, 1, 2, 3]);
  assert.ok(tl.done);
  tl.prev();
  assert.equal(tl.index, 2);
  tl.setAutoplay(false);
  tl.replay();
  run(5000);
  assert.equal(tl.index, 0, "without auto-play a replay stops after the first phase");
  tl.next();
  run(5000);
  assert.equal(tl.index, 1);
});

// The output panel and the unit maps, kept in step with the store: the surface over the input plane,
// the cost split into its data and regularization terms, and the charts (loss, accuracy, gradient size
// per layer) that append a point per new step. The forward pass over the grid runs in a worker once per
// new set of weights (field.js); its answer feeds both the surface and the maps inside the network's units.

import { fmt } from "../core/format.js";
import { netOf } from "../core/forward.js";
import { FRAME, frameArray } from "../core/frame.js";
import { getLang, t } from "../i18n/index.js";
import { LineChart } from "./chart.js";
import { createField } from "./field.js";
import { classColor, cssColor } from "./heatmap.js";
import { Surface } from "./surface.js";

const TRAIN = "#0072b2";
const TEST = "#d55e00";
const REG = "#009e73";
const CHART_EVERY_MS = 100;
const PALE = 0.7; // the surface stops short of the points' full colours, so that the points stand out
const DEPTH = ["#2c1b8f", "#7e03a8", "#cc4778", "#ef7b3a", "#b89600"];

/** The colour of layer i of n in the gradient chart: deep blue near the input to amber near the output. */
export function depthColor(i, n) {
  const f = n <= 1 ? 1 : i / (n - 1);
  const x = f * (DEPTH.length - 1);
  const k = Math.min(DEPTH.length - 2, Math.floor(x));
  const mix = (a, b, u) => Math.round(a + (b - a) * u);
  const [a, b] = [DEPTH[k], DEPTH[k + 1]].map((h) => [1, 3, 5].map((j) => parseInt(h.slice(j, j + 2), 16)));
  return `rgb(${a.map((v, j) => mix(v, b[j], x - k)).join(",")})`;
}

/**
 * Mount the output panel and the unit maps.
 * @param {{store: object, actions: object, maps: import("./unit-maps.js").UnitMaps, root: Document}} deps
 */
export function mountOutput({ store, actions, maps, root }) {
  const $ = (id) => root.getElementById(id);
  const field = createField((out) => drawField(out));
  const surface = new Surface($("surface"));
  const lossLabels = () => [t("out.train"), t("out.test"), t("out.reg_term")];
  const loss = new LineChart($("chart-loss"), {
    series: [
      { key: "train", label: lossLabels()[0], color: TRAIN },
      { key: "test", label: lossLabels()[1], color: TEST, dash: [5, 3] },
      { key: "reg", label: lossLabels()[2], color: REG, dash: [2, 3] },
    ],
  });
  const acc = new LineChart($("chart-acc"), {
    series: [
      { key: "train", label: t("out.train"), color: TRAIN },
      { key: "test", label: t("out.test"), color: TEST, dash: [5, 3] },
    ],
    min: 0,
    max: 1,
    height: 90,
  });
  const grad = new LineChart($("chart-grad"), { series: [], log: true });
  const charts = [loss, acc, grad];
  let drawnAt = -Infinity;
  let trailing = 0;
  // The three charts are drawn together (so they end at the same step), at most every 100 ms while
  // frames stream in, and once more after the last frame.
  const drawCharts = () => {
    clearTimeout(trailing);
    drawnAt = performance.now();
    charts.forEach((c) => c.draw());
  };

  const gradSeries = (n) =>
    Array.from({ length: n }, (_, i) => ({
      key: `D${i + 1}`,
      label: `‖D<sup>(${i + 1})</sup>‖`,
      color: depthColor(i, n),
    }));

  function pushMetrics(m, norms, normStep) {
    if (!m) return;
    if (m.step < loss.lastX) charts.forEach((c) => c.truncate(m.step));
    if (m.step > loss.lastX || loss.lastX < 0) {
      loss.push(m.step, [m.train_loss, m.test_loss, m.regularization > 0 ? m.regularization : NaN]);
      acc.push(m.step, [m.train_accuracy, m.test_accuracy]);
    }
    const g = norms || m.grad_norms;
    const at = normStep ?? m.step;
    if (g?.length && at > grad.lastX) {
      if (grad.series.length !== g.length) grad.setSeries(gradSeries(g.length));
      grad.push(at, Array.from(g));
    }
  }

  function costSplit(m) {
    const el = $("cost-split");
    const data = m ? m.train_loss : null;
    const reg = m ? m.regularization || 0 : 0;
    const total = (data ?? 0) + reg;
    const pct = total > 0 ? (100 * (data ?? 0)) / total : 100;
    el.querySelector(".split-data").style.width = `${pct.toFixed(1)}%`;
    el.querySelector(".split-reg").style.width = `${(100 - pct).toFixed(1)}%`;
    const p = el.querySelector("p");
    if (p.dataset.lang !== getLang()) {
      // The sentence once per language, its three numbers every frame.
      p.dataset.lang = getLang();
      p.innerHTML = t("out.cost_split", { data: "", reg: "", total: "" });
    }
    const [a, b, c] = p.querySelectorAll("b");
    [a.textContent, b.textContent, c.textContent] = [fmt(data), fmt(reg), fmt(data === null ? null : total)];
  }

  function describe(s) {
    const d = s.data;
    const task = d ? d.task : s.session?.task;
    let title = t("out.surface_class");
    if (d && d.inputs > 2) title = t("out.no_plane", { n: d.inputs });
    else if (task === "regression") title = d && d.inputs === 1 ? t("out.curve") : t("out.surface_reg");
    $("surface-title").textContent = title;
    let key = "";
    if (task === "multiclass") {
      const k = d?.y.length ? d.y[0].length : 3;
      key = Array.from(
        { length: k },
        (_, c) => `<span class="key"><i class="dot" style="background:${classColor(c)}"></i>${c}</span>`,
      ).join("");
    } else if (task === "classification") {
      key = `<span class="key"><i class="dot" style="background:${cssColor(-1)}"></i>0</span><span class="key"><i class="dot" style="background:${cssColor(1)}"></i>1</span>`;
    } else if (d) {
      key = `<span class="ramp"><b>−${fmt(d.range, 2)}</b><i></i><b>${fmt(d.range, 2)}</b></span>`;
    }
    key += `<span class="key"><i class="dot ring"></i>${t("out.test_points")}</span>`;
    $("surface-key").innerHTML = d && d.inputs > 2 ? "" : key;
    $("acc-wrap").hidden = task === "regression";
    $("surface").hidden = Boolean(d && d.inputs > 2);
  }

  /** Ask the worker for the pictures at the current weights, when something shows them. */
  function request(s) {
    const config = s.session?.config;
    const want = {
      surface: s.tab === "output",
      maps: s.maps && s.mode === "live",
      zoom: maps.hover ? { layer: maps.hover.layer, unit: maps.hover.unit } : null,
    };
    if (!want.maps) maps.hide();
    if (!want.surface && !want.maps) return;
    const net = config ? netOf(config) : null;
    const look = s.data &&
      net && {
        task: s.data.task,
        range: s.data.range,
        output: net.output,
        activations: net.activations,
        discretize: s.discretize,
        pale: PALE,
        sub: 2,
      };
    if (!field.request(actions.weightMats(), config, s.data, look, want)) maps.hide();
  }

  /** Draw an answer of the worker: the surface, the unit maps, the hovered unit's map. */
  function drawField(answer) {
    performance.mark("bpp-draw-start");
    const s = store.get();
    if (answer.job.data === s.data && s.session) {
      if (answer.surface || s.data.inputs === 1) surface.update(answer);
      if (answer.atlas && s.maps && s.mode === "live") maps.draw(answer.atlas);
      if (answer.zoom) maps.drawZoom(answer.zoom);
    }
    performance.measure("bpp-draw", "bpp-draw-start");
    performance.measure("bpp-worker", { start: performance.now() - answer.ms, duration: answer.ms });
  }
  maps.onHover = () => request(store.get());

  $("show-test").addEventListener("change", (e) => actions.setView2({ showTest: e.target.checked }));
  $("discretize").addEventListener("change", (e) => actions.setView2({ discretize: e.target.checked }));
  $("unit-maps").addEventListener("change", (e) => actions.setView2({ maps: e.target.checked }));
  $("log-loss").addEventListener("change", (e) => actions.setView2({ logLoss: e.target.checked }));

  store.subscribe((s, changed) => {
    const has = (...keys) => keys.some((k) => changed.has(k));
    if (has("lang")) {
      loss.relabel(lossLabels());
      acc.relabel(lossLabels());
    }
    if (has("data", "lang", "session")) describe(s);
    if (has("data")) surface.setData(s.data);
    if (has("history") && s.history) {
      charts.forEach((c) => c.clear());
      for (const m of s.history) pushMetrics(m);
      // The run's metrics now, when the history (saved per log interval) ends before them.
      if (s.metrics && s.metrics.step > loss.lastX) pushMetrics(s.metrics);
    }
    if (has("showTest", "discretize")) surface.setOptions({ showTest: s.showTest, discretize: s.discretize });
    if (has("logLoss")) loss.setLog(s.logLoss);
    if (has("frame") && s.frame) {
      const h = s.frame.header;
      const N = frameArray(s.frame, FRAME.N);
      pushMetrics(h.metrics, N ? N.data : null, N && h.batch ? h.batch.step : null);
    } else if (has("session") && s.session) pushMetrics(s.session.metrics);
    if (has("frame", "session", "metrics", "lang")) costSplit(s.metrics);
    if (has("frame", "session", "data", "tab", "maps", "mode", "sizes", "discretize")) request(s);
    if (s.tab !== "output") return;
    if (changed.has("frame")) {
      const wait = CHART_EVERY_MS - (performance.now() - drawnAt);
      if (wait <= 0) drawCharts();
      else {
        clearTimeout(trailing);
        trailing = setTimeout(drawCharts, wait);
      }
    } else drawCharts();
  });
  return { surface, charts };
}

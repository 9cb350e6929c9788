// The gradient check: one button asks the server (live channel "gradcheck") to compare the analytic
// gradient D of backprop with the central-difference one, (J(Θ + ε) − J(Θ − ε)) / 2ε, weight by weight.
// A table per layer shows both and their relative error, green when they agree (< 10⁻⁵), amber when
// close (< 10⁻³), red otherwise (with ✓ ~ ✗, not colour alone), and the overall relative error.

import { fmt, fmtCount } from "../core/format.js";
import { useSheet } from "../core/style.js";
import { t } from "../i18n/index.js";

const MAX_ROWS = 800;
useSheet("explain");

/**
 * How well two gradients agree, from a relative error.
 * @param {number} err
 * @returns {"ok" | "warn" | "bad"}
 */
export function agreement(err) {
  if (!(err < 1e-3)) return "bad";
  return err < 1e-5 ? "ok" : "warn";
}

const MARK = { ok: "✓", warn: "~", bad: "✗" };

function layerTable(layer) {
  const rows = [];
  layer.analytic.forEach((r, k) =>
    r.forEach((a, j) => rows.push({ k, j, a, n: layer.numerical[k][j], e: layer.errors[k][j] })),
  );
  let shown = rows;
  let note = "";
  if (rows.length > MAX_ROWS) {
    shown = [...rows].sort((p, q) => q.e - p.e).slice(0, MAX_ROWS);
    note = `<p class="hint">${t("gc.worst", { shown: MAX_ROWS, n: fmtCount(rows.length) })}</p>`;
  }
  const l = layer.layer;
  const body = shown
    .map(({ k, j, a, n, e }) => {
      const c = agreement(e);
      return `<tr class="${c}"><td><i>Θ</i><sup>(${l})</sup><sub>${k + 1},${j}</sub></td><td>${fmt(a, 6)}</td><td>${fmt(n, 6)}</td><td>${fmt(e, 2)} <b>${MARK[c]}</b></td></tr>`;
    })
    .join("");
  const c = agreement(layer.max_relative_error);
  return `<details open class="gc-layer ${c}" data-layer="${l}"><summary><i>Θ</i><sup>(${l})</sup> · ${t("gc.layer_max", { err: fmt(layer.max_relative_error, 2) })} <b>${MARK[c]}</b></summary>
    ${note}<div class="gc-wrap"><table class="gc-table"><thead><tr><th>${t("gc.index")}</th><th>${t("gc.analytic")}</th><th>${t("gc.numerical")}</th><th>${t("gc.rel_error")}</th></tr></thead><tbody>${body}</tbody></table></div></details>`;
}

/**
 * Mount the gradient-check panel (main.js loads this module on the first click of its button).
 * @param {{store: object, root: Document}} deps
 */
export function mountGradcheck({ store, root }) {
  const out = root.getElementById("gradcheck-out");
  const button = root.getElementById("gradcheck-run");

  function render(s) {
    const g = s.gradcheck;
    button.disabled = s.gradcheckBusy;
    if (!g) {
      out.innerHTML = s.gradcheckBusy ? `<p class="hint">${t("gc.running")}</p>` : "";
      return;
    }
    const c = agreement(g.relative_error);
    const verdict = t(`gc.verdict_${c}`);
    const stale = s.step !== g.step ? `<p class="hint">${t("gc.stale", { step: fmtCount(g.step) })}</p>` : "";
    out.innerHTML = `<div class="gc-overall ${c}" data-agree="${c}"><b>${MARK[c]}</b> <span>${verdict}</span>
        <dl><dt>${t("gc.overall")}</dt><dd data-field="gc-overall">${fmt(g.relative_error, 3)}</dd>
        <dt>${t("gc.max")}</dt><dd>${fmt(g.max_relative_error, 3)}</dd>
        <dt>ε</dt><dd>${fmt(g.epsilon)}</dd><dt>m</dt><dd>${fmtCount(g.m)}</dd></dl></div>${stale}
      <p class="why">${t("gc.formula")}</p>${g.layers.map(layerTable).join("")}`;
  }

  store.subscribe((s, changed) => {
    if (["gradcheck", "gradcheckBusy", "lang"].some((k) => changed.has(k))) render(s);
    else if (changed.has("step") && s.gradcheck) {
      const stale = s.step !== s.gradcheck.step;
      if (stale !== out.classList.contains("stale")) render(s);
      out.classList.toggle("stale", stale);
    }
  });
  render(store.get());
}
